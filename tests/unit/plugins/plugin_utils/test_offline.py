# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""render and explain list every value an offline run needs that facts would give, at once (issue 16.5)."""

from __future__ import annotations

import pytest

import shipped_inventories as S

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import planned
from ansible_collections.wgforward.portforward.plugins.plugin_utils.offline import facts_needed, offline_message

FROM_FACTS = {
    "public1": ("wgpf_wan_interface",),
    "private1": ("wgpf_lan_address", "wgpf_lan_interface", "wgpf_gateway_is_intermediate"),
    "intermediate1": ("wgpf_lan_address", "wgpf_lan_interface", "wgpf_lan_mac"),
}


def example_without_facts_values():
    """inventory.example without the values facts would give: what a user writes who lets site.yml read them."""
    inv = S.example()
    for host, fields in FROM_FACTS.items():
        for field in fields:
            inv["hosts"][host].pop(field, None)
    return inv


def test_every_value_is_listed_at_once():
    inv = example_without_facts_values()
    with pytest.raises(PlanError) as err:
        planned(inv)
    # The planner alone finds two; the intermediate's LAN side only shows once the private server's address is known.
    assert sorted(err.value.facts_needed) == [("private1", "wgpf_lan_address"), ("public1", "wgpf_wan_interface")]
    needed, others = facts_needed(inv, err.value)
    assert [(h, f) for h, f, _why in needed] == [
        ("public1", "wgpf_wan_interface"), ("private1", "wgpf_lan_address"),
        ("intermediate1", "wgpf_lan_address"), ("intermediate1", "wgpf_lan_interface")]
    assert others == []
    text = offline_message(inv, err.value)
    assert text.startswith("4 values an offline run (render, explain: no host is read) cannot infer without facts")
    # What it lists is all it takes.
    for host, field, _why in needed:
        inv["hosts"][host][field] = {"wgpf_wan_interface": "eth0", "wgpf_lan_interface": "eth0"}.get(
            field, "172.31.0.3" if host == "private1" else "172.31.0.1")
    planned(inv)


def test_the_inventorys_other_problems_follow_in_the_same_block():
    # A problem of the model stops the planner before the techniques: the values it finds are listed, then it.
    inv = example_without_facts_values()
    inv["hosts"]["public1"]["wgpf_keepalive"] = "often"
    with pytest.raises(PlanError) as err:
        planned(inv)
    text = offline_message(inv, err.value)
    assert text.startswith("2 values an offline run")
    assert "\n1 problem in the wgforward.portforward inventory:\n  - host 'public1': wgpf_keepalive" in text


def test_an_inventory_that_needs_no_fact_gets_the_planners_message():
    inv = S.example()
    inv["hosts"]["public1"]["wgpf_keepalive"] = "often"
    with pytest.raises(PlanError) as err:
        planned(inv)
    assert offline_message(inv, err.value) == str(err.value)
