# -*- coding: utf-8 -*-
"""Hosts the run never contacts end before anything connects, and run_once still runs (issue 9.5, 10.1).

ansible-playbook on never_contacted/: the container target and the unmanaged peer come
first in the group and have connections that cannot work. The roles' first task
(roles/engine/tasks/end_uncontacted.yml) must end them, so the play succeeds, the
run_once step runs on the managed host whatever the order, and only it is contacted.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(playbook, inventory, tmp_path):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"))
    cmd = ["ansible-playbook", "-i", inventory, playbook, "-e", "ansible_python_interpreter=%s" % sys.executable]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def test_uncontacted_hosts_end_first_and_run_once_runs_on_a_managed_host(tmp_path):
    code, output = run(os.path.join(HERE, "never_contacted", "play.yml"),
                       os.path.join(HERE, "never_contacted", "hosts.yml"), tmp_path)
    assert code == 0, output
    assert "UNREACHABLE" not in output, output
    assert "planned on managed1, ran on managed1" in output, output
    assert re.search(r"^managed1 +: ok=3 +changed=0 +unreachable=0 +failed=0", output, re.M), output
    # Ended before any task: no result of theirs at all.
    assert not re.search(r"\[(ct1|peer1)\]|^(ct1|peer1) +: ok=[1-9]", output, re.M), output
