# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The table's filter rules: what passes the forward chain and what it drops, MSS clamping, SAV.

The collection's own paths only: the chains keep policy accept (other tables and
Docker's containers are not this table's business) and drop what arrives on the
WAN or a link to a public server that no forward asked for. The ``*_rules``
functions turn the plan's data (plan/nft_draft.py's ``export_filters``) into nft
rules for nftables.describe.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.grammar import port_text

# nft's words for each address family: payload expression and address type.
FAMILY = {4: ("ip", "ipv4_addr"), 6: ("ip6", "ipv6_addr")}


# Flow sets are keyed port first: interval lookups keyed by address first slow down with the
# number of elements (measured: 0.17 of the 1-forward connection rate at 10,000), port first stay flat.
def flow(item):
    return "%s . %s . %s" % (port_text((item["port"]["from"], item["port"]["to"])), item["proto"], item["addr"])


def flow_key(version):
    return "inet_service . inet_proto . %s" % FAMILY[version][1]


def flow_match(version, direction):
    """The packet's side of a flow set: ``d`` for the destination (toward the service), ``s`` for replies."""
    return "th %sport . meta l4proto . %s %saddr" % (direction, FAMILY[version][0], direction)


def _names(names):
    return "{ %s }" % ", ".join('"%s"' % n for n in names)


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
