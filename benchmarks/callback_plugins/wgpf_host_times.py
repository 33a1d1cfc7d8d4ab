# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark callback (scale_bench.py): how long each task took on each host, as JSON.

profile_tasks gives a task's time as its slowest host's; scale_bench.py needs one
host's (the public server's apply at 10,000 forwards). Enabled by scale_bench.py
only (ANSIBLE_CALLBACK_PLUGINS, ANSIBLE_CALLBACKS_ENABLED); writes
$WGPF_HOST_TIMES at the end of the run: {"startup_s": ..., "tasks": [{task, host,
status, start_s, wall_s}]}, times relative to the callback's load (before the
playbook is parsed).

With $WGPF_DUMP_DIR and $WGPF_DUMP_TASK set, it also saves what that task returned on each host
(<host>.json) and, at the end, the live check's expectations the run kept (expect-*.json): one real
probe result set, for profiling the verdicts offline (benchmarks/check_profile.py).
"""

from __future__ import annotations

DOCUMENTATION = """
name: wgpf_host_times
type: aggregate
short_description: each task's wall time on each host, as JSON (benchmarks only)
description: Written to the file named by the environment variable WGPF_HOST_TIMES at the end of the run.
"""

import glob
import json
import os
import shutil
import time

from ansible import constants as C

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "wgpf_host_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._t0 = time.monotonic()
        self._first_task = None
        self._started = {}
        self._rows = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._first_task is None:
            self._first_task = time.monotonic() - self._t0

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.monotonic()

    def _done(self, result, status):
        host, task = result._host.get_name(), result._task
        start = self._started.pop((host, task._uuid), None)
        now = time.monotonic()
        self._rows.append({"task": task.get_name(), "host": host, "status": status,
                           "start_s": round((start or now) - self._t0, 3),
                           "wall_s": round(now - start, 3) if start is not None else None})

    def v2_runner_on_ok(self, result):
        self._done(result, "changed" if result._result.get("changed") else "ok")
        self._dump(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, "failed")
        self._dump(result)

    @staticmethod
    def _dump(result):
        folder = os.environ.get("WGPF_DUMP_DIR")
        if folder and result._task.get_name().endswith(os.environ.get("WGPF_DUMP_TASK") or "\0"):
            with open(os.path.join(folder, "%s.json" % result._host.get_name()), "w") as handle:
                json.dump(result._result, handle, default=str)

    def v2_runner_on_skipped(self, result):
        self._done(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._done(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        folder = os.environ.get("WGPF_DUMP_DIR")
        if folder:
            kept = os.path.join(C.DEFAULT_LOCAL_TMP, "wgforward.portforward", "expect", "*.json")
            for i, path in enumerate(sorted(glob.glob(kept))):
                shutil.copy(path, os.path.join(folder, "expect-%d.json" % i))
        path = os.environ.get("WGPF_HOST_TIMES")
        if path:
            with open(path, "w") as handle:
                json.dump({"startup_s": self._first_task, "end_s": round(time.monotonic() - self._t0, 3),
                           "tasks": self._rows}, handle, indent=1)
