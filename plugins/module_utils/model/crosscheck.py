# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks across hosts and forwards: references, addresses two hosts claim, sources that would break routing."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import forward_where, host_where

# A source this short overrides the default route (0/0, or half of it like wg-quick's and
# OpenVPN's def1 routes): that is default_route, not a fixed set of clients.
SHORTEST_SOURCE = 2


def check_forward_references(forwards, host_fields, groups, problems):
    """forward.public and forward.to name a public and a private server of the inventory."""
    for fwd in forwards:
        where = forward_where(fwd.name)
        for key, role in (("public", "public"), ("to", "private")):
            value = getattr(fwd, key)
            if value is None:
                continue
            host = host_fields.get(value)
            if host is None:
                exists = value in (groups.get("all") or [])
                problems.add(where, key, "host %s is %s" % (
                    G.quote(value), "not in the group wireguard_%s" % role if exists else "not in the inventory"))
            elif host["role"] != role:
                problems.add(where, key, "host '%s' is a %s server, not in the group wireguard_%s"
                             % (value, host["role"], role))
            elif host["state"] == "absent":
                problems.add(where, key, "host '%s' is being removed (wgpf_state: absent): remove this forward "
                             "in the same run" % value)


def check_intermediate_references(host_fields, problems):
    """wgpf_intermediate names an intermediate; an unknown one is dropped so checking goes on."""
    for fields in host_fields.values():
        if fields["role"] != "private" or fields["intermediate"] is None:
            continue
        inter = host_fields.get(fields["intermediate"])
        where = host_where(fields["name"])
        if inter is None or inter["role"] != "intermediate":
            problems.add(where, "wgpf_intermediate", "%s is not a host in the group wireguard_intermediate"
                         % G.quote(fields["intermediate"]))
            fields["intermediate"] = None
        elif inter["state"] == "absent" and fields["state"] == "present":
            problems.add(where, "wgpf_intermediate", "'%s' is being removed (wgpf_state: absent): remove this host "
                         "too, or reach it another way" % fields["intermediate"])


TUNNEL, LAN = "tunnel address", "LAN address"


def significant_addresses(host):
    """(address, kind, where) that identify a host: tunnel addresses, and the LAN addresses others route to."""
    out = [(net.ip, TUNNEL, " on %s" % spec.name) for spec in host.wg for net in spec.addresses]
    if host.role == "intermediate" or (host.role == "private" and host.attachment != "wireguard"):
        out += [(ip, LAN, "") for ip in host.lan_addresses]
    return out


def check_shared_addresses(hosts, problems):
    """One address on two hosts: the public server would have two DNAT targets or peers it cannot tell apart.

    Intermediates at different sites may reuse one LAN address with each other:
    each is used only on its own LAN.
    """
    owners = {}
    for host in hosts.values():
        for ip, kind, detail in significant_addresses(host):
            owners.setdefault(ip, []).append((host, kind, detail))
    for ip, claims in owners.items():
        first, kind = claims[0][0], claims[0][1]
        others = [c for c in claims[1:] if c[0] is not first]
        if not others or all(c[0].role == "intermediate" and c[1] == LAN for c in claims):
            continue
        problems.add(host_where(first.name), "wgpf_lan_address" if kind == LAN else "wgpf_address",
                     "%s %s is also used by %s: one address, one host" % (kind, ip, ", ".join(
                         "host '%s' (its %s%s)" % (h.name, k, d) for h, k, d in others)))


def _networks(hosts):
    """(network, what it is) of the inventory's own: tunnel networks, LAN addresses, public endpoints.

    A tunnel network that several hosts share is named once, after its first host.
    """
    out = {}
    for host in hosts.values():
        for spec in host.wg:
            for net in spec.addresses:
                out.setdefault(net.cidr, "the tunnel network %s of host '%s' (%s)" % (net.cidr, host.name, spec.name))
        for ip, kind, detail in significant_addresses(host):
            if kind == LAN:
                out.setdefault(A.host_net(ip), "the LAN address %s of host '%s'" % (ip, host.name))
        if host.role == "public" and host.endpoint and G.looks_like_address(host.endpoint[0]):
            ip = A.parse_address(host.endpoint[0])
            out.setdefault(A.host_net(ip), "%s, the endpoint of public server '%s'" % (ip, host.name))
    return list(out.items())


def check_sources(forwards, hosts, problems):
    """Sources are Internet clients: routes for them must not capture the inventory's own traffic."""
    own = _networks(hosts)
    verdicts = {}  # large inventories repeat a few source networks: judge each once
    for fwd in forwards:
        for src in fwd.sources:
            if src not in verdicts:
                verdicts[src] = _source_problems(src, own)
            for message in verdicts[src]:
                problems.add(forward_where(fwd.name), "sources", message)


def _source_problems(src, own):
    if src.prefixlen < SHORTEST_SOURCE:
        return ["%s covers the whole Internet (or half of it): that is default_route: set wgpf_internet_via_public "
                "on the private server" % src]
    return ["%s %s %s: routing its replies back through the public server would capture the inventory's own "
            "traffic" % (src, "covers" if net in src else "lies inside", what)
            for net, what in own if net.version == src.version and (net in src or src in net)]
