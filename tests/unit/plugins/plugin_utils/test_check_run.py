# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""check.yml's plan step keeps the live check's expectations once per run; each host's probe step reads only its
own arguments by the key the plan step returned, and the verdicts the whole (check_run.py).

At 10,000 forwards the whole is 15 MB of JSON: every host's probe step read it (3 s each on a busy controller)
and read the inventory out of hostvars again to find it (benchmarks/README.md, "Scale")."""

from __future__ import annotations

import golden

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_expect import expectations
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.plugin_utils import check_run, run_cache


def test_the_plan_step_keeps_the_whole_and_each_host_reads_only_its_own_arguments(monkeypatch):
    hostvars, groups = golden.hostvars_of(golden.inventories()["molecule-connmark_private"])
    made = check_run.expect_of_step(hostvars, groups, "step-1")
    whole = expectations(from_hostvars(hostvars, groups))
    assert made["problems"] == [] and made["forwards"] == len(whole["forwards"]) == 2
    assert made["hosts"] == sorted(whole["hosts"])
    assert check_run.expectations_by_key(made["key"])["forwards"] == whole["forwards"]

    read = []
    real_read = run_cache.read_json

    def counting(path):
        read.append(path)
        return real_read(path)
    monkeypatch.setattr(run_cache, "read_json", counting)
    for host in made["hosts"]:
        assert check_run.probe_args_by_key(made["key"], host) == whole["hosts"][host]
    # One small file per host, never the whole.
    assert len(read) == len(made["hosts"]) and run_cache.path_of("expect", made["key"]) not in read
    assert check_run.probe_args_by_key(made["key"], "nowhere") is None and check_run.kept(made["key"])
    assert not check_run.kept("another run's key") and check_run.expectations_by_key("another run's key") is None


def _refuse_to_plan(inventory):
    raise AssertionError("planned %s" % (inventory,))


def test_a_step_that_planned_already_is_not_planned_again(monkeypatch):
    hostvars, groups = golden.hostvars_of(golden.inventories()["molecule-connmark_private"])
    key = check_run.expect_of_step(hostvars, groups, "step-1")["key"]
    monkeypatch.setattr(check_run, "expectations", _refuse_to_plan)
    assert check_run.expect_of_step(hostvars, groups, "step-2")["key"] == key  # another step: the same run's file


def test_the_expectations_are_made_with_the_collector_paused_and_it_is_on_again_after(monkeypatch):
    """Its full passes walked every object the expectations build: half of their time at 10,000 forwards."""
    import gc
    hostvars, groups = golden.hostvars_of(golden.inventories()["molecule-connmark_private"])
    seen = []
    real = check_run.expectations
    monkeypatch.setattr(check_run, "expectations", lambda inventory: seen.append(gc.isenabled()) or real(inventory))
    assert gc.isenabled()
    check_run.expect_of_step(hostvars, groups, "step-1")
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        with check_run.collector_paused():
            pass
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
