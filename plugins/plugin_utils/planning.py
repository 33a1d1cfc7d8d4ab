# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a run: made once from every WireGuard host's variables and facts, kept on the controller.

The planner's input is read out of hostvars (model/inventory.py) in every task that
needs the plan; its digest names the plan in the run's folder (run_cache.py), so the
first task of the run to need it plans the whole inventory and every other task, play
or batch of the run reads the file of its own host. Plans therefore never travel through
the hosts' variables. The index beside the plans holds, per host, what the steps of
other hosts need to know about it (role, state, interfaces and peers), or the planner's
problems when the inventory has any: they are made once too, and reported as one list.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ansible.template import Templar

from ansible_collections.wgforward.portforward.plugins.module_utils.core.addresses import HAS_NETADDR
from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import as_dict as layout
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import checked, fingerprint
from ansible_collections.wgforward.portforward.plugins.module_utils.render.diagram import inventory_graph
from ansible_collections.wgforward.portforward.plugins.plugin_utils import run_cache

NO_NETADDR = "the planner needs the Python library netaddr on the controller (pip install netaddr)"


def _peer_summary(peer):
    return {"host": peer["host"], "interface": peer["interface"], "unmanaged": bool(peer.get("public_key")),
            "psk": peer.get("preshared_key")}


def summary(plan):
    """What other hosts' steps read about a host: its role, state, interfaces and their peers."""
    return {"role": plan["role"], "state": plan["state"], "contacted": plan.get("contacted") is not False,
            "peer_config": plan.get("peer_config"),
            "interfaces": [{"name": i["name"], "key_file": i["key_file"],
                            "peers": [_peer_summary(p) for p in i["peers"]]} for i in plan["interfaces"]]}


def kept_plan(plan, where):
    """What the steps read of a host's plan: all of it but its forwards' decisions (each forward's walk
    through the tree, about 1.4 KB, in the plan of every host on its path: 14 MB a host at 10,000 forwards,
    read back by each host's apply), which no step reads; the graph above keeps what the picture needs."""
    return dict({key: value for key, value in plan.items() if key != "forwards"}, layout=where)


def _make(inventory, folder):
    """Plan every host into ``folder``; the index (summaries, or the problems) is the return value."""
    if not HAS_NETADDR:
        return {"problems": [NO_NETADDR], "message": NO_NETADDR, "hosts": {}}
    try:
        planner, plans = checked(inventory)
    except PlanError as exc:
        return {"problems": exc.problems, "message": str(exc), "hosts": {},
                "facts_needed": [list(n) for n in exc.facts_needed]}
    where = layout()
    for name, plan in plans.items():
        run_cache.write_json(os.path.join(folder, run_cache.file_name(name) + ".json"), kept_plan(plan, where))
    # The picture render draws needs the model, which the cache does not keep: drawn here, as plain data.
    run_cache.write_json(os.path.join(folder, GRAPH_FILE), inventory_graph(planner.model, plans))
    return {"problems": [], "message": "", "hosts": {name: summary(plan) for name, plan in plans.items()}}


# No host's file: file_name() quotes a '+' in a host name.
GRAPH_FILE = "+graph.json"


class RunPlan:
    """Every host's plan for one planner input: the index in memory, each plan read on demand."""

    def __init__(self, key, index, computed):
        self.key = key
        self.index = index
        self.computed = computed
        self.folder = run_cache.run_dir("plans", run_cache.file_name(key))

    @property
    def problems(self):
        return self.index["problems"]

    @property
    def message(self):
        return self.index["message"]

    @property
    def hosts(self):
        return self.index["hosts"]

    def error(self):
        """The planner's PlanError, again (for offline.py)."""
        return PlanError(self.problems, [tuple(n) for n in self.index.get("facts_needed") or []])

    def plan(self, host):
        """The host's plan (with ``layout``) as the planner made it, but its forwards' decisions (kept_plan)."""
        return run_cache.read_json(os.path.join(self.folder, run_cache.file_name(host) + ".json"))

    def graph(self):
        """The inventory's graph (render/diagram.py's inventory_graph)."""
        return run_cache.read_json(os.path.join(self.folder, GRAPH_FILE))


class RawFirstHostVars(Mapping):
    """hostvars for model/inventory.py's reading: a value that holds no template is handed out as the
    inventory's own object, untemplated.

    ansible-core 2.19 templates (copies and tags) a variable on every access through hostvars: 0.65 s
    for 10,000 forwards, for each host that reads them. Handed out as is, the forwards list of
    group_vars/all is one object for every host, which model/inventory.py converts once; a value that
    holds a template is templated as hostvars would.
    """

    def __init__(self, hostvars):
        self._hostvars = hostvars
        self._templar = Templar(loader=None, variables={})
        self._checked = {}

    def __getitem__(self, host):
        if not hasattr(self._hostvars, "raw_get"):
            return self._hostvars[host]
        return _RawFirstHost(self._hostvars.raw_get(host), self._hostvars[host], self)

    def __contains__(self, host):
        return host in self._hostvars

    def __iter__(self):
        return iter(self._hostvars)

    def __len__(self):
        return len(self._hostvars)

    def holds_template(self, value):
        entry = self._checked.get(id(value))
        if entry is None or entry[0] is not value:
            entry = self._checked[id(value)] = (value, may_hold_template(value) and self._templar.is_template(value))
        return entry[1]


# What a string must hold for Jinja to see a template in it: a start of Ansible's delimiters, or a first line that
# sets others (`#jinja2:`).
TEMPLATE_MARKS = ("{{", "{%", "{#")


def may_hold_template(value):
    """False when no string in ``value`` (keys too) could be a template, else True (Templar.is_template decides).

    ansible-core 2.19's is_template runs its template engine over the whole value: 2 s for the 10,000 forwards
    of one inventory, which every step that reads the inventory paid once (benchmarks/README.md, "Scale");
    looking for the delimiters takes a few hundredths."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item.startswith("#jinja2:") or any(mark in item for mark in TEMPLATE_MARKS):
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
    return False


class _RawFirstHost(Mapping):
    def __init__(self, raw, templated, owner):
        self._raw, self._templated, self._owner = raw, templated, owner

    def __getitem__(self, key):
        value = self._raw[key]
        return self._templated[key] if self._owner.holds_template(value) else value

    def __contains__(self, key):
        return key in self._raw

    def __iter__(self):
        return iter(self._raw)

    def __len__(self):
        return len(self._raw)


def _planned(hostvars, groups):
    """{key}: the digest of the planner's input, after making sure that input is planned in this run."""
    inventory = from_hostvars(RawFirstHostVars(hostvars), groups)
    key = fingerprint(inventory)
    folder = run_cache.run_dir("plans", run_cache.file_name(key))
    computed = run_cache.once("plans", key, lambda: _make(inventory, folder))[1]
    return {"key": key, "computed": computed}


def plan_of_run(hostvars, groups, step=None, key=None):
    """The RunPlan of the inventory as hostvars and groups show it now, planned once per run.

    Reading the planner's input out of hostvars costs seconds at scale, so it is read once per ``step``
    (a task of a play and batch: every host of it sees the same hostvars) when one is given, and not at
    all when the caller has the ``key`` a step of this run found (the roles pass preflight's along).
    """
    computed = False
    if key is None:
        if step is None:
            found = _planned(hostvars, groups)
        else:
            found, mine = run_cache.once("steps", step, lambda: _planned(hostvars, groups))
            found = dict(found, computed=found["computed"] and mine)
        key, computed = found["key"], found["computed"]
    index = run_cache.read_json(run_cache.path_of("plans", key))
    return RunPlan(key, index, computed)
