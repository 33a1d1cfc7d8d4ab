# -*- coding: utf-8 -*-
"""Every branch of the article's decision tree: walk(complete(answers))."""

from __future__ import annotations

import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.core.origins import DEFAULT, INFERRED, SET
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import ANSWER_DEFAULTS, complete, walk
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.registry import NAMES as TECHNIQUES

Q5_NA = "not applicable"

# (id, answers, technique, question ids walked, answer per walked question)
BRANCHES = [
    ("q1-no-masquerade", {"preserve_source": False},
     "masquerade", ["Q1"], [False]),
    ("q2-yes-static-routes", {"sources": ["198.51.100.87/32"]},
     "static_routes", ["Q1", "Q2"], [True, ["198.51.100.87/32"]]),
    ("q3-yes-default-route", {"internet_via_public": True},
     "default_route", ["Q1", "Q2", "Q3"], [True, [], True]),
    ("q4-yes-policy-routing", {},
     "policy_routing", ["Q1", "Q2", "Q3", "Q4"], [True, [], False, True]),
    ("q5-yes-connmark-intermediate", {"only_via_public": False, "gateway_is_intermediate": True},
     "connmark_intermediate", ["Q1", "Q2", "Q3", "Q4", "Q5"], [True, [], False, False, True]),
    ("q5-no-connmark-private", {"only_via_public": False, "gateway_is_intermediate": False},
     "connmark_private", ["Q1", "Q2", "Q3", "Q4", "Q5"], [True, [], False, False, False]),
    ("q5-default-connmark-private", {"only_via_public": False},
     "connmark_private", ["Q1", "Q2", "Q3", "Q4", "Q5"], [True, [], False, False, False]),
    ("direct-peer-q5-not-applicable", {"only_via_public": False, "intermediate": False},
     "connmark_private", ["Q1", "Q2", "Q3", "Q4", "Q5"], [True, [], False, False, None]),
    ("direct-peer-ignores-gateway", {"only_via_public": False, "intermediate": False,
                                     "gateway_is_intermediate": True},
     "connmark_private", ["Q1", "Q2", "Q3", "Q4", "Q5"], [True, [], False, False, None]),
    # A direct peer still stops early when an earlier question says so.
    ("direct-peer-q1-masquerade", {"preserve_source": False, "intermediate": False},
     "masquerade", ["Q1"], [False]),
    ("direct-peer-q2-static-routes", {"sources": ["192.0.2.0/24"], "intermediate": False},
     "static_routes", ["Q1", "Q2"], [True, ["192.0.2.0/24"]]),
    ("direct-peer-q3-default-route", {"internet_via_public": True, "intermediate": False},
     "default_route", ["Q1", "Q2", "Q3"], [True, [], True]),
    ("direct-peer-q4-policy-routing", {"intermediate": False},
     "policy_routing", ["Q1", "Q2", "Q3", "Q4"], [True, [], False, True]),
    # Earlier questions win over later ones.
    ("q1-wins-over-everything", {"preserve_source": False, "sources": ["192.0.2.0/24"],
                                 "internet_via_public": True, "only_via_public": False,
                                 "gateway_is_intermediate": True},
     "masquerade", ["Q1"], [False]),
    ("q2-wins-over-q3", {"sources": ["192.0.2.0/24"], "internet_via_public": True},
     "static_routes", ["Q1", "Q2"], [True, ["192.0.2.0/24"]]),
    ("q3-wins-over-q4", {"internet_via_public": True, "only_via_public": False},
     "default_route", ["Q1", "Q2", "Q3"], [True, [], True]),
    ("none-answers-are-defaults", {"preserve_source": None, "sources": None, "only_via_public": None},
     "policy_routing", ["Q1", "Q2", "Q3", "Q4"], [True, [], False, True]),
]

KEYS = {"Q1": "preserve_source", "Q2": "sources", "Q3": "internet_via_public", "Q4": "only_via_public",
        "Q5": "gateway_is_intermediate"}


@pytest.mark.parametrize("answers,technique,questions,values",
                         [b[1:] for b in BRANCHES], ids=[b[0] for b in BRANCHES])
def test_branch(answers, technique, questions, values):
    full, origins = complete(answers)
    name, steps = walk(full, origins)
    assert name == technique
    assert [s.question for s in steps] == questions
    assert [s.key for s in steps] == [KEYS[q] for q in questions]
    assert [s.answer for s in steps] == values
    assert steps[-1].outcome == technique
    assert all(s.outcome == "continue" for s in steps[:-1])
    assert all(s.reason and s.text.endswith("?") for s in steps)


