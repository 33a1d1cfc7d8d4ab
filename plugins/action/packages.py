# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.packages (documented in plugins/modules/packages.py): install what the
host's read found missing for its role, only then (no module call, no cache update otherwise)."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.plugin_utils import host_fact
from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction
from ansible_collections.wgforward.portforward.plugins.plugin_utils.key_steps import active
from ansible_collections.wgforward.portforward.plugins.plugin_utils.run_view import FACT


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset(("install_packages", "plan"))

    def step(self, view, task_vars):
        run_plan = self.run_plan(view)
        if run_plan.problems:
            return self.plan_refused(view, run_plan)
        summary = run_plan.hosts.get(view.me)
        fact = view.fact(view.me)
        if not active(run_plan.hosts, view.me) or fact is None:
            return {"changed": False, "msg": "nothing to install for %s" % view.me}
        explicit = self._task.args.get("install_packages")
        if not host_fact.install_wanted(explicit, view.host_vars(view.me), summary["role"]):
            return {"changed": False, "msg": "package installation is off for %s" % view.me}
        names = host_fact.to_install(fact, summary["role"])
        if not names:
            return {"changed": False, "msg": "every package %s needs is installed" % view.me}
        result = self.install_packages(names, fact["os_family"], task_vars)
        if not result.get("failed") and not view.check_mode:
            # in_sync false: the apply runs after a package changed (plugin_utils/verified.py).
            fact = dict(fact, missing_packages=[n for n in fact["missing_packages"] if n not in names],
                        wg=fact.get("wg") or "wireguard-tools" in names, in_sync=False)
            result["ansible_facts"] = {FACT: fact}
        return result
