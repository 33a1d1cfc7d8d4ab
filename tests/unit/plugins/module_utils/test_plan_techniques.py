# -*- coding: utf-8 -*-
"""Each technique's plan against the first seed's intent: the same routes, rules, marks and AllowedIPs."""

from __future__ import annotations

import pytest
from builders import seed_direct, seed_hub, seed_lan, seed_two_publics

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import explain_inventory, plan_inventory

SOURCES = ["198.51.100.87/32", "192.0.2.144/30"]
MARK = {"value": 0x01000000, "mask": 0x0F000000}
FWMARK = "fwmark 0x1000000/0xf000000"
T0 = 51900  # first table of the default wgpf_route_table_base


def build(topology, technique=None, private_vars=None, **fwd):
    inv = {"lan": seed_lan, "hub": seed_hub, "direct": seed_direct}[topology](private_vars=private_vars)
    forward = {"name": "web", "public": "public1", "port": 2000, "to": "private1", "to_port": 8080}
    if technique:
        forward["technique"] = technique
    if technique == "static_routes":
        forward["sources"] = SOURCES
    forward.update(fwd)
    inv.forward(**forward)
    return inv.data()


def plans_for(*args, **kwargs):
    return plan_inventory(build(*args, **kwargs))


def iface(plan, name="wg0"):
    return next(i for i in plan["interfaces"] if i["name"] == name)


def allowed(plan, peer, name="wg0"):
    return next(p["allowed_ips"] for p in iface(plan, name)["peers"] if p["host"] == peer)


def selectors(rules):
    return [(r["selector"], r["table"]) for r in rules]


def flows(entries):
    return [(f["addr"], f["proto"], f["port"]["from"], f["port"]["to"]) for f in entries]


# ------------------------------------------------------------------ the public server, whatever the technique


@pytest.mark.parametrize("topology,target", [("lan", "172.31.0.3"), ("hub", "10.0.0.3"), ("direct", "10.0.0.3")])
def test_public_dnats_to_the_private_address_of_the_topology(topology, target):
    public = plans_for(topology)["public1"]
    rows = public["nftables"]["dnat"]["4"]
    assert [(r["saddr"], r["proto"], r["port"]["from"], r["daddr"], r["dport"]["from"]) for r in rows] == [
        ("0.0.0.0/0", "tcp", 2000, target, 8080)]
    assert public["nftables"]["wan_interface"] == "eth0"
    assert public["sysctls"]["net.ipv4.ip_forward"] == "1"
    assert public["sysctls"]["net.ipv4.ip_local_reserved_ports"] == "2000"
    peer = "private1" if topology == "direct" else "inter1"
    assert target + "/32" in allowed(public, peer)


# ------------------------------------------------------------------ masquerading


def test_masquerade_lan_masquerades_on_public_and_on_intermediate_when_not_the_gateway():
    plans = plans_for("lan", "masquerade")
    pub, inter, priv = plans["public1"], plans["inter1"], plans["private1"]
    masq = pub["nftables"]["masquerade"]
    assert [(m["oif"], m["family"], m["dnat_only"]) for m in masq] == [("wg0", 4, True)]
    assert flows(masq[0]["flows"]) == [("172.31.0.3", "tcp", 8080, 8080)]
    assert [(m["oif"], m["dnat_only"]) for m in inter["nftables"]["masquerade"]] == [("eth0", False)]
    assert allowed(inter, "public1") == ["10.0.0.2/32"]
    assert iface(inter)["table"] is None
    assert priv["interfaces"] == [] and priv["routes"] == [] and priv["rules"] == []


@pytest.mark.parametrize("private_vars", [
    {"gateway_is_intermediate": True},
    {"attachment": "container", "gateway_is_intermediate": None},
])
def test_masquerade_needs_only_the_public_server_when_replies_pass_the_intermediate(private_vars):
    # The seed's tip: LAN router, Docker host or hub -> masquerade on the public server only.
    plans = plans_for("lan", "masquerade", private_vars=private_vars)
    assert plans["inter1"]["nftables"]["masquerade"] == []
    assert [m["oif"] for m in plans["public1"]["nftables"]["masquerade"]] == ["wg0"]


