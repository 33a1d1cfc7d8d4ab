# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example playbook of the three roles is one text, in the right order, and parses (issue 19 item 6).

It is the EXAMPLES of each role's main entry point (`ansible-doc -t role`, written from
hacking/argument_specs.yml), and its plays are in README.md and each role's README.md.
One play per group, each applying its group's role (any order works: a role prepares the
peers outside its play that it needs). No play gathers facts: that would contact the
hosts the run never contacts.
"""

from __future__ import annotations

import os
import subprocess

import yaml

import shipped_inventories

ROOT = shipped_inventories.ROOT
ROLES = ("wireguard_public", "wireguard_intermediate", "wireguard_private")
COLLECTION = "wgforward.portforward."


def examples(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["examples"]


def plays_text(role="wireguard_public"):
    text = examples(role)
    return text[text.index("- name: "):]


def test_the_three_roles_show_the_same_plays():
    for role in ROLES[1:]:
        assert plays_text(role) == plays_text(), role


def test_each_group_gets_its_role_in_a_play_of_its_own_and_no_play_gathers_facts():
    plays = yaml.safe_load(plays_text())
    assert sorted(play["hosts"] for play in plays) == sorted(ROLES)
    for play in plays:
        assert play["roles"] == [COLLECTION + play["hosts"]], play["name"]
        assert play["gather_facts"] is False and play["become"] is True, play["name"]


def test_the_readmes_carry_the_same_plays():
    block = "```yaml\n" + plays_text() + "```\n"
    for path in ["README.md"] + [os.path.join("roles", role, "README.md") for role in ROLES]:
        with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
            assert block in handle.read(), "%s lacks the example plays of the roles' EXAMPLES" % path


def test_the_example_variables_are_inventory_examples():
    for role in ROLES:
        line = next(text for text in examples(role).splitlines() if "host_vars/" in text)
        path, values = line.lstrip("# ").split(": ", 1)
        with open(os.path.join(ROOT, "inventory.example", path), encoding="utf-8") as handle:
            host_vars = yaml.safe_load(handle)
        example = yaml.safe_load(values)
        assert example and {k: host_vars.get(k) for k in example} == example, (role, path)


def test_the_example_passes_the_syntax_check(tmp_path):
    playbook = tmp_path / "playbook.yml"
    playbook.write_text("---\n" + examples("wireguard_public"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    done = subprocess.run(["ansible-playbook", "--syntax-check", "-i", os.path.join(ROOT, "inventory.example"),
                           str(playbook)], capture_output=True, text=True, env=env, cwd=str(tmp_path),
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stdout + done.stderr, done.stdout + done.stderr
