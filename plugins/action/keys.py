# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of wgforward.portforward.keys (documented in plugins/modules/keys.py): a host's WireGuard keys and the
preshared keys it makes, on the host (its own task, or delegated from a peer's), under a lock per host."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.keys import key_digest
from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import key_path
from ansible_collections.wgforward.portforward.plugins.plugin_utils import host_fact, key_steps, run_cache
from ansible_collections.wgforward.portforward.plugins.plugin_utils.actions import EngineAction
from ansible_collections.wgforward.portforward.plugins.plugin_utils.run_view import FACT

KEY_MODULE = "wgforward.portforward.wireguard_key"


class ActionModule(EngineAction):
    _VALID_ARGS = frozenset(("plan",))
    # Set at each run: whether --limit lets this step change its host, and what it did so far.
    may_change = True
    outcome = None

    def step(self, view, task_vars):
        run_plan = self.run_plan(view)
        if run_plan.problems:
            return self.plan_refused(view, run_plan)
        summaries, target = run_plan.hosts, view.target
        if not key_steps.active(summaries, target):
            return {"changed": False, "msg": "no key on %s" % target}
        if view.fact(target) is None:
            return {"failed": True, "msg": "%s was not read in this run: its keys are unknown" % target}
        limit = view.limit_hosts()
        self.may_change = limit is None or target in limit
        self.outcome = {"changed": False, "diff": []}
        # Every key step on one host, whoever runs it (its own task, or a peer's delegated one), one at a time.
        with run_cache.locked("keys", target):
            fact = self.prepare_packages(view, task_vars, summaries[target]["role"], view.fact(target))
            made = self.private_keys(view, task_vars, summaries, fact)
            carried, digests = self.preshared_keys(view, task_vars, summaries, fact)
        if self.outcome.get("failed"):
            return self.outcome
        result = dict(self.outcome, ansible_facts={FACT: key_steps.with_keys(fact, made, digests)},
                      preshared_keys=carried, msg="keys of %s" % target)
        # The carried keys are secrets: the whole result is hidden (still registered for the receiving end).
        result["_ansible_no_log"] = bool(carried)
        return result

    def run_key_module(self, args, task_vars, check_mode=None):
        if self.outcome.get("failed"):
            return {}
        result = self.module(KEY_MODULE, args, task_vars, check_mode=check_mode)
        if result.get("failed") or result.get("unreachable"):
            self.outcome = dict(result, failed=True)
            return {}
        self.outcome["changed"] = self.outcome["changed"] or bool(result.get("changed"))
        if result.get("diff"):
            self.outcome["diff"].append(result["diff"])
        return result

    def prepare_packages(self, view, task_vars, role, fact):
        """A peer prepared from another host's task (outside its own play or batch) without wg gets its
        packages here, as its own play would install them (wireguard_<role>_install_packages, tags)."""
        if view.target == view.me or fact.get("wg") or not self.may_change:
            return fact
        if not (host_fact.packages_step_runs(self._task.tags, task_vars.get("ansible_run_tags"),
                                             task_vars.get("ansible_skip_tags"))
                and host_fact.install_wanted(None, view.host_vars(view.target), role)):
            return fact
        names = host_fact.to_install(fact, role)
        if names:
            result = self.install_packages(names, fact["os_family"], task_vars)
            if result.get("failed") or result.get("unreachable"):
                self.outcome = dict(result, failed=True)
                return fact
            self.outcome["changed"] = True
            if not view.check_mode:
                fact = dict(fact, missing_packages=[n for n in fact["missing_packages"] if n not in names], wg=True)
        return fact

    def private_keys(self, view, task_vars, summaries, fact):
        """{interface: public key} of the keys made (none can be without wg: check mode before the packages)."""
        made = {}
        for name in key_steps.keys_to_make(summaries, view.target, fact):
            if not self.may_change:
                continue
            if not fact.get("wg") and view.check_mode:
                self.outcome["changed"] = True
                continue
            result = self.run_key_module({"path": key_path(name)}, task_vars)
            if result.get("public_key"):
                made[name] = result["public_key"]
        return made

    def preshared_keys(self, view, task_vars, summaries, fact):
        """([{host, path, value}] to carry, {path: digest} of keys made) for the links this host makes a key of."""
        carried, digests = [], {}
        to_carry = set(key_steps.psks_to_carry(summaries, view.target, view.fact))
        have = set(fact.get("preshared_key_files") or [])
        for path in sorted(key_steps.generated_links(summaries, view.target)):
            if (path in have and path not in to_carry) or (path not in have and not self.may_change):
                continue
            if not fact.get("wg") and view.check_mode:
                self.outcome["changed"] = True
                continue
            # Outside --limit a key is only read: check mode, create false (preflight refused a missing one).
            result = self.run_key_module({"path": path, "kind": "preshared", "create": self.may_change}, task_vars,
                                         check_mode=None if self.may_change else True)
            value = result.get("preshared_key")
            if value:
                carried.append({"host": view.target, "path": path, "value": value})
                digests[path] = key_digest(value)
        return carried, digests
