# -*- coding: utf-8 -*-
"""The live check: what the plan makes it expect on each hop (check_expect.py) and the verdicts
(check_verdict.py) it draws from probe results, on the shipped topologies.

A healthy probe result of a host is made from the expectations (its links up with a recent
handshake, its services listening, its routes as planned) and from the real ``nft -j`` listing of
the host's rendered table, loaded in an unprivileged network namespace; each verdict test then
breaks one thing and checks which hop the verdict names, and why.
"""

from __future__ import annotations

import pytest
import shipped_inventories as S
from check_lab import healthy, scenario

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_expect import (
    INTERNET, contacted, route_key)
from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_verdict import (
    dnat_map_of, summary, verdict_lines, verdicts)


def verdict_of(expect, results, forward):
    return next(v["verdict"] for v in verdicts(expect, results) if v["forward"] == forward)


def hop(expect, forward, host):
    fwd = next(f for f in expect["forwards"] if f["forward"] == forward)
    return next(h for h in fwd["hops"] if h["host"] == host)


# ------------------------------------------------------------------ expectations, per topology


def test_lan_server_and_direct_peer_connmark_private():
    expect = scenario("connmark_private")
    paths = [f["path"] for f in expect["forwards"]]
    assert paths == [["public1", "intermediate1", "private1"], ["public1", "private2"]]
    public = hop(expect, "lan", "public1")
    assert public["links"][0]["peer"] == "intermediate1" and public["links"][0]["iface"] == "wg0"
    assert {(d["proto"], d["daddr"], d["dport"]) for d in public["dnat"]} == {
        ("tcp", "172.31.17.3", 8080), ("udp", "172.31.17.3", 8080)}
    inter = hop(expect, "lan", "intermediate1")
    assert [(r["iif"], r["mark"], r["expect"]) for r in inter["routes"]] == [
        ("eth0", None, {"dev": "wg0", "via": None, "table": 51900})] * 2
    lan = hop(expect, "lan", "private1")
    assert lan["links"] == [] and lan["listen"][0] == {"proto": "tcp", "addr": "172.31.17.3", "ports": [8080, 8080]}
    assert [(r["dst"], r["mark"], r["iif"], r["expect"]) for r in lan["routes"]] == [
        (INTERNET[4], "0x1000000", None, {"dev": "eth0", "via": "172.31.17.2", "table": 51900})] * 2
    peer = hop(expect, "peer", "private2")
    assert peer["links"][0]["peer"] == "public1" and peer["links"][0]["keepalive"]
    assert peer["routes"][0]["expect"] == {"dev": "wg0", "via": None, "table": 51900}
    assert peer["routes"][0]["mark"] == "0x1000000"


def test_connmark_intermediate_marks_on_the_intermediate_and_the_container_is_not_probed():
    expect = scenario("connmark_intermediate")
    fwd = expect["forwards"][0]
    inter, private = fwd["hops"][1], fwd["hops"][2]
    assert inter["routes"][0]["mark"] == "0x1000000" and inter["routes"][0]["expect"]["dev"] == "wg0"
    # A container on intermediate1's docker0 is never contacted: its hop reads "not checked".
    assert private["contacted"] is False
    assert private["routes"][0]["mark"] is None
    assert private["routes"][0]["expect"]["via"] == "172.17.0.1" and private["routes"][0]["expect"]["table"] is None


def test_masquerade_needs_no_reply_route():
    expect = scenario("masquerade")
    for fwd in expect["forwards"]:
        assert all(not h["routes"] for h in fwd["hops"]), fwd
        assert fwd["hops"][-1]["listen"][0]["ports"] == [8000, 8002]
        assert fwd["hops"][0]["dnat"][0]["port"][0] != fwd["hops"][0]["dnat"][0]["port"][1]


def test_default_route_replies_leave_by_the_intermediate():
    expect = scenario("default_route")
    fwd = expect["forwards"][0]
    assert fwd["hops"][1]["routes"][0]["expect"]["dev"] == "wg0"
    assert fwd["hops"][2]["routes"][0]["expect"]["via"] == "172.31.13.2"


def test_static_routes_route_a_reply_to_a_source_not_to_the_internet():
    expect = scenario("static_routes")
    dsts = {r["dst"] for f in expect["forwards"] for h in f["hops"] for r in h["routes"]}
    assert dsts and INTERNET[4] not in dsts


