# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live check's expectations (check/check_expect.py), made once per run like the plan (run_cache.py)."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_expect import expectations
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import fingerprint
from ansible_collections.wgforward.portforward.plugins.plugin_utils import run_cache
from ansible_collections.wgforward.portforward.plugins.plugin_utils.planning import RawFirstHostVars


def _expect(inventory):
    try:
        return dict(expectations(inventory), problems=[], message="")
    except PlanError as exc:
        return {"forwards": [], "hosts": {}, "problems": exc.problems, "message": str(exc)}


def _expect_key(hostvars, groups):
    inventory = from_hostvars(RawFirstHostVars(hostvars), groups)
    key = fingerprint(inventory)
    run_cache.once("expect", key, lambda: _expect(inventory))
    return {"key": key}


def expectations_of_run(hostvars, groups, step):
    """check_expect.expectations of the inventory as hostvars show it, once per run: {forwards, hosts,
    problems, message}; hostvars are read once per ``step`` (planning.plan_of_run says why)."""
    key = run_cache.once("expect-steps", step, lambda: _expect_key(hostvars, groups))[0]["key"]
    return run_cache.read_json(run_cache.path_of("expect", key))
