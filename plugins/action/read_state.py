# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.read_state (documented in plugins/modules/read_state.py): host_state on the
host, once per run, its findings filed as the fact wgforward_portforward (plugin_utils/host_fact.py)."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.plugin_utils import host_fact
from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction
from ansible_collections.wgforward.portforward.plugins.plugin_utils.run_view import FACT


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset(["compare_applied"])

    def step(self, view, task_vars):
        result = {"changed": False}
        if not view.task.delegate_to:
            # Hosts the plan needs read that no task of this step reads: outside the play or batch, or not
            # waited for by a free strategy. The next task reads them (delegate_to, delegate_facts).
            result["unread"] = [h for h in view.wireguard_hosts() if h != view.me and view.contacted(h)
                                and view.fact(h) is None and not view.in_this_step(h)]
        if view.fact(view.target) is not None:
            result["msg"] = "%s was read earlier in this run" % view.target
            return result
        compare = self._task.args.get("compare_applied", True)
        state = self.module("wgforward.portforward.host_state", {"compare_applied": compare}, task_vars)
        if state.get("failed") or state.get("unreachable"):
            return state
        facts = dict(state.get("ansible_facts") or {})
        facts[FACT] = host_fact.from_state(state, view.run_id)
        result.update(ansible_facts=facts, msg="read %s" % view.target)
        return result
