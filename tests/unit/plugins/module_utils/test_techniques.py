# -*- coding: utf-8 -*-
"""The techniques package: the registry, what each technique declares, and that it alone knows their names."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
from builders import seed_direct, seed_lan

from ansible_collections.wgforward.portforward.plugins.module_utils.decide import tree
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import VOCABULARY
from ansible_collections.wgforward.portforward.plugins.module_utils.model import model
from ansible_collections.wgforward.portforward.plugins.module_utils.model.vocabulary import FORWARD, HOST, Vocabulary
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques import registry
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import (
    LINK_DEFAULT_ROUTE, LINK_OWN_TABLE, LINK_PLAIN, Question, Technique)


def build_model(inventory):
    """The model as the planner builds it: with the techniques' vocabulary (decide/tree.py)."""
    return model.build_model(inventory, VOCABULARY)


PLUGINS = pathlib.Path(__file__).resolve().parents[4] / "plugins"


def test_the_registry_holds_the_tree_techniques_in_the_tree_order():
    assert registry.NAMES == tuple(t.name for t in registry.TECHNIQUES) == (
        "masquerade", "static_routes", "default_route", "policy_routing", "connmark_intermediate",
        "connmark_private")
    for name, technique in registry.REGISTRY.items():
        assert isinstance(technique, Technique) and technique.name == name
        assert registry.get(name) is technique


def test_each_role_outside_the_tree_is_declared_by_one_technique():
    assert (registry.TREE_END.name, registry.SHARED_INTERMEDIATE.name, registry.UNMANAGED_PEER_FALLBACK.name) == (
        "connmark_private", "connmark_intermediate", "default_route")
    first, second = registry.get("masquerade"), registry.get("static_routes")
    with pytest.raises(ValueError, match="exactly one technique must declare ends_tree, not"):
        registry.the_one([first, second], "ends_tree")


def test_the_questions_are_numbered_once_each_and_the_ranks_differ():
    assert [q.id for q in tree.QUESTIONS] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert len({t.rank for t in registry.TECHNIQUES}) == len(registry.TECHNIQUES)


def test_the_model_reads_true_or_false_answers_by_key_and_nothing_else():
    # What the model reads generically (model/vocabulary.py): Q1 and Q4 from each forward, Q3 from the host.
    assert VOCABULARY.forward_answers == {"preserve_source": True, "only_via_public": True}
    assert VOCABULARY.host_answers == {"internet_via_public": False}
    listed = Question("Q9", "networks", "?", bool, "", "", default=[], given_by=FORWARD)
    with pytest.raises(ValueError, match="networks: only true/false answers are read from the inventory"):
        Vocabulary(["x"], [listed])
    assert Vocabulary(["x"], [Question("Q9", "flag", "?", bool, "", "", default=False, given_by=HOST)]
                      ).host_keys[-1] == "wgpf_flag"


def test_every_outcome_of_the_tree_is_a_registered_technique():
    outcomes = {t.name for t in tree.ASKING} | {registry.TREE_END.name}
    assert outcomes == set(registry.NAMES)


@pytest.mark.parametrize("name,mode", [
    ("masquerade", LINK_PLAIN), ("static_routes", LINK_PLAIN), ("default_route", LINK_DEFAULT_ROUTE),
    ("policy_routing", LINK_OWN_TABLE), ("connmark_intermediate", LINK_OWN_TABLE),
    ("connmark_private", LINK_OWN_TABLE)])
def test_each_technique_declares_its_link_mode(name, mode):
    assert registry.get(name).link_mode == mode


def _private(inv, fwd=None):
    inv.forward(**(fwd or {"name": "web", "public": "public1", "port": 2000, "to": "private1"}))
    model = build_model(inv.data())
    return model.forwards[0], model.hosts["private1"]


@pytest.mark.parametrize("name,inv,gateway,message", [
    ("static_routes", "lan", False, "static_routes needs the fixed client networks in sources"),
    ("connmark_intermediate", "direct", None,
     "connmark_intermediate needs an intermediate, but 'private1' is a direct WireGuard peer of 'public1'"),
    ("connmark_intermediate", "lan", False,
     "connmark_intermediate needs the private server's replies to pass through the intermediate, but 'private1' "
     "does not use 'inter1' as its default gateway (wgpf_gateway_is_intermediate is false)"),
    ("connmark_intermediate", "lan", True, None),
    ("masquerade", "direct", None, None),
    ("policy_routing", "lan", False, None),
    ("connmark_private", "direct", None, None),
])
def test_forced_techniques_are_checked_against_their_topologies(name, inv, gateway, message):
    if inv == "lan":
        fwd, private = _private(seed_lan(private_vars={"gateway_is_intermediate": gateway}))
    else:
        fwd, private = _private(seed_direct())
    assert registry.get(name).forced_problem(fwd, private) == message


# A technique name in a comparison (== "x", != "x", in ("x", ...)) outside techniques/.
COMPARISON = re.compile(r"""(==|!=|\bin)\s*[(\[{]?\s*["'](%s)["']""" % "|".join(registry.NAMES))


def test_no_module_outside_techniques_compares_technique_names():
    offenders = []
    for path in sorted(PLUGINS.rglob("*.py")):
        if "techniques" in path.relative_to(PLUGINS).parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if COMPARISON.search(line):
                offenders.append("%s:%d: %s" % (path.relative_to(PLUGINS), number, line.strip()))
    assert not offenders, "\n".join(offenders)


# Every module under plugins/module_utils/, the model's, the planner's and the apply step's.
MODULE_UTILS = sorted(str(p.relative_to(PLUGINS / "module_utils")) for p in (PLUGINS / "module_utils").rglob("*.py"))


def test_module_utils_stay_small():
    # CONTRIBUTING.md: no module under plugins/module_utils/ over 300 lines, no function over 60.
    long_modules, long_functions = {}, {}
    assert "plan/plan.py" in MODULE_UTILS and "techniques/steps.py" in MODULE_UTILS
    for name in MODULE_UTILS:
        text = (PLUGINS / "module_utils" / name).read_text()
        if len(text.splitlines()) > 300:
            long_modules[name] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long_functions["%s:%s" % (name, node.name)] = node.end_lineno - node.lineno + 1
    assert (long_modules, long_functions) == ({}, {})
