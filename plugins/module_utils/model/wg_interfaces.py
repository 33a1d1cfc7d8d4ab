# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's WireGuard interfaces: wgpf_interface/wgpf_address, or the explicit wgpf_interfaces list."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.model import facts as F
from ansible_collections.wgforward.portforward.plugins.module_utils.model.records import WgSpec

IFACE_KEYS = ("name", "address", "listen_port", "peers", "mtu")
DEFAULT_INTERFACE = "wg0"
DEFAULT_LISTEN_PORT = 51820
# IPv4's minimum datagram every host must take (RFC 791), IPv6's minimum link MTU (RFC 8200).
MIN_MTU = {4: 576, 6: 1280}


def addresses(where, field, value, problems):
    """Interface addresses (one or a list) as netaddr networks that keep the host address."""
    out = []
    for item in value if isinstance(value, list) else [value]:
        try:
            out.append(A.parse_interface_address(item))
        except ValueError as exc:
            problems.add(where, field, str(exc))
    return out


def listen_port(where, field, value, problems):
    if value is None:
        return DEFAULT_LISTEN_PORT
    port = G.integer(value)
    if port is None or not 1 <= port <= 65535:
        problems.add(where, field, "must be a port in 1-65535, got %r" % (value,))
        return DEFAULT_LISTEN_PORT
    return port


def mtu(where, field, value, addrs, problems):
    """The interface's MTU (None: wg-quick picks it); the minimum is IPv6's when the tunnel carries IPv6."""
    if value is None:
        return None
    number = G.integer(value)
    low = MIN_MTU[6] if any(net.version == 6 for net in addrs) else MIN_MTU[4]
    if number is None or not low <= number <= 65535:
        problems.add(where, field, "must be an MTU in %d-65535%s, got %r"
                     % (low, " (the tunnel carries IPv6)" if low == MIN_MTU[6] else "", value))
        return None
    return number


def ifname(where, field, value, problems):
    """An interface name from the inventory, or None (unset, or refused with a problem)."""
    if value is None:
        return None
    try:
        return G.ifname(value)
    except ValueError as exc:
        problems.add(where, field, str(exc))
        return None


def wg_specs(where, hv, problems):
    explicit = hv.get("wgpf_interfaces")
    if explicit is None:
        name = ifname(where, "wgpf_interface", hv.get("wgpf_interface", DEFAULT_INTERFACE), problems)
        addrs = hv.get("wgpf_address")
        addrs = addresses(where, "wgpf_address", addrs, problems) if addrs is not None else []
        return [WgSpec(name or DEFAULT_INTERFACE, addrs,
                       listen_port(where, "wgpf_listen_port", hv.get("wgpf_listen_port"), problems),
                       mtu=mtu(where, "wgpf_mtu", hv.get("wgpf_mtu"), addrs, problems))]
    if hv.get("wgpf_interface") is not None:
        ifname(where, "wgpf_interface", hv["wgpf_interface"], problems)
    if not isinstance(explicit, list) or not explicit:
        problems.add(where, "wgpf_interfaces", "must be a non-empty list of {name, address, listen_port, peers}")
        return []
    specs = [spec for spec in (_explicit_spec(where, i, item, hv.get("wgpf_mtu"), problems)
                               for i, item in enumerate(explicit)) if spec]
    _check_explicit(where, specs, problems)
    return specs


def _explicit_spec(where, index, item, host_mtu, problems):
    field = "wgpf_interfaces[%d]" % index
    if not isinstance(item, dict):
        problems.add(where, field, "must be a mapping")
        return None
    problems.unknown_keys(where, item, IFACE_KEYS, what="key of %s" % field)
    name = ifname(where, field + ".name", item.get("name"), problems)
    if name is None:
        problems.add(where, field + ".name", "required")
        name = "wg%d" % index
    if item.get("address") is None:
        problems.add(where, field + ".address", "required")
    addrs = addresses(where, field + ".address", item.get("address"), problems) if item.get("address") else []
    peers = item.get("peers", [])
    if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
        problems.add(where, field + ".peers", "must be a list of inventory host names")
        peers = []
    port = listen_port(where, field + ".listen_port", item.get("listen_port"), problems)
    # An interface's own mtu wins over the host's wgpf_mtu.
    if item.get("mtu") is not None:
        value = mtu(where, field + ".mtu", item["mtu"], addrs, problems)
    else:
        value = mtu(where, "wgpf_mtu", host_mtu, addrs, problems)
    return WgSpec(name, addrs, port, list(peers), value)


def _check_explicit(where, specs, problems):
    for attr, what in (("name", "interface name"), ("listen_port", "listen port")):
        values = [getattr(s, attr) for s in specs]
        for value in sorted(set(v for v in values if values.count(v) > 1), key=str):
            problems.add(where, "wgpf_interfaces", "%s %s is used twice" % (what, value))
    claimed = {}
    for spec in specs:
        for peer in spec.peers:
            if peer in claimed:
                problems.add(where, "wgpf_interfaces", "peer %s is listed on both %s and %s"
                             % (G.quote(peer), claimed[peer], spec.name))
            claimed[peer] = spec.name


def _field(host):
    return "wgpf_interface" if host.vars.get("wgpf_interfaces") is None else "wgpf_interfaces"


def check_links(hosts, problems):
    """Tunnel addresses where a host needs them; interface names no other interface of the host has."""
    for host in hosts.values():
        where = host_where(host.name)
        needs_wg = host.role in ("public", "intermediate") or host.attachment == "wireguard"
        for spec in host.wg:
            if needs_wg and not spec.addresses:
                field = "wgpf_address" if host.vars.get("wgpf_interfaces") is None else "wgpf_interfaces"
                problems.add(where, field, "required: the tunnel address(es) of %s, like 10.0.0.2/24" % spec.name)
            if spec.addresses or needs_wg:
                _check_name_is_free(host, spec, problems)
            for peer in spec.peers or ():
                if peer not in hosts:
                    problems.add(where, "wgpf_interfaces", "%s lists peer %s, which is not a WireGuard host of the "
                                 "inventory" % (spec.name, G.quote(peer)))


def _check_name_is_free(host, spec, problems):
    """wg-quick would take over (or fail on) an interface the host already uses for something else."""
    where = host_where(host.name)
    # A spoke's or direct peer's LAN interface comes from its default route, which is the
    # tunnel itself once default_route is applied: compare only a LAN interface that is set
    # or that an intermediate routes to.
    lan = host.lan_interface if host.role == "intermediate" or host.vars.get("wgpf_lan_interface") else None
    for what, name in (("WAN", host.wan_interface), ("LAN", lan)):
        if spec.name == name:
            problems.add(where, _field(host), "%s is this host's %s interface (wgpf_%s_interface): give the "
                         "WireGuard interface another name" % (spec.name, what, what.lower()))
            return
    kind = F.iface_type(host.vars, spec.name)
    if kind in F.NOT_WIREGUARD:
        problems.add(where, _field(host), "%s already exists on this host, as an interface of type %s (facts): "
                     "give the WireGuard interface another name" % (spec.name, kind))
