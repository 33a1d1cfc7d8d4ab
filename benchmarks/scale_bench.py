# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a site.yml run costs as the inventory grows: hosts and forwards, on containers (run on demand).

For each Ansible settings arm (`default`: no ansible.cfg at all; `recommended`: what
benchmarks/README.md's "Ansible settings" recommends: pipelining, forks at least the
number of hosts, gathering explicit) and each lab (scale_lab.py, fresh containers):

  hosts N      a hub with N-2 or N-3 WireGuard spokes behind one public server (N < 4) or
               two, one forward per spoke (--sizes, default 3,10,30)
  forwards F   the 3-host lab with F forwards from public1 to private1 (--forwards,
               default 10,1000,10000)

it times `ansible-playbook site.yml` from outside: the first run, --repeat no-change runs
(each must report changed=0), and --repeat runs with one forward added (each followed by
a run that takes it away again, recorded as -forward). A callback (callback_plugins/)
records each task's time on each host: the host read and the apply of the public server.
At the largest F, check.yml is timed too (--repeat runs; a listener on every target port
of private1, so the verdicts can be ok). On the 3-host lab, githubixx/ansible-role-wireguard
(--githubixx DIR, a checkout outside this repository) runs a mesh of the same three hosts
on wg9 beside ours, its install step skipped, and its no-change runs alternate with ours.

