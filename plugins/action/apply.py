# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.apply (documented in plugins/modules/apply.py): this host's files rendered
with its peers' public keys from their facts, and the module apply_plan, in one call; none when the read
found the host running exactly these arguments (plugin_utils/verified.py)."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.host_record import rows_text
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files
from ansible_collections.wgforward.portforward.plugins.plugin_utils import key_steps, verified
from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction
from ansible_collections.wgforward.portforward.plugins.plugin_utils.run_view import FACT

APPLY_MODULE = "wgforward.portforward.apply_plan"


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset(("plan",))

    def step(self, view, task_vars):
        run_plan = self.run_plan(view)
        if run_plan.problems:
            return self.plan_refused(view, run_plan)
        if view.me not in run_plan.hosts:
            return {"failed": True, "msg": "%s is in none of the groups wireguard_public, wireguard_intermediate, "
                                           "wireguard_private" % view.me}
        plan = run_plan.plan(view.me)
        if plan["state"] == "absent":
            return self.module(APPLY_MODULE, {"state": "absent"}, task_vars)
        copies, problems = key_steps.copies(view.me, run_plan.hosts, view.fact, self.carried(view), view.check_mode)
        if problems:
            return {"failed": True, "msg": "\n".join(problems)}
        args = {"state": "present", "files": render_files(plan, view.public_keys()),
                "key_files": {iface["name"]: iface["key_file"] for iface in plan["interfaces"]},
                "sysctls": plan["sysctls"], "dnat": rows_text(plan["nftables"]["dnat"]), "preshared_keys": copies}
        # The read already ran apply_plan's comparison against these very arguments: no second round trip.
        fact = view.fact(view.me)
        result = verified.settled_result(fact, args)
        if result is None:
            result = self.module(APPLY_MODULE, args, task_vars)
        spent = verified.spent(fact)
        if spent is not None:
            result["ansible_facts"] = {FACT: spent}
        return result
