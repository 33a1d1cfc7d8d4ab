# -*- coding: utf-8 -*-
"""What the planner does for servers that are not clean containers: the forward chain is no open
router, only the service's replies move, MTU and MSS, strict SAV on the LAN (issue 9)."""

from __future__ import annotations

import pytest
from builders import seed_direct, seed_hub, seed_lan, seed_two_publics

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.nftables import describe
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

TOPOLOGIES = {"lan": seed_lan, "hub": seed_hub, "direct": seed_direct}
TECHNIQUES = ["masquerade", "static_routes", "default_route", "policy_routing", "connmark_private"]
SOURCES = ["198.51.100.87/32", "192.0.2.144/30"]


def inv_for(topology, technique=None, private_vars=None, inter_vars=None, **fwd):
    builder = TOPOLOGIES[topology]
    inv = builder(private_vars=private_vars, inter_vars=inter_vars) if topology != "direct" else builder(
        private_vars=private_vars)
    forward = {"name": "web", "public": "public1", "port": 2000, "to": "private1", "to_port": 8080}
    if technique:
        forward["technique"] = technique
    if technique == "static_routes":
        forward["sources"] = SOURCES
    forward.update(fwd)
    inv.forward(**forward)
    return inv


def chain(plan, name):
    table = describe(plan["nftables"])
    found = [c for c in table.chains if c.name == name] if table else []
    return found[0].rules if found else []


def rules_of(plan):
    return [(r["selector"], r["table"]) for i in plan["interfaces"] for r in i["rules"]] + [
        (r["selector"], r["table"]) for r in plan["rules"]]


# ------------------------------------------------------------------ not an open router


@pytest.mark.parametrize("topology", ["lan", "hub", "direct"])
@pytest.mark.parametrize("technique", TECHNIQUES)
def test_public_server_lets_only_dnat_connections_into_the_tunnels(topology, technique):
    if topology == "direct" and technique == "connmark_intermediate":
        pytest.skip("no intermediate")
    pub = plan_inventory(inv_for(topology, technique).data())["public1"]
    rules = chain(pub, "forward")
    mark = "ct mark & 0x0f000000 == 0x01000000"
    clamp = "tcp flags & (syn | rst) == syn %s jump forward_clamp" % mark
    accept = ('iifname { "eth0" } ct status dnat %s counter accept '
              'comment "packets of new forwarded connections until a reply"' % mark)
    drop = 'iifname "eth0" oifname { "wg0" } counter drop'
    # Established connections first (no lookup for their packets): every reply is one, and the drop
    # sees every packet that starts a connection, so a WAN packet carrying the service's address and
    # port as its source is no "reply". New connections pass only with the mark of this table's DNAT.
    assert rules == [clamp, "ct state established,related accept", accept, drop]
    assert chain(pub, "input") == ['iifname "eth0" ip daddr { 10.0.0.2/32 } counter drop']


def test_intermediate_drops_what_its_public_link_brings_unasked():
    inter = plan_inventory(inv_for("lan", "policy_routing").data())["inter1"]
    assert chain(inter, "forward") == [
        "tcp flags & (syn | rst) == syn jump forward_clamp",
        "ct state established,related accept",
        'iifname { "wg0" } th dport . meta l4proto . ip daddr @fwd4 counter accept '
        'comment "packets of new forwarded connections until a reply"',
        'iifname "wg0" counter drop']


def test_a_hub_whose_wg0_faces_the_public_server_keeps_its_spokes_own_traffic():
    # Spokes' sources are theirs by WireGuard's AllowedIPs: only the rest of wg0 is the public server's.
    inter = plan_inventory(inv_for("hub", "default_route").data())["inter1"]
    rules = chain(inter, "forward")
    assert 'iifname "wg0" ip saddr != { 10.0.0.3/32 } counter drop' in rules
    assert 'iifname "wg0" meta nfproto ipv6 counter drop' in rules
    assert rules.index("ct state established,related accept") < rules.index(
        'iifname "wg0" ip saddr != { 10.0.0.3/32 } counter drop')


