# -*- coding: utf-8 -*-
"""Rendered files: every nftables table passes `nft -c`, wg-quick configs carry no private key."""

from __future__ import annotations

import copy
import re

import pytest
import shipped_inventories as S
from builders import seed_direct, seed_hub, seed_lan, seed_two_publics

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.nft_draft import needs_table
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.nftables import describe
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

TECHNIQUES = ["masquerade", "static_routes", "default_route", "policy_routing", "connmark_private"]


def inventory(topology, technique, **extra):
    inv = {"lan": seed_lan, "hub": seed_hub, "direct": seed_direct}[topology]()
    fwd = {"name": "web", "public": "public1", "port": "2000-2001", "to": "private1", "to_port": 8080,
           "protocols": ["tcp", "udp"], "technique": technique}
    if technique == "static_routes":
        fwd["sources"] = ["198.51.100.87/32", "192.0.2.144/30"]
    fwd.update(extra)
    inv.forward(**fwd)
    return inv.data()


def cases():
    for topology in ("lan", "hub", "direct"):
        for technique in TECHNIQUES:
            yield pytest.param(inventory(topology, technique), id="%s-%s" % (topology, technique))
    gateway = inventory("lan", "connmark_intermediate")
    gateway["hosts"]["private1"]["wgpf_gateway_is_intermediate"] = True
    yield pytest.param(gateway, id="lan-connmark_intermediate")
    yield pytest.param(seed_two_publics().data(), id="two-publics")
    strict = inventory("lan", "connmark_private")
    for host in strict["hosts"].values():
        host["wgpf_sav"] = "strict"
    strict["hosts"]["inter1"]["wgpf_lan_address"] = "172.31.0.1/24"  # strict SAV needs the LAN's prefix
    yield pytest.param(strict, id="lan-connmark_private-strict-sav")


def all_files(inv, keys=None):
    return {(host, f["path"]): f for host, plan in plan_inventory(inv).items() for f in render_files(plan, keys)}


@pytest.mark.parametrize("inv", list(cases()))
def test_every_rendered_table_passes_nft_check(inv, nft_check, tmp_path):
    tables = [f for f in all_files(inv).values() if f["kind"] == "nftables"]
    assert tables, "the public server always gets a table"
    for table in tables:
        assert "flush ruleset" not in table["content"]
        assert re.search(r"^table inet wgpf\ndelete table inet wgpf\ntable inet wgpf \{", table["content"], re.M)
        nft_check(table["content"], tmp_path)


def test_connmark_intermediate_lan_requires_the_gateway():
    inv = inventory("lan", "connmark_intermediate")
    inv["hosts"]["private1"]["wgpf_gateway_is_intermediate"] = True
    files = all_files(inv)
    table = files[("inter1", "/etc/wgpf/wgpf.nft")]["content"]
    assert 'iifname "wg0" ct state new ct mark set ct mark & 0xf0ffffff | 0x01000000' in table
    assert 'iifname != "wg0" ct mark & 0x0f000000 == 0x01000000 meta mark set meta mark & 0xf0ffffff | 0x01000000' \
        in table


def test_wireguard_config_loads_the_key_from_a_file_and_lists_peers():
    files = all_files(inventory("hub", "policy_routing"), keys={"inter1": "HUBKEY=", "public1": {"wg0": "PUBKEY="}})
    conf = files[("private1", "/etc/wireguard/wg0.conf")]
    assert conf["mode"] == "0600"
    assert "PrivateKey" not in conf["content"]
    assert "PostUp = wg set %i private-key /etc/wireguard/wgpf/wg0.key" in conf["content"]
    assert "Table = 51900" in conf["content"]
    # The spoke's rules follow its forwards: in routes.sh, not in [Interface] (no PreDown at all).
    assert "rule" not in conf["content"].split("[Peer]")[0] and "PreDown" not in conf["content"]
    assert "PostUp = [ ! -x /etc/wgpf/routes.sh ] || /etc/wgpf/routes.sh up\n" in conf["content"]
    routes = files[("private1", "/etc/wgpf/routes.sh")]["content"]
    assert "    rule -4 from 10.0.0.3 ipproto 6 sport 8080-8081 lookup 51900 priority 5100\n" in routes
    peer = conf["content"].split("[Peer]")[1]
    assert "PublicKey = HUBKEY=" in peer and "Endpoint = 172.31.0.1:51821" in peer
    assert "AllowedIPs = 0.0.0.0/0" in peer and "PersistentKeepalive = 25" in peer
    assert conf["missing_keys"] == []
    public = all_files(inventory("hub", "policy_routing"))[("public1", "/etc/wireguard/wg0.conf")]
    assert public["missing_keys"] == ["inter1"]
    assert "PublicKey = <public key of inter1, not known yet>" in public["content"]


def test_interface_digest_changes_with_the_interface_not_with_peers():
    inv = inventory("hub", "policy_routing")
    before = all_files(inv, {"inter1": "A="})[("private1", "/etc/wireguard/wg0.conf")]
    after = all_files(inv, {"inter1": "B="})[("private1", "/etc/wireguard/wg0.conf")]
    assert before["content"] != after["content"]
    assert before["interface_digest"] == after["interface_digest"]
    inv["hosts"]["private1"]["wgpf_listen_port"] = 51999
    moved = all_files(inv, {"inter1": "A="})[("private1", "/etc/wireguard/wg0.conf")]
    assert moved["interface_digest"] != before["interface_digest"]


