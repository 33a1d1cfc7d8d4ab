# -*- coding: utf-8 -*-
"""render.yml, explain.yml, site.yml and check.yml print the planner's problem list for a bad inventory (issue 7.1).

Runs ansible-playbook offline on bad_inventory/ (every host is this machine,
ansible_connection=local): render.yml and explain.yml contact no host, and
site.yml --check gathers this machine's facts, then must stop at planning with
nothing changed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
INVENTORY = os.path.join(HERE, "bad_inventory")

EXPECTED = [
    "host 'public1': wgpf_endpoint: the host of '203.0.113.2;id:51820' must be a DNS name (RFC 1123) or an IP address",
    "host 'private1': wgpf_address: '10.99.0.4/24\\nPostUp = id' is not an IP address with optional /prefix",
    "forward 'web': to_prot: unknown key (did you mean 'to_port'?)",
    "forward 'hooks': sources: 0.0.0.0/0 covers the whole Internet (or half of it): that is default_route: set "
    "wgpf_internet_via_public on the private server",
]


def problem_lines(output):
    """The '  - ...' lines of the planner's message, in order, as often as they are printed as lines."""
    return [m.group(1) for m in (re.match(r"  - ((?:forward|host) .*)$", line) for line in output.splitlines()) if m]


# ansible-core 2.19's text around an error raised inside a task's arguments (a filter's): it repeats the message.
WRAPPER_TEXT = ("Finalization of task args", "<<< caused by >>>", "Error while resolving value")
# The playbooks whose refusal is an action's (one block); the others still go through a filter.
ONE_BLOCK = ("explain.yml", "render.yml", "site.yml", "check.yml")


def run(playbook, *args, tmp_path):
    if shutil.which("ansible-playbook") is None:
        pytest.fail("ansible-playbook is not on PATH: run the tests through `make unit`")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"))
    cmd = ["ansible-playbook", "-i", INVENTORY, os.path.join(ROOT, "playbooks", playbook),
           "-e", "ansible_python_interpreter=%s" % sys.executable] + list(args)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def test_the_planner_reports_the_expected_problems():
    """The list the playbooks must print is the planner's own."""
    import shipped_inventories as S
    inv = S._inventory(INVENTORY, {"wireguard_public": ["public1"], "wireguard_private": ["private1"]})
    with pytest.raises(PlanError) as err:
        plan_inventory(inv)
    assert err.value.problems == EXPECTED


@pytest.mark.parametrize("playbook,args", [
    ("explain.yml", []),
    ("render.yml", ["-e", "wgpf_render_dir=rendered"]),
    ("site.yml", ["--check"]),
    ("check.yml", []),
], ids=["explain", "render", "site-check", "check"])
def test_playbook_prints_the_problem_list(playbook, args, tmp_path):
    code, output = run(playbook, *args, tmp_path=tmp_path)
    assert code != 0, output
    if playbook in ONE_BLOCK:
        # One clean block: every problem printed once as a line, none of the wrapper text repeating it.
        assert problem_lines(output) == EXPECTED, output
        assert not [text for text in WRAPPER_TEXT if text in output], output
    else:
        assert list(dict.fromkeys(problem_lines(output))) == EXPECTED, output
    assert "CapturedExceptionMarker" not in output
    assert not (tmp_path / "rendered").exists()
    if playbook == "check.yml":
        # The live check plans before it probes: a bad inventory stops it there, naming every problem.
        assert "Read what this host's forwards need" not in output, output
    if playbook == "site.yml":
        # Planning is the first thing that fails, and nothing ran after it or changed before it.
        assert "Install the packages" not in output and "wireguard_key" not in output, output
        assert re.search(r"public1 +: ok=\d+ +changed=0 .*failed=1", output), output
        assert not re.search(r"changed=[1-9]", output), output


def test_render_writes_the_golden_files_relative_to_where_it_runs(tmp_path):
    """render.yml of inventory.example: the golden files byte for byte, with their modes, under ./out of
    the folder the command runs in (not the playbook's folder, and not /out with $PWD unset)."""
    import golden
    env_cwd = tmp_path / "cwd"
    env_cwd.mkdir()
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_HOME=str(tmp_path / "home"))
    env.pop("PWD", None)
    done = subprocess.run(["ansible-playbook", "-i", os.path.join(ROOT, "inventory.example"),
                           os.path.join(ROOT, "playbooks", "render.yml"), "-e", "wgpf_render_dir=out"],
                          capture_output=True, text=True, env=env, cwd=str(env_cwd), timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    out = env_cwd / "out"
    written = {str(p.relative_to(out)): p for p in sorted(out.rglob("*")) if p.is_file()}
    # The picture of the inventory (Graphviz's SVG varies with its version): the Mermaid file docs/ holds.
    picture = written.pop("inventory.mmd")
    written.pop("inventory.svg", None)
    assert picture.read_text() == (golden.ROOT / "docs" / "inventory.example.mmd").read_text()
    stored = golden.stored("inventory.example")
    assert sorted(written) == sorted(stored)
    assert {name: path.read_bytes() for name, path in written.items()} == stored
    modes = {line.split()[2]: line.split()[0] for line in (golden.GOLDEN / "inventory.example" / "MANIFEST")
             .read_text().splitlines()}
    assert {name: "%04o" % (path.stat().st_mode & 0o7777) for name, path in written.items()} == modes


def test_check_refuses_a_bad_wgpf_check_hops_before_any_host_is_contacted(tmp_path):
    code, output = run("check.yml", "-e", "wgpf_check_hops=every", tmp_path=tmp_path)
    assert code != 0, output
    assert 'wgpf_check_hops: must be one of failing, all, got "every"' in output, output
    # The first task: no host was read (nor ended, nor probed).
    assert "Learn this host's facts" not in output and "End the hosts" not in output, output
