# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Forwarding cost on a Molecule lab: TCP throughput through the public server's table, against a
hand-written single DNAT rule on the same path.

For each scenario (default: masquerade), `molecule converge -s X` builds the lab and applies
site.yml. Then, for every forward the scenario checks, iperf3 (in the test image) measures TCP
throughput from the Internet client to the forward's port on the public server, through the
tunnel to the service: always the same path, the same containers and the same tables on the
intermediate and private servers; only the public server's table changes between the arms:
  hand      the collection's table replaced by one hand-written DNAT rule for the forward, and its
            masquerade rule when the technique masquerades there;
  coll      the collection's table as site.yml applied it (the scenario's forwards);
  coll-10k  the collection's table for the scenario's forwards and --fillers more (wire_inventory's
            users'-shaped mix, pointed at the scenario's private servers), planned by the roles'
            own filters on the hosts' live facts (throughput_tables.yml; nothing applied);
  aa        the hand table again: an A/A control, what "no difference" measures as (--no-aa: left out).
Each round runs every arm once, the order turned and reversed from round to round so that no arm
is always first; the ratios are paired within rounds and printed as median [min-max]. `molecule
destroy -s X` follows, always. Each scenario holds /tmp/wgpf-lab.lock (flock(2), the lock flock(1)
takes) from converge to destroy: other Molecule runs wait, one scenario at a time.

Target (issue 20): coll-10k >= 0.97 of hand, for every forward measured. From the repository
root, as root, with the test environment (see `make bench-throughput`):

    PATH=.venv/bin:$PATH PYTHONPATH=.collections ANSIBLE_COLLECTIONS_PATH=.collections \\
        python3 benchmarks/throughput_bench.py [--scenarios masquerade] [--rounds 9] [--seconds 10] [--shape FILE.py]

Prints a table, saves JSON (--json), exits 1 when the target is missed, 2 when a lab fails.
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import ipaddress
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

import bench_stats
import controller_bench
import wire_inventory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = "/tmp/wgpf-lab.lock"
TARGET_RATIO = 0.97
NFT_PATH = "/etc/wgpf/wgpf.nft"  # where site.yml leaves the collection's table (layout.py)
DROP_HAND = "table ip wgpf_hand\ndelete table ip wgpf_hand\n"
DROP_COLL = "table inet wgpf\ndelete table inet wgpf\n"
RATIOS = (("coll-10k", "hand"), ("coll", "hand"), ("coll-10k", "coll"), ("shape-10k", "hand"), ("shape", "hand"),
          ("shape-10k", "shape"), ("aa", "hand"))


class LabError(RuntimeError):
    pass


def run(cmd, timeout, check=True, **kwargs):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout, cwd=kwargs.pop("cwd", ROOT), check=False, **kwargs)
    if check and proc.returncode != 0:
        raise LabError("%s: exit %d:\n%s" % (" ".join(cmd), proc.returncode, proc.stdout[-3000:]))
    return proc


def dexec(container, *args, timeout=60, check=True):
    return run(["docker", "exec", container] + list(args), timeout, check)


# ------------------------------------------------------------------ what a scenario forwards


def first_port(value):
    return int(str(value).split("-", maxsplit=1)[0])


def scenario_inventory(scenario):
    """(wgpf_forwards, test_expect, {group: [hosts]}) of the scenario."""
    base = os.path.join(ROOT, "molecule", scenario)
    with open(os.path.join(base, "inventory", "group_vars", "all.yml")) as handle:
        all_vars = yaml.safe_load(handle)
    with open(os.path.join(base, "molecule.yml")) as handle:
        platforms = yaml.safe_load(handle)["platforms"]
    groups = {}
    for item in platforms:
        for group in item.get("groups") or []:
            groups.setdefault(group, []).append(item["name"])
    return all_vars["wgpf_forwards"], all_vars["test_expect"], groups


def scenario_forwards(scenario):
    """[{forward, technique, public, to, client, connect, port, to_port}] for the scenario's checks."""
    fwds, expect, _groups = scenario_inventory(scenario)
    by_name = {f["name"]: f for f in fwds}
    out = []
    for check in expect["checks"]:
        fwd = by_name[check["forward"]]
        connect = check["connect"] if isinstance(check["connect"], list) else [check["connect"]]
        out.append({"forward": fwd["name"], "technique": check.get("technique"), "public": fwd["public"],
                    "to": fwd["to"], "client": expect["client"], "port": first_port(fwd["port"]),
                    "to_port": first_port(fwd.get("to_port", fwd["port"])),
                    "connect": next(a for a in connect if ipaddress.ip_address(a).version == 4)})
    return out


