# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles in playbooks of the user's own (issue 21): what is refused before any write, and what works.

ansible-playbook on user_playbooks/ (inventory.example's topology, every host this machine
over ansible_connection: local). A refusal must stop the run at the plan-and-check step, before
the first task that can write (packages, keys, apply), naming the variable, the host and the
place, or the host and its group. Every run is --check: a check that stops refusing (seen
failing with it removed) must never write on this machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "user_playbooks")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
WRITING_TASKS = ("Install the missing packages", "Ensure the keys", "Apply the plan")


def run(playbook, *args, tmp_path, inventory="inventory"):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"))
    # In a network namespace of its own (only lo, its own /sys): the facts of "every host" (this machine)
    # stay the same while other jobs on the machine add and remove interfaces, and nothing is sent anywhere.
    cmd = ["unshare", "-rnm", "sh", "-c", 'mount -t sysfs sysfs /sys && exec "$@"', "sh",
           "ansible-playbook", "-i", os.path.join(HERE, inventory), os.path.join(HERE, playbook),
           "--check", "-e", "ansible_python_interpreter=%s" % sys.executable] + list(args)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=180, check=False)
    return done.returncode, done.stdout + done.stderr


def refused_before_any_write(output):
    assert "TASK [wgforward.portforward.engine : Plan every host and check everything" in output, output
    assert not [t for t in WRITING_TASKS if "TASK [wgforward.portforward.engine : " + t in output], output
    assert not re.search(r"changed=[1-9]", output), output


@pytest.mark.parametrize("playbook,expected", [
    ("play_level_vars.yml", [
        "host 'public1': wgpf_keepalive: set in the vars: of import_role 'The role', which the planner does not see",
        "host 'public1': wgpf_mtu: set in the vars: of the play 'The public servers, with wgpf_* variables above "
        "the inventory', which the planner does not see",
        "host 'public1': wgpf_sav: set in the vars: of a block, which the planner does not see"]),
    ("role_parameter.yml", [
        "host 'public1': wgpf_mtu: set as a parameter of the role wgforward.portforward.wireguard_public, which the "
        "planner does not see"]),
    ("include_role_vars.yml", [
        "host 'private1': wgpf_internet_via_public: set in the vars: of include_role 'The role', which the planner "
        "does not see"]),
    ("wrong_group.yml", [
        "host 'private1': is planned as a private server, but the role wgforward.portforward.wireguard_public is "
        "applied to it: put it in the group wireguard_public or apply wgforward.portforward.wireguard_private"]),
], ids=["play-block-import-vars", "role-parameter", "include-role-vars", "wrong-group"])
def test_refused_before_any_write_naming_what_and_where(playbook, expected, tmp_path):
    code, output = run(playbook, tmp_path=tmp_path)
    assert code != 0, output
    listed = [line[4:] for line in output.splitlines() if line.startswith("  - host ")]
    assert [p for p in expected if not any(line.startswith(p) for line in listed)] == [], output
    assert len(listed) == len(expected), output
    refused_before_any_write(output)


def test_a_limited_run_needing_a_key_outside_the_limit_changes_nothing(tmp_path):
    """site.yml --limit public1 on hosts with no key: the keys of intermediate1 would have to be made
    outside the limit; refused at the check, before public1's own key is made, and no task header
    carries an unresolved template."""
    code, output = run(os.path.join(ROOT, "playbooks", "site.yml"), "--limit", "public1", tmp_path=tmp_path)
    assert code != 0, output
    assert "host 'public1': wg0: needs the public key of intermediate1 wg0, which has no settled key file there" \
        in output, output
    assert "intermediate1 is outside --limit, where a limited run changes nothing" in output, output
    refused_before_any_write(output)
    assert "{{" not in "".join(line for line in output.splitlines() if line.startswith(("TASK", "fatal", "ok:"))), output


def test_plays_per_group_private_first_serial_extra_vars_pass(tmp_path):
    """The private servers' play first, a task of the user's beside include_role, serial: 1, a wgpf_* extra
    var: every check passes and every play plans from the one plan of the run."""
    code, output = run("per_group.yml", "-v", "-e", "wgpf_mtu=1400", tmp_path=tmp_path)
    assert code == 0, output
    for host in ("private1", "public1", "intermediate1"):
        assert re.search(r"^%s +: ok=\d+ +changed=\d+ +unreachable=0 +failed=0" % host, output, re.M), output
    assert "private first" in output
    # The plan-and-check step of every play reports whether it made the plan: one did, for the whole run.
    assert output.count('"plan_computed": true') == 1 and output.count('"plan_computed": false') == 2, output


def test_under_strategy_free_the_plan_is_still_made_once(tmp_path):
    code, output = run("free_strategy.yml", "-v", tmp_path=tmp_path)
    assert code == 0, output
    assert output.count('"plan_computed": true') == 1 and output.count('"plan_computed": false') == 2, output


@pytest.mark.parametrize("playbook", ["site.yml", "check.yml"])
def test_an_inventory_without_an_intermediate_draws_no_host_pattern_warning(playbook, tmp_path):
    code, output = run(os.path.join(ROOT, "playbooks", playbook), tmp_path=tmp_path, inventory="no_intermediate")
    assert "TASK [" in output and "Could not match supplied host pattern" not in output, output
    assert re.search(r"^public1 +: ok=[1-9]", output, re.M), output


# The engine's tasks by what they do, as `ansible-playbook --list-tasks` names them.
ENGINE_TASKS = {"read": "Read this host's facts", "plan": "Plan every host and check everything",
                "packages": "Install the missing packages", "keys": "Ensure the keys of this host",
                "apply": "Apply the plan of this host", "peer_files": "Write the files of the WireGuard peers",
                "render": "Render every host's files on the controller"}
SITE = os.path.join(ROOT, "playbooks", "site.yml")


def listed_tasks(playbook, *selection):
    """{what: listed} of the engine's tasks that a run with ``selection`` (--tags, --skip-tags) would run."""
    done = subprocess.run(["ansible-playbook", "-i", os.path.join(HERE, "inventory"), playbook, "--list-tasks"]
                          + list(selection), capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    return {what: ("engine : " + name) in done.stdout for what, name in ENGINE_TASKS.items()}


@pytest.mark.parametrize("playbook,selection,runs", [
    (SITE, (), {"packages", "keys", "apply", "peer_files"}),
    (SITE, ("--tags", "wgpf_apply"), {"keys", "apply", "peer_files"}),
    (SITE, ("--tags", "wgpf_packages"), {"packages"}),
    (SITE, ("--tags", "wgpf_render"), {"render"}),
    (SITE, ("--skip-tags", "wgpf_packages"), {"keys", "apply", "peer_files"}),
    (SITE, ("--skip-tags", "wgpf_apply"), {"packages"}),
    (SITE, ("--tags", "a_tag_of_the_users"), set()),
    (os.path.join(HERE, "per_group.yml"), ("--tags", "wgpf_apply"), {"keys", "apply", "peer_files"}),
], ids=["untagged", "apply", "packages", "render", "skip-packages", "skip-apply", "users-tag", "roles-apply"])
def test_a_tagged_run_never_half_applies(playbook, selection, runs):
    """Whatever the tags, the read and the plan with its checks run (nothing is written unchecked), and the
    keys and the apply run together or not at all: never a config without its keys, nor keys for nothing."""
    listed = listed_tasks(playbook, *selection)
    assert listed["read"] and listed["plan"], listed
    assert listed["keys"] == listed["apply"], listed
    assert {what for what, there in listed.items() if there} - {"read", "plan"} == runs, listed