Targets (issue 20.3): 3-host no-change (default settings) < 1/4 of githubixx's on the same
lab; 30 hosts' first run < 2.5 x the 3-host first run; with 10,000 forwards, the added
forward applied on public1 in < 2 s (its apply task on that host); check.yml at 10,000
forwards < 15 s. Prints a table, saves JSON (default .benchmarks/scale.json), records the
load average before and after (and each run's CPU: ansible-playbook's, Docker's, the containers', the
machine's busy share), exits 1 when a target it measured is missed.

Needs root, Docker and the test image (make docker-image); holds the lab lock
(/tmp/wgpf-lab.lock) for its whole run (started without it, it runs itself again under
flock) and removes its containers and networks at the end.

  make bench-scale [SIZES=3,10,30] [FORWARDS=10,1000,10000] [SETTINGS=default,recommended] [REPEAT=3]

check.yml alone, before and after a change, on one lab: --check-only (the first run, then --repeat check.yml
runs with the JSON inventory and one with the YAML one) and --check-base DIR (another checkout, with its
.collections: its check.yml alternates with this one's, pair by pair).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale_lab as lab  # noqa: E402  pylint: disable=wrong-import-position
from bench_stats import median, rerun_under_lock  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
APPLY = "Apply the plan of this host"
READ = "Read this host's facts, missing packages and keys"
ECHO = os.path.join(ROOT, "molecule", "resources", "playbooks", "files", "wgpf_echo.py")
CONTAINERS_CPU = "/sys/fs/cgroup/cpuacct/docker/cpuacct.usage"
TARGETS = {"githubixx_ratio": 0.25, "hosts_ratio": 2.5, "added_apply_s": 2.0, "check_s": 15.0}


def settings_cfg(name, hosts):
    """ansible.cfg of an arm: nothing for `default`; benchmarks/README.md's recommendations otherwise."""
    if name == "default":
        return "[defaults]\n"
    return "[defaults]\nforks = %d\ngathering = explicit\n[connection]\npipelining = True\n" % max(5, hosts)


class Runner:
    """ansible-playbook in a scratch folder, with one arm's settings and the timing callback."""

    def __init__(self, workdir, settings, hosts):
        self.workdir = workdir
        self.cfg = os.path.join(workdir, "ansible-%s.cfg" % settings)
        with open(self.cfg, "w") as handle:
            handle.write(settings_cfg(settings, hosts))

    def env(self, times, root=ROOT):
        out = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=self.cfg,
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, "benchmarks", "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="wgpf_host_times", WGPF_HOST_TIMES=times,
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(root, ".collections"))
        out["PATH"] = os.path.join(ROOT, ".venv", "bin") + os.pathsep + out.get("PATH", "")
        return out

    def run(self, playbook, inventory, *args, allowed=(0,), timeout=None, root=ROOT):
        """One timed run; ``root``: the checkout whose collection it uses (--check-base's, for its arm)."""
        times = os.path.join(self.workdir, "times.json")
        if os.path.exists(times):
            os.unlink(times)
        argv = ["ansible-playbook", "-i", inventory, playbook] + list(args)
        cpu_before, stat_before, docker_before = children_cpu(), machine_cpu(), docker_cpu()
        start = time.monotonic()
        # Its own session: a run past `timeout` is killed with its forks (workers), not only the parent.
        proc = subprocess.Popen(argv, cwd=self.workdir, env=self.env(times, root), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"wall_s": round(time.monotonic() - start, 2), "rc": None, "timed_out": True, "changed": {}}
        done = subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
        wall = time.monotonic() - start
        if done.returncode not in allowed:
            raise SystemExit("%s failed (rc %d):\n%s" % (
                " ".join(argv), done.returncode, (done.stdout + done.stderr)[-4000:]))
        changed = {}
        for line in done.stdout.splitlines():
            match = RECAP.match(line)
            if match:
                changed[match.group(1)] = int(match.group(3))
        busy, idle = [round(b - a, 1) for a, b in zip(stat_before, machine_cpu())]
        # Whether a run waits for hosts or for CPU: ansible-playbook's own (with its workers and the docker
        # CLI they start) against the whole machine's (dockerd, runc, the containers, other sessions).
        result = {"wall_s": round(wall, 2), "rc": done.returncode, "changed": changed,
                  "cpu_s": round(children_cpu() - cpu_before, 1), "machine_busy_s": busy, "machine_idle_s": idle}
        pairs = zip(("daemons_cpu_s", "containers_cpu_s"), docker_before, docker_cpu())
        result.update({key: round(b - a, 1) for key, a, b in pairs})
        if os.path.exists(times):
            with open(times) as handle:
                rows = json.load(handle)
            # Before the first task: interpreter, imports, inventory, parsing (the callback loads after some).
            result["startup_s"] = round(wall - (rows["end_s"] - (rows["startup_s"] or 0)), 2)
            result["tasks"] = len({r["task"] for r in rows["tasks"]})
            result["host_s"] = task_times(rows["tasks"])
            # Every task's slowest host, in the playbook's order (where a check.yml run's time goes).
            slowest = {}
            for row in rows["tasks"]:
                if row["wall_s"] is not None:
                    slowest[row["task"]] = max(slowest.get(row["task"], 0), row["wall_s"])
            result["task_s"] = slowest
            result["spans"] = task_spans(rows["tasks"])
            # Which task changed which host: what a no-change run that changed something has to explain.
            result["changed_tasks"] = sorted("%s: %s" % (r["host"], r["task"].split(" : ")[-1])
                                             for r in rows["tasks"] if r["status"] == "changed")
        return result


def task_spans(rows):
    """[[task, span s, hosts, slowest host s]] in the order the tasks started: where a run's wall time goes
    (a task's span runs from its first host's start to its last host's end; forks cut it into batches)."""
    spans = {}
    for row in rows:
        if row["wall_s"] is None:
            continue
        end = row["start_s"] + row["wall_s"]
        first, last, hosts, slowest = spans.get(row["task"], (row["start_s"], end, 0, 0.0))
        spans[row["task"]] = (min(first, row["start_s"]), max(last, end), hosts + 1, max(slowest, row["wall_s"]))
    return [[task, round(last - first, 2), hosts, round(slowest, 2)]
            for task, (first, last, hosts, slowest) in sorted(spans.items(), key=lambda kv: kv[1][0])]


def children_cpu():
    """CPU seconds (user + system) of this process's waited-for descendants: ansible-playbook's tree."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu():
    """(busy, idle) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / tick, idle / tick


def docker_cpu():
    """(daemons, containers) CPU seconds so far: dockerd's, containerd's and the shims' own, and every
    container's processes (their cgroup, which the modules a `docker exec` runs join; during a lab, the
    lab's containers only: the lock keeps the other labs out). Not the `runc` each exec starts: its
    shim reaps it with the exec'd process, whose time the cgroup already has."""
    daemons = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % pid) as handle:
                comm, rest = handle.read().rsplit(")", 1)
        except OSError:
            continue
        if comm.split("(", 1)[1] in ("dockerd", "containerd", "containerd-shim"):
            daemons += sum(int(x) for x in rest.split()[11:13]) / tick  # utime stime
    containers = 0.0
    if os.path.exists(CONTAINERS_CPU):  # cgroup v1 (this machine); elsewhere the figure stays 0
        with open(CONTAINERS_CPU) as handle:
            containers = int(handle.read()) / 1e9
    return daemons, containers


