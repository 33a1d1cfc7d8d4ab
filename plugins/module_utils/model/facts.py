# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Defaults inferred from gathered facts: WAN and LAN interfaces, LAN addresses, MAC, gateway.

Facts are read from ``ansible_facts`` or the top-level ``ansible_*`` variables.
A value from facts lands in files like one from the inventory, so it passes the
same grammar; one that does not is reported rather than used.
"""

from __future__ import annotations

import re

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G
from ansible_collections.wgforward.portforward.plugins.module_utils.core.origins import DEFAULT, INFERRED

# Interface types of Ansible's Linux facts that are certainly not WireGuard (which shows as 'tunnel').
NOT_WIREGUARD = ("ether", "bridge", "bonding", "loopback", "infiniband", "ppp")


def _facts(hv):
    facts = hv.get("ansible_facts")
    return facts if isinstance(facts, dict) else {}


def fact(hv, key):
    facts = _facts(hv)
    if key in facts:
        return facts[key]
    return hv.get("ansible_" + key)


def iface_facts(hv, name):
    for key in (name, re.sub(r"[-:.]", "_", name)):
        data = fact(hv, key)
        if isinstance(data, dict):
            return data
    return None


def iface_names(hv):
    names = fact(hv, "interfaces")
    return [n for n in names if isinstance(n, str)] if isinstance(names, (list, tuple)) else []


def defaults(hv):
    """The default_ipv4 and default_ipv6 facts, as dicts."""
    out = []
    for key in ("default_ipv4", "default_ipv6"):
        data = fact(hv, key)
        out.append(data if isinstance(data, dict) else {})
    return out


def default_gateways(hv):
    return [g for g in (d.get("gateway") for d in defaults(hv)) if isinstance(g, str) and g]


def checked(where, field, value, check, problems):
    """A fact's value through a grammar check; None (and a problem) when it fails."""
    try:
        return check(value)
    except ValueError as exc:
        problems.add(where, field, "inferred from facts: %s; set it in the inventory" % exc)
        return None


def default_interface(where, field, hv, problems):
    """The default route's interface (IPv4 first), for a WAN or LAN interface left unset."""
    for data in defaults(hv):
        if data.get("interface"):
            return checked(where, field, data["interface"], G.ifname, problems)
    return None


def ipv6_uplinks(host):
    """The interfaces that carry IPv6 router advertisements: the IPv6 default route's (facts), and a
    public server's WAN interface. Names that fail the grammar are left out (nothing is written for them)."""
    names = [defaults(host.vars)[1].get("interface")]
    if host.role == "public":
        names.append(host.wan_interface)
    out = []
    for name in names:
        try:
            checked_name = G.ifname(name) if isinstance(name, str) and name else None
        except ValueError:
            checked_name = None
        if checked_name and checked_name not in out:
            out.append(checked_name)
    return out


def default_addresses(where, hv, problems):
    """The default route's source addresses, for a private server's LAN address left unset."""
    out = []
    for data in defaults(hv):
        if data.get("address"):
            ip = checked(where, "wgpf_lan_address", data["address"], A.parse_address, problems)
            if ip is not None:
                out.append(ip)
    return out


def iface_type(hv, name):
    data = iface_facts(hv, name) if name in iface_names(hv) else None
    return (data or {}).get("type")


def _iface_addresses(data):
    """(address, mask) of an interface's facts: IPv4 with its secondaries, global IPv6."""
    v4 = [data.get("ipv4") or {}] + list(data.get("ipv4_secondaries") or [])
    found = [(a.get("address"), a.get("netmask")) for a in v4 if isinstance(a, dict)]
    found += [(a.get("address"), a.get("prefix")) for a in data.get("ipv6") or []
              if isinstance(a, dict) and a.get("scope") != "link"]
    return [(address, mask) for address, mask in found if address and mask]


def _holding(data, target):
    """The interface's address whose network holds ``target``, or None."""
    for address, mask in _iface_addresses(data):
        try:
            net = A.netaddr.IPNetwork("%s/%s" % (address, mask))
        except (A.netaddr.AddrFormatError, ValueError, TypeError):
            continue
        if target.version == net.version and target in net:
            return address
    return None


