# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an action of the collection sees of the run: this host, the play, the other hosts' facts.

The one place that reads Ansible's task variables and the task object for the
actions (plugins/action/): which host the task runs for and on (``delegate_to``), the
play's hosts and batch (``serial``), whether the strategy waits for every host at
each task (``linear``) or not (``free``), the ``--limit`` and check mode, and each
WireGuard host's fact. The rest of plugin_utils/ works on the plain values this returns.

Each host's public keys live in one place, the fact ``wgforward_portforward`` the host
read sets (plugins/action/read_state.py), the key step updates (keys.py) and the
delegated read fills for hosts outside the play. A fact from an earlier run (a fact
cache) is not trusted: ``fact`` returns it only when its ``run`` is this run's.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import GROUPS, plain
from ansible_collections.wgforward.portforward.plugins.module_utils.model.unmanaged import contacted
from ansible_collections.wgforward.portforward.plugins.plugin_utils import run_cache

FACT = "wgforward_portforward"
# Strategies that run a task on every host of the batch before the next task starts.
BARRIER_STRATEGIES = ("linear", "debug")


def play_of(task):
    """The play a task belongs to (through its blocks, includes and roles)."""
    node = task
    while node is not None:
        if getattr(node, "_play", None) is not None:
            return node._play  # pylint: disable=protected-access
        node = getattr(node, "_parent", None)
    return None


def waits_for_every_host(strategy):
    """True for linear (and debug, and Mitogen's mitogen_linear); free and host_pinned do not wait."""
    name = str(strategy or "linear").rsplit(".", 1)[-1]
    return name in BARRIER_STRATEGIES or name.endswith("_linear")


class RunView:
    """The run as one task of one host sees it."""

    def __init__(self, task, task_vars):
        self.task = task
        self.vars = task_vars
        self.hostvars = task_vars["hostvars"]
        self.me = task_vars["inventory_hostname"]
        self.target = task.delegate_to or self.me
        self.groups = {k: list(v) for k, v in (task_vars.get("groups") or {}).items()}
        self.play_hosts = list(task_vars.get("ansible_play_hosts_all") or [self.me])
        self.batch = list(task_vars.get("ansible_play_batch") or [self.me])
        play = play_of(task)
        self.barrier = waits_for_every_host(getattr(play, "strategy", None))
        self.limited = task_vars.get("ansible_limit") is not None
        self.check_mode = bool(task.check_mode)
        self.run_id = run_cache.run_id()
        self._contacted = {}

    def host_vars(self, host):
        return self.hostvars[host] if host in self.hostvars else {}

    def registered(self, host, name):
        """What ``host`` registered as ``name``, as its task returned it, or None: read untemplated, as
        RawFirstHostVars reads the inventory (planning.py). hostvars template and copy a value on every access,
        and a registered result holds no template to expand (Ansible marks it untrusted): at 10,000 forwards the
        probe results took 10 s that way (benchmarks/README.md, "Scale")."""
        raw_get = getattr(self.hostvars, "raw_get", None)
        if raw_get is None or host not in self.hostvars:
            return self.host_vars(host).get(name)
        return raw_get(host).get(name)

    def wireguard_hosts(self):
        """The hosts of the three groups, in group order, each once."""
        out = []
        for group in GROUPS:
            out += [h for h in self.groups.get(group, []) if h not in out]
        return out

    def contacted(self, host):
        """model/unmanaged.py's rule, from the host's inventory variables."""
        if host not in self._contacted:
            hv = self.host_vars(host)
            self._contacted[host] = contacted({k: plain(hv.get(k)) for k in ("wgpf_attachment", "wgpf_public_key")})
        return self._contacted[host]

    def fact(self, host):
        """The host's fact from a read of this run, or None (never read, or read by an earlier run)."""
        facts = self.host_vars(host).get("ansible_facts")
        fact = facts.get(FACT) if hasattr(facts, "get") else None
        if not hasattr(fact, "get") or fact.get("run") != self.run_id:
            return None
        return plain(fact)

    def public_keys(self):
        """{host: {interface: public key}} of every WireGuard host read in this run."""
        out = {}
        for host in self.wireguard_hosts():
            fact = self.fact(host)
            if fact and fact.get("public_keys"):
                out[host] = dict(fact["public_keys"])
        return out

    def step_id(self):
        """This task in this batch, with the hosts read so far in the run: every host of one step sees the
        same hostvars, so the planner's input is read out of them once per step (planning.py)."""
        read = sorted(h for h in self.wireguard_hosts() if self.fact(h) is not None)
        return "%s|%s|%s" % (getattr(self.task, "_uuid", ""), ",".join(self.batch), ",".join(read))

    def offline(self):
        """True when no WireGuard host was read in this run (render.yml, explain.yml): no facts at all."""
        return not any(self.fact(h) for h in self.wireguard_hosts())

    def limit_hosts(self):
        """The hosts --limit lets the run change, or None without --limit.

        The play's host list is cut to the batch (serial) by Ansible's restriction; the
        limit alone is what ``get_hosts`` gives when the restriction is ignored.
        """
        if not self.limited:
            return None
        inventory = getattr(self.hostvars, "_inventory", None)
        if inventory is None:
            return set(self.play_hosts)
        return {h.name for h in inventory.get_hosts("all", ignore_restrictions=True)}

    def in_this_step(self, host):
        """True when ``host`` runs this task in this batch with the others (a linear play's barrier holds)."""
        return self.barrier and host in self.batch
