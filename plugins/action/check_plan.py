# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.check_plan (documented in plugins/modules/check_plan.py): the live check's
expectations, made once per run, and the key the later steps find them by."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction, refusal
from ansible_collections.wgforward.portforward.plugins.plugin_utils.check_run import expect_of_step


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset()
    _requires_connection = False

    def step(self, view, task_vars):
        made = expect_of_step(view.hostvars, view.groups, view.step_id())
        if made["problems"]:
            return refusal(made["message"], view.me)
        return {"changed": False, "expect": made["key"], "forwards": made["forwards"], "hosts": made["hosts"]}