def task_times(rows):
    """{'read': {host: s}, 'apply': {host: s}}: the two module calls a no-change host costs."""
    out = {"read": {}, "apply": {}}
    for row in rows:
        for key, name in (("read", READ), ("apply", APPLY)):
            if row["task"].endswith(name) and row["wall_s"] is not None:
                out[key][row["host"]] = row["wall_s"]
    return out


def site(runner, inventory, *args):
    return runner.run(os.path.join(ROOT, "playbooks", "site.yml"), inventory, *args)


def summary(runs, key="wall_s"):
    values = [r[key] for r in runs]
    return {"median": median(values), "min": min(values), "max": max(values), "n": len(values), "all": values}


def measure_lab(workdir, settings, size, forwards, repeat, check=None, githubixx=None, checkpoint=None,
                check_only=False, check_base=None):
    """One fresh lab: first, no-change and +/-forward runs (and check.yml, githubixx's arm); ``check_only``: the
    first run then check.yml's alone; ``check_base``: another checkout whose check.yml alternates with ours."""
    out = {"settings": settings, "hosts": size, "forwards": len(forwards)}
    runner = Runner(workdir, settings, size)
    inv = os.path.join(workdir, "inventory-%s-%d-%d.yml" % (settings, size, len(forwards)))
    inv_plus = inv.replace(".yml", "-plus.yml")
    added = lab.extra_forward(forwards)
    lab.write_yaml(inv, lab.inventory(size, forwards))
    lab.write_yaml(inv_plus, lab.inventory(size, forwards + [added]))
    # The same inventory as JSON (README.md, "Large inventories"): ansible-core reads it in a quarter of the time.
    inv_json = inv.replace(".yml", ".json")
    with open(inv_json, "w") as handle:
        json.dump(lab.inventory(size, forwards), handle)
    # And as README.md recommends for thousands of forwards: the forwards in group_vars/all.json.
    inv_vars = lab.write_group_vars(inv.replace(".yml", "-vars"), lab.inventory(size, forwards))
    try:
        lab.create(size)
        if check:
            lab.start_echo("private1", forwards + [added], ECHO)
        out["first"] = site(runner, inv)
        gx_runs, ours = [], []
        if githubixx:
            gx_inv = os.path.join(workdir, "githubixx-inventory.yml")
            gx_play = os.path.join(workdir, "githubixx-site.yml")
            lab.write_yaml(gx_inv, lab.githubixx_inventory(size))
            lab.write_yaml(gx_play, [{"name": "githubixx/ansible-role-wireguard, a mesh of every host",
                                      "hosts": "githubixx", "roles": [{"role": os.path.abspath(githubixx)}]}])
            gx_args = (gx_play, gx_inv, "--skip-tags", "wg-install")
            out["githubixx_first"] = runner.run(*gx_args)
        for dummy in range(0 if check_only else repeat):
            # With githubixx: its no-change run right after each of ours, on the same hosts and load.
            ours.append(site(runner, inv))
            if githubixx:
                gx_runs.append(runner.run(*gx_args))
        out["no-change"] = ours
        if githubixx:
            out["githubixx_no-change"] = gx_runs
            out["githubixx_ratio"] = summary([{"r": a["wall_s"] / b["wall_s"]} for a, b in zip(ours, gx_runs)], "r")
        plus, minus = [], []
        for dummy in range(0 if check_only else repeat):
            plus.append(site(runner, inv_plus))
            minus.append(site(runner, inv))
        out["+forward"], out["-forward"] = plus, minus
        if check:
            measure_check(runner, out, {"yml": inv, "json": inv_json, "vars": inv_vars}, repeat if check_only else 1,
                          check, check_base, checkpoint)
    finally:
        lab.destroy()
    return out


# check.yml's arms by inventory layout: the forwards in group_vars/all.json (README.md's advice for thousands),
# in the inventory file as JSON, in the inventory file as YAML.
CHECK_ARMS = {"vars": "check group_vars", "json": "check json", "yml": "check"}


def measure_check(runner, out, inventories, repeat, timeout, base=None, checkpoint=None):
    """check.yml, each run bounded by ``timeout`` seconds (at 10,000 forwards it once ran for minutes): the
    group_vars layout ``repeat`` times, then the JSON and the YAML inventory once each; with ``base`` (another
    checkout), the arms alternate which goes first pair by pair (neither always runs on the warmer machine)."""
    arms = [("", ROOT)] + ([(" base", os.path.abspath(base))] if base else [])
    order = [(kind, arm) for i, kind in enumerate(["vars"] * repeat + ["json", "yml"])
             for arm in (arms if i % 2 else arms[::-1])]
    for kind, (suffix, root) in order:
        if checkpoint:
            checkpoint(out)
        name = CHECK_ARMS[kind] + suffix
        out.setdefault(name, []).append(runner.run(os.path.join(root, "playbooks", "check.yml"), inventories[kind],
                                                   allowed=(0, 2), timeout=timeout, root=root))