def _ports(fwd):
    lo, _sep, hi = str(fwd["port"]).partition("-")
    return set(range(int(lo), int(hi or lo) + 1))


def fillers(scenario, public, count):
    """``count`` forwards of wire_inventory's mix on ``public``, to the scenario's private servers.

    Ports the scenario uses (and their neighbours, which the planner would merge with them) are
    left out, so the scenario's own forwards stay exactly as they are.
    """
    fwds, _expect, groups = scenario_inventory(scenario)
    taken = set()
    for fwd in fwds:
        taken |= {p + d for p in _ports(fwd) for d in (-1, 0, 1)}
    privates = sorted(groups["wireguard_private"])
    out = []
    for i, fwd in enumerate(wire_inventory.forwards(count + len(taken))[0]):
        if len(out) == count:
            break
        if _ports(fwd) & taken:
            continue
        out.append(dict(fwd, name="fill%d" % i, public=public, to=privates[i % len(privates)]))
    return fwds + out


# ------------------------------------------------------------------ the arms' tables


def planned(scenario, public, forwards, workdir, tag):
    """(nft text, plan) of the public server for ``forwards``, planned on the lab by the roles' filters."""
    path = controller_bench.inventory(scenario, os.path.join(workdir, tag))
    base = os.path.dirname(path)
    extra = os.path.join(base, "forwards.yml")
    with open(extra, "w") as handle:
        yaml.safe_dump({"wgpf_forwards": forwards}, handle)
    run(["ansible-playbook", "-i", path, os.path.join(ROOT, "benchmarks", "throughput_tables.yml"),
         "-e", "@" + extra, "-e", "bench_dir=" + base], 900, cwd=base,
        env=dict(controller_bench.env(), ANSIBLE_CONFIG=os.path.join(base, "ansible.cfg")))
    with open(os.path.join(base, public + ".nft")) as handle:
        text = handle.read()
    with open(os.path.join(base, public + ".plan.json")) as handle:
        return text, json.load(handle)


def hand_table(fwd, table):
    """One DNAT rule for the forward's first port (to where the collection's own map sends it)."""
    wan = re.search(r'iifname "([^"]+)"[^\n]* dnat ip to ', table).group(1)
    target = re.search(r"(?:tcp \. %d|%d \. tcp \. \S+) : (\S+) \. (\d+)" % (fwd["port"], fwd["port"]), table)
    addr, to_port = target.group(1), int(target.group(2))
    text = ("table ip wgpf_hand {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
            "\t\tiifname \"%s\" tcp dport %d dnat to %s:%d\n\t}\n" % (wan, fwd["port"], addr, to_port))
    if fwd["technique"] == "masquerade":
        oif = re.search(r'oifname "([^"]+)"[^\n]* @masq4_\d+ masquerade', table).group(1)
        text += ("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
                 "\t\toifname \"%s\" ip daddr %s tcp dport %d masquerade\n\t}\n" % (oif, addr, to_port))
    return text + "}\n"


def arm_texts(fwd, tables, args):
    """{arm: nft text} for the forward; ``tables`` holds the public server's planned tables and plans."""
    coll = dexec(fwd["public"], "cat", NFT_PATH).stdout
    if coll != tables["coll"][0]:
        raise LabError("%s's table is not what the planner renders for the scenario: the arms would not compare"
                       % fwd["public"])
    hand = DROP_COLL + DROP_HAND + hand_table(fwd, coll)
    texts = {"hand": hand, "coll": DROP_HAND + coll, "coll-10k": DROP_HAND + tables["coll-10k"][0]}
    if args.shape:
        shape = wire_inventory.load_shape(args.shape)
        texts["shape"] = DROP_HAND + shape(tables["coll"][1])
        texts["shape-10k"] = DROP_HAND + shape(tables["coll-10k"][1])
    if args.aa:
        texts["aa"] = hand
    return {arm: text for arm, text in texts.items() if not args.arms or arm in args.arms or arm == "hand"}


def load(container, text, check_only=False):
    """Load nft text on the container through stdin (docker cp cannot write into its tmpfs /tmp)."""
    run(["docker", "exec", "-i", container, "nft"] + (["-c"] if check_only else []) + ["-f", "-"], 120,
        input=text)


# ------------------------------------------------------------------ iperf3


def start_server(container, port, started):
    if (container, port) in started:
        return
    # The scenario's echo service holds the forward's port; the lab is destroyed afterwards.
    dexec(container, "systemctl", "stop", "wgpf-echo.service", check=False)
    dexec(container, "iperf3", "-s", "-D", "-p", str(port))
    started.add((container, port))


