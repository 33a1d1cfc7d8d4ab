# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wgpf_* variables set where the planner does not see them: refused, naming the variable, host and place.

The planner reads every WireGuard host's variables through hostvars, the same in every
play: the inventory (group_vars, host_vars), extra vars, facts and set_fact. A value set
as a play's ``vars:``, a role's parameter, an ``include_role``/``import_role``'s or a
block's or task's ``vars:`` is seen by this play's tasks only, so the plan (made once for
every host, maybe by another play) would silently ignore it, or differ between plays.
The key step compares what this task sees with what hostvars holds, and a difference is
a refusal before any write.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import VOCABULARY
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import plain
from ansible_collections.wgforward.portforward.plugins.plugin_utils.run_view import play_of

# Read by the render step, not the planner: it may be set anywhere.
NOT_PLANNED = ("wgpf_render_dir",)
INCLUDES = ("include_role", "import_role", "include_tasks", "import_tasks")
UNRESOLVED = object()


def planner_variables():
    return [name for name in VOCABULARY.host_keys if name not in NOT_PLANNED]


def _short(action):
    return str(action).rsplit(".", 1)[-1]


def _parents(task):
    node = getattr(task, "_parent", None)
    while node is not None:
        yield node
        node = getattr(node, "_parent", None)


def _roles(task):
    """The task's role, the roles its blocks belong to (a role importing it) and their parents, innermost first."""
    found = []
    pending = [getattr(task, "_role", None)] + [getattr(node, "_role", None) for node in _parents(task)]
    while pending:
        role = pending.pop(0)
        if role is not None and role not in found:
            found.append(role)
            pending.extend(role.get_parents() or [])
    return found


def set_where(task, name):
    """Where, above the inventory, ``name`` is set for this task: the first place that holds it."""
    if name in (task.vars or {}):
        return "in the vars: of the task %r" % (task.get_name(),)
    for node in _parents(task):
        action = _short(getattr(node, "action", ""))
        if action in INCLUDES and name in (node.vars or {}):
            return "in the vars: of %s %r" % (action, node.get_name())
        if action == "" and name in (getattr(node, "vars", None) or {}):
            return "in the vars: of a block"
    for role in _roles(task):
        if name in (role.get_role_params() or {}):
            return "as a parameter of the role %s" % role.get_name()
        if name in (role.get_vars(include_params=False) or {}):
            return "in the vars of the role %s" % role.get_name()
    play = play_of(task)
    if play is not None and name in (play.vars or {}):
        return "in the vars: of the play %r" % (play.get_name(),)
    return "at the play, role or task level (vars_files, vars_prompt or a role's defaults)"


def _value(get):
    try:
        return plain(get())
    except Exception:  # pylint: disable=broad-except  # an undefined or failing template reads as unresolved
        return UNRESOLVED


def misplaced(host, task, task_vars, host_vars, template, raw=None):
    """Problems for each planner variable whose value this task sees differs from the one hostvars holds.

    ``raw``: the host's variables before templating (HostVars.raw_get); a variable that is the very object
    the inventory holds is the same value, and is not templated twice to find it (10,000 forwards take 0.6 s).
    """
    problems = []
    for name in sorted(n for n in planner_variables() if n in task_vars):
        if raw is not None and name in raw and raw[name] is task_vars[name]:
            continue
        seen = _value(lambda n=name: template(task_vars[n]))
        known = _value(lambda n=name: host_vars[n]) if name in host_vars else None
        if seen == known:
            continue
        if known is UNRESOLVED:
            why = ("its value in the inventory refers to a variable only this play has; the planner reads every "
                   "host's variables in every play, so define that variable in the inventory too")
        else:
            why = ("set %s, which the planner does not see: it reads every host's variables from the inventory "
                   "(group_vars, host_vars), extra vars and facts, the same in every play; set it there"
                   % set_where(task, name))
        problems.append("%s: %s: %s" % (host_where(host), name, why))
    return problems