def test_hub_spoke_checks_both_tunnels_and_the_hub_routes_from_the_spoke_side():
    expect = scenario("policy_routing_hub")
    fwd = next(f for f in expect["forwards"] if len(f["path"]) == 3)
    inter, spoke = fwd["hops"][1], fwd["hops"][2]
    assert [link["peer"] for link in inter["links"]] == [fwd["public"], fwd["to"]]
    assert inter["routes"][0]["iif"] == inter["links"][1]["iface"]
    assert spoke["links"][0]["peer"] == inter["host"]
    assert spoke["routes"][0]["expect"]["dev"] == spoke["links"][0]["iface"]


def test_two_publics_each_check_their_own_link_and_mark():
    expect = scenario("two_publics")
    inters = [f["hops"][1] for f in expect["forwards"] if len(f["path"]) == 3]
    links = {(h["links"][0]["peer"], h["links"][0]["iface"]) for h in inters}
    assert len(links) == 2, links
    marks = {h["routes"][0]["mark"] for h in inters}
    assert len(marks) == 2 and None not in marks


def test_probe_args_fold_a_hosts_hops():
    expect = scenario("connmark_private")
    assert expect["hosts"]["public1"] == {"interfaces": ["wg0"], "nft_table": "wgpf", "listen": False, "routes": []}
    assert expect["hosts"]["private1"]["listen"] and not expect["hosts"]["private1"]["interfaces"]
    assert len(expect["hosts"]["intermediate1"]["routes"]) == 2


@pytest.mark.parametrize("name", ["example"] + list(S.scenarios()))
def test_every_shipped_inventory_has_a_path_per_forward(name):
    expect = scenario(name)
    for fwd in expect["forwards"]:
        assert fwd["path"][0] == fwd["public"] and fwd["path"][-1] == fwd["to"]
        assert fwd["hops"][0]["dnat"] and fwd["hops"][-1]["listen"]


def test_contacted_defaults_to_true():
    assert contacted({}) and contacted({"contacted": True}) and not contacted({"contacted": False})


# ------------------------------------------------------------------ verdicts


@pytest.mark.parametrize("name", ["connmark_private", "connmark_intermediate", "masquerade", "default_route",
                                  "policy_routing_hub", "two_publics", "example"])
def test_a_lab_as_planned_is_ok_on_every_forward(name, tmp_path):
    expect, results = healthy(name, tmp_path)
    report = verdicts(expect, results)
    assert report and all(v["verdict"] == "ok" for v in report), verdict_lines(report)
    lines = verdict_lines(report)
    assert lines[:-1] == ["%s (%s -> %s): ok" % (v["forward"], v["public"], v["to"]) for v in report]
    assert lines[-1].startswith("check: %d forwards, %d ok, 0 wrong, " % (len(report), summary(report)["ok"]))