def test_masquerade_hub_spoke_routes_back_through_the_hub_network():
    plans = plans_for("hub", "masquerade")
    assert allowed(plans["private1"], "inter1") == ["10.0.0.0/24"]
    assert plans["inter1"]["nftables"]["masquerade"] == []


# ------------------------------------------------------------------ static routes


def test_static_routes_lan_adds_sources_to_allowed_ips_and_private_routes():
    plans = plans_for("lan", "static_routes")
    pub, inter, priv = plans["public1"], plans["inter1"], plans["private1"]
    assert allowed(inter, "public1") == ["10.0.0.2/32", "192.0.2.144/30", "198.51.100.87/32"]
    assert sorted((r["to"], r["via"], r["dev"], r["table"]) for r in priv["routes"]) == [
        ("192.0.2.144/30", "172.31.0.1", "eth0", None), ("198.51.100.87/32", "172.31.0.1", "eth0", None)]
    # Only the known sources are forwarded.
    assert sorted(r["saddr"] for r in pub["nftables"]["dnat"]["4"]) == SOURCES[::-1]


def test_static_routes_hub_spoke_extends_the_spokes_allowed_ips():
    plans = plans_for("hub", "static_routes")
    assert allowed(plans["private1"], "inter1") == ["10.0.0.0/24", "192.0.2.144/30", "198.51.100.87/32"]
    assert plans["private1"]["routes"] == []


def test_static_routes_need_no_private_routes_when_the_intermediate_is_the_gateway():
    plans = plans_for("lan", "static_routes", private_vars={"gateway_is_intermediate": True})
    assert plans["private1"]["routes"] == []


# ------------------------------------------------------------------ default route


def test_default_route_lan_full_tunnel_on_intermediate_and_def1_routes_on_private():
    plans = plans_for("lan", "default_route")
    pub, inter, priv = plans["public1"], plans["inter1"], plans["private1"]
    assert allowed(inter, "public1") == ["0.0.0.0/0"]
    assert iface(inter)["table"] is None  # wg-quick's own default-route handling
    assert sorted((r["to"], r["via"]) for r in priv["routes"]) == [
        ("0.0.0.0/1", "172.31.0.1"), ("128.0.0.0/1", "172.31.0.1")]
    assert pub["nftables"]["masquerade_out"] == [{"iif": "wg0", "oif": "eth0"}]


def test_default_route_keeps_local_routes_via_the_original_gateway():
    inv = build("lan", "default_route")
    inv["hosts"]["inter1"]["wgpf_local_routes"] = [{"to": "192.168.99.0/24", "via": "192.168.1.1"}]
    plans = plan_inventory(inv)
    assert plans["inter1"]["routes"] == [
        {"family": 4, "to": "192.168.99.0/24", "via": "192.168.1.1", "dev": None, "table": None}]


def test_default_route_hub_spoke_sends_everything_to_the_hub():
    plans = plans_for("hub", "default_route")
    assert allowed(plans["private1"], "inter1") == ["0.0.0.0/0"]
    assert iface(plans["private1"])["table"] is None


# ------------------------------------------------------------------ policy routing


def test_policy_routing_hub_spoke():
    plans = plans_for("hub")  # the tree's answer with every default
    inter, priv = plans["inter1"], plans["private1"]
    assert plans["public1"]["forwards"][0]["technique"] == "policy_routing"
    assert iface(priv)["table"] == T0
    assert selectors(iface(priv)["rules"]) == [("from 10.0.0.3 ipproto 6 sport 8080", T0)]
    assert allowed(priv, "inter1") == ["0.0.0.0/0"]
    assert iface(inter)["table"] == T0
    assert selectors(iface(inter)["rules"]) == [("from 10.0.0.3 ipproto 6 sport 8080 iif wg0", T0)]
    assert allowed(inter, "public1") == ["0.0.0.0/0"]
    assert allowed(inter, "private1") == ["10.0.0.3/32"]


def test_policy_routing_lan_not_hub():
    plans = plans_for("lan")
    inter, priv = plans["inter1"], plans["private1"]
    assert iface(inter)["table"] == T0
    assert selectors(inter["rules"]) == [("from 172.31.0.3 ipproto 6 sport 8080", T0)]
    assert inter["sysctls"]["net.ipv4.conf.eth0.rp_filter"] == "2"
    assert [(r["to"], r["via"], r["dev"], r["table"]) for r in priv["routes"]] == [
        ("default", "172.31.0.1", "eth0", T0)]
    assert selectors(priv["rules"]) == [("ipproto 6 sport 8080", T0)]


