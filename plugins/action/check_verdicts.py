# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.check_verdicts (documented in plugins/modules/check_verdicts.py): one verdict
per forward from what every host's probe read (check/check_verdict.py)."""

from __future__ import annotations

import time

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_verdict import (
    summary, verdict_lines, verdicts)
from ansible_collections.wgforward.portforward.plugins.module_utils.check.metrics import metrics_text, write_metrics
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import plain
from ansible_collections.wgforward.portforward.plugins.module_utils.model.knobs import CHECK_HOPS, check_hops_problem
from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction, refusal
from ansible_collections.wgforward.portforward.plugins.plugin_utils.check_run import (
    collector_paused, expectations_by_key, expectations_of_run, not_kept)


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset(("probes", "metrics_path", "hops", "expect"))
    _requires_connection = False

    def step(self, view, task_vars):
        with collector_paused():
            return self._step(view, task_vars)

    def _step(self, view, task_vars):
        hops = self._task.args.get("hops", "failing")
        problem = check_hops_problem(hops)
        if problem is not None:
            return refusal("%s: %s" % (CHECK_HOPS, problem), view.me, shared=False)
        key = self._task.args.get("expect")
        expect = (expectations_of_run(view.hostvars, view.groups, view.step_id()) if key is None
                  else expectations_by_key(key))
        if expect is None:
            return refusal(not_kept(key), view.me, shared=False)
        if expect["problems"]:
            return refusal(expect["message"], view.me)
        name = self._task.args.get("probes", "check__probe")
        # A host that left the play (its read failed) has no probe result: "not probed".
        results = {host: plain(view.registered(host, name)) for host in task_vars.get("ansible_play_hosts") or []}
        report = verdicts(expect, results)
        # The report itself is not returned: at 10,000 forwards it is 13 MB that Ansible would copy and carry
        # for nothing; the lines and the metrics (every forward) are made from it here.
        result = {"changed": False, "lines": verdict_lines(report, hops), "summary": summary(report),
                  "failures": [fwd["line"] for fwd in report if not fwd["ok"]]}
        path = self._task.args.get("metrics_path")
        if path is not None:
            try:
                result["metrics_path"] = self._metrics(path, report, view.check_mode)
            except (ValueError, OSError) as exc:
                return refusal("wgpf_check_metrics_path: %s" % exc, view.me, shared=False)
        return result

    @staticmethod
    def _metrics(path, report, check_mode):
        """The verdicts as Prometheus metrics at ``path`` (the check's own output, so not a change); check mode
        writes nothing."""
        if not check_mode:
            write_metrics(path, metrics_text(report, time.time()))
        return path
