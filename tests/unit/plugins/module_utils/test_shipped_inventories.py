# -*- coding: utf-8 -*-
"""inventory.example and every Molecule scenario's inventory stay valid, with the techniques they test."""

from __future__ import annotations

import pytest
import shipped_inventories as S

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import explain_inventory, plan_inventory


def test_example_plans():
    plans = plan_inventory(S.example())
    assert sorted(plans) == ["intermediate1", "private1", "private2", "public1"]
    techniques = {d["forward"]: d["technique"] for d in explain_inventory(S.example())}
    assert techniques == {"web": "policy_routing", "hooks": "static_routes", "game": "policy_routing"}


@pytest.mark.parametrize("name", S.scenarios())
def test_scenario_plans_with_the_techniques_it_checks(name):
    inv = S.scenario(name)
    plans = plan_inventory(inv)
    assert set(plans) == set(inv["hosts"])
    expect = next(iter(inv["hosts"].values()))["test_expect"]
    techniques = {d["forward"]: d["technique"] for d in explain_inventory(inv)}
    assert techniques == {c["forward"]: c["technique"] for c in expect["checks"]}
