# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The table's filter rules: what passes the forward chain and what it drops, MSS clamping, SAV.

The collection's own paths only: the chains keep policy accept (other tables and
Docker's containers are not this table's business) and drop what arrives on the
WAN or a link to a public server that no forward asked for. ``export_filters``
turns a host's draft into the plan's data; the ``*_rules`` functions turn that
data into nft rules for nftables.describe.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A

# nft's words for each address family: payload expression and address type.
FAMILY = {4: ("ip", "ipv4_addr"), 6: ("ip6", "ipv6_addr")}

# wg-quick's MTU when none is set: 1500 less 80 bytes of WireGuard over IPv6 (it may pick
# less from the endpoint's route, never more on a 1500 path).
DEFAULT_MTU = 1420
# What a TCP segment carries besides its payload: IPv4 20 + TCP 20, IPv6 40 + TCP 20.
TCP_IP_HEADERS = {4: 40, 6: 60}

# Strict SAV on the LAN lets through what hosts send before they have an address: DHCP
# (0.0.0.0), duplicate address detection (::) and IPv6 link-local neighbour discovery.
UNNUMBERED = {4: ["0.0.0.0"], 6: ["::", "fe80::/10"]}


def port(span):
    return str(span["from"]) if span["from"] == span["to"] else "%d-%d" % (span["from"], span["to"])


# Flow sets are keyed port first: interval lookups keyed by address first slow down with the
# number of elements (measured: 0.17 of the 1-forward connection rate at 10,000), port first stay flat.
def flow(item):
    return "%s . %s . %s" % (port(item["port"]), item["proto"], item["addr"])


def flow_key(version):
    return "inet_service . inet_proto . %s" % FAMILY[version][1]


def flow_match(version, direction):
    """The packet's side of a flow set: ``d`` for the destination (toward the service), ``s`` for replies."""
    return "th %sport . meta l4proto . %s %saddr" % (direction, FAMILY[version][0], direction)


def _names(names):
    return "{ %s }" % ", ".join('"%s"' % n for n in names)


def _by_family(nets):
    out = {4: [], 6: []}
    for net in nets:
        out[net.version].append(net)
    return {str(v): [str(n) for n in A.netaddr.cidr_merge(items)] for v, items in out.items() if items}


# ------------------------------------------------------------------ export


def _guard(nft, host, ifaces):
    """Drops on the paths into the tunnels: from the WAN (public) or from a link to a public server."""
    if host.role == "public":
        if not (nft.dnat[4] or nft.dnat[6]):
            return []
        return [{"iif": host.wan_interface, "oifs": sorted(i.name for i in ifaces), "others": {}}]
    out = []
    by_name = {i.name: i for i in ifaces}
    for name in sorted(nft.guard_links):
        # A hub's interface that also faces the public server carries its spokes' own traffic:
        # WireGuard only takes a source from the peer whose AllowedIPs hold it, so the spokes'
        # sources mark what is theirs.
        others = [net for peer in by_name[name].peers.values() if peer.host not in nft.guard_links[name]
                  for net in peer.allowed if net.prefixlen]
        out.append({"iif": name, "oifs": [], "others": _by_family(others)})
    return out


def _protect(nft, host, ifaces):
    """The public server's own tunnel addresses, which nothing from the WAN may reach."""
    if host.role != "public" or not (nft.dnat[4] or nft.dnat[6]):
        return None
    own = [A.host_net(net.ip) for i in ifaces for net in i.spec.addresses]
    return {"iif": host.wan_interface, "daddr": _by_family(own)}


def _clamp(nft, ifaces):
    groups = {}
    for iface in ifaces:
        if iface.name in nft.clamp:
            groups.setdefault(iface.spec.mtu or DEFAULT_MTU, []).append(iface.name)
    return [{"ifaces": sorted(names), "mss": {str(v): mtu - TCP_IP_HEADERS[v] for v in (4, 6)}}
            for mtu, names in sorted(groups.items())]


def _sav(host, ifaces):
    """Strict SAV: what may arrive on loosened WireGuard interfaces (the seed's raw-table example)."""
    if host.sav != "strict":
        return []
    out = []
    for iface in ifaces:
        if not iface.loose:
            continue
        allowed = [net.cidr for net in iface.spec.addresses]
        allowed += [net for peer in iface.peers.values() for net in peer.allowed if net.prefixlen]
        out.append({"iif": iface.spec.name, "peers": _by_family(allowed),
                    "bogons": {str(v): list(A.BOGONS[v]) for v in (4, 6)}})
    return out


