# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every action of the collection shares: its view of the run, the plan, and how it refuses.

A refusal is one failed result whose message is the whole list of problems, so
ansible-core 2.19 prints it as one block (an action's failure has none of the
"Finalization of task args" text a failing filter gets). A list that every host
finds (the inventory's) is printed by the first host that reports it in the run;
the others' results refer to that host instead of repeating it.
"""

from __future__ import annotations

import contextlib
import gc

from ansible.plugins.action import ActionBase

from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.plugin_utils import planning, run_cache
from ansible_collections.wgforward.portforward.plugins.plugin_utils.offline import offline_message
from ansible_collections.wgforward.portforward.plugins.plugin_utils.key_steps import carried_values
from ansible_collections.wgforward.portforward.plugins.plugin_utils.run_view import RunView

# The variable the engine role's key step registers on every host (roles/engine/tasks/prepare.yml): where a
# receiving end's apply finds a preshared key the generating end's key step carried. Never a fact.
KEYS_REGISTER = "engine__keys"
PACKAGE_MODULES = {"Debian": "ansible.builtin.apt", "RedHat": "ansible.builtin.dnf"}


def problem_message(head, problems):
    count = len(problems)
    return "\n".join(["%d problem%s %s:" % (count, "" if count == 1 else "s", head)] + ["  - " + p for p in problems])


def refusal(message, host, shared=True):
    """The failed result of a refused step; a ``shared`` message is printed by its first reporter only."""
    if shared:
        first = run_cache.first_to_report(message, host)
        if first != host:
            count = message.count("\n  - ")
            message = ("wgforward.portforward: refused, %d problem%s (listed for %s)"
                       % (count, "" if count == 1 else "s", first))
    return {"failed": True, "changed": False, "msg": message}


@contextlib.contextmanager
def inherited_heap_frozen():
    """The task's worker process is a fork of the controller and holds its whole heap (at 10,000 forwards, the
    inventory's millions of objects): every full collection that the step's own allocations set off walks all
    of it (0.3 of the 0.4 s the apply step took to list its DNAT rows). Frozen for the step, those objects are
    not walked; the step's own garbage is collected as always, and the heap is given back to the collector after."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class EngineAction(ActionBase):
    """An action over the run's plan; subclasses set _VALID_ARGS and implement ``step``."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        view = RunView(self._task, task_vars)
        with inherited_heap_frozen():
            result.update(self.step(view, task_vars))
        return result

    def step(self, view, task_vars):
        raise NotImplementedError

    def run_plan(self, view):
        """The run's plan (planned once per run), from hostvars as this task sees them: the key a step of the
        run found when the task gives it (``plan``), else read once for this step of the play."""
        return planning.plan_of_run(view.hostvars, view.groups, step=view.step_id(), key=self._task.args.get("plan"))

    @staticmethod
    def plan_refused(view, run_plan, offline=False):
        """The planner's problems as one block; offline (no host read in this run), every value the run needs
        that facts would have given, at once (offline.py)."""
        if offline and run_plan.index.get("facts_needed"):
            inventory = from_hostvars(planning.RawFirstHostVars(view.hostvars), view.groups)
            return refusal(offline_message(inventory, run_plan.error()), view.me)
        return refusal(run_plan.message, view.me)

    @staticmethod
    def carried(view):
        """{(generating host, path): preshared key} the key steps of this run carried (registered results)."""
        return carried_values([view.host_vars(h).get(KEYS_REGISTER) for h in view.wireguard_hosts()])

    def install_packages(self, names, os_family, task_vars):
        """The package manager's module result for ``names`` (no cache update when nothing is missing:
        this is called only when something is)."""
        args = {"name": names, "state": "present"}
        if os_family == "Debian":
            args.update(update_cache=True, cache_valid_time=3600)
        return self.module(PACKAGE_MODULES[os_family], args, task_vars)

    def module(self, name, args, task_vars, check_mode=None):
        """Run module ``name`` on this task's host; ``check_mode`` forces it on (a read that must change nothing)."""
        saved = self._task.check_mode
        if check_mode is not None:
            self._task.check_mode = check_mode
        try:
            return self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
        finally:
            self._task.check_mode = saved
