# -*- coding: utf-8 -*-
"""Every family a forward serves (issue 17 items 2 and 3): a dual-stack LAN server behind an intermediate
whose LAN addresses come from facts.

- facts give the intermediate its LAN address in each family (model/facts.py), and the private server's
  return table a default route in each;
- a family the forward serves without an intermediate LAN address of that family is refused, naming the
  host and the field, instead of half a return path;
- Q5 is "the gateway is the intermediate" only when it is in every family of the private server;
- the live check expects, per family, the interface and the gateway a reply must leave by, and a reply of
  one family leaving another way is not ok.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from builders import Inv

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_expect import expectations
from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_verdict import verdicts
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import VOCABULARY
from ansible_collections.wgforward.portforward.plugins.module_utils.model.model import build_model
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import explain_inventory, plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

INTER_V4 = {"address": "172.31.0.1", "netmask": "255.255.255.0", "network": "172.31.0.0"}
INTER_V6 = {"address": "fd00:31::1", "prefix": "64", "scope": "global"}


def inter_facts(v6=True, other_v6_iface=False):
    """The intermediate's facts: its LAN eth0 (IPv4, link-local IPv6, and a global IPv6 unless ``v6`` is
    false or ``other_v6_iface`` puts it on eth1, its side towards the public server)."""
    facts = {"interfaces": ["lo", "eth1", "eth0"],
             "eth1": {"ipv4": {"address": "203.0.113.5", "netmask": "255.255.255.224"}, "ipv6": [],
                      "macaddress": "02:00:00:00:01:01"},
             "eth0": {"ipv4": dict(INTER_V4), "macaddress": "02:00:00:00:00:01",
                      "ipv6": [{"address": "fe80::1", "prefix": "64", "scope": "link"}]}}
    if v6:
        facts["eth1" if other_v6_iface else "eth0"]["ipv6"].append(dict(INTER_V6))
    return facts


def private_facts(v6_gateway="fd00:31::1", v4_gateway="172.31.0.254"):
    return {"default_ipv4": {"address": "172.31.0.3", "gateway": v4_gateway, "interface": "eth0"},
            "default_ipv6": {"address": "fd00:31::3", "gateway": v6_gateway, "interface": "eth0"}}


def dual_stack(inter=None, private=None, **inter_vars):
    """The seed's LAN topology, dual-stack: IPv6 tunnel addresses, the intermediate's LAN (interface, addresses,
    MAC) and the private server's (address, gateway) from facts."""
    inv = Inv()
    inv.host("public1", "public", address=["10.0.0.2/24", "fd00:10::2/64"], listen_port=51822,
             endpoint="203.0.113.2:51822", wan_interface="eth0")
    inv.host("inter1", "intermediate", address=["10.0.0.1/24", "fd00:10::1/64"], listen_port=51821,
             ansible_facts=inter if inter is not None else inter_facts(), **inter_vars)
    inv.host("private1", "private", intermediate="inter1", attachment="lan",
             ansible_facts=private if private is not None else private_facts())
    inv.forward(name="web", public="public1", port=2000, protocols=["tcp", "udp"], to="private1", to_port=8080)
    return inv


def problems(inv):
    with pytest.raises(PlanError) as err:
        plan_inventory(inv.data())
    return err.value.problems


# ------------------------------------------------------------------ item 2: facts per family


def test_the_intermediate_s_lan_address_is_inferred_in_each_family():
    inter = build_model(dual_stack().data(), VOCABULARY).hosts["inter1"]
    assert inter.lan_interface == "eth0"
    assert [str(ip) for ip in inter.lan_addresses] == ["172.31.0.1", "fd00:31::1"]


def test_the_private_server_s_return_table_gets_a_default_route_in_each_family():
    plan = plan_inventory(dual_stack().data())["private1"]
    defaults = sorted((r["family"], r["via"], r["dev"]) for r in plan["routes"] if r["to"] == "default")
    assert defaults == [(4, "172.31.0.1", "eth0"), (6, "fd00:31::1", "eth0")]
    assert {r["table"] for r in plan["routes"] if r["to"] == "default"} == {51900}
    assert sorted({r["family"] for r in plan["rules"]}) == [4, 6]


