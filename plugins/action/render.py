# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.render (documented in plugins/modules/render.py): every file the
plan puts on the hosts, written on the controller in one step (plugin_utils/render_out.py)."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.wgforward.portforward.plugins.plugin_utils import render_out
from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction, refusal


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset(("dest", "peer_files", "plan"))
    _requires_connection = False

    def step(self, view, task_vars):
        args = self._task.args
        preview = args.get("dest") is not None or not boolean(args.get("peer_files", False))
        try:
            dest = render_out.resolve_dest(args.get("dest")) if preview else None
        except render_out.RenderError as exc:
            return refusal(str(exc), view.me, shared=False)
        run_plan = self.run_plan(view)
        if run_plan.problems:
            return self.plan_refused(view, run_plan, offline=view.offline())
        plans = {host: run_plan.plan(host) for host in run_plan.hosts}
        writer = render_out.Writer(check_mode=view.check_mode, diff=bool(self._task.diff))
        keys = view.public_keys()
        result = {"changed": False}
        if dest is not None:
            render_out.write_preview(dest, plans, keys, writer)
            result["dest"] = dest
            no_svg = render_out.write_diagram(dest, run_plan.graph(), writer)
            if no_svg is not None:
                result["warnings"] = ["no inventory.svg: %s; inventory.mmd is written" % no_svg]
        if boolean(args.get("peer_files", False)):
            result["peers_left"] = render_out.write_peer_files(plans, keys, writer)
        result.update(changed=bool(writer.changed), files=writer.changed)
        if writer.diffs:
            result["diff"] = writer.diffs
        return result
