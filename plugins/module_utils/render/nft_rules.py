# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The table's filter rules: what passes the forward chain and what it drops, MSS clamping, SAV.

The collection's own paths only: the chains keep policy accept (other tables and
Docker's containers are not this table's business) and drop what arrives on the
WAN or a link to a public server that no forward asked for. The ``*_rules``
functions turn the plan's data (plan/nft_draft.py's ``export_filters``) into nft
rules for nftables.describe.

No lookup for a packet of an established connection: the forward chain accepts
those first, so the sets are looked up once per new connection (and on its SYN
and SYN-ACK for the clamp), and only hash sets of exact keys, whose lookup does
not grow with the number of forwards. On the public server even that lookup is
gone: its DNAT decision marks the connection, and the rules test the mark.
"""

from __future__ import annotations

# nft's words for each address family: payload expression and address type.
FAMILY = {4: ("ip", "ipv4_addr"), 6: ("ip6", "ipv6_addr")}
ESTABLISHED = "ct state established,related accept"
# What the accept rules' counters count now that established packets stop before them; check.yml
# prints it beside the counter (check/check_verdict.py's counters).
NEW_CONNECTIONS = 'comment "packets of new forwarded connections until a reply"'


def flow_elements(flows):
    """Exact keys, one per port (port . protocol . address): a hash set, flat in its size."""
    return ["%d . %s . %s" % (port, f["proto"], f["addr"])
            for f in flows for port in range(f["port"]["from"], f["port"]["to"] + 1)]


def flow_key(version):
    return "inet_service . inet_proto . %s" % FAMILY[version][1]


def flow_match(version, direction):
    """The packet's side of a flow set: ``d`` for the destination (toward the service), ``s`` for replies."""
    return "th %sport . meta l4proto . %s %saddr" % (direction, FAMILY[version][0], direction)


def set_mark(what, mark, value=None):
    """Set the mask's bits of ``what`` to the mark's value (or to ``value``), keeping the others."""
    keep = "%s set %s & %#010x" % (what, what, ~mark["mask"] & 0xFFFFFFFF)
    value = mark["value"] if value is None else value
    return keep + (" | %#010x" % value if value else "")


def has_mark(what, mark):
    return "%s & %#010x == %#010x" % (what, mark["mask"], mark["value"])


def _names(names):
    return "{ %s }" % ", ".join('"%s"' % n for n in names)


def _guard_rules(entry):
    """What the WAN or a public link brings unasked is dropped (its replies were accepted before)."""
    path = 'iifname "%s"' % entry["iif"] + (" oifname %s" % _names(entry["oifs"]) if entry["oifs"] else "")
    if not entry["others"]:
        return ["%s counter drop" % path]
    rules = []
    for v in (4, 6):
        ip = FAMILY[v][0]
        others = entry["others"].get(str(v))
        match = "%s saddr != { %s }" % (ip, ", ".join(others)) if others else "meta nfproto ipv%d" % v
        rules.append("%s %s counter drop" % (path, match))
    return rules


def _accepts(nft, sets, set_type):
    """The new connections of the forwards: by the DNAT's mark (public server), else by a hash set."""
    iifs = _names(nft["accept_iifs"])
    mark = nft.get("dnat_mark")
    if nft.get("accept_dnat_only"):
        if not mark:
            return []
        return ["iifname %s ct status dnat %s counter accept %s" % (iifs, has_mark("ct mark", mark), NEW_CONNECTIONS)]
    rules = []
    for v in (4, 6):
        flows = nft["accept"].get(str(v)) or []
        if flows:
            sets.append(set_type("fwd%d" % v, flow_key(v), flow_elements(flows)))
            rules.append("iifname %s %s @fwd%d counter accept %s" % (iifs, flow_match(v, "d"), v, NEW_CONNECTIONS))
    return rules


def forward_rules(nft, sets, set_type):
    """The MSS clamp's jump, established connections, the forwards' new ones, then the drops.

    The clamp comes first because a SYN-ACK is already established. Every reply is established,
    so nothing from the WAN or a public link passes as a "reply" by carrying the service's address
    and port as its source: the drops see every packet that starts a connection.
    """
    accepts = _accepts(nft, sets, set_type)
    guard = [rule for entry in nft.get("guard") or [] for rule in _guard_rules(entry)]
    if not (accepts or guard):
        return []
    mark = nft.get("dnat_mark") if nft.get("accept_dnat_only") else None
    jump = ["tcp flags & (syn | rst) == syn%s jump forward_clamp" % (" " + has_mark("ct mark", mark) if mark else "")]
    return (jump if clamp_rules(nft) else []) + [ESTABLISHED] + accepts + guard


def input_rules(nft):
    protect = nft.get("protect")
    if not protect:
        return []
    return ['iifname "%s" %s daddr { %s } counter drop' % (protect["iif"], FAMILY[v][0], ", ".join(addrs))
            for v, addrs in ((int(k), a) for k, a in sorted(protect["daddr"].items()))]


def clamp_rules(nft):
    """The regular chain the forwarded SYN and SYN-ACK jump to: the tunnel's MSS when larger.

    A fixed value, not ``rt mtu``: that reads the MTU of the route the packet leaves by, so it
    would clamp the SYN entering the tunnel but not the SYN-ACK leaving it toward a 1500-byte
    WAN or LAN; and both ends of a link must agree on what the tunnel carries, whatever MTU
    wg-quick derived from each host's own route to the endpoint. The public server jumps here
    for its marked connections only, so its rules need no flow set; elsewhere the flow set says
    which SYNs are the forwards' (a hash lookup, on SYN and SYN-ACK only).
    """
    rules = []
    by_mark = bool(nft.get("accept_dnat_only"))
    if by_mark and not nft.get("dnat_mark"):
        return []
    for group in nft.get("clamp") or []:
        for v in (4, 6):
            if not nft["accept"].get(str(v)):
                continue
            mss = group["mss"][str(v)]
            clamp = "tcp option maxseg size > %d tcp option maxseg size set %d" % (mss, mss)
            for side in ("oifname", "iifname"):
                if by_mark:
                    rules.append("meta nfproto ipv%d %s %s %s" % (v, side, _names(group["ifaces"]), clamp))
                    continue
                for direction in ("d", "s"):
                    rules.append("%s %s %s @fwd%d %s" % (side, _names(group["ifaces"]), flow_match(v, direction), v,
                                                         clamp))
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
