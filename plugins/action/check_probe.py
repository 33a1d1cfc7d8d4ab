# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.check_probe (documented in plugins/modules/check_probe.py): what the live
check expects of this host, made once per run, then forward_probe reads it there."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction, refusal
from ansible_collections.wgforward.portforward.plugins.plugin_utils.check_run import (
    expectations_of_run, kept, not_kept, probe_args_by_key)

PROBE_MODULE = "wgforward.portforward.forward_probe"


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset(("expect",))

    def step(self, view, task_vars):
        key = self._task.args.get("expect")
        if key is None:
            expect = expectations_of_run(view.hostvars, view.groups, view.step_id())
            if expect["problems"]:
                return refusal(expect["message"], view.me)
            args = expect["hosts"].get(view.me)
        else:
            # check_plan's key: only this host's arguments are read, not the whole of every forward's hops.
            args = probe_args_by_key(key, view.me)
            if args is None and not kept(key):
                return refusal(not_kept(key), view.me, shared=False)
        if args is None:
            return {"changed": False, "skipped": True, "skip_reason": "%s has nothing to check" % view.me}
        return self.module(PROBE_MODULE, args, task_vars)
