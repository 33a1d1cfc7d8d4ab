# -*- coding: utf-8 -*-
"""A technique is one file: a seventh, added as one module and nothing else, is asked, explained, forced and run.

The collection's plugins/ are copied aside with one new module in techniques/
(THROWAWAY below: its own question, answered by a forward key, and a step on
the public server). The copy must differ from plugins/ by that file alone;
a fresh Python process then imports the copy and checks that the tree asks
the new question, that explain lists it, that a forward may force it, and
that the planner runs its step. CONTRIBUTING.md's "Adding a technique" lists
what a real one needs besides (tests and docs).
"""

from __future__ import annotations

import filecmp
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

PLUGINS = pathlib.Path(__file__).resolve().parents[4] / "plugins"
MU = "ansible_collections.wgforward.portforward.plugins.module_utils"

THROWAWAY = textwrap.dedent('''\
    """throwaway: a technique that exists only in test_seventh_technique.py."""

    from __future__ import annotations

    from %(mu)s.model.vocabulary import FORWARD
    from %(mu)s.techniques import steps
    from %(mu)s.techniques.base import LINK_PLAIN, Question, Technique

    NAME = "throwaway"


    class Throwaway(Technique):
        name = NAME
        rank = 35  # after Q3 (default_route), before Q4 (policy_routing)
        question = Question(
            "Q3b", "via_throwaway", "Does this forward take the throwaway path?",
            stops=bool, why_stop="it asked for the throwaway path", why_go="it did not ask for it",
            default=False, given_by=FORWARD)
        link_mode = LINK_PLAIN

        def public(self, job):
            steps.masquerade_into(job.public_draft, job.public_if.name, job)


    TECHNIQUE = Throwaway()
    ''') % {"mu": MU}

# Runs in the fresh process, on the copy; prints what the test checks.
PROBE = textwrap.dedent('''\
    import json

    from %(mu)s.decide.answers import check_answers
    from %(mu)s.decide.tree import complete, walk
    from %(mu)s.plan.plan import explain_inventory, explain_lines, plan_inventory
    from %(mu)s.techniques import registry

    def host(role, **wgpf):
        return dict({"wgpf_" + k: v for k, v in wgpf.items()}, ansible_facts={})

    forwards = [
        {"name": "asked", "public": "public1", "port": 2000, "to": "private1", "via_throwaway": True},
        {"name": "forced", "public": "public1", "port": 2010, "to": "private1", "technique": "throwaway"},
        {"name": "other", "public": "public1", "port": 2020, "to": "private1"},
    ]
    hosts = {
        "public1": host("public", address="10.0.0.1/24", endpoint="192.0.2.1:51820", wan_interface="eth0"),
        "private1": host("private", address="10.0.0.2/24", lan_interface="eth0", lan_address="192.168.1.2"),
    }
    for hv in hosts.values():
        hv["wgpf_forwards"] = forwards
    inv = {"hosts": hosts, "groups": {"wireguard_public": ["public1"], "wireguard_private": ["private1"],
                                      "all": ["public1", "private1"]}}
    name, walked = walk(*complete({"via_throwaway": True}))
    decisions = explain_inventory(inv)
    masq = plan_inventory(inv)["public1"]["nftables"]["masquerade"]
    print(json.dumps({
        "names": list(registry.NAMES),
        "walk": [name, [s.question for s in walked]],
        "default_walk": walk(*complete({}))[0],
        "checked": check_answers({"via_throwaway": "yes"}),
        "decisions": {d["forward"]: [d["technique"], d["forced"], [s["question"] for s in d["steps"]]]
                      for d in decisions},
        "explained": explain_lines(decisions),
        "masquerade": [f["port"] for m in masq for f in m["flows"]],
    }))
    ''') % {"mu": MU}


def copy_with_throwaway(tmp_path):
    root = tmp_path / "ansible_collections" / "wgforward" / "portforward"
    shutil.copytree(PLUGINS, root / "plugins", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "plugins" / "module_utils" / "techniques" / "throwaway.py").write_text(THROWAWAY)
    return root / "plugins"


def differences(left, right, where=""):
    """Paths under two trees that differ or exist on one side only (__pycache__ left out)."""
    cmp = filecmp.dircmp(left, right, ignore=["__pycache__"])
    out = [os.path.join(where, n) for n in cmp.left_only + cmp.right_only + cmp.diff_files + cmp.funny_files]
    for sub in cmp.common_dirs:
        out += differences(os.path.join(left, sub), os.path.join(right, sub), os.path.join(where, sub))
    return sorted(out)


def test_the_copy_differs_from_plugins_by_the_technique_module_alone(tmp_path):
    assert differences(PLUGINS, copy_with_throwaway(tmp_path)) == ["module_utils/techniques/throwaway.py"]


def test_a_seventh_technique_is_asked_explained_forced_and_run(tmp_path):
    copy_with_throwaway(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    run = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    # Found by the registry, in rank order.
    assert got["names"] == ["masquerade", "static_routes", "default_route", "throwaway", "policy_routing",
                            "connmark_intermediate", "connmark_private"]
    # The tree asks its question (the technique filter's walk) and checks its answer like the others';
    # its default (false) changes nothing for anyone else.
    assert got["walk"] == ["throwaway", ["Q1", "Q2", "Q3", "Q3b"]]
    assert got["default_walk"] == "policy_routing"
    assert got["checked"] == ["answers: via_throwaway: must be true or false, got 'yes'"]
    # The model reads the answer from the forward's key; explain lists the step; a forward may force it.
    assert got["decisions"] == {
        "asked": ["throwaway", False, ["Q1", "Q2", "Q3", "Q3b"]],
        "forced": ["throwaway", True, ["Q1", "Q2", "Q3", "Q3b", "Q4"]],
        "other": ["policy_routing", False, ["Q1", "Q2", "Q3", "Q3b", "Q4"]],
    }
    assert "  Q3b via_throwaway = True (set) -> throwaway: it asked for the throwaway path" in got["explained"]
    # The planner ran its step on the public server: the two forwards it places are masqueraded.
    assert got["masquerade"] == [{"from": 2000, "to": 2000}, {"from": 2010, "to": 2010}]