def verdicts(results):
    """[(what, measured, target, ok)] for the targets the runs measured."""
    out = []
    for res in results:
        # -forward takes the added forward away again: a change, as +forward is.
        bad = [r for r in res.get("no-change", []) if any(r["changed"].values())]
        if bad:
            out.append(("%s no-change run changed=0" % label(res), bad[0].get("changed_tasks") or bad[0]["changed"],
                        "changed=0", False))
        if "githubixx_ratio" in res and res["settings"] == "default":
            got = res["githubixx_ratio"]["median"]
            out.append(("%s no-change / githubixx no-change" % label(res), round(got, 3), TARGETS["githubixx_ratio"],
                        got < TARGETS["githubixx_ratio"]))
        if res["kind"] == "forwards" and res["forwards"] >= 10000:
            applied = [r["host_s"]["apply"].get("public1") for r in res["+forward"] if "host_s" in r]
            if applied and None not in applied:
                got = median(applied)
                out.append(("%s +forward: public1's apply" % label(res), got, TARGETS["added_apply_s"],
                            got < TARGETS["added_apply_s"]))
            for kind, what in (("check group_vars", "check.yml wall, group_vars/all.json"),
                               ("check json", "check.yml wall, JSON inventory"), ("check", "check.yml wall, YAML")):
                if not res.get(kind):
                    continue
                got = median([r["wall_s"] for r in res[kind]])
                if any(r.get("timed_out") for r in res[kind]):
                    got = "> %s (killed)" % got
                out.append(("%s %s" % (label(res), what), got, TARGETS["check_s"],
                            not isinstance(got, str) and got < TARGETS["check_s"]))
    firsts = {(r["settings"], r["hosts"]): r for r in results if r["kind"] == "hosts"}
    for (settings, hosts), res in sorted(firsts.items()):
        small = firsts.get((settings, 3))
        if hosts >= 30 and small:
            got = res["first"]["wall_s"] / small["first"]["wall_s"]
            out.append(("%s first / 3 hosts' first" % label(res), round(got, 2), TARGETS["hosts_ratio"],
                        got < TARGETS["hosts_ratio"]))
    return out


def label(res):
    return "%s %d hosts %d fwd" % (res["settings"], res["hosts"], res["forwards"])


def fmt(runs):
    s = summary(runs)
    return "%6.2f %6.2f-%-6.2f n=%d" % (s["median"], s["min"], s["max"], s["n"])


def table(results):
    lines = ["%-12s %5s %6s %-13s %-24s %8s %9s %9s %7s %8s  %s" % (
        "settings", "hosts", "fwd", "run", "wall s med min-max", "startup", "read max", "apply max", "cpu s",
        "busy", "apply public1 (med)")]
    for res in results:
        checks = [name + suffix for name in CHECK_ARMS.values() for suffix in ("", " base")]
        for kind in ["first", "no-change", "+forward", "-forward"] + checks + ["githubixx_first", "githubixx_no-change"]:
            runs = res.get(kind)
            if not runs:
                continue
            runs = runs if isinstance(runs, list) else [runs]
            timed = [r for r in runs if "host_s" in r]

            def worst(key):
                vals = [max(r["host_s"][key].values()) for r in timed if r["host_s"][key]]
                return "%9.2f" % median(vals) if vals else "%9s" % "-"
            pub = [r["host_s"]["apply"]["public1"] for r in timed if "public1" in r["host_s"]["apply"]]
            startup = median([r["startup_s"] for r in timed]) if timed else None
            # ansible-playbook's CPU, and the machine's busy share of all its cores during the run.
            cpu = [r["cpu_s"] for r in runs if "cpu_s" in r]
            busy = [r["machine_busy_s"] / (r["machine_busy_s"] + r["machine_idle_s"]) for r in runs
                    if r.get("machine_busy_s")]
            lines.append("%-12s %5d %6d %-13s %-24s %8s %s %s %7s %8s  %s" % (
                res["settings"], res["hosts"], res["forwards"], kind.replace("githubixx_", "gx "), fmt(runs),
                "%.2f" % startup if startup is not None else "-", worst("read"), worst("apply"),
                "%.1f" % median(cpu) if cpu else "-", "%.0f%%" % (100 * median(busy)) if busy else "-",
                "%.2f" % median(pub) if pub else "-"))
        if "githubixx_ratio" in res:
            g = res["githubixx_ratio"]
            lines.append("%-12s %5d %6d ours/githubixx no-change, pair by pair: median %.3f (min %.3f, max %.3f)"
                         % (res["settings"], res["hosts"], res["forwards"], g["median"], g["min"], g["max"]))
        for kind in checks:
            for run in res.get(kind) or []:
                lines.append("%-12s %5d %6d %s: exit status %s; slowest host per task: %s" % (
                    res["settings"], res["hosts"], res["forwards"], kind, run["rc"],
                    ", ".join("%s %.2f" % (task.split(" : ")[-1][:40], secs)
                              for task, secs in (run.get("task_s") or {}).items())))
    return "\n".join(lines)


