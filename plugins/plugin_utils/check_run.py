# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live check's expectations (check/check_expect.py), made once per run like the plan (run_cache.py).

check.yml's plan step (check_plan) makes them and returns the key they are kept under; the probe step of
each host then reads only its own probe arguments (a small file of their own) and the verdicts step the
forwards, by that key, without reading hostvars again. At 10,000 forwards the whole is 15 MB of JSON:
every host's probe step read all of it (3 s each on a busy controller), and each step that read the
inventory out of hostvars again to find the key paid 1.5-2 s (benchmarks/README.md, "Scale").
"""

from __future__ import annotations

import contextlib
import gc
import os

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_expect import expectations
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import fingerprint
from ansible_collections.wgforward.portforward.plugins.plugin_utils import run_cache
from ansible_collections.wgforward.portforward.plugins.plugin_utils.planning import RawFirstHostVars


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic garbage collector off for a step that builds or reads hundreds of thousands of objects
    and frees them together (the expectations, the verdicts): each of its full passes walked them all, half of
    the time (expectations at 10,000 forwards 3.0-3.6 s with it, 1.5-1.8 s without; reading them and drawing
    the verdicts 2.0-2.3 s against 0.9-1.0 s). Their garbage is freed by reference counting; the collector is
    on again after, if it was on before."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _host_file(key, host):
    return run_cache.path_of("expect-host", "%s %s" % (key, host))


def _expect(inventory, key):
    try:
        made = dict(expectations(inventory), problems=[], message="")
    except PlanError as exc:
        return {"forwards": [], "hosts": {}, "problems": exc.problems, "message": str(exc)}
    # Each host's probe arguments in a file of their own, written before the whole (under once()'s lock), so a
    # step that finds the whole finds them too.
    for host, args in made["hosts"].items():
        run_cache.write_json(_host_file(key, host), args)
    return made


def _expect_key(hostvars, groups):
    with collector_paused():
        inventory = from_hostvars(RawFirstHostVars(hostvars), groups)
        key = fingerprint(inventory)
        made = run_cache.once("expect", key, lambda: _expect(inventory, key))[0]
    return {"key": key, "problems": made["problems"], "message": made["message"], "forwards": len(made["forwards"]),
            "hosts": sorted(made["hosts"])}


def expect_of_step(hostvars, groups, step):
    """{key, problems, message, forwards (a count), hosts}: where the run keeps check_expect.expectations of the
    inventory as hostvars show it (made once per run), and their outline; hostvars are read once per ``step``
    (planning.plan_of_run says why)."""
    return run_cache.once("expect-steps", step, lambda: _expect_key(hostvars, groups))[0]


def kept(key):
    """True when this run keeps expectations under ``key``."""
    return os.path.exists(run_cache.path_of("expect", key))


def not_kept(key):
    """The refusal of a step given a key nothing is kept under in this run."""
    return "expect: nothing kept under %r in this run (wgforward.portforward.check_plan returns the key)" % key


def expectations_by_key(key):
    """{forwards, hosts, problems, message} kept under ``key`` in this run, or None."""
    return run_cache.read_json(run_cache.path_of("expect", key)) if kept(key) else None


def probe_args_by_key(key, host):
    """The forward_probe arguments of ``host`` kept under ``key`` in this run; None when the host has nothing to
    check (or nothing is kept under ``key``)."""
    path = _host_file(key, host)
    return run_cache.read_json(path) if os.path.exists(path) else None


def expectations_of_run(hostvars, groups, step):
    """check_expect.expectations of the inventory as hostvars show it, once per run: {forwards, hosts,
    problems, message}."""
    return expectations_by_key(expect_of_step(hostvars, groups, step)["key"])