def iperf(container, address, port, seconds):
    """Received bits per second of one TCP iperf3 run (the first second omitted: slow start)."""
    for attempt in range(5):
        proc = dexec(container, "iperf3", "-J", "-c", address, "-p", str(port), "-t", str(seconds), "-O", "1",
                     timeout=seconds + 30, check=False)
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            result = {"error": proc.stdout[-500:]}
        if "error" not in result:
            return result["end"]["sum_received"]["bits_per_second"]
        time.sleep(1 + attempt)  # a server just started, or busy with the previous run
    raise LabError("iperf3 from %s to %s:%d: %s" % (container, address, port, result["error"]))


def paired(runs, arm, base):
    return bench_stats.spread([a / b for a, b in zip(runs[arm], runs[base])])


def measure_forward(fwd, texts, rounds, seconds, started):
    start_server(fwd["to"], fwd["to_port"], started)
    arms = list(texts)
    runs = {arm: [None] * rounds for arm in arms}
    loads = []
    for rnd in range(rounds):
        for arm in bench_stats.turn(arms, rnd):
            load(fwd["public"], texts[arm])
            loads.append(os.getloadavg()[0])
            runs[arm][rnd] = iperf(fwd["client"], fwd["connect"], fwd["port"], seconds)
            print("    round %d/%d %-8s %.0f Mbit/s (load %.2f)"
                  % (rnd + 1, rounds, arm, runs[arm][rnd] / 1e6, loads[-1]), flush=True)
    ratios = {"%s/%s" % (a, b): paired(runs, a, b) for a, b in RATIOS if a in runs and b in runs}
    return dict(fwd, runs=runs, medians={arm: bench_stats.median(v) for arm, v in runs.items()}, ratios=ratios,
                load=[min(loads), max(loads)])


# ------------------------------------------------------------------ one scenario under the lock


def other_labs(scenario):
    """Scenarios (other than this one) whose containers exist: they hold the shared container names."""
    out = run(["docker", "ps", "-a", "--filter", "label=owner=molecule", "--format", '{{.Label "wgpf_scenario"}}'],
              30).stdout.split()
    return sorted(set(out) - {scenario})


def lock_free_lab(lock, scenario, wait):
    """Take the lock once no other scenario's containers exist (another run may keep a lab between steps)."""
    deadline = time.time() + wait
    while True:
        print("%s: waiting for %s" % (scenario, LOCK), flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
        others = other_labs(scenario)
        if not others:
            return
        fcntl.flock(lock, fcntl.LOCK_UN)
        if time.time() > deadline:
            raise LabError("the containers of %s still exist after %d s" % (", ".join(others), wait))
        print("%s: %s's containers exist; retrying in 20 s" % (scenario, ", ".join(others)), flush=True)
        time.sleep(20)


def run_scenario(scenario, args):
    """Rows for the scenario's forwards; the lab exists only while the lock is held."""
    forwards = scenario_forwards(scenario)
    workdir = tempfile.mkdtemp(prefix="wgpf-throughput-")
    with open(LOCK, "a") as lock:
        lock_free_lab(lock, scenario, args.wait)
        start = time.time()
        try:
            print("%s: molecule converge" % scenario, flush=True)
            run(["molecule", "converge", "-s", scenario], 600)
            print("%s: converged in %.0f s; planning %d more forwards" % (scenario, time.time() - start, args.fillers),
                  flush=True)
            started, rows, tables = set(), [], {}
            for fwd in forwards:
                if fwd["public"] not in tables:
                    own = scenario_inventory(scenario)[0]
                    tables[fwd["public"]] = {
                        "coll": planned(scenario, fwd["public"], own, workdir, "coll-" + fwd["public"]),
                        "coll-10k": planned(scenario, fwd["public"], fillers(scenario, fwd["public"], args.fillers),
                                            workdir, "big-" + fwd["public"])}
                texts = arm_texts(fwd, tables[fwd["public"]], args)
                for text in texts.values():
                    load(fwd["public"], text, check_only=True)
                print("  %s: arms %s" % (fwd["forward"], ", ".join(texts)), flush=True)
                rows.append(measure_forward(fwd, texts, args.rounds, args.seconds, started))
            return rows
        finally:
            # Ignore further signals until the containers are gone.
            previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
            run(["molecule", "destroy", "-s", scenario], 300, check=False)
            shutil.rmtree(workdir, ignore_errors=True)
            print("%s: destroyed; lock held %.0f s" % (scenario, time.time() - start), flush=True)
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def fmt(ratio):
    return "%.3f [%.3f-%.3f]" % (ratio["median"], ratio["min"], ratio["max"])


def judge(row):
    """'met', 'missed' or 'unresolved': the last when the A/A control's 95% resolution spans the target."""
    if "coll-10k/hand" not in row["ratios"]:
        return "not measured"
    value = row["ratios"]["coll-10k/hand"]["median"]
    res = bench_stats.resolution(row["ratios"]["aa/hand"]["all"]) if "aa/hand" in row["ratios"] else None
    row["resolution"] = res
    if res is not None and abs(value - TARGET_RATIO) < res * TARGET_RATIO:
        return "unresolved"
    return "met" if value >= TARGET_RATIO else "missed"


def print_table(rows):
    for row in rows:
        print("\n%s/%s (%s), Mbit/s medians over %d rounds, load %.2f-%.2f: %s" % (
            row["scenario"], row["forward"], row["technique"], len(row["runs"]["hand"]), row["load"][0], row["load"][1],
            ", ".join("%s %.0f" % (arm, value / 1e6) for arm, value in row["medians"].items())))
        for name, ratio in row["ratios"].items():
            print("  %-20s %s" % (name, fmt(ratio)))
        if row.get("resolution") is not None:
            res = row["resolution"]
            needed = len(row["runs"]["hand"]) * (res / 0.03) ** 2
            print("  resolution (95%%, from aa/hand's spread): +-%.1f%%; +-3%% would take about %.0f rounds"
                  % (100 * res, needed))
        print("  coll-10k/hand against %.2f: %s" % (TARGET_RATIO, row["verdict"]))
    print("(ratios paired per round: median [min-max])")


def all_scenarios():
    names = [os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml"))]
    return sorted(n for n in names if n != "demo")


def machine():
    with open("/proc/cpuinfo") as handle:
        cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "unknown")
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "loadavg": list(os.getloadavg())}


def interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--scenarios", type=lambda s: s.split(","), default=["masquerade"],
                        help="comma-separated; 'all' for every scenario (default: masquerade)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds of every arm (paired ratios per round)")
    parser.add_argument("--seconds", type=int, default=10, help="length of one iperf3 run")
    parser.add_argument("--fillers", type=int, default=10000, help="forwards added for the coll-10k arm")
    parser.add_argument("--no-aa", dest="aa", action="store_false",
                        help="leave out the A/A control arm (the hand table again: the method's resolution)")
    parser.add_argument("--arms", type=lambda v: v.split(","),
                        help="only these arms besides hand (comma-separated; default every one)")
    parser.add_argument("--shape", help="a Python file whose public_table(plan) renders an alternative table: "
                                        "adds the arms shape and shape-10k")
    parser.add_argument("--wait", type=int, default=1800,
                        help="seconds to wait for another scenario's containers to go, per scenario")
    parser.add_argument("--json", default=".benchmarks/throughput_bench.json", help="where to save the results")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    info = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "rounds": args.rounds, "seconds": args.seconds, "fillers": args.fillers, "target_ratio": TARGET_RATIO,
            "shape": args.shape,
            "image": os.environ.get("WGPF_TEST_IMAGE", "wgpf-test:debian12")}
    print("throughput_bench: %(nproc)s CPUs (%(cpu)s), kernel %(kernel)s, load %(loadavg)s" % info["machine"])
    rows, failed = [], []
    scenarios = all_scenarios() if args.scenarios == ["all"] else args.scenarios
    for scenario in scenarios:
        try:
            rows += [dict(r, scenario=scenario) for r in run_scenario(scenario, args)]
        except (LabError, subprocess.SubprocessError, KeyError, StopIteration, AttributeError) as exc:
            print("%s: FAILED: %s" % (scenario, exc), file=sys.stderr)
            failed.append(scenario)
        except KeyboardInterrupt:
            print("throughput_bench: interrupted; the scenario's lab was destroyed", file=sys.stderr)
            return 130
    for row in rows:
        row["verdict"] = judge(row)
    if rows:
        print_table(rows)
    missed = ["%s/%s" % (r["scenario"], r["forward"]) for r in rows if r["verdict"] != "met"]
    verdict = ("not met (missed or unresolved) by " + ", ".join(missed) if missed else
               "met by every forward measured" if rows else "nothing measured")
    print("target: the %d-forward table >= %.2f of one hand-written DNAT rule: %s%s" % (
        args.fillers, TARGET_RATIO, verdict, "; labs failed: " + ", ".join(failed) if failed else ""))
    info.update({"load_at_end": list(os.getloadavg()), "rows": rows, "failed": failed, "missed": missed})
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(info, handle, indent=1, sort_keys=True)
    print("saved %s" % args.json)
    return 2 if failed else (1 if missed else 0)


if __name__ == "__main__":
    sys.exit(main())
