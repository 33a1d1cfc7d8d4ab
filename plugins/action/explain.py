# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.explain (documented in plugins/modules/explain.py): each forward's
technique and decision-tree walk, or the inventory's problems as one list."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import explain_inventory, explain_lines
from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction, refusal
from ansible_collections.wgforward.portforward.plugins.plugin_utils.offline import offline_message
from ansible_collections.wgforward.portforward.plugins.plugin_utils.planning import RawFirstHostVars


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset()
    _requires_connection = False

    def step(self, view, task_vars):
        inventory = from_hostvars(RawFirstHostVars(view.hostvars), view.groups)
        try:
            decisions = explain_inventory(inventory)
        except PlanError as exc:
            return refusal(offline_message(inventory, exc) if view.offline() else str(exc), view.me)
        return {"changed": False, "forwards": decisions, "lines": explain_lines(decisions)}