def test_two_public_servers_each_link_guarded_and_the_spokes_link_left_alone():
    inter = plan_inventory(seed_two_publics().data())["inter1"]
    rules = chain(inter, "forward")
    assert 'iifname "wg1" counter drop' in rules and 'iifname "wg2" counter drop' in rules
    assert not any('"wg0"' in r and "drop" in r for r in rules)
    for public in ("public1", "public2"):
        pub = plan_inventory(seed_two_publics().data())[public]
        assert 'iifname "eth0" oifname { "wg0" } counter drop' in chain(pub, "forward")


def test_a_public_server_without_forwards_gets_no_table():
    inv = seed_lan()
    assert plan_inventory(inv.data())["public1"]["nftables"]["guard"] == []
    assert render_files(plan_inventory(inv.data())["public1"]) == [
        f for f in render_files(plan_inventory(inv.data())["public1"]) if f["kind"] != "nftables"]


# ------------------------------------------------------------------ only the service's replies move


@pytest.mark.parametrize("topology", ["lan", "hub"])
@pytest.mark.parametrize("technique", ["policy_routing", "connmark_private"])
def test_intermediate_rules_move_only_the_services_replies(topology, technique):
    inv = inv_for(topology, technique, protocols=["tcp", "udp"], port="2000-2001", to_port="8080-8081",
                  private_vars={"gateway_is_intermediate": True} if topology == "lan" else None)
    inter = plan_inventory(inv.data())["inter1"]
    selectors = [s for s, _table in rules_of(inter)]
    assert selectors, "the intermediate routes replies by rules"
    for selector in selectors:
        assert "sport 8080-8081" in selector and " ipproto " in " " + selector, selector
    assert {s.split(" ipproto ")[1].split()[0] for s in selectors} == {"6", "17"}


def test_spoke_and_direct_peer_rules_move_only_the_services_replies():
    for topology in ("hub", "direct"):
        priv = plan_inventory(inv_for(topology, "policy_routing").data())["private1"]
        assert rules_of(priv) == [("from 10.0.0.3 ipproto 6 sport 8080", 51900)]


def test_internet_via_public_keeps_the_whole_source_in_the_tunnel():
    # Forced policy_routing for a server that asked for all its traffic through the public server.
    private_vars = {"gateway_is_intermediate": True, "internet_via_public": True}
    inv = inv_for("lan", "policy_routing", private_vars=private_vars)
    assert rules_of(plan_inventory(inv.data())["inter1"]) == [("from 172.31.0.3", 51900)]


def test_connmark_rules_route_only_marked_packets():
    for topology, private_vars in (("lan", {"gateway_is_intermediate": True}), ("lan", None)):
        tech = "connmark_intermediate" if private_vars else "connmark_private"
        plans = plan_inventory(inv_for(topology, tech, private_vars=private_vars).data())
        for name in ("inter1", "private1"):
            for selector, _table in rules_of(plans[name]):
                assert selector.startswith(("fwmark ", "from 172.31.0.3 ipproto 6 sport 8080")), (name, selector)


# ------------------------------------------------------------------ MTU and MSS


def wg_conf(plans, host, name="wg0"):
    return next(f["content"] for f in render_files(plans[host]) if f.get("interface") == name)


def test_mtu_is_written_only_where_set():
    inv = inv_for("lan", "policy_routing")
    inv.hosts["public1"]["wgpf_mtu"] = 1380
    plans = plan_inventory(inv.data())
    assert "\nMTU = 1380\n" in wg_conf(plans, "public1")
    assert "MTU" not in wg_conf(plans, "inter1")


def test_an_interfaces_mtu_wins_over_the_hosts():
    inv = seed_two_publics()
    inv.hosts["inter1"]["wgpf_mtu"] = 1400
    inv.hosts["inter1"]["wgpf_interfaces"][2]["mtu"] = 1300
    plans = plan_inventory(inv.data())
    assert "\nMTU = 1400\n" in wg_conf(plans, "inter1", "wg1")
    assert "\nMTU = 1300\n" in wg_conf(plans, "inter1", "wg2")
    clamp = plans["inter1"]["nftables"]["clamp"]
    assert {(tuple(g["ifaces"]), g["mss"]["4"], g["mss"]["6"]) for g in clamp} == {
        (("wg0", "wg1"), 1360, 1340), (("wg2",), 1260, 1240)}


