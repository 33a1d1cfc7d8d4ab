# -*- coding: utf-8 -*-
"""routes.sh, the rendered script, run for real in an unprivileged network namespace (unshare -rn).

A forward added to a hub moves every rule after it to a new priority; the script
must add the new rules before it deletes the stale ones (so no connection ever
misses its rule), never flush, leave exactly the new plan's rules, and change
nothing when it runs again. Rules that are not the collection's stay.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from builders import seed_hub

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files
from ansible_collections.wgforward.portforward.plugins.module_utils.render.routes_sh import ROUTES_MAIN, ROUTES_PREAMBLE

# Runs in the namespace: every `ip` the script calls goes through a wrapper that logs it.
LAB = """set -e
ip link set lo up
ip link add wg0 type veth peer name wgp
ip rule add from 192.0.2.77 lookup 77 priority 5101
WGPF_RUN_DIR=%(run)s PATH=%(bin)s:$PATH sh %(old)s up
echo --- >>%(log)s
WGPF_RUN_DIR=%(run)s PATH=%(bin)s:$PATH sh %(new)s up
echo --- >>%(log)s
WGPF_RUN_DIR=%(run)s PATH=%(bin)s:$PATH sh %(new)s up
echo --- >>%(log)s
ip -4 rule show; ip -6 rule show
cat /proc/sys/net/ipv4/conf/wg0/rp_filter
echo ===
WGPF_RUN_DIR=%(run)s sh %(new)s down
ip -4 rule show; ip -6 rule show
"""


def hub_routes(tmp_path, name, forwards):
    inv = seed_hub()
    inv.host("private2", "private", intermediate="inter1", attachment="wireguard", address="10.0.0.4/24",
             listen_port=51824)
    for fwd in forwards:
        inv.forward(technique="policy_routing", **fwd)
    plan = plan_inventory(inv.data())["inter1"]
    path = tmp_path / name
    path.write_text(next(f["content"] for f in render_files(plan) if f["kind"] == "routes"))
    return path


def run_lab(tmp_path):
    for tool in ("unshare", "ip", "flock", "sysctl"):
        if not shutil.which(tool):
            pytest.fail("%s is required: run the tests through `make test`" % tool)
    web = {"name": "web", "public": "public1", "port": 2000, "to": "private1", "to_port": 8080}
    # The new forward comes first: the rule of web moves to another priority.
    game = {"name": "aaa", "public": "public1", "port": 3000, "to": "private2", "to_port": 9090}
    old = hub_routes(tmp_path, "old.sh", [web])
    new = hub_routes(tmp_path, "new.sh", [game, web])
    wrapper = tmp_path / "bin" / "ip"
    wrapper.parent.mkdir()
    log = tmp_path / "ip.log"
    wrapper.write_text('#!/bin/sh\necho "$*" >>%s\nexec %s "$@"\n' % (log, shutil.which("ip")))
    wrapper.chmod(0o755)
    script = LAB % {"run": tmp_path / "run", "bin": wrapper.parent, "old": old, "new": new, "log": log}
    run = subprocess.run(["unshare", "-rn", "sh", "-c", script], capture_output=True, text=True, check=False,
                         env=dict(os.environ))
    assert run.returncode == 0, run.stderr
    first, second, again, dummy = log.read_text().split("---\n")
    return old.read_text(), new.read_text(), first, second, again, run.stdout


def rules_of(script):
    return [line.split(None, 1)[1] for line in script.splitlines() if line.startswith("    rule ")]


def test_a_changed_plan_adds_before_it_deletes_and_leaves_exactly_the_new_rules(tmp_path):
    old, new, dummy, second, again, shown = run_lab(tmp_path)
    calls = second.splitlines()
    adds = [i for i, c in enumerate(calls) if " rule add " in " %s " % c]
    dels = [i for i, c in enumerate(calls) if " rule del " in " %s " % c]
    assert adds and dels, calls
    assert max(adds) < min(dels), "a stale rule was deleted before every new rule was in place: %s" % calls
    assert not any("flush" in c for c in calls)
    # Only the stale ones are deleted: the old plan's rules that the new plan does not hold.
    stale = set(rules_of(old)) - set(rules_of(new))
    assert stale and {c.split(" rule del ", 1)[-1].replace("-4 ", "", 1) for c in calls if "rule del" in c} \
        <= {r.split(" ", 1)[1] for r in stale}
    # Running it again adds nothing new and deletes nothing.
    assert not any("rule del" in c for c in again.splitlines())
    listed, after_down = shown.split("===\n")
    for rule in rules_of(new):
        fam, rest = rule.split(" ", 1)
        selector = rest.split(" lookup ")[0]
        priority = rest.rsplit(" ", 1)[1]
        assert any(line.startswith(priority + ":") and selector.split()[-1] in line for line in listed.splitlines()), \
            (rule, listed)
    ours = [line for line in listed.splitlines() if "lookup 519" in line]
    assert len(ours) == len(rules_of(new)), listed
    assert "5101:\tfrom 192.0.2.77 lookup 77" in listed, "another rule at a priority the collection uses stays"
    assert listed.splitlines()[-1] == "2", "the tunnel's rp_filter (loose)"
    # down takes the collection's rules away, and only those.
    assert "lookup 519" not in after_down and "from 192.0.2.77 lookup 77" in after_down


def test_up_goes_on_past_a_route_that_fails_and_says_so(tmp_path):
    """A link that is not up yet (here: missing) fails its route; the rules after it are still added,
    `up` exits 1 naming the failure, and a second `up` once the link exists adds the route."""
    for tool in ("unshare", "ip", "flock"):
        if not shutil.which(tool):
            pytest.fail("%s is required: run the tests through `make test`" % tool)
    wanted = ("wanted() {\n"
              "    route -4 default via 192.0.2.1 dev lan0 table 51900\n"
              "    rule -4 fwmark 0x1000000/0xf000000 lookup 51900 priority 5100\n"
              "}\n")
    script = tmp_path / "routes.sh"
    script.write_text(ROUTES_PREAMBLE % {"run": tmp_path / "run"} + wanted + ROUTES_MAIN)
    lab = ("ip link set lo up\n"
           "sh %(s)s up; echo rc=$?\n"
           "ip -4 rule show priority 5100; ip -4 route show table 51900\n"
           "echo ---\n"
           "ip link add lan0 type veth peer name lan1 && ip link set lan1 up && ip link set lan0 up && ip addr add 192.0.2.2/24 dev lan0\n"
           "sh %(s)s up; echo rc=$?\n"
           "ip -4 route show table 51900\n") % {"s": script}
    run = subprocess.run(["unshare", "-rn", "sh", "-c", lab], capture_output=True, text=True, check=False)
    before, after = run.stdout.split("---\n")
    assert "rc=1" in before and "fwmark 0x1000000/0xf000000 lookup 51900" in before
    assert "default via" not in before
    assert "ip -4 route replace default via 192.0.2.1 dev lan0 table 51900" in run.stderr
    assert "1 route(s) or rule(s) of the plan could not be added" in run.stderr
    assert "rc=0" in after and "default via 192.0.2.1 dev lan0" in after
