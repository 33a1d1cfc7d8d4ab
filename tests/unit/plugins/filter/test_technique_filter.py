# -*- coding: utf-8 -*-
"""The filters: technique (answers -> name), plan/explain over hostvars."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from builders import hostvars_of, lan_inventory, seed_direct, seed_two_publics

from ansible_collections.wgforward.portforward.plugins.filter import explain as explain_mod
from ansible_collections.wgforward.portforward.plugins.filter import plan as plan_mod
from ansible_collections.wgforward.portforward.plugins.filter import technique as technique_mod
from ansible_collections.wgforward.portforward.plugins.filter.explain import explain
from ansible_collections.wgforward.portforward.plugins.filter.plan import plan
from ansible_collections.wgforward.portforward.plugins.filter.technique import technique

# ---------------------------------------------------------------- technique: names

NAMES = [
    ("empty-policy-routing", {}, "policy_routing"),
    ("q1-masquerade", {"preserve_source": False}, "masquerade"),
    ("q2-static-routes", {"sources": ["198.51.100.87/32", "192.0.2.144/30"]}, "static_routes"),
    ("q2-ipv6-source", {"sources": ["2001:db8::/32"]}, "static_routes"),
    ("q2-empty-sources", {"sources": []}, "policy_routing"),
    ("q3-default-route", {"internet_via_public": True}, "default_route"),
    ("q4-policy-routing", {"only_via_public": True}, "policy_routing"),
    ("q5-connmark-intermediate", {"only_via_public": False, "gateway_is_intermediate": True},
     "connmark_intermediate"),
    ("q5-connmark-private", {"only_via_public": False, "gateway_is_intermediate": False}, "connmark_private"),
    ("direct-peer-connmark-private", {"only_via_public": False, "intermediate": False,
                                      "gateway_is_intermediate": True}, "connmark_private"),
    ("direct-peer-masquerade", {"preserve_source": False, "intermediate": False}, "masquerade"),
    ("none-means-default", {"preserve_source": None, "sources": None}, "policy_routing"),
]


@pytest.mark.parametrize("answers,expected", [n[1:] for n in NAMES], ids=[n[0] for n in NAMES])
def test_technique_names(answers, expected):
    assert technique(answers) == expected


def test_filter_module_exports_names():
    assert technique_mod.FilterModule().filters() == {"technique": technique}
    assert plan_mod.FilterModule().filters() == {"plan": plan}
    assert explain_mod.FilterModule().filters() == {"explain": explain}


def test_filter_docs_name_the_filter():
    for mod, name in ((technique_mod, "technique"), (plan_mod, "plan"), (explain_mod, "explain")):
        assert "name: %s\n" % name in mod.DOCUMENTATION
        assert mod.EXAMPLES.strip() and mod.RETURN.strip()


# ---------------------------------------------------------------- technique: explain=True


@pytest.mark.parametrize("answers,technique_name,questions,sources", [
    ({"preserve_source": False}, "masquerade", ["Q1"], ["set"]),
    ({"sources": ["192.0.2.0/24"]}, "static_routes", ["Q1", "Q2"], ["default", "set"]),
    ({}, "policy_routing", ["Q1", "Q2", "Q3", "Q4"], ["default"] * 4),
    ({"only_via_public": False, "gateway_is_intermediate": True}, "connmark_intermediate",
     ["Q1", "Q2", "Q3", "Q4", "Q5"], ["default", "default", "default", "set", "set"]),
    ({"only_via_public": False, "intermediate": False}, "connmark_private",
     ["Q1", "Q2", "Q3", "Q4", "Q5"], ["default", "default", "default", "set", "not applicable"]),
], ids=["masquerade", "static-routes", "policy-routing", "connmark-intermediate", "direct-peer"])
def test_explain_structure(answers, technique_name, questions, sources):
    result = technique(answers, explain=True)
    assert set(result) == {"technique", "steps"}
    assert result["technique"] == technique_name
    steps = result["steps"]
    assert [s["question"] for s in steps] == questions
    assert [s["source"] for s in steps] == sources
    assert steps[-1]["outcome"] == technique_name
    assert [s["outcome"] for s in steps[:-1]] == ["continue"] * (len(steps) - 1)
    for step in steps:
        assert set(step) == {"question", "key", "text", "answer", "source", "outcome", "reason"}
        assert isinstance(step["reason"], str) and step["reason"]


def test_explain_false_is_a_string():
    assert technique({"preserve_source": False}, explain=False) == "masquerade"


# ---------------------------------------------------------------- technique: errors

ERRORS = [
    ("unknown-key-did-you-mean", {"preserve_sorce": True},
     ["preserve_sorce: unknown key (did you mean 'preserve_source'?)"]),
    ("unknown-key-did-you-mean-2", {"only_via_publc": False},
     ["only_via_publc: unknown key (did you mean 'only_via_public'?)"]),
    ("unknown-key-no-hint", {"zzz": 1}, ["zzz: unknown key"]),
    ("string-not-bool", {"preserve_source": "yes"}, ["preserve_source: must be true or false, got 'yes'"]),
    ("int-not-bool", {"intermediate": 1}, ["intermediate: must be true or false, got 1"]),
    ("gateway-not-bool", {"gateway_is_intermediate": "false"},
     ["gateway_is_intermediate: must be true or false, got 'false'"]),
    ("sources-host-bits", {"sources": ["10.0.0.1/24"]},
     ["'10.0.0.1/24' has host bits set (did you mean 10.0.0.0/24?)"]),
    ("sources-not-cidr", {"sources": ["not-an-address"]}, ["'not-an-address' is not a CIDR"]),
    ("sources-not-list", {"sources": "10.0.0.0/8"}, ["sources: must be a list of CIDRs, got '10.0.0.0/8'"]),
    ("all-problems-at-once", {"preserve_source": "no", "sources": ["10.0.0.1/8", "bad"], "typo": 1},
     ["typo: unknown key", "preserve_source: must be true or false", "'10.0.0.1/8' has host bits set",
      "'bad' is not a CIDR"]),
]


@pytest.mark.parametrize("answers,fragments", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_technique_errors(answers, fragments):
    with pytest.raises(AnsibleFilterError) as err:
        technique(answers)
    message = str(err.value)
    assert message.startswith("wgforward.portforward.technique:")
    for fragment in fragments:
        assert fragment in message


def test_technique_unknown_key_without_close_match_has_no_hint():
    with pytest.raises(AnsibleFilterError) as err:
        technique({"zzz": 1})
    assert "did you mean" not in str(err.value)


@pytest.mark.parametrize("answers", [["preserve_source"], "masquerade", None, 3],
                         ids=["list", "string", "none", "int"])
def test_technique_rejects_non_dict(answers):
    with pytest.raises(AnsibleFilterError, match="answers must be a dict, got %s" % type(answers).__name__):
        technique(answers)


def test_technique_errors_also_with_explain():
    with pytest.raises(AnsibleFilterError, match="must be true or false"):
        technique({"only_via_public": "no"}, explain=True)


# ---------------------------------------------------------------- plan / explain over hostvars


def test_plan_filter_returns_each_hosts_plan():
    hostvars, groups = hostvars_of(lan_inventory())
    for host, role in (("public1", "public"), ("inter1", "intermediate"), ("private1", "private")):
        result = plan(hostvars, groups, host)
        assert result["host"] == host and result["role"] == role
        assert [(d["forward"], d["technique"]) for d in result["forwards"]] == [("web", "policy_routing")]
    public = plan(hostvars, groups, "public1")
    assert [i["name"] for i in public["interfaces"]] == ["wg0"]
    assert [p["host"] for p in public["interfaces"][0]["peers"]] == ["inter1"]


def test_plan_filter_without_host_returns_every_hosts_plan():
    hostvars, groups = hostvars_of(lan_inventory())
    plans = plan(hostvars, groups)
    assert sorted(plans) == ["inter1", "private1", "public1"]
    for host in plans:
        assert plans[host] == plan(hostvars, groups, host)


def test_plan_filter_unknown_host():
    hostvars, groups = hostvars_of(lan_inventory())
    with pytest.raises(AnsibleFilterError, match="host 'unrelated' is in none of the groups"):
        plan(hostvars, groups, "unrelated")


def test_explain_filter_data_and_text():
    hostvars, groups = hostvars_of(lan_inventory(only_via_public=False))
    decisions = explain(hostvars, groups)
    assert len(decisions) == 1
    dec = decisions[0]
    assert (dec["forward"], dec["public"], dec["to"]) == ("web", "public1", "private1")
    assert dec["technique"] == dec["tree_technique"] == "connmark_private"
    assert dec["forced"] is False and dec["escalated"] is False
    assert [s["question"] for s in dec["steps"]] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert dec["steps"][3]["source"] == "set"
    assert dec["steps"][4]["answer"] is False and dec["steps"][4]["source"] == "set"
    lines = explain(hostvars, groups, as_text=True)
    assert lines[0] == "web (public1 -> private1): connmark_private"
    assert lines[1].startswith("  Q1 preserve_source = True (default) -> continue: ")
    assert lines[-1].startswith("  Q5 gateway_is_intermediate = False (set) -> connmark_private: ")


def test_explain_filter_direct_peer_and_escalation():
    hostvars, groups = hostvars_of(seed_two_publics())
    decisions = {d["forward"]: d for d in explain(hostvars, groups)}
    for name in ("web1", "web2"):
        dec = decisions[name]
        assert dec["technique"] == "connmark_intermediate"
        assert dec["tree_technique"] == "policy_routing"
        assert dec["escalated"] is True
        assert any("public1 and public2" in note for note in dec["notes"])
    inv = seed_direct()
    inv.forward(name="web", public="public1", port=2000, to="private1", only_via_public=False)
    hostvars, groups = hostvars_of(inv)
    (dec,) = explain(hostvars, groups)
    assert dec["technique"] == "connmark_private"
    assert dec["steps"][-1]["source"] == "not applicable" and dec["steps"][-1]["answer"] is None


def invalid_inventory():
    inv = lan_inventory()
    inv.forward(name="web", public="public9", port="70000", to="private1", to_prot=8080)
    inv.hosts["inter1"]["wgpf_adress"] = "10.0.0.9/24"
    inv.hosts["private1"]["wgpf_sav"] = "paranoid"
    return inv


INVALID_PROBLEMS = [
    "forward 'web': name: duplicate forward name (also forward #1)",
    "forward 'web': to_prot: unknown key (did you mean 'to_port'?)",
    "forward 'web': port: port '70000' is outside 1-65535",
    "forward 'web': public: host 'public9' is not in the inventory",
    "host 'inter1': wgpf_adress: unknown variable (did you mean 'wgpf_address'?)",
    "host 'private1': wgpf_sav: must be one of loose, strict, off, got 'paranoid'",
]


@pytest.mark.parametrize("call", [
    lambda hv, g: plan(hv, g, "public1"),
    lambda hv, g: plan(hv, g, "private1"),
    explain,
    lambda hv, g: explain(hv, g, as_text=True),
], ids=["plan-public", "plan-private", "explain", "explain-text"])
def test_invalid_inventory_lists_every_problem(call):
    hostvars, groups = hostvars_of(invalid_inventory())
    with pytest.raises(AnsibleFilterError) as err:
        call(hostvars, groups)
    message = str(err.value)
    assert message.startswith("%d problems in the wgforward.portforward inventory:" % len(INVALID_PROBLEMS))
    listed = [line[4:] for line in message.splitlines()[1:]]
    assert sorted(listed) == sorted(INVALID_PROBLEMS)


def test_plan_filter_is_not_stale_after_a_fix():
    """The plan filter memoises per inventory; a changed inventory must be planned again."""
    hostvars, groups = hostvars_of(lan_inventory(port=2000))
    assert plan(hostvars, groups, "public1")["nftables"] != {}
    first = plan(hostvars, groups, "public1")
    hostvars2, groups2 = hostvars_of(lan_inventory(port=2001))
    second = plan(hostvars2, groups2, "public1")
    assert first != second
    hostvars3, groups3 = hostvars_of(lan_inventory(port=22))
    with pytest.raises(AnsibleFilterError, match="takes 22, the port Ansible connects to"):
        plan(hostvars3, groups3, "public1")


def test_plan_filter_reads_facts_from_hostvars():
    """wgpf_wan_interface left unset on the public server comes from ansible_default_ipv4."""
    inv = lan_inventory()
    del inv.hosts["public1"]["wgpf_wan_interface"]
    hostvars, groups = hostvars_of(inv, {"public1": {"ansible_default_ipv4": {"interface": "ens3",
                                                                              "address": "203.0.113.2"}}})
    result = plan(hostvars, groups, "public1")
    assert "ens3" in repr(result["nftables"])
    hostvars, groups = hostvars_of(inv)
    with pytest.raises(AnsibleFilterError, match="host 'public1': wgpf_wan_interface: not set"):
        plan(hostvars, groups, "public1")


def test_plan_filter_hands_the_layout_to_the_caller(monkeypatch):
    monkeypatch.setattr("ansible_collections.wgforward.portforward.plugins.filter.plan.plan_cached",
                        lambda data: {"h": {"host": "h"}})
    monkeypatch.setattr("ansible_collections.wgforward.portforward.plugins.filter.plan.from_hostvars",
                        lambda hostvars, groups: None)
    from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout
    every = plan({}, {})
    assert every["h"]["layout"]["nft_table"] == layout.NFT_TABLE
    assert plan({}, {}, "h")["layout"]["header"] == layout.HEADER
