# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's nftables table described: the plan's ``nftables`` data as sets, maps and chains.

``describe`` turns the data plan/nft_draft.py exported into the table's sets,
maps and chains, each rule in nft syntax (the filter chains' rules come from
nft_rules.py); render.py only writes the description out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import NFT_TABLE
from ansible_collections.wgforward.portforward.plugins.module_utils.render.nft_rules import (
    FAMILY, clamp_rules, flow_elements, flow_key, flow_match, forward_rules, has_mark, input_rules, sav_rules,
    set_mark)


@dataclass
class NftSet:
    """A named set (or a map, with ``value``); elements already in nft syntax."""
    name: str
    key: str
    elements: List[str]
    value: Optional[str] = None
    interval: bool = False


@dataclass
class Chain:
    """A base chain with its hook line, or a regular chain (``hook`` None) that rules jump to."""
    name: str
    hook: Optional[str]
    rules: List[str]


@dataclass
class Table:
    name: str
    sets: List[NftSet]
    chains: List[Chain]


def _dnat_elements(rows, by_source):
    """One element per public port (a range maps port by port onto a same-size range)."""
    out = []
    for row in rows:
        lo, hi, dlo = row["port"]["from"], row["port"]["to"], row["dport"]["from"]
        for offset in range(hi - lo + 1):
            value = "%s . %d" % (row["daddr"], dlo + offset)
            if by_source:
                out.append("%d . %s . %s : %s" % (lo + offset, row["proto"], row["saddr"], value))
            else:
                out.append("%s . %d : %s" % (row["proto"], lo + offset, value))
    return out


def _dnat(nft, sets):
    """The DNAT decision: lookups flat in the number of forwards, and a mark on what it translates.

    Forwards open to anyone go into a plain hash map keyed protocol . port (one lookup, whatever
    the number of elements); source-restricted forwards into an interval map keyed port first
    (port . protocol . source network), so that they answer only their sources. A miss in the
    first map falls through to the second rule. Measured (benchmarks/wire_bench.py): an interval
    map keyed source first fell to 0.17 of the 1-forward connection rate at 10,000 forwards.

    A nat statement ends its rule, so the mark is set before the map; a lookup that misses ends
    the rule, and the last rule clears the mark of a connection no map translated. Nat chains see
    a connection's first packet only: two writes of the mark per new connection, no lookup. The
    family test keeps the other family's packets out of a map whose key has no address.
    """
    rules = []
    mark = nft.get("dnat_mark")
    marking = " " + set_mark("ct mark", mark) if mark else ""
    for v in (4, 6):
        rows = nft["dnat"].get(str(v)) or []
        ip, addr = FAMILY[v]
        open_rows = [row for row in rows if row["saddr"] == A.ANY[v]]
        restricted = [row for row in rows if row["saddr"] != A.ANY[v]]
        value = "%s . inet_service" % addr
        for name, part, key, match, by_source in (
                ("dnat%d" % v, open_rows, "inet_proto . inet_service", "meta l4proto . th dport", False),
                ("dnat%d_sources" % v, restricted, "inet_service . inet_proto . %s" % addr,
                 "th dport . meta l4proto . %s saddr" % ip, True)):
            if part:
                sets.append(NftSet(name, key, _dnat_elements(part, by_source), value, interval=by_source))
                rules.append('iifname "%s" meta nfproto ipv%d meta l4proto { tcp, udp }%s dnat %s to %s map @%s'
                             % (nft["wan_interface"], v, marking, ip, match, name))
    if rules and mark:
        rules.append('iifname "%s" %s' % (nft["wan_interface"], set_mark("ct mark", mark, 0)))
    return rules


def _postrouting(nft, sets):
    """Masquerade: a hash set of the translated destinations; on the public server, marked connections only."""
    rules = []
    mark = nft.get("dnat_mark")
    for i, masq in enumerate(nft["masquerade"]):
        v = masq["family"]
        name = "masq%d_%d" % (v, i)
        sets.append(NftSet(name, flow_key(v), flow_elements(masq["flows"])))
        dnat_only = " " + has_mark("ct mark", mark) if masq["dnat_only"] and mark else ""
        rules.append('oifname "%s"%s %s @%s masquerade' % (masq["oif"], dnat_only, flow_match(v, "d"), name))
    for out in nft["masquerade_out"]:
        rules.append('iifname "%s" oifname "%s" masquerade' % (out["iif"], out["oif"]))
    return rules


def _mangle(nft):
    rules = []
    for entry in nft["marks_in"]:
        mark = entry["mark"]
        rules.append('iifname "%s" ct state new %s' % (entry["iif"], set_mark("ct mark", mark)))
        rules.append('iifname != "%s" %s %s' % (entry["iif"], has_mark("ct mark", mark),
                                                set_mark("meta mark", mark)))
    for entry in nft["marks_private"]:
        mac = " ether saddr %s" % entry["mac"] if entry["mac"] else ""
        for v in (4, 6):
            flows = entry["flows"].get(str(v)) or []
            if flows:
                # Exact keys: an anonymous hash set, looked up once per new connection.
                rules.append('iifname "%s"%s ct state new %s { %s } %s'
                             % (entry["iif"], mac, flow_match(v, "d"), ", ".join(flow_elements(flows)),
                                set_mark("ct mark", entry["mark"])))
    return rules


def describe(nft):
    """The table for a plan's ``nftables`` data, or None when the host needs no table."""
    sets = []
    restore = nft["restore_output"]
    # Counts and passes the forwarded flows and drops what enters the collection's own paths unasked (nft_rules.py);
    # the policies stay accept so other traffic is not this table's call.
    chains = [
        Chain("prerouting_nat", "type nat hook prerouting priority dstnat; policy accept;", _dnat(nft, sets)),
        Chain("postrouting_nat", "type nat hook postrouting priority srcnat; policy accept;", _postrouting(nft, sets)),
        Chain("forward", "type filter hook forward priority filter; policy accept;", forward_rules(nft, sets, NftSet)),
        Chain("forward_clamp", None, clamp_rules(nft)),
        Chain("input", "type filter hook input priority filter; policy accept;", input_rules(nft)),
        Chain("prerouting_mangle", "type filter hook prerouting priority mangle; policy accept;", _mangle(nft)),
        Chain("output_mangle", "type route hook output priority mangle; policy accept;",
              ["%s %s" % (has_mark("ct mark", restore), set_mark("meta mark", restore))] if restore else []),
        Chain("prerouting_sav", "type filter hook prerouting priority raw; policy accept;", sav_rules(nft)),
    ]
    chains = [c for c in chains if c.rules]
    if not chains:
        return None
    return Table(nft.get("table") or NFT_TABLE, sets, chains)