def test_policy_routing_spoke_routes_udp_replies_by_port_when_all_clients_come_via_public():
    # A wildcard-bound UDP service picks its reply's source by routing; the port rule makes it the tunnel's.
    priv = plans_for("hub", protocols=["tcp", "udp"], port="2000-2001", to_port="8080-8081")["private1"]
    assert selectors(iface(priv)["rules"]) == [("from 10.0.0.3 ipproto 6 sport 8080-8081", T0), ("ipproto 17 sport 8080-8081", T0)]
    direct = plans_for("direct", "policy_routing", protocols=["udp"])["private1"]
    assert selectors(iface(direct)["rules"]) == [("ipproto 17 sport 8080", T0)]
    escalated = plan_inventory(seed_two_publics().data())["private1"]
    assert selectors(iface(escalated)["rules"]) == [("from 10.0.0.3 ipproto 6 sport 8080", T0)]  # tcp only


def test_policy_routing_rule_per_protocol_and_port_range():
    plans = plans_for("lan", port="2000-2002", to_port="8080-8082", protocols=["tcp", "udp"])
    assert selectors(plans["private1"]["rules"]) == [
        ("ipproto 6 sport 8080-8082", T0), ("ipproto 17 sport 8080-8082", T0)]


def test_policy_routing_lan_needs_nothing_on_the_private_server_behind_its_gateway():
    plans = plans_for("lan", "policy_routing", private_vars={"gateway_is_intermediate": True})
    assert plans["private1"]["routes"] == [] and plans["private1"]["rules"] == []


# ------------------------------------------------------------------ connection marking


def test_connmark_intermediate():
    plans = plans_for("lan", only_via_public=False, private_vars={"gateway_is_intermediate": True})
    inter, priv = plans["inter1"], plans["private1"]
    assert inter["forwards"][0]["technique"] == "connmark_intermediate"
    wg = iface(inter)
    assert wg["table"] == T0 and wg["rp_filter"] == 2
    assert allowed(inter, "public1") == ["0.0.0.0/0"]
    assert inter["nftables"]["marks_in"] == [{"iif": "wg0", "mark": MARK}]
    assert selectors(wg["rules"]) == [(FWMARK, T0)]
    assert priv["interfaces"] == [] and priv["routes"] == [] and priv["rules"] == []
    assert priv["nftables"]["marks_private"] == []


def test_connmark_private_on_a_lan():
    plans = plans_for("lan", only_via_public=False)
    inter, priv = plans["inter1"], plans["private1"]
    assert priv["forwards"][0]["technique"] == "connmark_private"
    marks = priv["nftables"]["marks_private"]
    assert [(m["iif"], m["mac"], m["mark"]) for m in marks] == [("eth0", "12:34:56:78:90:ab", MARK)]
    assert flows(marks[0]["flows"]["4"]) == [("172.31.0.3", "tcp", 8080, 8080)]
    assert priv["nftables"]["restore_output"] == MARK
    assert [(r["to"], r["via"], r["table"]) for r in priv["routes"]] == [("default", "172.31.0.1", T0)]
    assert selectors(priv["rules"]) == [(FWMARK, T0)]
    assert priv["sysctls"] == {"net.ipv4.conf.eth0.rp_filter": "2"}
    # The intermediate does policy routing as in "When Not Hub-and-Spoke".
    assert selectors(inter["rules"]) == [("from 172.31.0.3 ipproto 6 sport 8080", T0)]
    assert inter["nftables"]["marks_in"] == []


def test_connmark_private_direct_peer():
    plans = plans_for("direct", only_via_public=False)
    priv = plans["private1"]
    assert priv["forwards"][0]["technique"] == "connmark_private"
    wg = iface(priv)
    assert wg["table"] == T0 and wg["rp_filter"] == 2
    assert allowed(priv, "public1") == ["0.0.0.0/0"]
    assert [(m["iif"], m["mac"]) for m in priv["nftables"]["marks_private"]] == [("wg0", None)]
    assert selectors(wg["rules"]) == [(FWMARK, T0)]


