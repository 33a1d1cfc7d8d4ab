# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a site.yml run costs on the controller, on containers (run on demand, not in `make test`).

For each topology (a Molecule scenario's containers: create and prepare by
Molecule, then site.yml run here with the same Ansible settings the scenarios
use), it times:

  first      site.yml on fresh hosts
  no-change  site.yml again (must report changed=0), --repeat times (default 3): the
             median, with every sample in the JSON
  +forward   (demo only) site.yml with one more forward: which hosts changed,
             and whether they are exactly the hosts that forward concerns

and counts the tasks each run started; profile_tasks (ansible.posix) splits each
run into start-up (before the first task) and tasks, with the slowest tasks. Topologies: `lab` (molecule/masquerade:
public1, intermediate1, private1 and one forward, comparable with the figures
of githubixx/ansible-role-wireguard quoted in the issue) and `demo`
(inventory.example). Targets: the lab's first run under 16.1 s; every
no-change run under a third of its first run and under 8 s; +forward changes
only the forward's hosts. Prints a table, saves JSON (default
.benchmarks/controller.json) and exits 1 when a target is missed.

Needs root, Docker and the test image (make docker-image), and holds the lab
lock (/tmp/wgpf-lab.lock) for its whole run, as every user of the containers
must: started without it, it runs itself again under `flock`.

  flock /tmp/wgpf-lab.lock .venv/bin/python benchmarks/controller_bench.py [--only lab|demo] [--repeat N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_stats import rerun_under_lock  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GITHUBIXX = {"first": 16.1, "no-change": 13.9}  # githubixx/ansible-role-wireguard 18.3, 3-node mesh (issue 11)
TOPOLOGIES = {"lab": "masquerade", "demo": "demo"}
# The Ansible settings the Molecule scenarios use (.config/molecule/config.yml), which this measures.
ANSIBLE_CFG = """[defaults]
forks = 10
interpreter_python = /usr/bin/python3
gathering = explicit
host_key_checking = False
retry_files_enabled = False
[connection]
pipelining = True
"""
EXTRA_FORWARD = {"name": "bench", "public": "public1", "port": 2100, "protocols": ["tcp"], "to": "private1",
                 "to_port": 8080}
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
# profile_tasks (ansible.posix): the clock line after "TASKS RECAP" ends with the time since the playbook
# started; each recap line is "<role> : <task> ---- 1.08s".
PROFILE = "ansible.posix.profile_tasks"
CLOCK = re.compile(r"\((\d+):(\d+):([\d.]+)\)\s+(\d+):(\d+):([\d.]+)\s+\*+\s*$")
TASK_TIME = re.compile(r"^(.*?)\s+-{3,}\s+([\d.]+)s$")


def env():
    out = dict(os.environ, ANSIBLE_FORCE_COLOR="0", PY_COLORS="0", ANSIBLE_CALLBACKS_ENABLED=PROFILE)
    out["PATH"] = os.path.join(ROOT, ".venv", "bin") + os.pathsep + out.get("PATH", "")
    out["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(ROOT, ".collections")
    out.setdefault("WGPF_TEST_IMAGE", "wgpf-test:debian12")
    return out


def molecule(action, scenario):
    run = subprocess.run(["molecule", action, "-s", scenario], cwd=ROOT, env=env(), capture_output=True, text=True,
                         check=False)
    if run.returncode != 0:
        raise SystemExit("molecule %s -s %s failed:\n%s" % (action, scenario, (run.stdout + run.stderr)[-3000:]))


def inventory(scenario, workdir):
    """Molecule's inventory for the scenario's containers: its platforms and groups, its group_vars/host_vars."""
    with open(os.path.join(ROOT, "molecule", scenario, "molecule.yml")) as handle:
        platforms = yaml.safe_load(handle)["platforms"]
    groups = {}
    for item in platforms:
        for group in item.get("groups") or ["ungrouped"]:
            groups.setdefault(group, {"hosts": {}})["hosts"][item["name"]] = {}
    hosts = {p["name"]: {"ansible_connection": "community.docker.docker"} for p in platforms}
    path = os.path.join(workdir, "inventory")
    os.makedirs(path)
    with open(os.path.join(path, "hosts.yml"), "w") as handle:
        yaml.safe_dump({"all": {"hosts": hosts, "children": groups}}, handle)
    for sub in ("group_vars", "host_vars"):
        os.symlink(os.path.join(ROOT, "molecule", scenario, "inventory", sub), os.path.join(path, sub))
    with open(os.path.join(workdir, "ansible.cfg"), "w") as handle:
        handle.write(ANSIBLE_CFG)
    return path


def site(workdir, extra=None):
    """One site.yml run: wall time, tasks started, {host: changed count}."""
    argv = ["ansible-playbook", "-i", os.path.join(workdir, "inventory"), os.path.join(ROOT, "playbooks", "site.yml")]
    if extra:
        path = os.path.join(workdir, "extra.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(extra, handle)
        argv += ["-e", "@" + path]
    start = time.monotonic()
    run = subprocess.run(argv, cwd=workdir, env=dict(env(), ANSIBLE_CONFIG=os.path.join(workdir, "ansible.cfg")),
                         capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    if run.returncode != 0:
        raise SystemExit("site.yml failed (rc %d):\n%s" % (run.returncode, (run.stdout + run.stderr)[-4000:]))
    changed = {}
    for line in run.stdout.splitlines():
        match = RECAP.match(line)
        if match:
            changed[match.group(1)] = int(match.group(3))
    tasks = sum(1 for line in run.stdout.splitlines() if line.startswith("TASK ["))
    result = {"wall_s": round(wall, 2), "tasks": tasks, "changed": changed}
    result.update(breakdown(run.stdout, wall))
    return result


def breakdown(stdout, wall):
    """Where the seconds went, from profile_tasks: in the playbook (tasks), before it (start-up:
    Python, plugins, inventory, parsing), and the slowest tasks (summed over their hosts' wait)."""
    lines = stdout.splitlines()
    if "TASKS RECAP" not in stdout:
        return {}
    start = max(i for i, line in enumerate(lines) if line.startswith("TASKS RECAP"))
    clock = next((CLOCK.search(line) for line in lines[start:start + 3] if CLOCK.search(line)), None)
    if clock is None:
        return {}
    h, m, sec = clock.group(4, 5, 6)
    in_play = int(h) * 3600 + int(m) * 60 + float(sec)
    top = []
    for line in lines[start + 1:]:
        match = TASK_TIME.match(line.strip())
        if match:
            top.append((match.group(1).split(" : ", 1)[-1], float(match.group(2))))
    return {"playbook_s": round(in_play, 2), "startup_s": round(wall - in_play, 2), "slowest": top[:5]}


def concerned_hosts(scenario, forward):
    """The public server, the private server and the intermediate it is reached through."""
    path = os.path.join(ROOT, "molecule", scenario, "inventory", "host_vars", forward["to"] + ".yml")
    if not os.path.exists(path):
        path = os.path.join(ROOT, "inventory.example", "host_vars", forward["to"] + ".yml")
    with open(path) as handle:
        host_vars = yaml.safe_load(handle) or {}
    hosts = {forward["public"], forward["to"]}
    if host_vars.get("wgpf_intermediate"):
        hosts.add(host_vars["wgpf_intermediate"])
    return sorted(hosts)


def forwards_of(scenario):
    path = os.path.join(ROOT, "molecule", scenario, "inventory", "group_vars", "all")
    path = os.path.join(path, "example.yml") if os.path.isdir(path) else path + ".yml"
    with open(path) as handle:
        return yaml.safe_load(handle)["wgpf_forwards"]


def measure(name, scenario, repeat):
    result = {"topology": name, "scenario": scenario}
    workdir = tempfile.mkdtemp(prefix="wgpf-bench-")
    molecule("destroy", scenario)
    try:
        molecule("create", scenario)
        molecule("prepare", scenario)
        inventory(scenario, workdir)
        result["first"] = site(workdir)
        # The machine is shared: the median of a few no-change runs (each kept in the JSON).
        runs = [site(workdir) for dummy in range(repeat)]
        result["no-change"] = dict(sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2], samples=runs)
        if name == "demo":
            forwards = forwards_of(scenario) + [EXTRA_FORWARD]
            result["+forward"] = site(workdir, {"wgpf_forwards": forwards})
            result["+forward"]["concerned"] = concerned_hosts(scenario, EXTRA_FORWARD)
    finally:
        molecule("destroy", scenario)
    return result


def verdicts(result):
    """[(what, measured, target, ok)] for one topology."""
    out = []
    first, again = result["first"]["wall_s"], result["no-change"]["wall_s"]
    if result["topology"] == "lab":
        out.append(("first run < githubixx first", first, GITHUBIXX["first"], first < GITHUBIXX["first"]))
    out.append(("no-change run changed=0", sum(result["no-change"]["changed"].values()), 0,
                not any(result["no-change"]["changed"].values())))
    out.append(("no-change < 8 s", again, 8.0, again < 8.0))
    out.append(("no-change / first < 1/3", round(again / first, 2), round(1 / 3, 2), again < first / 3))
    if "+forward" in result:
        changed = sorted(h for h, n in result["+forward"]["changed"].items() if n)
        out.append(("+forward changes only its hosts", ",".join(changed), ",".join(result["+forward"]["concerned"]),
                    set(changed) <= set(result["+forward"]["concerned"]) and bool(changed)))
    return out


def table(results):
    lines = ["%-6s %-10s %8s %6s  %s" % ("topo", "run", "wall s", "tasks", "hosts changed")]
    for result in results:
        for run in ("first", "no-change", "+forward"):
            if run in result:
                changed = ", ".join("%s=%d" % kv for kv in sorted(result[run]["changed"].items()))
                lines.append("%-6s %-10s %8.2f %6d  %s" % (result["topology"], run, result[run]["wall_s"],
                                                           result[run]["tasks"], changed))
    lines.append("")
    lines.append("where the seconds go (profile_tasks; a task's time is its slowest host's):")
    for result in results:
        for name in ("first", "no-change"):
            run = result[name]
            if "playbook_s" in run:
                lines.append("%-6s %-10s start-up %.2f s, tasks %.2f s: %s" % (
                    result["topology"], name, run["startup_s"], run["playbook_s"],
                    "; ".join("%s %.2f" % item for item in run["slowest"])))
    lines.append("")
    lines.append("githubixx/ansible-role-wireguard 18.3, 3 nodes (issue 11): first %.1f s, no-change %.1f s"
                 % (GITHUBIXX["first"], GITHUBIXX["no-change"]))
    lines.append("")
    for result in results:
        samples = [r["wall_s"] for r in result["no-change"].get("samples", [])]
        if len(samples) > 1:
            lines.append("%-6s no-change samples: %s s (median above)"
                         % (result["topology"], ", ".join("%.2f" % w for w in samples)))
    lines.append("")
    for result in results:
        for what, got, want, ok in verdicts(result):
            lines.append("%-6s %-34s %-22s target %-22s %s" % (result["topology"], what, got, want,
                                                               "ok" if ok else "MISSED"))
    return "\n".join(lines)


def main():
    rerun_under_lock()
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--only", choices=sorted(TOPOLOGIES), help="one topology")
    parser.add_argument("--repeat", type=int, default=3, help="no-change runs; the median is reported")
    parser.add_argument("--json", default=os.path.join(ROOT, ".benchmarks", "controller.json"))
    args = parser.parse_args()
    names = [args.only] if args.only else ["lab", "demo"]
    # Shared machine: the load says how comparable these figures are with another run's.
    load = {"start": os.getloadavg()[0]}
    results = [measure(name, TOPOLOGIES[name], args.repeat) for name in names]
    load["end"] = os.getloadavg()[0]
    report = table(results) + "\n\nload average (1 min): %.2f at the start, %.2f at the end" % (load["start"], load["end"])
    print(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump({"machine": "%s, %d cores, %s" % (platform.node(), os.cpu_count(), platform.platform()),
                   "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "load": load, "results": results,
                   "verdicts": {r["topology"]: verdicts(r) for r in results}}, handle, indent=2)
    print("\nsaved %s" % args.json)
    return 0 if all(ok for r in results for dummy, dummy2, dummy3, ok in verdicts(r)) else 1


if __name__ == "__main__":
    sys.exit(main())
