"""A run repairs what changed under it, and the check sees a broken IPv6 return path (test_expect.drift;
molecule/policy_routing_lan; issue 17).

On the converged lab, each of test_expect.drift.breaks is done by hand on its host (a DNAT element, a
reply rule, a return route), then:

- ``site.yml --check`` reports each (its host's apply step changed, with a drift line matching the
  break's ``drift``) and repairs none (each break's ``still`` command still succeeds);
- ``site.yml`` repairs each (changed, the same drift lines, ``still`` fails now), and every forward
  answers again, over IPv4 and IPv6, with the client's own address;
- the ``site.yml`` run after that changes nothing, and no host's apply step called apply_plan: the read
  found each host running exactly this run's arguments (``verified_by: read_state``, one round trip per
  no-change host; plugin_utils/verified.py). The repairing runs above show the other side: a drifted host's
  read is not in sync, so apply_plan runs there and reports the drift.

Then test_expect.drift.check is broken alone (an IPv6 return route): ``check.yml`` says ok before, not
ok with a verdict matching its ``verdict`` (exit code not 0) while it is broken, and ok again once
``site.yml`` repaired it.

Runs once per `molecule test` (the first verify; the one after the restart skips it, see MARKER).
"""

import json
import os
import re
import subprocess

import pytest

from lab import first_verify_only, molecule_inventory
from test_check import expect_verdicts, run_check
from test_forward import answered
from traffic import cases

MARKER = "wgpf-drift-done"
# The roles' apply step: the action wgforward.portforward.apply, which runs the module apply_plan.
APPLY_ACTIONS = ("wgforward.portforward.apply", "wgforward.portforward.apply_plan")


@pytest.fixture(scope="module")
def inventory(pytestconfig, scenario):
    if not scenario.get("drift"):
        pytest.skip("test_expect.drift is not set for this scenario")
    path = molecule_inventory(pytestconfig)
    first_verify_only(MARKER)
    return path


def site(inventory, *args):
    """(the apply step's result per host, changed count) of one site.yml run; fails the test when the run fails."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0")
    run = subprocess.run(["ansible-playbook", "-i", inventory, *args, "wgforward.portforward.site"],
                         capture_output=True, text=True, timeout=600, check=False, env=env)
    try:
        out = json.loads(run.stdout[run.stdout.index("{"):])
    except ValueError:
        pytest.fail("site.yml printed no JSON (rc %d):\n%s\n%s" % (
            run.returncode, run.stdout[-3000:], run.stderr[-3000:]))
    assert run.returncode == 0, "site.yml %s failed (rc %d):\n%s" % (
        " ".join(args), run.returncode, run.stdout[-4000:] + run.stderr[-2000:])
    applied = {}
    for play in out["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("action") in APPLY_ACTIONS and not result.get("skipped"):
                    applied[host] = result
    return applied, sum(stats.get("changed", 0) for stats in out["stats"].values())


def reported(applied, host, pattern):
    lines = applied.get(host, {}).get("drift") or []
    return any(re.fullmatch(pattern, line) for line in lines), lines


def still_broken(container, item):
    return container(item["host"]).run(item["still"]).rc == 0


def test_site_reports_in_check_mode_then_repairs_what_was_broken_by_hand(inventory, container, client, scenario):
    breaks = scenario["drift"]["breaks"]
    for item in breaks:
        container(item["host"]).check_output(item["run"])
        assert still_broken(container, item), "%s: `%s` did not break anything" % (item["host"], item["run"])

    applied, changed = site(inventory, "--check")
    assert applied, "site.yml --check ran no apply step (none of %s)" % (APPLY_ACTIONS,)
    for item in breaks:
        found, lines = reported(applied, item["host"], item["drift"])
        assert found, "%s: --check did not report %r: %s" % (item["host"], item["drift"], lines)
        assert applied[item["host"]]["changed"], "%s: --check reported it, but as no change (nothing would " \
            "repair it): %s" % (item["host"], applied[item["host"]].get("actions"))
        assert still_broken(container, item), "%s: --check repaired it" % item["host"]

    applied, changed = site(inventory)
    assert changed > 0
    for item in breaks:
        found, lines = reported(applied, item["host"], item["drift"])
        assert found, "%s: site.yml did not report %r: %s" % (item["host"], item["drift"], lines)
        assert not still_broken(container, item), "%s: site.yml did not repair it" % item["host"]
    for name, case in cases(scenario):
        if "bind" not in case:
            wrong = answered(client, case, 30)
            assert not wrong, "%s after the repair: %s" % (name, "; ".join(wrong))

    applied, changed = site(inventory)
    assert changed == 0, "the run after the repair changed something: %s" % {
        host: result.get("drift") or result.get("actions") for host, result in applied.items() if result["changed"]}
    called = sorted(host for host, result in applied.items() if result.get("verified_by") != "read_state")
    assert applied and not called, "a no-change run called apply_plan on %s (its read should have found it in " \
        "sync: one round trip per no-change host)" % called


def test_check_sees_a_broken_ipv6_return_path_until_site_repairs_it(inventory, container, scenario):
    item = scenario["drift"]["check"]
    expect_verdicts(inventory, {})
    container(item["host"]).check_output(item["run"])
    try:
        rc, found, lines, dummy = run_check(inventory)
        assert rc != 0 and any(re.fullmatch(item["verdict"], verdict) for verdict in found.values()), \
            "check.yml did not see it:\n" + "\n".join(lines)
    finally:
        # Repaired either way, so that a failure here does not fail the later tests' IPv6 traffic too.
        applied, changed = site(inventory)
    assert changed > 0 and applied[item["host"]]["drift"], applied.get(item["host"])
    expect_verdicts(inventory, {})
