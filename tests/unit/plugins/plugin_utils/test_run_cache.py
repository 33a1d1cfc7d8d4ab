# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run's folder on the controller: computed once across worker processes, reported once, 0700."""

from __future__ import annotations

import multiprocessing
import os
import stat
import time

from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files
from ansible_collections.wgforward.portforward.plugins.plugin_utils import planning, run_cache

import builders as B


def _worker(log, queue):
    def compute():
        with open(log, "a", encoding="utf-8") as handle:
            handle.write("%d\n" % os.getpid())
        time.sleep(0.3)  # long enough for every other worker to ask meanwhile
        return {"made_by": os.getpid()}
    queue.put(run_cache.once("plans", "k1", compute))


def test_once_computes_once_while_workers_ask_at_the_same_time(tmp_path):
    # Ansible forks a worker per task and host: the same happens here, four at once.
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    log = str(tmp_path / "computed.log")
    workers = [ctx.Process(target=_worker, args=(log, queue)) for number in range(4)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=30) for worker in workers]
    for worker in workers:
        worker.join(30)
    with open(log, encoding="utf-8") as handle:
        assert len(handle.read().split()) == 1
    assert len({r[0]["made_by"] for r in results}) == 1
    assert sorted(r[1] for r in results) == [False, False, False, True]


def test_the_runs_folder_is_private_and_named_by_the_run(run_tmp):
    path = run_cache.run_dir("plans")
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert run_cache.run_id() == run_tmp.name


def test_a_shared_problem_is_reported_by_its_first_reporter_only():
    assert run_cache.first_to_report("3 problems", "public1") == "public1"
    assert run_cache.first_to_report("3 problems", "public2") == "public1"
    assert run_cache.first_to_report("another list", "public2") == "public2"


def test_the_plan_is_made_once_per_planner_input():
    hostvars, groups = B.hostvars_of(B.lan_inventory())
    first = planning.plan_of_run(hostvars, groups)
    again = planning.plan_of_run(hostvars, groups)
    assert (first.computed, again.computed) == (True, False)
    assert first.plan("public1") == again.plan("public1")
    assert first.plan("public1")["layout"]["nft_path"] == "/etc/wgpf/wgpf.nft"
    assert again.hosts["private1"]["role"] == "private"
    other, groups = B.hostvars_of(B.lan_inventory(port=2001))
    assert planning.plan_of_run(other, groups).computed


def test_the_kept_plan_is_the_planners_but_the_forwards_decisions():
    """Each host's apply reads its kept plan back: at 10,000 forwards their decisions were 14 MB of every
    host's file (read back in 0.3 s quiet, seconds beside the other hosts' workers), and no step reads them."""
    hostvars, groups = B.hostvars_of(B.lan_inventory())
    run_plan = planning.plan_of_run(hostvars, groups)
    inventory = from_hostvars(hostvars, groups)
    whole = plan_inventory(inventory)["public1"]
    kept = run_plan.plan("public1")
    assert whole["forwards"] and "forwards" not in kept
    assert {key: value for key, value in whole.items() if key != "forwards"} == \
        {key: value for key, value in kept.items() if key != "layout"}
    assert render_files(kept, {}) == render_files(whole, {})


def test_the_planners_problems_are_kept_once_too():
    inv = B.lan_inventory()
    inv.hosts["public1"]["wgpf_endpoint"] = "not an endpoint;"
    hostvars, groups = B.hostvars_of(inv)
    first = planning.plan_of_run(hostvars, groups)
    assert first.computed and first.hosts == {}
    assert first.problems and first.message.startswith("1 problem in the wgforward.portforward inventory:")
    assert not planning.plan_of_run(hostvars, groups).computed
