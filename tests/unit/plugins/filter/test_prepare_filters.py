# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' plan, packages and keys steps (filters over plugin_utils/, and the package query of apply/packages.py)."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.wgforward.portforward.plugins.filter.plan import plan as plan_filter
import importlib

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import packages as P
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout

NAMES = ("host_plan", "unpublished_peers", "peer_keys", "key_files")
F = {}
for each in NAMES:
    F.update(importlib.import_module("ansible_collections.wgforward.portforward.plugins.filter." + each)
             .FilterModule().filters())
FACT = "internal__public_keys"


def iface(name, peers, key_file=None):
    return {"name": name, "key_file": key_file or layout.key_path(name),
            "peers": [{"host": h, "interface": i} for h, i in peers]}


PLANS = {
    "pub": {"role": "public", "state": "present", "interfaces": [iface("wg0", [("mid", "wg1"), ("peer", "wg0")])]},
    "mid": {"role": "intermediate", "state": "present",
            "interfaces": [iface("wg0", [("spoke", "wg0")]), iface("wg1", [("pub", "wg0")], "/k/wg1.key")]},
    "peer": {"role": "private", "state": "present", "interfaces": [iface("wg0", [("pub", "wg0")])]},
    "spoke": {"role": "private", "state": "present", "interfaces": [iface("wg0", [("mid", "wg0")])]},
}


def test_host_plan_checks_the_role_and_the_groups():
    assert F["host_plan"](PLANS, "mid", "intermediate") is PLANS["mid"]
    assert F["host_plan"](PLANS, "mid") is PLANS["mid"]
    with pytest.raises(AnsibleFilterError, match="mid is planned as a intermediate server, but the role "
                                                 "wgforward.portforward.wireguard_public is applied"):
        F["host_plan"](PLANS, "mid", "public")
    with pytest.raises(AnsibleFilterError, match="stranger is in none of the groups"):
        F["host_plan"](PLANS, "stranger", "public")
    with pytest.raises(AnsibleFilterError, match="internal role"):
        F["host_plan"](PLANS, "mid", "bogus")


def test_package_query_and_missing_packages():
    # The functions host_state runs on the host (module_utils/apply/packages.py).
    assert P.package_query("Debian")[0] == "dpkg-query"
    assert P.package_query("RedHat")[-2:] == ["iproute", "conntrack-tools"]
    assert P.needed_packages("Debian", "private") == ["wireguard-tools", "nftables", "iproute2"]
    assert P.needed_packages("Debian", "public") == ["wireguard-tools", "nftables", "iproute2", "conntrack"]
    with pytest.raises(ValueError, match="Archlinux family is not supported"):
        P.package_query("Archlinux")
    lines = ["wireguard-tools installed", "nftables not-installed", "dpkg-query: no packages found matching iproute2"]
    assert P.not_installed(lines, "Debian") == ["nftables", "iproute2", "conntrack"]
    assert P.not_installed(["wireguard-tools installed", "nftables installed", "iproute2 installed",
                            "conntrack installed"], "Debian") == []


def test_unpublished_peers_lists_each_peer_interface_once_with_its_key_file():
    hostvars = {"pub": {FACT: {"wg0": "P"}}, "mid": {FACT: {"wg0": "M0"}}, "peer": {}, "spoke": {}}
    assert F["unpublished_peers"](PLANS["pub"], hostvars, PLANS, FACT) == [
        {"host": "mid", "interface": "wg1", "key_file": "/k/wg1.key"},
        {"host": "peer", "interface": "wg0", "key_file": layout.key_path("wg0")}]
    everyone = {h: {FACT: {"wg0": "x", "wg1": "y"}} for h in PLANS}
    assert F["unpublished_peers"](PLANS["pub"], everyone, PLANS, FACT) == []


def test_peer_keys_merges_published_facts_and_keys_ensured_on_the_peers():
    hostvars = {"pub": {FACT: {"wg0": "P"}}, "mid": {FACT: {"wg0": "M0"}}, "peer": {FACT: "not a dict"}}
    ensured = [{"item": {"host": "peer", "interface": "wg0"}, "public_key": "E"},
               {"item": {"host": "mid", "interface": "wg1"}, "public_key": None}]
    assert F["peer_keys"](PLANS["pub"], hostvars, FACT, ensured) == {"peer": {"wg0": "E"}}
    assert F["peer_keys"](PLANS["mid"], hostvars, FACT) == {"pub": {"wg0": "P"}}


def test_key_files_by_interface():
    assert F["key_files"](PLANS["mid"]) == {"wg0": layout.key_path("wg0"), "wg1": "/k/wg1.key"}


def test_plan_filter_hands_the_layout_to_the_roles(monkeypatch):
    monkeypatch.setattr("ansible_collections.wgforward.portforward.plugins.filter.plan.plan_cached",
                        lambda data: {"h": {"host": "h"}})
    monkeypatch.setattr("ansible_collections.wgforward.portforward.plugins.filter.plan.from_hostvars",
                        lambda hostvars, groups: None)
    every = plan_filter({}, {})
    assert every["h"]["layout"]["nft_table"] == layout.NFT_TABLE
    assert plan_filter({}, {}, "h")["layout"]["header"] == layout.HEADER