def test_sysctl_and_routes_files():
    files = all_files(inventory("lan", "connmark_private"))
    sysctl = files[("public1", "/etc/sysctl.d/90-wgpf.conf")]["content"]
    assert "net.ipv4.ip_forward = 1\n" in sysctl
    assert "net.ipv4.ip_local_reserved_ports = 2000-2001\n" in sysctl
    routes = files[("private1", "/etc/wgpf/routes.sh")]
    assert routes["mode"] == "0755"
    assert "    route -4 default via 172.31.0.1 dev eth0 table 51900\n" in routes["content"]
    assert "    rule -4 fwmark 0x1000000/0xf000000 lookup 51900 priority 5100\n" in routes["content"]


def test_dnat_map_expands_a_range_port_by_port():
    files = all_files(inventory("lan", "masquerade", to_port="9000-9001"))
    table = files[("public1", "/etc/wgpf/wgpf.nft")]["content"]
    for proto in ("tcp", "udp"):
        assert "%s . 2000 : 172.31.0.3 . 9000" % proto in table
        assert "%s . 2001 : 172.31.0.3 . 9001" % proto in table
    # One lookup, however many forwards: a single DNAT rule per family.
    assert table.count("dnat ip to") == 1


def test_absent_host_gets_no_files():
    inv = inventory("lan", "masquerade")
    for host in inv["hosts"].values():
        host["wgpf_forwards"] = []
    inv["hosts"]["public1"]["wgpf_state"] = "absent"
    plan = plan_inventory(inv)["public1"]
    assert plan["state"] == "absent" and [i["name"] for i in plan["interfaces"]] == ["wg0"]
    assert render_files(plan) == []


def test_host_without_anything_to_do_gets_no_table():
    files = all_files(inventory("lan", "masquerade"))
    assert not any(host == "private1" for host, dummy in files)


# ------------------------------------------------------------------ the planner's "is there a table" and describe agree


def shipped_and_built():
    yield from [S.example()] + [S.scenario(name) for name in S.scenarios()]
    for param in cases():
        yield param.values[0]


def test_needs_table_agrees_with_describe_on_every_planned_host():
    # plan/uncontacted.py asks needs_table (the planner may not import the renderer); the table is describe's.
    seen = set()
    for inv in shipped_and_built():
        for host, plan in plan_inventory(inv).items():
            has_table = describe(plan["nftables"]) is not None
            assert needs_table(plan["nftables"]) is has_table, host
            seen.add(has_table)
    assert seen == {True, False}


# One change at a time to a table that is empty, each with what describe makes of it.
ONE_THING = {
    "dnat": {"dnat": {"4": [{"saddr": "0.0.0.0/0", "proto": "tcp", "port": {"from": 80, "to": 80},
                             "daddr": "10.0.0.2", "dport": {"from": 80, "to": 80}}]}},
    "accept": {"accept": {"6": [{"addr": "fd00::2", "proto": "udp", "port": {"from": 53, "to": 53}}]}},
    "masquerade": {"masquerade": [{"oif": "wg0", "family": 4, "dnat_only": True, "flows": []}]},
    "masquerade_out": {"masquerade_out": [{"iif": "wg0", "oif": "eth0"}]},
    "guard": {"guard": [{"iif": "wg0", "oifs": [], "others": {}}]},
    "protect": {"protect": {"iif": "eth0", "daddr": {"4": ["10.0.0.1/32"]}}},
    "protect, no address": {"protect": {"iif": "eth0", "daddr": {}}},
    "clamp alone": {"clamp": [{"ifaces": ["wg0"], "mss": {"4": 1380, "6": 1360}}]},
    "marks_in": {"marks_in": [{"iif": "wg0", "mark": {"value": 1, "mask": 15}}]},
    "marks_private": {"marks_private": [{"iif": "wg0", "mac": None, "mark": {"value": 1, "mask": 15},
                                         "flows": {"4": [{"addr": "10.0.0.2", "proto": "tcp",
                                                          "port": {"from": 80, "to": 80}}]}}]},
    "marks_private, no flow": {"marks_private": [{"iif": "wg0", "mac": None, "mark": {"value": 1, "mask": 15},
                                                  "flows": {}}]},
    "restore_output": {"restore_output": {"value": 1, "mask": 15}},
    "sav": {"sav": [{"iif": "wg0", "peers": {}, "bogons": {"4": ["10.0.0.0/8"], "6": ["fc00::/7"]}}]},
    "lan_sav": {"lan_sav": [{"iif": "eth1", "allowed": {"4": ["192.168.1.0/24"]}}]},
    "lan_sav, no family": {"lan_sav": [{"iif": "eth1", "allowed": {}}]},
}


@pytest.mark.parametrize("change", sorted(ONE_THING))
def test_needs_table_agrees_with_describe_on_each_part_of_the_table(change):
    private = plan_inventory(inventory("lan", "policy_routing"))["private1"]["nftables"]
    assert describe(private) is None and not needs_table(private)
    nft = dict(copy.deepcopy(private), **ONE_THING[change])
    assert needs_table(nft) is (describe(nft) is not None)
