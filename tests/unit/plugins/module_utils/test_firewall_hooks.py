# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall hooks decided from a fake host's iptables state (firewall_hooks.py, firewall_spec.py)."""

from __future__ import annotations

import pytest
from fake_iptables import CLEAN, DOCKER, DROP_ALL, FakeIptables

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewall_hooks import load_spec
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.units import firewall_script
from ansible_collections.wgforward.portforward.plugins.module_utils.render.firewall_spec import firewall_spec

SPEC = {"forward": {"4": [{"addr": "10.0.0.3", "proto": "tcp", "port": {"from": 8080, "to": 8080},
                           "iifs": ["eth0"], "dnat": True}]},
        "outbound": [], "listen_ports": [51820]}


def test_docker_host_gets_the_flows_at_the_top_of_docker_user_and_nothing_else():
    host = FakeIptables({"iptables-nft": DOCKER})
    host.firewall().apply(SPEC)
    rules = host.tagged()
    assert len(rules) == 2 and all(r.startswith("-A DOCKER-USER ") for r in rules)
    assert "-i eth0 -d 10.0.0.3 -p tcp -m tcp --dport 8080 -m conntrack --ctstate DNAT" in rules[0]
    assert "-o eth0 -s 10.0.0.3 -p tcp -m tcp --sport 8080 -m conntrack --ctstate ESTABLISHED" in rules[1]
    # Docker's own rules are all still there, DOCKER-USER's RETURN after ours.
    assert [line for line in host.tables["iptables-nft"] if "wgpf:" not in line] == DOCKER.splitlines()
    assert host.tables["iptables-nft"].index("-A DOCKER-USER -j RETURN") > host.tables["iptables-nft"].index(rules[1])


def test_forward_policy_drop_without_docker_gets_the_top_of_forward_and_input_drop_the_listen_port():
    host = FakeIptables({"iptables-nft": DROP_ALL})
    host.firewall().apply(SPEC)
    rules = host.tagged()
    assert sorted(r.split()[1] for r in rules) == ["FORWARD", "FORWARD", "INPUT"]
    assert any(r.startswith("-A INPUT -p udp -m udp --dport 51820 -m comment") for r in rules)


def test_a_firewall_that_accepts_gets_nothing():
    host = FakeIptables({"iptables-nft": CLEAN})
    assert host.firewall().apply(SPEC) == [] and host.changes == []


def test_a_second_run_changes_nothing_and_stale_or_duplicate_rules_go():
    host = FakeIptables({"iptables-nft": DOCKER})
    host.firewall().apply(SPEC)
    assert host.firewall().apply(SPEC) == []
    first = host.tagged()[0]
    host.tables["iptables-nft"].insert(0, first)  # a duplicate
    host.firewall().apply(SPEC)
    assert len(host.tagged()) == 2
    moved = dict(SPEC, forward={"4": [dict(SPEC["forward"]["4"][0], port={"from": 9090, "to": 9090})]})
    host.firewall().apply(moved)
    assert len(host.tagged()) == 2 and all("9090" in r for r in host.tagged())


def test_remove_deletes_only_the_tagged_rules():
    host = FakeIptables({"iptables-nft": DOCKER})
    host.firewall().apply(SPEC)
    host.firewall().remove()
    assert host.tables["iptables-nft"] == DOCKER.splitlines()


def test_docker_user_appearing_moves_the_rules_from_forward():
    host = FakeIptables({"iptables-nft": DROP_ALL})
    host.firewall().apply(SPEC)
    host.tables["iptables-nft"][3:3] = ["-N DOCKER-USER"]
    host.firewall().apply(SPEC)
    assert sorted(r.split()[1] for r in host.tagged()) == ["DOCKER-USER", "DOCKER-USER", "INPUT"]


def test_legacy_backend_is_used_only_where_its_filter_table_is_loaded():
    tables = {"iptables-nft": CLEAN, "iptables-legacy": DOCKER}
    binaries = ("iptables-nft", "iptables-legacy", "nft")
    loaded = FakeIptables(tables, binaries, legacy_names="nat\nfilter\n")
    loaded.firewall().apply(SPEC)
    assert len(loaded.tagged("iptables-legacy")) == 2 and loaded.tagged("iptables-nft") == []
    unloaded = FakeIptables(tables, binaries, legacy_names="")
    unloaded.firewall().apply(SPEC)
    # Never listed when not loaded (listing would create it), so nothing is done there.
    assert not any(argv[0] == "iptables-legacy" for argv in unloaded.changes)


def test_nft_backend_without_a_filter_table_is_left_alone():
    host = FakeIptables({"iptables-nft": DOCKER})
    del host.tables["iptables-nft"]
    assert host.firewall().apply(SPEC) == []


def test_ipv6_flows_go_to_ip6tables():
    spec = {"forward": {"6": [{"addr": "fd00::3", "proto": "udp", "port": {"from": 2000, "to": 2002},
                               "iifs": ["wg0"], "dnat": False}]}}
    host = FakeIptables({"iptables-nft": DOCKER, "ip6tables-nft": DOCKER})
    host.firewall().apply(spec)
    assert host.tagged("iptables-nft") == []
    assert "-i wg0 -d fd00::3 -p udp -m udp --dport 2000:2002 -m comment" in host.tagged("ip6tables-nft")[0]
    assert "DNAT" not in " ".join(host.tagged("ip6tables-nft"))


def test_plain_iptables_is_taken_for_the_backend_its_version_names():
    host = FakeIptables({"iptables": DOCKER}, binaries=("iptables", "nft"))
    host.tables["iptables-nft"] = host.tables["iptables"]  # nft sees iptables' table
    host.firewall().apply(SPEC)
    assert host.changes and all(argv[0] == "iptables" for argv in host.changes)


def test_outbound_links_of_default_route_pass_with_their_replies():
    host = FakeIptables({"iptables-nft": DOCKER})
    host.firewall().apply({"outbound": [{"iif": "wg0", "oif": "eth0"}]})
    rules = host.tagged()
    assert rules[0].startswith("-A DOCKER-USER -i wg0 -o eth0 -m comment --comment wgpf:")
    assert rules[1].startswith("-A DOCKER-USER -i eth0 -o wg0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment")


@pytest.mark.parametrize("role, expected", [("public", True), ("intermediate", True), ("private", False)])
def test_spec_only_for_public_and_intermediate_servers(role, expected):
    plan = {"role": role, "interfaces": [{"listen_port": 51820}],
            "nftables": {"accept": {"4": [{"addr": "10.0.0.3", "proto": "tcp", "port": {"from": 1, "to": 1}}]},
                         "accept_iifs": ["eth0"], "accept_dnat_only": role == "public", "masquerade_out": []}}
    spec = firewall_spec(plan)
    assert (spec is not None) == expected
    if expected:
        assert spec["forward"]["4"][0]["dnat"] == (role == "public") and spec["listen_ports"] == [51820]


def test_the_host_script_is_this_module_and_reads_its_header():
    script = firewall_script()
    assert script.startswith("#!/usr/bin/python3\n") and "def main(argv):" in script
    assert load_spec("# header\n{\"listen_ports\": [1]}\n") == {"listen_ports": [1]}
