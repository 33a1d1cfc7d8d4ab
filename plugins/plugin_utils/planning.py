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

from ansible_collections.wgforward.portforward.plugins.module_utils.core.addresses import HAS_NETADDR
from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import as_dict as layout
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import fingerprint, plan_inventory
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


def _make(inventory, folder):
    """Plan every host into ``folder``; the index (summaries, or the problems) is the return value."""
    if not HAS_NETADDR:
        return {"problems": [NO_NETADDR], "message": NO_NETADDR, "hosts": {}}
    try:
        plans = plan_inventory(inventory)
    except PlanError as exc:
        return {"problems": exc.problems, "message": str(exc), "hosts": {},
                "facts_needed": [list(n) for n in exc.facts_needed]}
    where = layout()
    for name, plan in plans.items():
        run_cache.write_json(os.path.join(folder, run_cache.file_name(name) + ".json"), dict(plan, layout=where))
    return {"problems": [], "message": "", "hosts": {name: summary(plan) for name, plan in plans.items()}}


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
        """The host's full plan (with ``layout``), as the planner made it."""
        return run_cache.read_json(os.path.join(self.folder, run_cache.file_name(host) + ".json"))


def plan_of_run(hostvars, groups):
    """The RunPlan of the inventory as hostvars and groups show it now, planned once per run."""
    inventory = from_hostvars(hostvars, groups)
    key = fingerprint(inventory)
    folder = run_cache.run_dir("plans", run_cache.file_name(key))
    index, computed = run_cache.once("plans", key, lambda: _make(inventory, folder))
    return RunPlan(key, index, computed)
