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


def _lan_of(hv, targets):
    """(interface, its address) whose IPv4 or global IPv6 network holds one of ``targets``, from the facts."""
    for ifname in iface_names(hv):
        data = iface_facts(hv, ifname) or {}
        v4 = data.get("ipv4") or {}
        found = [(v4.get("address"), v4.get("netmask"))] if isinstance(v4, dict) else []
        found += [(a.get("address"), a.get("prefix")) for a in data.get("ipv6") or []
                  if isinstance(a, dict) and a.get("scope") != "link"]
        for address, mask in found:
            if not (address and mask):
                continue
            try:
                net = A.netaddr.IPNetwork("%s/%s" % (address, mask))
            except (A.netaddr.AddrFormatError, ValueError, TypeError):
                continue
            if any(ip.version == net.version and ip in net for ip in targets):
                return ifname, address
    return None, None


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
        ifname, address = _lan_of(hv, targets)
        if ifname is not None and fields["lan_interface"] is None:
            fields["lan_interface"] = checked(where, "wgpf_lan_interface", ifname, G.ifname, problems)
        if address is not None and not fields["lan_addresses"]:
            ip = checked(where, "wgpf_lan_address", address, A.parse_address, problems)
            fields["lan_addresses"] = [ip] if ip is not None else []
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
        fields["gateway_is_intermediate"] = any(str(ip) in fields["default_gateways"] for ip in inter["lan_addresses"])
        fields["gateway_origin"] = INFERRED