def _lan_of(hv, targets, ifname=None):
    """(interface, {version: its address}) of the LAN that holds ``targets``, from the facts.

    The interface is ``ifname`` when given, else the one whose networks hold targets of the most families
    (the first in the facts on a tie); each family takes the address whose network holds that family's
    target (a dual-stack LAN gives both).
    """
    best, best_found = None, {}
    for name in [ifname] if ifname else iface_names(hv):
        data = iface_facts(hv, name) or {}
        found = {}
        for ip in targets:
            address = _holding(data, ip)
            if address is not None:
                found.setdefault(ip.version, address)
        if len(found) > len(best_found):
            best, best_found = name, found
    return best, best_found


def _network(address, mask):
    try:
        return A.netaddr.IPNetwork("%s/%s" % (address, mask)).cidr
    except (A.netaddr.AddrFormatError, ValueError, TypeError):
        return None


def lan_networks(hv, ifname):
    """The networks on ``ifname`` from its facts (IPv4 with secondaries, global IPv6): strict SAV's LAN."""
    data = iface_facts(hv, ifname) or {}
    v4 = [data.get("ipv4") or {}] + list(data.get("ipv4_secondaries") or [])
    nets = [_network(a.get("address"), a.get("netmask")) for a in v4 if isinstance(a, dict) and a.get("address")]
    nets += [_network(a.get("address"), a.get("prefix")) for a in data.get("ipv6") or []
             if isinstance(a, dict) and a.get("address") and a.get("scope") != "link"]
    return A.netaddr.cidr_merge([n for n in nets if n is not None])


def infer_intermediate_lan(where, fields, privates, problems):
    """Fill an intermediate's LAN interface, address and MAC from facts, from where its private servers live."""
    hv = fields["vars"]
    targets = [ip for p in privates for ip in p["lan_addresses"]]
    if fields["lan_interface"] is None:
        # A container host may name its Docker bridge (its wgpf_lan_interface) on the intermediate.
        fields["lan_interface"] = next((p["bridge"] for p in privates if p.get("bridge")), None)
    if fields["lan_interface"] is None or not fields["lan_addresses"]:
        ifname, found = _lan_of(hv, targets, fields["lan_interface"])
        if ifname is not None and fields["lan_interface"] is None:
            fields["lan_interface"] = checked(where, "wgpf_lan_interface", ifname, G.ifname, problems)
        if found and not fields["lan_addresses"]:
            # Every family its private servers have: a return path needs the intermediate's address in each.
            ips = [checked(where, "wgpf_lan_address", found[v], A.parse_address, problems) for v in sorted(found)]
            fields["lan_addresses"] = [ip for ip in ips if ip is not None]
    if not fields["lan_networks"] and fields["lan_interface"] is not None:
        fields["lan_networks"] = lan_networks(hv, fields["lan_interface"])
    if fields["lan_mac"] is None and fields["lan_interface"] is not None:
        found = (iface_facts(hv, fields["lan_interface"]) or {}).get("macaddress")
        if isinstance(found, str) and G.MAC_RE.fullmatch(found):
            fields["lan_mac"] = found


def infer_gateway(fields, inter):
    """Q5 for a LAN or container private server whose answer is not set.

    A container's gateway is its Docker host; otherwise the facts tell whether
    the default gateway is the intermediate's LAN address.
    """
    if fields["gateway_is_intermediate"] is not None:
        return
    if fields["attachment"] == "container":
        fields["gateway_is_intermediate"], fields["gateway_origin"] = True, DEFAULT
    elif inter is not None and inter["lan_addresses"] and fields["default_gateways"]:
        fields["gateway_is_intermediate"] = _gateway_in_every_family(fields, inter)
        fields["gateway_origin"] = INFERRED


def _gateway_in_every_family(fields, inter):
    """True when, in every family of the private server's LAN addresses, its default gateway is the
    intermediate's LAN address: a dual-stack server whose IPv6 gateway is another router (or a link-local
    address) needs its replies routed back in that family, so the answer is no."""
    gateways = {}
    for text in fields["default_gateways"]:
        try:
            ip = A.netaddr.IPAddress(text)
        except (A.netaddr.AddrFormatError, ValueError, TypeError):
            continue
        gateways.setdefault(ip.version, ip)
    ours = {ip.version: ip for ip in inter["lan_addresses"]}
    families = {ip.version for ip in fields["lan_addresses"]} or set(gateways)
    return all(gateways.get(v) is not None and gateways.get(v) == ours.get(v) for v in families)