def test_mss_is_clamped_both_ways_on_the_public_server_and_the_intermediate():
    inv = inv_for("hub", "policy_routing")
    inv.hosts["inter1"]["wgpf_mtu"] = 1280
    plans = plan_inventory(inv.data())
    pub = chain(plans["public1"], "forward_clamp")
    # wg-quick's usual 1420 less IPv4 and TCP headers; the public server jumps here for its DNAT's
    # connections only (by their mark), so no flow set.
    clamp = "tcp option maxseg size > 1380 tcp option maxseg size set 1380"
    assert pub[:2] == ['meta nfproto ipv4 oifname { "wg0" } ' + clamp, 'meta nfproto ipv4 iifname { "wg0" } ' + clamp]
    assert chain(plans["public1"], "forward")[0] == (
        "tcp flags & (syn | rst) == syn ct mark & 0x0f000000 == 0x01000000 jump forward_clamp")
    inter = chain(plans["inter1"], "forward_clamp")
    assert len(inter) == 4 and all("@fwd4 tcp option maxseg size > 1240 tcp option maxseg size set 1240" in r
                                   for r in inter)
    assert chain(plans["inter1"], "forward")[0] == "tcp flags & (syn | rst) == syn jump forward_clamp"
    assert chain(plans["private1"], "forward_clamp") == []  # it forwards nothing


def test_ipv6_flows_are_clamped_to_mtu_less_60():
    inv = seed_direct(private_vars={"address": ["10.0.0.3/24", "fd00::3/64"]})
    inv.hosts["public1"]["wgpf_address"] = ["10.0.0.2/24", "fd00::2/64"]
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080)
    rules = chain(plan_inventory(inv.data())["public1"], "forward_clamp")
    clamp = "tcp option maxseg size > 1360 tcp option maxseg size set 1360"
    assert sum(r.startswith("meta nfproto ipv6 ") and r.endswith(clamp) for r in rules) == 2


# ------------------------------------------------------------------ strict SAV on the LAN


def strict_lan(**inter):
    inv = inv_for("lan", "connmark_private", inter_vars=inter)
    inv.hosts["inter1"]["wgpf_sav"] = "strict"
    return inv


def test_strict_sav_drops_lan_sources_outside_the_lan_prefix():
    inv = strict_lan()
    inv.hosts["inter1"]["wgpf_lan_address"] = "172.31.0.1/24"
    rules = chain(plan_inventory(inv.data())["inter1"], "prerouting_sav")
    assert ('iifname "eth0" ip saddr != { 172.31.0.0/24, 0.0.0.0 } fib daddr type != { local, broadcast, multicast } '
            'counter drop') in rules


def test_strict_sav_takes_the_lan_prefix_from_the_facts_netmask():
    inv = strict_lan()
    inv.hosts["inter1"]["ansible_facts"] = {"interfaces": ["eth0"], "eth0": {
        "ipv4": {"address": "172.31.0.1", "netmask": "255.255.0.0"},
        "ipv6": [{"address": "fe80::1", "prefix": "64", "scope": "link"},
                 {"address": "2001:db8:5::1", "prefix": "64", "scope": "global"}]}}
    lan_sav = plan_inventory(inv.data())["inter1"]["nftables"]["lan_sav"]
    assert lan_sav == [{"iif": "eth0", "allowed": {"4": ["172.31.0.0/16", "0.0.0.0"]}}]


def test_loose_sav_drops_nothing_and_loosens_exactly_the_asymmetric_interfaces():
    inv = inv_for("lan", "policy_routing")
    inv.hosts["inter1"]["wgpf_lan_address"] = "172.31.0.1/24"
    plans = plan_inventory(inv.data())
    inter, priv = plans["inter1"], plans["private1"]
    assert inter["nftables"]["lan_sav"] == [] and chain(inter, "prerouting_sav") == []
    # rp_filter's effective value is the larger of all and the interface: with all=1, 2 stays loose.
    assert [k for k, v in inter["sysctls"].items() if k.endswith("rp_filter")] == ["net.ipv4.conf.eth0.rp_filter"]
    assert [i["name"] for i in inter["interfaces"] if i["rp_filter"] == 2] == ["wg0"]
    assert [k for k in priv["sysctls"] if k.endswith("rp_filter")] == ["net.ipv4.conf.eth0.rp_filter"]