def test_an_intermediate_without_an_ipv6_lan_address_serves_ipv4_and_explain_says_so():
    """Unstated families: the forward serves what the whole path carries, and explain names the family left out
    (decide/families.py); stated, the family it cannot carry is refused naming the forward and the field."""
    inv = dual_stack(inter=inter_facts(v6=False))
    plan = plan_inventory(inv.data())["private1"]
    assert {r["family"] for r in plan["routes"]} == {4}
    notes = [n for e in explain_inventory(inv.data()) for n in e.get("notes", [])]
    assert any("IPv4 only: 'inter1' has no IPv6 LAN address (wgpf_lan_address)" in n for n in notes), notes
    inv.forwards[0]["families"] = ["ipv4", "ipv6"]
    assert problems(inv) == ["forward 'web': families: ipv6: 'inter1' has no IPv6 LAN address (wgpf_lan_address), "
                             "through which 'private1' is reached"]


def test_an_ipv6_address_on_another_interface_is_not_the_lan_s():
    found = problems(dual_stack(inter=inter_facts(other_v6_iface=True)))
    # One interface is the LAN (on a tie, eth1: first in the facts): private1's IPv4 address is not on it, and
    # the forward's default family, IPv4, has no LAN address there.
    assert any("is outside" in p and "the LAN of 'inter1' on eth1" in p for p in found), found
    assert any(p.startswith("forward 'web': to: 'inter1' has no IPv4 LAN address") for p in found), found


def test_a_lan_address_set_in_one_family_only_serves_that_family():
    inv = dual_stack(lan_address="172.31.0.1/24")
    plan = plan_inventory(inv.data())["private1"]
    assert {r["family"] for r in plan["routes"]} == {4}
    inv.forwards[0]["families"] = ["ipv6"]
    found = problems(inv)
    assert any("ipv6: 'inter1' has no IPv6 LAN address (wgpf_lan_address)" in p for p in found), found


def test_a_private_server_given_one_family_is_forwarded_in_that_family_only():
    inv = dual_stack(inter=inter_facts(v6=False))
    inv.hosts["private1"]["wgpf_lan_address"] = "172.31.0.3"
    plan = plan_inventory(inv.data())["private1"]
    assert {r["family"] for r in plan["routes"]} == {4}


@pytest.mark.parametrize("v4_gateway, v6_gateway, answer", [
    ("172.31.0.1", "fd00:31::1", True),
    ("172.31.0.1", "fe80::1", False),
    ("172.31.0.254", "fd00:31::1", False),
], ids=["both-intermediate", "ipv6-by-another-router", "ipv4-by-another-router"])
def test_q5_is_the_intermediate_only_when_it_is_the_gateway_in_every_family(v4_gateway, v6_gateway, answer):
    inv = dual_stack(private=private_facts(v6_gateway=v6_gateway, v4_gateway=v4_gateway))
    assert build_model(inv.data(), VOCABULARY).hosts["private1"].gateway_is_intermediate is answer


# ------------------------------------------------------------------ item 3: the check, per family


def nft_listing(plan):
    """What `nft -j list table inet wgpf` prints once the host's rendered table is loaded (a scratch netns)."""
    text = next(f["content"] for f in render_files(plan) if f["kind"] == "nftables")
    run = subprocess.run(["unshare", "-rn", "sh", "-c", "nft -f - && nft -j list table inet wgpf"], input=text,
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout)["nftables"]


def healthy(inv):
    """(expectations, probe results of a lab where everything is as planned): every route answered as expected."""
    expect, plans = expectations(inv.data()), plan_inventory(inv.data())
    results = {}
    for fwd in expect["forwards"]:
        for hop in fwd["hops"]:
            res = results.setdefault(hop["host"], {"interfaces": {}, "nft": None, "listening": None, "routes": []})
            for link in hop["links"]:
                iface = res["interfaces"].setdefault(link["iface"], {"exists": True, "up": True, "error": None,
                                                                     "peers": [], "public_key": "k-" + hop["host"]})
                iface["peers"].append({"public_key": "k-" + link["peer"], "allowed_ips": link["allowed_ips"],
                                       "handshake_age": 5})
            if hop["dnat"] and res["nft"] is None:
                res["nft"] = {"table": nft_listing(plans[hop["host"]]), "error": None}
            if hop["listen"]:
                res["listening"] = {"tcp": [["*", 8080]], "udp": [["*", 8080]], "error": None}
            for route in hop["routes"]:
                table = route["expect"]["table"]
                res["routes"].append(dict(route, error=None, route=dict(
                    {"dev": route["expect"]["dev"], "gateway": route["expect"]["via"]},
                    **({"table": str(table)} if table else {}))))
    return expect, results