@pytest.mark.parametrize("topology,protocols,noted", [
    ("direct", ["tcp", "udp"], True),
    ("hub", ["udp"], True),
    ("direct", ["tcp"], False),
    ("lan", ["tcp", "udp"], False),  # replies from the LAN address the datagram came to match conntrack
])
def test_connmark_private_notes_udp_replies_must_leave_from_the_tunnel_address(topology, protocols, noted):
    decision = explain_inventory(build(topology, only_via_public=False, protocols=protocols))[0]
    assert decision["technique"] == "connmark_private"
    notes = [n for n in decision["notes"] if n.startswith("UDP on 'private1' port 8080:")]
    assert len(notes) == int(noted)
    if noted:
        assert "answer from the tunnel address" in notes[0] and "IP_PKTINFO" in notes[0]


@pytest.mark.parametrize("technique,table,rules,peer_allowed", [
    ("masquerade", None, [], ["10.0.0.2/32"]),
    ("static_routes", None, [], ["10.0.0.2/32", "192.0.2.144/30", "198.51.100.87/32"]),
    ("default_route", None, [], ["0.0.0.0/0"]),
    ("policy_routing", T0, [("from 10.0.0.3 ipproto 6 sport 8080", T0)], ["0.0.0.0/0"]),
])
def test_direct_peer_techniques(technique, table, rules, peer_allowed):
    priv = plans_for("direct", technique)["private1"]
    assert iface(priv)["table"] == table
    assert selectors(iface(priv)["rules"]) == rules
    assert allowed(priv, "public1") == peer_allowed
    assert iface(priv)["peers"][0]["endpoint"] == "203.0.113.2:51820"


def test_custom_mark_and_mask_are_used_masked():
    inv = build("lan", only_via_public=False, private_vars={"mark": "0x100", "mark_mask": "0x300"})
    priv = plan_inventory(inv)["private1"]
    assert priv["nftables"]["restore_output"] == {"value": 0x100, "mask": 0x300}
    assert selectors(priv["rules"]) == [("fwmark 0x100/0x300", T0)]


# ------------------------------------------------------------------ two public servers through one hub


def test_two_public_servers_escalate_to_per_public_marks():
    plans = plan_inventory(seed_two_publics().data())
    inter = plans["inter1"]
    assert [(m["iif"], m["mark"]["value"]) for m in inter["nftables"]["marks_in"]] == [
        ("wg1", 0x01000000), ("wg2", 0x02000000)]
    assert (iface(inter, "wg1")["table"], iface(inter, "wg2")["table"]) == (T0, T0 + 1)
    assert selectors(iface(inter, "wg1")["rules"]) == [(FWMARK, T0)]
    assert selectors(iface(inter, "wg2")["rules"]) == [("fwmark 0x2000000/0xf000000", T0 + 1)]
    assert iface(inter, "wg0")["table"] is None  # the spokes' interface keeps main-table routes
    assert allowed(inter, "public1", "wg1") == ["0.0.0.0/0"]
    assert allowed(inter, "public2", "wg2") == ["0.0.0.0/0"]
    priv = plans["private1"]
    assert selectors(iface(priv)["rules"]) == [("from 10.0.0.3 ipproto 6 sport 8080", T0)]
    decisions = explain_inventory(seed_two_publics().data())
    assert [(d["technique"], d["tree_technique"], d["escalated"]) for d in decisions] == [
        ("connmark_intermediate", "policy_routing", True)] * 2
    assert "carries forwards from public1 and public2" in decisions[0]["notes"][0]


def test_peers_of_the_two_public_hub_name_their_interface_and_endpoint():
    plans = plan_inventory(seed_two_publics().data())
    peers = {p["host"]: p for i in plans["inter1"]["interfaces"] for p in i["peers"]}
    assert peers["public1"]["endpoint"] == "198.51.100.11:51820" and peers["public1"]["interface"] == "wg0"
    spoke_peer = iface(plans["private1"])["peers"][0]
    assert (spoke_peer["interface"], spoke_peer["endpoint"]) == ("wg0", "172.31.0.1:51821")
    assert [p["interface"] for p in iface(plans["public1"])["peers"]] == ["wg1"]


