"""The live check names the broken hop (test_expect.live_check: true; molecule/connmark_private).

Runs the collection's check playbook (wgforward.portforward.check) on the
converged lab and reads its verdict lines (the JSON callback's output of the
task that prints them):

- with the lab working, every forward is ``ok`` and answers real traffic;
- with intermediate1's tunnel down (``ip link set wg0 down``), the LAN
  forward's verdict names intermediate1 and its wg0, the direct peer's stays ok;
- with the echo service stopped on private1, it names private1 and the listen check;
- with private1's fwmark rule deleted, it names private1 and the route its replies would take;
- each fault is undone before the next, and the last run is ``ok`` again
  (each fault's verdict names a later hop than the one before, or ok, so the
  earlier fault is known to be undone as well).

Every run also writes its verdicts as Prometheus metrics (wgpf_check_metrics_path),
read back with prometheus_client's parser: one gauge per forward, 1 exactly when
its verdict is ok, labelled with the first wrong hop's host.

It also checks that the check changes nothing (``changed=0``). Runs once per
`molecule test` (the first verify; the one after the restart skips it, see
MARKER), about 40 s.
"""

import json
import os
import pathlib
import re
import subprocess
import tempfile
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lab import first_verify_only, molecule_inventory
from test_forward import probe
from traffic import cases, problems

# The first verify of a test sequence leaves this in Molecule's ephemeral folder (emptied by destroy).
MARKER = "wgpf-live-check-done"
VERDICT_TASK = "Show the hops of the forwards that are not ok, one verdict line per forward, the counts"


@pytest.fixture(scope="module")
def inventory(pytestconfig, scenario):
    if not scenario.get("live_check"):
        pytest.skip("test_expect.live_check is not set for this scenario")
    path = molecule_inventory(pytestconfig)
    first_verify_only(MARKER)
    return path


def run_check(inventory, metrics=None):
    """(return code, {forward: verdict}, every printed line, changed count) of one check run, which writes
    its metrics to ``metrics`` (a file of its own when not given)."""
    metrics = metrics or pathlib.Path(tempfile.mkdtemp(prefix="wgpf-metrics-")) / "wgpf.prom"
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0")
    run = subprocess.run(["ansible-playbook", "-i", inventory, "wgforward.portforward.check",
                          "-e", "wgpf_check_metrics_path=%s" % metrics],
                         capture_output=True, text=True, timeout=300, check=False, env=env)
    try:
        out = json.loads(run.stdout[run.stdout.index("{"):])
    except ValueError:
        pytest.fail("the check printed no JSON (rc %d):\n%s\n%s" % (run.returncode, run.stdout[-3000:],
                                                                    run.stderr[-3000:]))
    lines = []
    for play in out["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == VERDICT_TASK:
                lines = next(iter(task["hosts"].values()))["msg"]
    assert lines, "the check printed no verdicts (rc %d):\n%s" % (run.returncode, run.stderr[-3000:])
    found = {}
    for line in lines:
        match = re.match(r"^(\S+) \((\S+) -> (\S+)\): (.*)$", line)
        if match:
            found[match.group(1)] = match.group(4)
    changed = sum(stats.get("changed", 0) for stats in out["stats"].values())
    return run.returncode, found, lines, changed


def forward_gauges(path):
    """{forward: (value, hop label)} of the metrics file, as Prometheus' own parser reads it."""
    families = {f.name: f for f in text_string_to_metric_families(pathlib.Path(path).read_text())}
    return {s.labels["forward"]: (s.value, s.labels["hop"]) for s in families["wgpf_forward_ok"].samples}


def expect_verdicts(inventory, wanted):
    """Run the check; every forward's verdict must match its regex in ``wanted`` (others: ok), and so must
    the metrics it wrote."""
    metrics = pathlib.Path(tempfile.mkdtemp(prefix="wgpf-metrics-")) / "wgpf.prom"
    rc, found, lines, changed = run_check(inventory, metrics)
    text = "\n".join(lines)
    assert changed == 0, "the check changed something:\n" + text
    assert found, "no verdict line:\n" + text
    for forward, verdict in found.items():
        pattern = wanted.get(forward, "ok")
        assert re.fullmatch(pattern, verdict), "%s: verdict %r, wanted %r\n%s" % (forward, verdict, pattern, text)
    assert (rc == 0) == all(v == "ok" for v in found.values()), "exit code %d for:\n%s" % (rc, text)
    gauges = forward_gauges(metrics)
    assert set(gauges) == set(found), "metrics for %s, verdicts for %s" % (sorted(gauges), sorted(found))
    for forward, verdict in found.items():
        value, hop = gauges[forward]
        assert value == (1 if verdict == "ok" else 0), "%s: gauge %s for verdict %r" % (forward, value, verdict)
        wanted_hop = "" if verdict == "ok" else verdict.split(":", 1)[0]
        assert hop == wanted_hop, "%s: hop %r for %r" % (forward, hop, verdict)
    return found


def wait_until(host, command, seconds=40):
    deadline = time.monotonic() + seconds
    while host.run(command).rc != 0:
        assert time.monotonic() < deadline, "timed out waiting for: " + command
        time.sleep(1)


def test_the_check_names_the_broken_hop(inventory, container, client, scenario):
    intermediate, private = container("intermediate1"), container("private1")
    assert set(expect_verdicts(inventory, {})) == set(scenario["forwards"])

    intermediate.check_output("ip link set wg0 down")
    try:
        expect_verdicts(inventory, {"lan": r"intermediate1: wg0 is down"})
    finally:
        intermediate.check_output("systemctl restart wg-quick@wg0")
        # A fresh interface shows 0 until its first handshake with public1.
        wait_until(intermediate, "wg show wg0 latest-handshakes | awk '$2 == 0 {exit 1}'")

    private.check_output("systemctl stop wgpf-echo")
    try:
        expect_verdicts(inventory, {"lan": r"private1: nothing listens on tcp 172\.31\.17\.3:8080"})
    finally:
        private.check_output("systemctl start wgpf-echo")

    rules = json.loads(private.check_output("ip -j rule show"))
    prefs = [rule["priority"] for rule in rules if "fwmark" in rule]
    assert prefs, "private1 has no fwmark rule to delete: %s" % rules
    for pref in prefs:
        private.check_output("ip rule del pref %d" % pref)
    try:
        expect_verdicts(inventory, {"lan": r"private1: a reply from 172\.31\.17\.3 tcp sport 8080 to \S+ "
                                           r"\(mark 0x1000000\) would leave by eth0 via 172\.31\.17\.254 "
                                           r"\(table main\), not by eth0 via 172\.31\.17\.2 \(table 51900\)"})
    finally:
        private.check_output("systemctl restart wgpf-routes.service")

    expect_verdicts(inventory, {})
    for case in cases(scenario):
        if case[1]["proto"] == "tcp":
            assert not problems(case[1], probe(client, case[1])), "%s does not answer after the check" % case[0]
