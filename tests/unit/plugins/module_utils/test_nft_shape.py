# -*- coding: utf-8 -*-
"""The table's shape on every host of the shipped inventories and every technique: a cost per packet
and per connection that does not grow with the number of forwards (issue 20).

- No lookup for a packet of an established connection: the forward chain accepts those first
  (only the MSS clamp's jump, which looks nothing up, comes before it: a SYN-ACK is established).
- Hash sets of exact keys: the only interval map is the one for ``sources`` (dnatN_sources).
- The public server looks nothing up after its DNAT decision but the masquerade set: its forward
  chain and clamp key on the mark the DNAT rules set.
"""

from __future__ import annotations

import re

import pytest
import shipped_inventories as S
from builders import seed_direct, seed_hub, seed_lan, seed_two_publics

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.nftables import describe

TECHNIQUES = ["masquerade", "static_routes", "default_route", "policy_routing", "connmark_private"]
ESTABLISHED = "ct state established,related accept"
# A set lookup in a rule: a named set, or an anonymous set of more than one element (nft turns a
# one-element set into a comparison).
LOOKUP = re.compile(r"@\w|\{ [^}]*, ")


def built():
    for topology, seed in (("lan", seed_lan), ("hub", seed_hub), ("direct", seed_direct)):
        for technique in TECHNIQUES:
            inv = seed()
            inv.forward(name="web", public="public1", port="2000-2002", to="private1", to_port=8080,
                        protocols=["tcp", "udp"], technique=technique,
                        sources=["198.51.100.0/24"] if technique == "static_routes" else [])
            inv.forward(name="ssh", public="public1", port=2222, to="private1", to_port=22, technique=technique,
                        sources=["192.0.2.0/24"])
            yield "%s-%s" % (topology, technique), inv.data()
    yield "two-publics", seed_two_publics().data()


def tables():
    inventories = [("example", S.example())] + [(name, S.scenario(name)) for name in S.scenarios()] + list(built())
    for name, inv in inventories:
        for host, plan in sorted(plan_inventory(inv).items()):
            table = describe(plan["nftables"]) if plan["state"] == "present" else None
            if table is not None:
                yield pytest.param(plan, table, id="%s-%s" % (name, host))


TABLES = list(tables())


def chain(table, name):
    return next((c.rules for c in table.chains if c.name == name), [])


@pytest.mark.parametrize("plan,table", TABLES)
def test_established_packets_meet_no_lookup(plan, table):
    rules = chain(table, "forward")
    first = rules.index(ESTABLISHED) if rules else 0
    assert all(r.startswith("tcp flags & (syn | rst) == syn ") and r.endswith(" jump forward_clamp")
               and not LOOKUP.search(r) for r in rules[:first]), rules
    # The mangle chain's marks look their flows up for new connections only.
    for rule in chain(table, "prerouting_mangle"):
        if LOOKUP.search(rule):
            assert rule.index("ct state new") < LOOKUP.search(rule).start(), rule


@pytest.mark.parametrize("plan,table", TABLES)
def test_only_the_sources_maps_are_interval_sets(plan, table):
    for nft_set in table.sets:
        assert nft_set.interval is bool(re.fullmatch(r"dnat[46]_sources", nft_set.name)), nft_set.name
        assert not any("-" in e.split(" : ")[0] for e in nft_set.elements if not nft_set.interval), nft_set
    for rule in chain(table, "prerouting_mangle"):
        assert not re.search(r"\{ [^}]*\d+-\d+ \.", rule), rule  # anonymous sets: exact keys too


@pytest.mark.parametrize("plan,table", [p for p in TABLES if p.values[0]["role"] == "public"])
def test_the_public_server_looks_up_only_the_masquerade_set_after_its_dnat(plan, table):
    mark = plan["nftables"]["dnat_mark"]
    has_mark = "ct mark & %#010x == %#010x" % (mark["mask"], mark["value"])
    for name in ("forward", "forward_clamp"):
        assert not any(LOOKUP.search(r) for r in chain(table, name)), chain(table, name)
    accept = [r for r in chain(table, "forward") if r.endswith("accept") or " accept comment " in r]
    assert accept[1:] and all(has_mark in r and "ct status dnat" in r for r in accept[1:]), accept
    masquerade = [r for r in chain(table, "postrouting_nat") if "@masq" in r]
    assert all(has_mark in r for r in masquerade), masquerade