# ------------------------------------------------------------------ protocols, ranges, IPv6, SAV, state


def test_port_range_maps_onto_a_same_size_range():
    pub = plans_for("lan", "masquerade", port="2000-2002", to_port=9000, protocols=["udp"])["public1"]
    row = pub["nftables"]["dnat"]["4"][0]
    assert (row["proto"], row["port"], row["dport"]) == ("udp", {"from": 2000, "to": 2002}, {"from": 9000, "to": 9002})
    assert pub["sysctls"]["net.ipv4.ip_local_reserved_ports"] == "2000-2002"


def test_reserved_ports_are_in_the_kernels_canonical_form():
    inv = build("lan", "masquerade", port=2003)
    inv["hosts"]["public1"]["wgpf_forwards"] += [
        {"name": "b", "public": "public1", "port": "2000-2002", "to": "private1", "technique": "masquerade"},
        {"name": "c", "public": "public1", "port": 3000, "to": "private1", "technique": "masquerade"}]
    for host in inv["hosts"].values():
        host["wgpf_forwards"] = inv["hosts"]["public1"]["wgpf_forwards"]
    assert plan_inventory(inv)["public1"]["sysctls"]["net.ipv4.ip_local_reserved_ports"] == "2000-2003,3000"


def test_reserve_ports_false_leaves_the_sysctl_alone():
    pub = plans_for("lan", private_vars=None, technique="masquerade")["public1"]
    assert "net.ipv4.ip_local_reserved_ports" in pub["sysctls"]
    inv = build("lan", "masquerade")
    inv["hosts"]["public1"]["wgpf_reserve_ports"] = False
    assert "net.ipv4.ip_local_reserved_ports" not in plan_inventory(inv)["public1"]["sysctls"]


def dual_stack_hub():
    inv = seed_hub(private_vars={"address": ["10.0.0.3/24", "fd00::3/64"]})
    inv.hosts["public1"]["wgpf_address"] = ["10.0.0.2/24", "fd00::2/64"]
    inv.hosts["inter1"]["wgpf_address"] = ["10.0.0.1/24", "fd00::1/64"]
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080, protocols=["tcp", "udp"])
    return inv.data()


def test_ipv6_forwards_get_their_own_dnat_map_rules_and_default_routes():
    plans = plan_inventory(dual_stack_hub())
    pub, inter, priv = plans["public1"], plans["inter1"], plans["private1"]
    assert {(r["daddr"], r["proto"]) for r in pub["nftables"]["dnat"]["6"]} == {("fd00::3", "tcp"), ("fd00::3", "udp")}
    assert pub["sysctls"]["net.ipv6.conf.all.forwarding"] == "1"
    assert allowed(inter, "public1") == ["0.0.0.0/0", "::/0"]
    assert selectors(iface(priv)["rules"]) == [
        ("from 10.0.0.3 ipproto 6 sport 8080", T0), ("ipproto 17 sport 8080", T0), ("from fd00::3 ipproto 6 sport 8080", T0), ("ipproto 17 sport 8080", T0)]
    assert [r["family"] for r in iface(priv)["rules"]] == [4, 4, 6, 6]
    assert "fd00::3/128" in allowed(pub, "inter1")


def test_sources_restrict_the_families_forwarded():
    inv = dual_stack_hub()
    for host in inv["hosts"].values():
        host["wgpf_forwards"][0]["sources"] = ["2001:db8::/32"]
    pub = plan_inventory(inv)["public1"]
    assert pub["nftables"]["dnat"]["4"] == []
    assert {r["saddr"] for r in pub["nftables"]["dnat"]["6"]} == {"2001:db8::/32"}


@pytest.mark.parametrize("sav,rp_filter,strict_entries", [("loose", 2, 0), ("strict", 2, 1), ("off", None, 0)])
def test_source_address_validation_modes(sav, rp_filter, strict_entries):
    inv = build("lan", only_via_public=False, private_vars={"gateway_is_intermediate": True})
    inv["hosts"]["inter1"]["wgpf_sav"] = sav
    inv["hosts"]["inter1"]["wgpf_lan_address"] = "172.31.0.1/24"
    inter = plan_inventory(inv)["inter1"]
    assert iface(inter)["rp_filter"] == rp_filter
    sav_entries = inter["nftables"]["sav"]
    assert len(sav_entries) == strict_entries
    if strict_entries:
        assert sav_entries[0]["iif"] == "wg0"
        assert "10.0.0.0/24" in sav_entries[0]["peers"]["4"]
        assert "192.168.0.0/16" in sav_entries[0]["bogons"]["4"]


