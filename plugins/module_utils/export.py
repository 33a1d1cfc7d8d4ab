# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's accumulated plan as plain data: what the filter returns and render.py reads."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.layout import NFT_TABLE, key_path


def sysctl_key(version, ifname, leaf):
    # sysctl.d uses '/' for dots inside interface names (eth0.100 -> eth0/100).
    return "net.ipv%d.conf.%s.%s" % (version, ifname.replace(".", "/"), leaf)


def reserved_ports(spans):
    """The kernel's canonical ip_local_reserved_ports: sorted, merged, comma-separated."""
    merged = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return ",".join(str(lo) if lo == hi else "%d-%d" % (lo, hi) for lo, hi in merged)


def _span(span):
    return {"from": span[0], "to": span[1]}


def _flows(items):
    """[(addr, proto, span)] -> sorted unique [{addr, proto, port}] for nft sets."""
    seen = sorted(set(items), key=lambda t: (t[0], t[1], t[2]))
    return [{"addr": a, "proto": p, "port": _span(s)} for a, p, s in seen]


def _iface(plan, iface):
    host = plan.host
    loose = iface.loose and host.sav != "off"
    return {
        "name": iface.spec.name,
        "addresses": [str(n) for n in iface.spec.addresses],
        "listen_port": iface.spec.listen_port,
        "table": iface.table,
        "key_file": key_path(iface.spec.name),
        "rp_filter": 2 if loose else None,
        "rules": sorted(iface.rules, key=lambda r: r["priority"]),
        "peers": [p.as_dict() for p in sorted(iface.peers.values(), key=lambda p: p.host)],
    }


def _sav(plan):
    """Strict SAV: what may arrive on loosened WireGuard interfaces (the seed's raw-table example)."""
    if plan.host.sav != "strict":
        return []
    out = []
    for iface in plan.ifaces.values():
        if not iface.loose:
            continue
        allowed = {4: [], 6: []}
        for net in iface.spec.addresses:
            allowed[net.version].append(net.cidr)
        for peer in iface.peers.values():
            for net in peer.allowed:
                if net.prefixlen:
                    allowed[net.version].append(net)
        out.append({"iif": iface.spec.name,
                    "peers": {str(v): [str(n) for n in A.netaddr.cidr_merge(nets)] for v, nets in allowed.items()},
                    "bogons": {str(v): list(A.BOGONS[v]) for v in (4, 6)}})
    return out


def _nftables(plan):
    host = plan.host
    dnat = {}
    for v, items in plan.dnat.items():
        rows = sorted(set(items), key=lambda t: (t[1], t[2], t[0]))
        dnat[str(v)] = [{"saddr": s, "proto": p, "port": _span(port), "daddr": d, "dport": _span(dport)}
                        for s, p, port, d, dport in rows]
    masq = []
    for (oif, v), items in sorted(plan.masq.items()):
        # Only the public server DNATs; elsewhere the flows arrive already translated.
        masq.append({"oif": oif, "family": v, "flows": _flows(items), "dnat_only": host.role == "public"})
    marks_private = []
    for entry in plan.marks_private:
        marks_private.append({"iif": entry["iif"], "mac": entry["mac"], "mark": entry["mark"],
                              "flows": {str(v): _flows(items) for v, items in sorted(entry["match"].items())}})
    restore = None
    if plan.restore_output:
        restore = {"value": host.mark, "mask": host.mark_mask}
    return {
        "table": NFT_TABLE,
        "wan_interface": host.wan_interface if plan.dnat[4] or plan.dnat[6] else None,
        "dnat": dnat,
        "masquerade": masq,
        "masquerade_out": [{"iif": i, "oif": o} for i, o in sorted(set(plan.masq_out))],
        "accept": {str(v): _flows(items) for v, items in plan.accept.items() if items},
        "accept_iifs": sorted(i for i in plan.accept_iifs if i),
        "marks_in": list(plan.marks_in),
        "marks_private": marks_private,
        "restore_output": restore,
        "sav": _sav(plan),
    }


def _sysctls(plan):
    host = plan.host
    out = {}
    if 4 in plan.forwarding:
        out["net.ipv4.ip_forward"] = "1"
    if 6 in plan.forwarding:
        out["net.ipv6.conf.all.forwarding"] = "1"
    if plan.reserved and host.reserve_ports:
        out["net.ipv4.ip_local_reserved_ports"] = reserved_ports(plan.reserved)
    if host.sav != "off":
        for ifname in sorted(i for i in plan.loose_lan if i):
            out[sysctl_key(4, ifname, "rp_filter")] = "2"
    return out


def export_plan(planner, plan):
    host = plan.host
    routes = list(plan.routes)
    for route in host.local_routes:
        version = 6 if ":" in route["to"] else 4
        item = {"family": version, "to": route["to"], "via": route["via"], "dev": route["dev"], "table": None}
        if item not in routes:
            routes.append(item)
    return {
        "host": host.name,
        "role": host.role,
        "state": host.state,
        "interfaces": [_iface(plan, i) for i in sorted(plan.ifaces.values(), key=lambda i: i.spec.name)],
        "nftables": _nftables(plan),
        "sysctls": _sysctls(plan),
        "routes": routes,
        "rules": sorted(plan.rules, key=lambda r: r["priority"]),
        "forwards": [plan.forwards[name].as_dict() for name in sorted(plan.forwards)],
    }
