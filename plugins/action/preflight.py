# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.preflight (documented in plugins/modules/preflight.py): the plan, once per
run, and every check that can refuse the run, before any host is changed."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.plugin_utils import preflight_checks as checks
from ansible_collections.wgforward.portforward.plugins.plugin_utils import variables
from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction, problem_message, refusal
from ansible_collections.wgforward.portforward.plugins.plugin_utils.host_fact import install_wanted, packages_step_runs
from ansible_collections.wgforward.portforward.plugins.plugin_utils.key_steps import key_hosts

RUN_HEAD = "refusing this run, before any host is changed"


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset(("role", "install_packages"))
    _requires_connection = False

    def step(self, view, task_vars):
        run_plan = self.run_plan(view)
        raw = view.hostvars.raw_get(view.me) if hasattr(view.hostvars, "raw_get") else None
        own = variables.misplaced(view.me, self._task, task_vars, view.host_vars(view.me), self._templar.template, raw)
        if run_plan.problems:
            unread = checks.unread_problems(view.wireguard_hosts(), dict.fromkeys(view.wireguard_hosts()),
                                            view.fact, view.contacted)
            shared = run_plan.message + "".join("\n  - " + p for p in unread)
            return self.refused(view, shared, own)
        summaries = run_plan.hosts
        shared = self.shared_problems(view, task_vars, summaries)
        if shared or own:
            return self.refused(view, problem_message(RUN_HEAD, shared) if shared else "", own)
        return {"changed": False, "plan": run_plan.key, "plan_computed": run_plan.computed,
                "key_hosts": key_hosts(view.me, summaries, view.fact, view.in_this_step, self.is_carried(view))}

    def shared_problems(self, view, task_vars, summaries):
        role = self._task.args.get("role")
        out = checks.group_problems(view.play_hosts, summaries, role, view.contacted)
        limit = view.limit_hosts()

        def may_change(host):
            return limit is None or host in limit

        if limit is not None:
            out += checks.limit_problems(view.play_hosts, summaries, view.fact, may_change)
        tags_on = packages_step_runs(self._task.tags, task_vars.get("ansible_run_tags"),
                                     task_vars.get("ansible_skip_tags"))

        def install(host):
            explicit = self._task.args.get("install_packages") if host in view.play_hosts else None
            role_of = summaries[host]["role"]
            return tags_on and install_wanted(explicit, view.host_vars(host), role_of)

        prepared = checks.prepared_hosts(view.play_hosts, summaries, view.fact, view.in_this_step, self.is_carried(view))
        out += checks.unread_problems(prepared, summaries, view.fact, view.contacted)
        out += checks.package_problems(prepared, summaries, view.fact, install, may_change)
        return out

    @staticmethod
    def refused(view, shared, own):
        parts = [refusal(shared, view.me)["msg"]] if shared else []
        if own:
            parts.append(problem_message(RUN_HEAD, own))
        return {"failed": True, "changed": False, "msg": "\n".join(parts)}

    def is_carried(self, view):
        values = self.carried(view)
        return lambda host, path: (host, path) in values