def test_rule_priorities_and_tables_follow_the_configured_bases():
    inv = build("hub")
    for host in inv["hosts"].values():
        host.update({"wgpf_route_table_base": 200, "wgpf_rule_priority_base": 1000})
    priv = plan_inventory(inv)["private1"]
    assert [(r["table"], r["priority"]) for r in iface(priv)["rules"]] == [(200, 1000)]


def test_spoke_dials_the_hub_lan_address_when_it_has_no_endpoint():
    inv = build("hub")
    del inv["hosts"]["inter1"]["wgpf_endpoint"]
    inv["hosts"]["inter1"]["wgpf_lan_address"] = "172.31.0.1"
    priv = plan_inventory(inv)["private1"]
    assert iface(priv)["peers"][0]["endpoint"] == "172.31.0.1:51821"


def test_a_host_being_removed_cannot_stay_in_forwards_or_carry_spokes():
    from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
    inv = build("hub")
    inv["hosts"]["inter1"]["wgpf_state"] = "absent"
    with pytest.raises(PlanError) as err:
        plan_inventory(inv)
    assert err.value.problems == [
        "host 'private1': wgpf_intermediate: 'inter1' is being removed (wgpf_state: absent): remove this host too, "
        "or reach it another way"]
    inv["hosts"]["private1"]["wgpf_state"] = "absent"
    with pytest.raises(PlanError) as err:
        plan_inventory(inv)
    assert err.value.problems == [
        "forward 'web': to: host 'private1' is being removed (wgpf_state: absent): remove this forward in the same run"]
    for host in inv["hosts"].values():
        host["wgpf_forwards"] = []
    plans = plan_inventory(inv)
    assert [i["name"] for i in plans["inter1"]["interfaces"]] == ["wg0"]
    assert plans["inter1"]["state"] == "absent" and plans["public1"]["state"] == "present"


def test_a_hub_facing_the_public_server_only_steers_its_spokes_replies():
    # The example topology: one wg0 carries public1, a spoke, and forwards to a LAN host.
    inv = seed_hub(inter_vars={"lan_address": "172.31.0.1", "lan_interface": "eth0"})
    inv.host("private2", "private", intermediate="inter1", attachment="lan", lan_address="172.31.0.4",
             lan_interface="eth0", gateway_is_intermediate=True)
    inv.forward(name="spoke", public="public1", port=2000, to="private1", to_port=8080)
    inv.forward(name="lan", public="public1", port=2001, to="private2", to_port=8080)
    inter = plan_inventory(inv.data())["inter1"]
    assert selectors(iface(inter)["rules"]) == [("from 10.0.0.3 ipproto 6 sport 8080 iif wg0", T0)]
    assert selectors(inter["rules"]) == [("from 172.31.0.4 ipproto 6 sport 8080", T0)]


def test_default_route_keeps_its_routes_when_the_facts_then_show_the_intermediate_as_gateway():
    # Run 1: the LAN router is the gateway; run 2: the facts see the /1 routes via inter1.
    facts = {"ansible_facts": {"default_ipv4": {"gateway": "172.31.0.254", "interface": "eth0",
                                                "address": "172.31.0.3"}}}
    inv = build("lan", private_vars={"internet_via_public": True, "gateway_is_intermediate": None})
    inv["hosts"]["private1"].update(facts)
    first = plan_inventory(inv)["private1"]["routes"]
    inv["hosts"]["private1"]["ansible_facts"]["default_ipv4"]["gateway"] = "172.31.0.1"
    second = plan_inventory(inv)["private1"]["routes"]
    assert first == second and [r["to"] for r in first] == ["0.0.0.0/1", "128.0.0.0/1"]
    inv["hosts"]["private1"]["wgpf_gateway_is_intermediate"] = True
    assert plan_inventory(inv)["private1"]["routes"] == []
