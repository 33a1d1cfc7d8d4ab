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
    FAMILY, clamp_rules, flow as _flow, flow_key as _flow_key, flow_match as _flow_match, forward_rules, input_rules,
    sav_rules)


@dataclass
class NftSet:
    """A named set (or a map, with ``value``); elements already in nft syntax."""
    name: str
    key: str
    elements: List[str]
    value: Optional[str] = None
    interval: bool = True


@dataclass
class Chain:
    name: str
    hook: str
    rules: List[str]


@dataclass
class Table:
    name: str
    sets: List[NftSet]
    chains: List[Chain]


def _set_mark(what, mark):
    keep = ~mark["mask"] & 0xFFFFFFFF
    return "%s set %s & %#010x | %#010x" % (what, what, keep, mark["value"])


def _has_mark(what, mark):
    return "%s & %#010x == %#010x" % (what, mark["mask"], mark["value"])


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
    """Lookups flat in the number of forwards: a hash map, then an interval map for ``sources``.

    Forwards open to anyone go into a plain hash map keyed protocol . port (one lookup, whatever
    the number of elements); source-restricted forwards into an interval map keyed port first
    (port . protocol . source network), so that they answer only their sources. A miss in the
    first map falls through to the second rule. Measured (benchmarks/wire_bench.py): an interval
    map keyed source first fell to 0.17 of the 1-forward rate at 10,000 forwards.
    """
    rules = []
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
                rules.append('iifname "%s" meta l4proto { tcp, udp } dnat %s to %s map @%s'
                             % (nft["wan_interface"], ip, match, name))
    return rules


def _postrouting(nft, sets):
    rules = []
    for i, masq in enumerate(nft["masquerade"]):
        v = masq["family"]
        name = "masq%d_%d" % (v, i)
        sets.append(NftSet(name, _flow_key(v), [_flow(f) for f in masq["flows"]]))
        rules.append('oifname "%s"%s %s @%s masquerade'
                     % (masq["oif"], " ct status dnat" if masq["dnat_only"] else "", _flow_match(v, "d"), name))
    for out in nft["masquerade_out"]:
        rules.append('iifname "%s" oifname "%s" masquerade' % (out["iif"], out["oif"]))
    return rules


def _mangle(nft):
    rules = []
    for entry in nft["marks_in"]:
        mark = entry["mark"]
        rules.append('iifname "%s" ct state new %s' % (entry["iif"], _set_mark("ct mark", mark)))
        rules.append('iifname != "%s" %s %s' % (entry["iif"], _has_mark("ct mark", mark),
                                                _set_mark("meta mark", mark)))
    for entry in nft["marks_private"]:
        mac = " ether saddr %s" % entry["mac"] if entry["mac"] else ""
        for v in (4, 6):
            flows = entry["flows"].get(str(v)) or []
            if flows:
                rules.append('iifname "%s"%s ct state new %s { %s } %s'
                             % (entry["iif"], mac, _flow_match(v, "d"), ", ".join(_flow(f) for f in flows),
                                _set_mark("ct mark", entry["mark"])))
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
        Chain("input", "type filter hook input priority filter; policy accept;", input_rules(nft)),
        Chain("forward_mangle", "type filter hook forward priority mangle; policy accept;", clamp_rules(nft)),
        Chain("prerouting_mangle", "type filter hook prerouting priority mangle; policy accept;", _mangle(nft)),
        Chain("output_mangle", "type route hook output priority mangle; policy accept;",
              ["%s %s" % (_has_mark("ct mark", restore), _set_mark("meta mark", restore))] if restore else []),
        Chain("prerouting_sav", "type filter hook prerouting priority raw; policy accept;", sav_rules(nft)),
    ]
    chains = [c for c in chains if c.rules]
    if not chains:
        return None
    return Table(nft.get("table") or NFT_TABLE, sets, chains)