def test_the_real_dnat_map_holds_a_forward_and_the_counters_are_read(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    item = hop(expect, "lan", "public1")["dnat"][0]
    assert dnat_map_of(results["public1"]["nft"]["table"], item) == "dnat4"
    assert dnat_map_of(results["public1"]["nft"]["table"], dict(item, dport=9999)) is None
    assert dnat_map_of(results["public1"]["nft"]["table"], dict(item, daddr="10.201.7.4")) is None
    public_lines = verdicts(expect, results)[0]["hops"][0]["lines"]
    # Established packets stop before the accept rule: its comment says what its counter counts.
    accept = "forward rule 3 (accept: packets of new forwarded connections until a reply): 0 packets"
    assert any(line.startswith("counters of table inet wgpf") and accept in line
               and "forward rule 4 (drop): 0 packets" in line
               for line in public_lines), public_lines


def test_a_port_range_must_be_covered_by_the_map(tmp_path):
    expect, results = healthy("masquerade", tmp_path)
    fwd = expect["forwards"][0]
    assert verdict_of(expect, results, fwd["forward"]) == "ok"
    fwd["hops"][0]["dnat"][0]["port"][1] += 1
    assert "no DNAT map of table inet wgpf holds tcp" in verdict_of(expect, results, fwd["forward"])


def test_missing_dnat_entry_names_the_public_server(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    table = results["public1"]["nft"]["table"]
    for obj in table:
        if "map" in obj:
            obj["map"]["elem"] = [e for e in obj["map"]["elem"] if not e.startswith("tcp . 2000 : ")]
    assert verdict_of(expect, results, "lan") == (
        "public1: no DNAT map of table inet wgpf holds tcp 2000 -> 172.31.17.3:8080")
    assert verdict_of(expect, results, "peer") == "ok"


@pytest.mark.parametrize("change, verdict", [
    ({"up": False}, "intermediate1: wg0 is down"),
    ({"exists": False, "up": False, "error": "Device \"wg0\" does not exist."},
     "intermediate1: wg0 does not exist (Device \"wg0\" does not exist.)"),
    ({"age": 312}, "intermediate1: wg0 no handshake with public1 for 312 s"),
    ({"age": None}, "intermediate1: wg0 no handshake with public1 ever"),
    ({"peers": []}, "intermediate1: wg0 has no peer public1 (allowed IPs 0.0.0.0/0)"),
])
def test_a_broken_tunnel_names_the_intermediate(change, verdict, tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    iface = results["intermediate1"]["interfaces"]["wg0"]
    if "age" in change:
        iface["peers"][0]["handshake_age"] = change.pop("age")
    iface.update(change)
    assert verdict_of(expect, results, "lan") == verdict
    assert verdict_of(expect, results, "peer") == "ok"


def test_the_peer_is_found_by_its_key_else_by_its_allowed_ips(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    peer = results["public1"]["interfaces"]["wg0"]["peers"][0]
    peer["allowed_ips"] = ["10.9.9.9/32"]  # the key still names intermediate1: found, and its allowed IPs wrong
    assert verdict_of(expect, results, "lan") == (
        "public1: wg0 peer intermediate1 lacks the allowed IPs 10.201.7.1/32, 172.31.17.3/32 (it has 10.9.9.9/32)")
    del results["intermediate1"]["interfaces"]["wg0"]  # its key unknown: allowed IPs decide
    assert verdict_of(expect, results, "lan").startswith("public1: wg0 has no peer intermediate1")


def test_an_idle_link_without_keepalive_is_not_wrong(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    for fwd in expect["forwards"]:
        for h in fwd["hops"]:
            for link in h["links"]:
                link["keepalive"] = False
    results["private2"]["interfaces"]["wg0"]["peers"][0]["handshake_age"] = 900
    report = verdicts(expect, results)
    assert report[1]["verdict"] == "ok"
    assert any("900 s ago (no keepalive" in line for h in report[1]["hops"] for line in h["lines"])


def test_a_stopped_service_names_the_private_server(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    results["private1"]["listening"]["tcp"] = [["127.0.0.1", 8080], ["*", 22]]
    assert verdict_of(expect, results, "lan") == "private1: nothing listens on tcp 172.31.17.3:8080"
    results["private1"]["listening"]["tcp"] = [["*", 8080]]
    assert verdict_of(expect, results, "lan") == "ok"


def test_a_deleted_rule_names_the_private_server_and_the_route(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    for route in results["private1"]["routes"]:
        route["route"] = {"dev": "eth0", "gateway": "172.31.17.254"}
    assert verdict_of(expect, results, "lan") == (
        "private1: a reply from 172.31.17.3 tcp sport 8080 to 198.18.0.1 (mark 0x1000000) would leave by "
        "eth0 via 172.31.17.254 (table main), not by eth0 via 172.31.17.2 (table 51900)")


def test_a_wrong_reply_route_on_the_intermediate_names_it(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    results["intermediate1"]["routes"][0]["route"] = {"dev": "eth1", "gateway": "203.0.113.222"}
    assert verdict_of(expect, results, "lan").startswith(
        "intermediate1: a reply from 172.31.17.3 tcp sport 8080 to 198.18.0.1 in by eth0 would leave by eth1 via "
        "203.0.113.222 (table main), not by wg0 (table 51900)")
    results["intermediate1"]["routes"][0].update(route=None, error="RTNETLINK answers: Network is unreachable")
    assert verdict_of(expect, results, "lan").endswith("has no route: RTNETLINK answers: Network is unreachable")


def test_the_first_wrong_hop_on_the_path_wins(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    results["private1"]["listening"]["tcp"] = []
    results["intermediate1"]["interfaces"]["wg0"]["up"] = False
    assert verdict_of(expect, results, "lan") == "intermediate1: wg0 is down"
    results["public1"] = {"unreachable": True, "msg": "Failed to connect "}
    assert verdict_of(expect, results, "lan") == "public1: not reachable: Failed to connect"
    assert verdict_of(expect, results, "peer") == "public1: not reachable: Failed to connect"


def test_a_failed_or_missing_probe_is_named(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    results["private2"] = {"failed": True, "msg": "wg: command not found"}
    assert verdict_of(expect, results, "peer") == "private2: the probe failed: wg: command not found"
    del results["private2"]
    assert verdict_of(expect, results, "peer") == (
        "private2: not probed (outside --limit, or it failed before the probe: see the run's output)")


def test_a_host_that_is_not_contacted_is_not_checked(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    hop(expect, "lan", "private1")["contacted"] = False
    del results["private1"]
    report = verdicts(expect, results)
    assert report[0]["verdict"] == "ok"
    assert report[0]["hops"][2]["lines"] == ["not checked: Ansible does not contact this host"]
    assert summary(report) == {"forwards": 2, "ok": 1, "wrong": 0, "not_checked": 1}


# ------------------------------------------------------------------ what the check prints (wgpf_check_hops)


def test_only_the_hops_of_a_forward_that_is_not_ok_are_printed_unless_all(tmp_path):
    expect, results = healthy("connmark_private", tmp_path)
    results["private1"]["listening"]["tcp"] = []
    report = verdicts(expect, results)
    lines = verdict_lines(report)
    headers = [line for line in lines if line.endswith(":") and " -> " in line]
    assert headers == ["lan (public1 -> intermediate1 -> private1):"], lines
    assert "  private1: WRONG: nothing listens on tcp 172.31.17.3:8080" in lines
    assert not [line for line in lines if line.startswith("  private2: ")], lines  # the forward that is ok
    # One verdict line per forward, whatever is printed of the hops, then the counts.
    assert lines[-3:] == ["lan (public1 -> private1): private1: nothing listens on tcp 172.31.17.3:8080",
                          "peer (public1 -> private2): ok",
                          "check: 2 forwards, 1 ok, 1 wrong, 0 not checked (ok where read; a host on the path is "
                          "one Ansible does not contact)"]
    every = verdict_lines(report, "all")
    assert [line for line in every if line.endswith(":") and " -> " in line] == [
        "lan (public1 -> intermediate1 -> private1):", "peer (public1 -> private2):"]
    assert every[-3:] == lines[-3:] and len(every) > len(lines)


def test_route_key_matches_the_probe_answer_to_the_expectation():
    expect = scenario("connmark_private")
    keys = [route_key(r) for r in expect["hosts"]["private1"]["routes"]]
    assert keys == sorted(set(keys)) and len(keys) == 2


def test_the_dnat_lookup_costs_one_pass_over_the_table_not_one_per_forward():
    """verdicts() asks dnat_map_of once per forward and protocol: with a scan of the whole table per call,
    check.yml spent minutes of controller CPU at 10,000 forwards (benchmarks/README.md, scale_bench.py)."""
    import time
    count = 3000
    elements = [[{"concat": ["tcp", 1100 + 6 * i]}, {"concat": ["10.214.0.10", 8080]}] for i in range(count)]
    sources = [[{"concat": [{"range": [60000, 60002]}, "udp"]}, {"concat": ["10.214.0.11", 9000]}]]
    table = [{"map": {"name": "dnat4", "elem": elements}}, {"map": {"name": "dnat4_sources", "elem": sources}}]
    start = time.process_time()
    for i in range(count):
        item = {"proto": "tcp", "port": [1100 + 6 * i] * 2, "daddr": "10.214.0.10", "dport": 8080}
        assert dnat_map_of(table, item) == "dnat4"
    assert dnat_map_of(table, {"proto": "udp", "port": [60001, 60001], "daddr": "10.214.0.11",
                               "dport": 9000}) == "dnat4_sources"
    assert dnat_map_of(table, {"proto": "udp", "port": [1100, 1100], "daddr": "10.214.0.10", "dport": 8080}) is None
    # A scan per call takes about 20 s of CPU here (3,000 x 3,000 elements), the index about 0.05 s.
    assert time.process_time() - start < 3.0


def test_each_probe_result_is_indexed_once_not_scanned_per_forward(monkeypatch):
    """At 10,000 forwards verdicts() took seconds per host where it rebuilt a probe's route answers, rescanned
    the DNAT map's port ranges and recounted the table's counters for every forward: each is made once per
    probe result now (probe_index.py). Counted, not timed: the same answer with one pass per object."""
    from ansible_collections.wgforward.portforward.plugins.module_utils.check import check_verdict, probe_index
    calls = {"route_key": 0, "covers": 0, "counters": 0}

    def counting(name, real):
        def wrapper(*args):
            calls[name] += 1
            return real(*args)
        return wrapper
    monkeypatch.setattr(probe_index, "route_key", counting("route_key", probe_index.route_key))
    monkeypatch.setattr(probe_index, "_covers", counting("covers", probe_index._covers))
    monkeypatch.setattr(probe_index, "_counters", counting("counters", probe_index._counters))
    count = 2000
    # Every element a 3-port range, as every tenth forward of a real inventory is.
    elements = [[{"concat": ["tcp", {"range": [1100 + 6 * i, 1102 + 6 * i]}]},
                 {"concat": ["10.214.0.10", {"range": [9100, 9102]}]}] for i in range(count)]
    table = [{"map": {"name": "dnat4", "elem": elements}},
             {"rule": {"chain": "forward", "expr": [{"counter": {"packets": 3}}, {"accept": None}]}}]
    routes = [{"family": 4, "proto": "tcp", "dst": "198.18.0.1", "from": "10.214.0.10", "sport": 9100 + i,
               "iif": None, "mark": None, "error": None, "route": {"dev": "wg0", "gateway": None}} for i in range(50)]
    probe = {"nft": {"table": table, "error": None}, "routes": routes}
    for i in range(count):
        item = {"proto": "tcp", "port": [1100 + 6 * i, 1102 + 6 * i], "daddr": "10.214.0.10", "dport": 9100}
        assert check_verdict.dnat_map_of(table, item) == "dnat4"
        assert check_verdict.counters(table) == ["forward rule 1 (accept): 3 packets"]
        route = dict(routes[i % 50], expect={"dev": "wg0", "via": None})
        assert check_verdict.check_route(route, probe)[1] is None
    # One pass over each object, then one lookup per forward: a scan per forward is count x size.
    assert calls["counters"] == 1
    assert calls["route_key"] <= len(routes) + count
    assert calls["covers"] <= 2 * 3 * 2 * count  # per port of the forward: the key's and the value's range


def test_a_plan_s_rules_are_parsed_once_for_every_flow_they_route():
    """_rule_table runs for each routed flow (25,000 at 10,000 forwards): parsing the plan's rules again for
    each took 2-4 s of check.yml's expectations there."""
    from ansible_collections.wgforward.portforward.plugins.module_utils.check import check_expect

    class Counted(list):
        reads = 0

        def __iter__(self):
            Counted.reads += 1
            return super().__iter__()
    rules = Counted([{"family": 4, "selector": "from 10.0.0.2 ipproto 6 sport 8080", "table": 51900},
                     {"selector": "fwmark 0x1000000/0xf000000", "table": 51901}])
    plan = {"rules": rules, "interfaces": []}
    for dummy in range(1000):
        assert check_expect._rule_table(plan, (4, "tcp", "10.0.0.2"), 8080, None) == 51900
        assert check_expect._rule_table(plan, (6, "udp", "fd00::2"), 53, "0x1000000") == 51901
        assert check_expect._rule_table(plan, (4, "udp", "10.0.0.2"), 8080, None) is None
    assert Counted.reads == 1


def test_the_model_knows_wgpf_check_hops_and_refuses_a_bad_value():
    from builders import seed_direct
    from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
    from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
    inv = seed_direct()
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080)
    for value in ("failing", "all"):
        for host in inv.hosts.values():
            host["wgpf_check_hops"] = value
        assert plan_inventory(inv.data())  # a known variable: no "unknown key" problem
    for host in inv.hosts.values():
        host["wgpf_check_hops"] = "every"
    with pytest.raises(PlanError) as err:
        plan_inventory(inv.data())
    assert "host 'public1': wgpf_check_hops: must be one of failing, all, got 'every'" in str(err.value)


def test_each_link_is_judged_once_per_check_not_once_per_forward(tmp_path, monkeypatch):
    """The same few links are on every forward's path: 80,000 link lookups at 10,000 forwards (0.7 s)."""
    from ansible_collections.wgforward.portforward.plugins.module_utils.check import check_verdict as V
    expect, results = healthy("connmark_private", tmp_path)
    once = verdicts(expect, results)
    expect["forwards"] = expect["forwards"] * 50
    judged, read = [], []
    real_check, real_read = V.check_link, V.link_read
    monkeypatch.setattr(V, "check_link", lambda *args: judged.append(args[0]) or real_check(*args))
    monkeypatch.setattr(V, "link_read", lambda *args: read.append(args[0]) or real_read(*args))
    report = verdicts(expect, results)
    links = {(hop["host"], link["iface"], link["peer"]) for fwd in expect["forwards"] for hop in fwd["hops"]
             for link in hop["links"]}
    assert len(judged) == len(read) == len(links)
    assert report == once * 50  # the same verdicts, hop lines and links, forward by forward
