# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example playbook of the three roles is one text, in the right order, and parses (issue 19 item 6).

It is the EXAMPLES of each role's main entry point (`ansible-doc -t role`, written from
hacking/argument_specs.yml), and its plays are in README.md and each role's README.md.
Every host must be prepared (packages, keys) before any role applies its host: a role
applied alone ensures the keys of unprepared peers on those peers, which fails where
wireguard-tools is not installed yet. No play gathers facts: that would contact the
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


def _step(play):
    """(group, 'prepare' or 'apply') of one play of the example."""
    if play.get("roles"):
        return play["hosts"], "apply", play["roles"]
    imports = [task["ansible.builtin.import_role"] for task in play["tasks"]]
    assert [i.get("tasks_from") for i in imports] == ["prepare"], play["name"]
    return play["hosts"], "prepare", [i["name"] for i in imports]


def test_the_three_roles_show_the_same_plays():
    for role in ROLES[1:]:
        assert plays_text(role) == plays_text(), role


def test_every_group_is_prepared_before_any_role_applies_and_no_play_gathers_facts():
    plays = yaml.safe_load(plays_text())
    steps = [_step(play) for play in plays]
    assert sorted((group, kind) for group, kind, _roles in steps) == sorted(
        (group, kind) for group in ROLES for kind in ("prepare", "apply"))
    for group, _kind, roles in steps:
        assert roles == [COLLECTION + group], group
    kinds = [kind for _group, kind, _roles in steps]
    assert kinds == sorted(kinds, key=lambda kind: kind != "prepare"), kinds
    assert all(play["gather_facts"] is False and play["become"] is True for play in plays)


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
