# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's finished draft as its plan, plain data: what the plan filter returns and render/render.py reads."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.grammar import port_text
from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import key_path
from ansible_collections.wgforward.portforward.plugins.module_utils.model import facts
from ansible_collections.wgforward.portforward.plugins.module_utils.plan import nft_draft


def sysctl_key(version, ifname, leaf):
    # sysctl(8) and sysctl.d read '/' inside a dotted key as a '.' of the name (eth0.100 -> eth0/100).
    return "net.ipv%d.conf.%s.%s" % (version, ifname.replace(".", "/"), leaf)


def reserved_ports(spans):
    """The kernel's canonical ip_local_reserved_ports: sorted, merged, comma-separated."""
    merged = nft_draft.merge_spans(spans)
    return ",".join(port_text(span) for span in merged)


def _iface(draft, iface):
    loose = iface.loose and draft.host.sav != "off"
    return {
        "name": iface.name,
        "addresses": [str(n) for n in iface.spec.addresses],
        "listen_port": iface.spec.listen_port,
        "mtu": iface.spec.mtu,
        "table": iface.table,
        "key_file": key_path(iface.name),
        "rp_filter": 2 if loose else None,
        "rules": sorted(iface.rules, key=lambda r: r["priority"]),
        "peers": [p.as_dict() for p in sorted(iface.peers.values(), key=lambda p: p.host)],
    }


def _sysctls(draft):
    host = draft.host
    out = {}
    if 4 in draft.forwarding:
        out["net.ipv4.ip_forward"] = "1"
    if 6 in draft.forwarding:
        out["net.ipv6.conf.all.forwarding"] = "1"
        # Forwarding makes the kernel ignore router advertisements where accept_ra is 1: 2 keeps the
        # default route of a host that autoconfigures (the apply step sets it only where the host has 1).
        for ifname in facts.ipv6_uplinks(host):
            out[sysctl_key(6, ifname, "accept_ra")] = "2"
    if draft.reserved and host.reserve_ports:
        out["net.ipv4.ip_local_reserved_ports"] = reserved_ports(draft.reserved)
    if host.sav != "off":
        for ifname in sorted(i for i in draft.loose_lan if i):
            out[sysctl_key(4, ifname, "rp_filter")] = "2"
    return out


def export_plan(draft):
    """The host's plan: what the plan filter returns and render/render.py reads."""
    host = draft.host
    routes = list(draft.routes)
    for route in host.local_routes:
        version = 6 if ":" in route["to"] else 4
        item = {"family": version, "to": route["to"], "via": route["via"], "dev": route["dev"], "table": None}
        if item not in routes:
            routes.append(item)
    ifaces = sorted(draft.ifaces.values(), key=lambda i: i.name)
    return {
        "host": host.name,
        "role": host.role,
        "state": host.state,
        "interfaces": [_iface(draft, i) for i in ifaces],
        "nftables": nft_draft.export(draft.nft, host, ifaces),
        "sysctls": _sysctls(draft),
        "routes": routes,
        "rules": sorted(draft.rules, key=lambda r: r["priority"]),
        "forwards": [draft.forwards[name].as_dict() for name in sorted(draft.forwards)],
        # False: the run never contacts this host (model/unmanaged.py); a peer's file is written on the controller.
        "contacted": host.contacted,
        "peer_config": _peer_config(host),
    }


def _peer_config(host):
    """Where an unmanaged peer's wg-quick file goes on the controller, and whether it takes hooks."""
    if host.public_key is None or host.peer_config_dir is None:
        return None
    return {"dir": host.peer_config_dir, "path": "%s/%s.conf" % (host.peer_config_dir.rstrip("/"), host.name),
            "hooks": host.peer_hooks, "listen_port": host.vars.get("wgpf_listen_port") is not None}