def routes_of(expect, host):
    return [r for f in expect["forwards"] for h in f["hops"] if h["host"] == host for r in h["routes"]]


def answer(results, host, family, **route):
    for probe in results[host]["routes"]:
        if probe["family"] == family:
            probe["route"] = route


def verdict(expect, results):
    (found,) = verdicts(expect, results)
    return found["verdict"]


def test_each_family_expects_its_own_interface_and_gateway():
    expect = expectations(dual_stack().data())
    legs = {(r["family"], r["proto"]): r["expect"] for r in routes_of(expect, "private1")}
    assert legs == {(4, p): {"dev": "eth0", "via": "172.31.0.1", "table": 51900} for p in ("tcp", "udp")} | \
        {(6, p): {"dev": "eth0", "via": "fd00:31::1", "table": 51900} for p in ("tcp", "udp")}
    tunnel = {(r["family"], r["iif"], r["expect"]["dev"], r["expect"]["via"]) for r in routes_of(expect, "inter1")}
    assert tunnel == {(4, "eth0", "wg0", None), (6, "eth0", "wg0", None)}


def test_a_dual_stack_lab_as_planned_is_ok():
    expect, results = healthy(dual_stack())
    assert verdict(expect, results) == "ok"


@pytest.mark.parametrize("host, family, route, wrong", [
    ("private1", 6, {"dev": "eth0", "gateway": "fe80::1"},
     "private1: a reply from fd00:31::3 tcp sport 8080 to 2001:2::1 would leave by eth0 via fe80::1 (table main), "
     "not by eth0 via fd00:31::1 (table 51900)"),
    ("private1", 6, {"dev": "eth0"},
     "private1: a reply from fd00:31::3 tcp sport 8080 to 2001:2::1 would leave by eth0 (table main), "
     "not by eth0 via fd00:31::1 (table 51900)"),
    ("private1", 4, {"dev": "eth0", "gateway": "172.31.0.254", "table": "51900"},
     "private1: a reply from 172.31.0.3 tcp sport 8080 to 198.18.0.1 would leave by eth0 via 172.31.0.254 "
     "(table 51900), not by eth0 via 172.31.0.1 (table 51900)"),
    ("inter1", 6, {"dev": "wg0", "gateway": "fd00:10::2", "table": "51900"},
     "inter1: a reply from fd00:31::3 tcp sport 8080 to 2001:2::1 in by eth0 would leave by wg0 via fd00:10::2 "
     "(table 51900), not by wg0 (table 51900)"),
], ids=["ipv6-by-its-own-gateway", "ipv6-with-no-gateway", "ipv4-by-another-gateway", "a-gateway-on-the-tunnel"])
def test_a_reply_of_one_family_leaving_another_way_is_not_ok(host, family, route, wrong):
    expect, results = healthy(dual_stack())
    answer(results, host, family, **route)
    assert verdict(expect, results) == wrong


def test_the_same_gateway_spelled_otherwise_is_the_same_path():
    expect, results = healthy(dual_stack())
    answer(results, "private1", 6, dev="eth0", gateway="fd00:31:0:0:0:0:0:1", table="51900")
    assert verdict(expect, results) == "ok"


def test_the_check_expects_only_the_families_the_forward_serves():
    """An intermediate without an IPv6 LAN address: the forward serves IPv4 only (decide/families.py), so a lab
    where that works is ok; the check must not look for an IPv6 DNAT the plan never made."""
    inv = dual_stack(inter=inter_facts(v6=False))
    expect, results = healthy(inv)
    assert verdict(expect, results) == "ok"
    assert {r["family"] for r in routes_of(expect, "private1")} == {4}


def test_a_tunnel_peer_without_one_family_s_allowed_ips_is_not_ok():
    expect, results = healthy(dual_stack())
    peer = results["inter1"]["interfaces"]["wg0"]["peers"][0]
    peer["allowed_ips"] = ["0.0.0.0/0"]
    assert verdict(expect, results) == "inter1: wg0 peer public1 lacks the allowed IPs ::/0 (it has 0.0.0.0/0)"