@pytest.mark.parametrize("answers,technique", [
    ({"preserve_source": False}, "masquerade"),
    ({"sources": ["10.1.0.0/16"]}, "static_routes"),
    ({"internet_via_public": True}, "default_route"),
    ({}, "policy_routing"),
    ({"only_via_public": False, "gateway_is_intermediate": True}, "connmark_intermediate"),
    ({"only_via_public": False}, "connmark_private"),
], ids=list(TECHNIQUES))
def test_every_technique_is_reachable(answers, technique):
    assert walk(*complete(answers))[0] == technique


def test_techniques_reached_cover_the_list():
    reached = {b[2] for b in BRANCHES}
    assert reached == set(TECHNIQUES)


def test_defaults_match_design():
    assert ANSWER_DEFAULTS == {
        "preserve_source": True, "sources": [], "internet_via_public": False, "only_via_public": True,
        "gateway_is_intermediate": False, "intermediate": True,
    }


@pytest.mark.parametrize("answers,expected_origins", [
    ({}, {k: DEFAULT for k in ANSWER_DEFAULTS}),
    ({"preserve_source": True}, dict({k: DEFAULT for k in ANSWER_DEFAULTS}, preserve_source=SET)),
    ({"sources": [], "only_via_public": False},
     dict({k: DEFAULT for k in ANSWER_DEFAULTS}, sources=SET, only_via_public=SET)),
    ({"sources": None}, {k: DEFAULT for k in ANSWER_DEFAULTS}),
    (dict(ANSWER_DEFAULTS), {k: SET for k in ANSWER_DEFAULTS}),
], ids=["empty", "one-set", "falsy-values-are-set", "none-is-default", "all-set"])
def test_complete_origins(answers, expected_origins):
    full, origins = complete(answers)
    assert origins == expected_origins
    assert set(full) == set(ANSWER_DEFAULTS)
    for key, value in full.items():
        expected = answers[key] if answers.get(key) is not None else ANSWER_DEFAULTS[key]
        assert value == expected


def test_complete_returns_a_fresh_default_sources_list():
    """The default [] must not be the module-level list: a caller (or the explain output) that
    appends to it would change the default for every later walk."""
    first, dummy = complete({})
    second, dummy = complete({})
    assert first["sources"] == [] and second["sources"] == []
    assert first["sources"] is not ANSWER_DEFAULTS["sources"]
    assert first["sources"] is not second["sources"]


@pytest.mark.parametrize("answers,expected", [
    ({"only_via_public": False}, [SET if k == "only_via_public" else DEFAULT for k in
                                  ("preserve_source", "sources", "internet_via_public", "only_via_public",
                                   "gateway_is_intermediate")]),
    ({"only_via_public": False, "intermediate": False}, [DEFAULT, DEFAULT, DEFAULT, SET, Q5_NA]),
    ({"preserve_source": True, "sources": [], "internet_via_public": False, "only_via_public": False,
      "gateway_is_intermediate": True}, [SET] * 5),
], ids=["defaults-except-q4", "direct-peer", "all-set"])
def test_step_sources(answers, expected):
    dummy, steps = walk(*complete(answers))
    assert [s.origin for s in steps] == expected
    assert [s.as_dict()["source"] for s in steps] == expected


def test_inferred_origin_passes_through():
    answers, origins = complete({"only_via_public": False, "gateway_is_intermediate": True})
    origins["gateway_is_intermediate"] = INFERRED
    technique, steps = walk(answers, origins)
    assert technique == "connmark_intermediate"
    assert steps[-1].origin == "inferred from facts"
    assert steps[-1].as_dict()["source"] == "inferred from facts"


def test_walk_without_origins_counts_answers_as_set():
    answers, dummy = complete({"preserve_source": False})
    dummy, steps = walk(answers)
    assert steps[0].origin == SET


def test_direct_peer_step_explains_why():
    dummy, steps = walk(*complete({"only_via_public": False, "intermediate": False}))
    last = steps[-1]
    assert last.question == "Q5" and last.answer is None and last.origin == Q5_NA
    assert "direct WireGuard peer" in last.reason
    assert last.reason != steps[-2].reason


def test_stop_and_continue_reasons_differ():
    """Each question has its own reason for stopping and for going on."""
    dummy, stop = walk(*complete({"preserve_source": False}))
    dummy, go = walk(*complete({"sources": ["192.0.2.0/24"]}))
    assert stop[0].question == go[0].question == "Q1"
    assert stop[0].reason != go[0].reason
    assert "masquerad" in stop[0].reason or "rewrit" in stop[0].reason


def test_step_as_dict_keys():
    dummy, steps = walk(*complete({}))
    d = steps[0].as_dict()
    assert set(d) == {"question", "key", "text", "answer", "source", "outcome", "reason"}
    assert d["question"] == "Q1" and d["key"] == "preserve_source" and d["answer"] is True
    assert d["outcome"] == "continue"
    assert steps[-1].as_dict()["outcome"] == "policy_routing"