def _lan_sav(nft, host):
    """Strict SAV on the LAN: only the LAN's own sources (the private servers' replies carry them)."""
    if host.sav != "strict":
        return []
    out = []
    for iif, versions in sorted(nft.lan_sav.items()):
        nets = _by_family(host.lan_networks)
        out.append({"iif": iif, "allowed": {str(v): nets.get(str(v), []) + UNNUMBERED[v]
                                            for v in sorted(versions) if nets.get(str(v))}})
    return out


def export_filters(nft, host, ifaces):
    """The plan's filter data for ``host``: merged into its ``nftables`` dict."""
    return {"accept_dnat_only": host.role == "public", "guard": _guard(nft, host, ifaces),
            "protect": _protect(nft, host, ifaces), "clamp": _clamp(nft, ifaces),
            "sav": _sav(host, ifaces), "lan_sav": _lan_sav(nft, host)}


# ------------------------------------------------------------------ rules


def _guard_rules(entry):
    """Replies of what the host sends out (default_route's own traffic) come back; the rest is dropped."""
    path = 'iifname "%s"' % entry["iif"] + (" oifname %s" % _names(entry["oifs"]) if entry["oifs"] else "")
    rules = ["%s ct state established,related accept" % path]
    if not entry["others"]:
        return rules + ["%s counter drop" % path]
    for v in (4, 6):
        ip = FAMILY[v][0]
        others = entry["others"].get(str(v))
        match = "%s saddr != { %s }" % (ip, ", ".join(others)) if others else "meta nfproto ipv%d" % v
        rules.append("%s %s counter drop" % (path, match))
    return rules


def forward_rules(nft, sets, set_type):
    """Forwarded flows first (their counters count them), then the drops, then the replies.

    The replies' rule comes after the drops so that nothing from the WAN or a public link
    passes as a "reply" by carrying the service's address and port as its source.
    """
    accept, replies = [], []
    iifs = _names(nft["accept_iifs"])
    dnat_only = " ct status dnat" if nft.get("accept_dnat_only") else ""
    for v in (4, 6):
        flows = nft["accept"].get(str(v)) or []
        if flows:
            sets.append(set_type("fwd%d" % v, flow_key(v), [flow(f) for f in flows]))
            accept.append("iifname %s%s %s @fwd%d counter accept" % (iifs, dnat_only, flow_match(v, "d"), v))
            replies.append("%s @fwd%d counter accept" % (flow_match(v, "s"), v))
    guard = [rule for entry in nft.get("guard") or [] for rule in _guard_rules(entry)]
    return accept + guard + replies


def input_rules(nft):
    protect = nft.get("protect")
    if not protect:
        return []
    return ['iifname "%s" %s daddr { %s } counter drop' % (protect["iif"], FAMILY[v][0], ", ".join(addrs))
            for v, addrs in ((int(k), a) for k, a in sorted(protect["daddr"].items()))]


def clamp_rules(nft):
    """SYN and SYN-ACK of the forwarded flows, in or out of a tunnel, get the tunnel's MSS when larger.

    A fixed value, not ``rt mtu``: that reads the MTU of the route the packet leaves by, so it
    would clamp the SYN entering the tunnel but not the SYN-ACK leaving it toward a 1500-byte
    WAN or LAN; and both ends of a link must agree on what the tunnel carries, whatever MTU
    wg-quick derived from each host's own route to the endpoint.
    """
    rules = []
    for group in nft.get("clamp") or []:
        for v in (4, 6):
            if not nft["accept"].get(str(v)):
                continue
            mss = group["mss"][str(v)]
            for side in ("iifname", "oifname"):
                for direction in ("d", "s"):
                    rules.append("%s %s tcp flags & (syn | rst) == syn %s @fwd%d tcp option maxseg size > %d "
                                 "tcp option maxseg size set %d"
                                 % (side, _names(group["ifaces"]), flow_match(v, direction), v, mss, mss))
    return rules


def sav_rules(nft):
    rules = []
    for entry in nft.get("sav") or []:
        for v in (4, 6):
            ip = FAMILY[v][0]
            peers = entry["peers"].get(str(v)) or []
            allow = " %s saddr != { %s }" % (ip, ", ".join(peers)) if peers else ""
            rules.append('iifname "%s"%s %s saddr { %s } counter drop'
                         % (entry["iif"], allow, ip, ", ".join(entry["bogons"][str(v)])))
    for entry in nft.get("lan_sav") or []:
        for v, allowed in sorted(entry["allowed"].items()):
            # Packets to the host itself pass: its own replies from the Internet may come in on the
            # LAN when its gateway is there; SAV is about what it forwards.
            rules.append('iifname "%s" %s saddr != { %s } fib daddr type != { local, broadcast, multicast } '
                         'counter drop' % (entry["iif"], FAMILY[int(v)][0], ", ".join(allowed)))
    return rules