def save(args, load, results, checks=None, partial=False):
    """The JSON file, after each lab too (partial: a run cut short keeps what it measured)."""
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump({"machine": "%s, %d cores, %s" % (platform.node(), os.cpu_count(), platform.platform()),
                   "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "load": load, "args": vars(args),
                   "partial": partial, "results": results, "verdicts": checks}, handle, indent=1)


def ints(text):
    return [int(x) for x in text.split(",") if x.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=ints, default=[3, 10, 30], help="lab sizes in hosts (empty: none)")
    parser.add_argument("--forwards", type=ints, default=[10, 1000, 10000], help="forward counts on public1")
    parser.add_argument("--settings", default="default,recommended", help="arms: default, recommended")
    parser.add_argument("--repeat", type=int, default=3, help="no-change, +forward and check.yml runs per lab")
    parser.add_argument("--githubixx", help="a checkout of githubixx/ansible-role-wireguard (outside this repo)")
    parser.add_argument("--no-check", action="store_true", help="leave check.yml out")
    parser.add_argument("--check-timeout", type=int, default=120, help="a check.yml run is killed after this")
    parser.add_argument("--check-only", action="store_true",
                        help="after the first run, only check.yml (--repeat runs with the JSON inventory, one YAML)")
    parser.add_argument("--check-base", help="another checkout (with its .collections) whose check.yml alternates "
                        "with this one's, for a before/after on one lab")
    parser.add_argument("--json", default=os.path.join(ROOT, ".benchmarks", "scale.json"))
    args = parser.parse_args()
    rerun_under_lock()
    load = {"start": os.getloadavg(), "uptime_start": subprocess.run(["uptime"], capture_output=True,
                                                                     text=True, check=False).stdout.strip()}
    results = []
    workdir = tempfile.mkdtemp(prefix="wgpf-scale-")
    # Root's inotify instances: each container's systemd takes some (scale_lab.py); 30 need more than 128.
    with lab.inotify_room(max(args.sizes + [3])):
        try:
            for settings in args.settings.split(","):
                for count in args.forwards:
                    check = None if args.no_check or count != max(args.forwards) else args.check_timeout
                    res = measure_lab(workdir, settings, 3, lab.many_forwards(count), args.repeat, check=check,
                                      check_only=args.check_only, check_base=args.check_base,
                                      checkpoint=lambda out: save(args, load, results + [dict(out, kind="forwards")],
                                                                  partial=True))
                    results.append(dict(res, kind="forwards"))
                    save(args, load, results, partial=True)
                    print("done: %s" % label(res), flush=True)
                for size in args.sizes:
                    res = measure_lab(workdir, settings, size, lab.spoke_forwards(size), args.repeat,
                                      githubixx=args.githubixx if size == 3 else None)
                    results.append(dict(res, kind="hosts"))
                    save(args, load, results, partial=True)
                    print("done: %s" % label(res), flush=True)
        finally:
            lab.destroy()
            load["end"] = os.getloadavg()
            load["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True,
                                                check=False).stdout.strip()
    checks = verdicts(results)
    report = [table(results), ""]
    report += ["%-52s %-14s target %-8s %s" % (what, got, want, "ok" if ok else "MISSED") for what, got, want, ok in checks]
    report += ["", "load before: %s" % load["uptime_start"], "load after:  %s" % load["uptime_end"]]
    print("\n".join(report))
    save(args, load, results, checks)
    print("\nsaved %s" % args.json)
    return 0 if all(ok for dummy, dummy2, dummy3, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
