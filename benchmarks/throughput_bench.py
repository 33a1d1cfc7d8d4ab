# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Forwarding overhead: TCP throughput through each technique over the bare WireGuard tunnel.

For each Molecule scenario (one technique each): `molecule converge -s X` builds the lab
and applies site.yml, then for every forward the scenario checks, iperf3 (in the test
image) measures
  - forwarded: from the Internet client to the service's port on the public server,
    through DNAT, the tunnel and the technique's routing, to the private server;
  - bare tunnel: from the public server to the far end of its WireGuard tunnel (the
    intermediate, or the private server when it is a direct peer), over the tunnel
    addresses, between the same containers; for a WireGuard spoke of a hub, from the
    public server to the spoke's tunnel address, through both tunnels;
alternately, --reps times each, and the ratio of the medians is reported. `molecule
destroy -s X` follows, always. Each scenario holds /tmp/wgpf-lab.lock (flock(2), the
lock flock(1) takes) from converge to destroy: other Molecule runs wait, one scenario at
a time. Target: forwarded >= 0.95 of the bare tunnel for every technique.

Run from the repository root, as root, with the test environment (see `make bench-throughput`):

    PATH=.venv/bin:$PATH PYTHONPATH=.collections ANSIBLE_COLLECTIONS_PATH=.collections \\
        python3 benchmarks/throughput_bench.py [--scenarios masquerade,static_routes]

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
import signal
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = "/tmp/wgpf-lab.lock"
TARGET_RATIO = 0.95
TUNNEL_PORT = 5299  # the bare-tunnel iperf3 server; no forward of the scenarios uses it


class LabError(RuntimeError):
    pass


def run(cmd, timeout, check=True):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout, cwd=ROOT, check=False)
    if check and proc.returncode != 0:
        raise LabError("%s: exit %d:\n%s" % (" ".join(cmd), proc.returncode, proc.stdout[-3000:]))
    return proc


def dexec(container, *args, timeout=30, check=True):
    return run(["docker", "exec", container] + list(args), timeout, check)


# ------------------------------------------------------------------ what a scenario forwards


def first_port(value):
    return int(str(value).split("-", maxsplit=1)[0])


def scenario_forwards(scenario):
    """[{forward, public, to, far_end, client, connect, port, to_port}] for the scenario's checks."""
    inv = os.path.join(ROOT, "molecule", scenario, "inventory")
    with open(os.path.join(inv, "group_vars", "all.yml")) as handle:
        all_vars = yaml.safe_load(handle)
    host_vars = {}
    for path in glob.glob(os.path.join(inv, "host_vars", "*.yml")):
        with open(path) as handle:
            host_vars[os.path.basename(path)[:-4]] = yaml.safe_load(handle) or {}
    forwards = {f["name"]: f for f in all_vars["wgpf_forwards"]}
    expect = all_vars["test_expect"]
    out = []
    for check in expect["checks"]:
        fwd = forwards[check["forward"]]
        connect = check["connect"] if isinstance(check["connect"], list) else [check["connect"]]
        to = fwd["to"]
        to_vars = host_vars.get(to, {})
        out.append({
            "forward": fwd["name"], "technique": check.get("technique"), "public": fwd["public"], "to": to,
            # The tunnel from the public server ends at the intermediate, or at a direct peer itself.
            "far_end": to_vars.get("wgpf_intermediate") or to,
            "spoke_address": spoke_address(to_vars),
            "client": expect["client"], "port": first_port(fwd["port"]),
            "to_port": first_port(fwd.get("to_port", fwd["port"])),
            "connect": next(a for a in connect if ipaddress.ip_address(a).version == 4),
        })
    return out


def spoke_address(host_vars):
    """The tunnel address of a WireGuard spoke of a hub (two tunnels from the public server), else None."""
    if host_vars.get("wgpf_attachment") != "wireguard" or not host_vars.get("wgpf_intermediate"):
        return None
    addresses = host_vars.get("wgpf_address") or []
    addresses = addresses if isinstance(addresses, list) else [addresses]
    return next((str(ipaddress.ip_interface(a).ip) for a in addresses if ipaddress.ip_interface(a).version == 4),
                None)


def tunnel_addresses(container):
    """IPv4 interfaces (ip_interface) of the container's WireGuard interfaces (kernel or wireguard-go)."""
    out = []
    for dev in dexec(container, "wg", "show", "interfaces").stdout.split():
        lines = dexec(container, "ip", "-4", "-o", "addr", "show", "dev", dev).stdout.splitlines()
        out += [ipaddress.ip_interface(line.split()[3]) for line in lines if " inet " in line]
    return out


def far_end_address(public, far_end):
    """The far end's tunnel address on the public server's tunnel (same subnet)."""
    mine = tunnel_addresses(public)
    for addr in tunnel_addresses(far_end):
        if any(addr.ip in m.network for m in mine):
            return str(addr.ip)
    raise LabError("no WireGuard address of %s shares a subnet with %s's (%s)" % (far_end, public, mine))


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


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def measure_forward(fwd, reps, seconds, started):
    # A spoke behind a hub is two tunnels away: the baseline crosses both, to the spoke itself.
    end = fwd["to"] if fwd["spoke_address"] else fwd["far_end"]
    far = fwd["spoke_address"] or far_end_address(fwd["public"], fwd["far_end"])
    start_server(fwd["to"], fwd["to_port"], started)
    start_server(end, TUNNEL_PORT, started)
    bare, forwarded = [], []
    for rep in range(reps):  # alternated, so that a change in load hits both alike
        bare.append(iperf(fwd["public"], far, TUNNEL_PORT, seconds))
        forwarded.append(iperf(fwd["client"], fwd["connect"], fwd["port"], seconds))
        print("    run %d/%d: bare tunnel %s -> %s %.0f Mbit/s, forwarded %s -> %s:%d %.0f Mbit/s" % (
            rep + 1, reps, fwd["public"], far, bare[-1] / 1e6, fwd["client"], fwd["connect"], fwd["port"],
            forwarded[-1] / 1e6), flush=True)
    row = dict(fwd, far_address=far, bare_bps=bare, forwarded_bps=forwarded,
               bare_median=median(bare), forwarded_median=median(forwarded))
    row["ratio"] = row["forwarded_median"] / row["bare_median"]
    return row


# ------------------------------------------------------------------ one scenario under the lock


def molecule(verb, scenario, timeout):
    return run(["molecule", verb, "-s", scenario], timeout)


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


def run_scenario(scenario, reps, seconds, wait):
    """Rows for the scenario's forwards; the lab exists only while the lock is held."""
    forwards = scenario_forwards(scenario)
    with open(LOCK, "a") as lock:
        lock_free_lab(lock, scenario, wait)
        start = time.time()
        try:
            print("%s: molecule converge" % scenario, flush=True)
            molecule("converge", scenario, 400)
            print("%s: converged in %.0f s" % (scenario, time.time() - start), flush=True)
            started = set()
            return [measure_forward(f, reps, seconds, started) for f in forwards]
        finally:
            # Ignore further signals until the containers are gone.
            previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
            run(["molecule", "destroy", "-s", scenario], 300, check=False)
            print("%s: destroyed; lock held %.0f s" % (scenario, time.time() - start), flush=True)
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def all_scenarios():
    names = [os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml"))]
    return sorted(n for n in names if n != "demo")


def print_table(rows):
    header = ("scenario", "forward", "technique", "bare Mbit/s", "forwarded", "ratio")
    print("\n%-22s %-8s %-22s %13s %13s %7s" % header)
    for row in rows:
        print("%-22s %-8s %-22s %13.0f %13.0f %7.2f%s" % (
            row["scenario"], row["forward"], row["technique"], row["bare_median"] / 1e6,
            row["forwarded_median"] / 1e6, row["ratio"], "" if row["ratio"] >= TARGET_RATIO else "  < target"))


def machine():
    with open("/proc/cpuinfo") as handle:
        cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "unknown")
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "loadavg": list(os.getloadavg())}


def interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--scenarios", type=lambda s: s.split(","), default=None, help="default: every scenario")
    parser.add_argument("--reps", type=int, default=3, help="runs of each measurement (median reported)")
    parser.add_argument("--seconds", type=int, default=5, help="length of one iperf3 run")
    parser.add_argument("--wait", type=int, default=1800,
                        help="seconds to wait for another scenario's containers to go, per scenario")
    parser.add_argument("--json", default=".benchmarks/throughput_bench.json", help="where to save the results")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    info = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "reps": args.reps, "seconds": args.seconds, "target_ratio": TARGET_RATIO,
            "image": os.environ.get("WGPF_TEST_IMAGE", "wgpf-test:debian12")}
    print("throughput_bench: %(nproc)s CPUs (%(cpu)s), kernel %(kernel)s, load %(loadavg)s" % info["machine"])
    rows, failed = [], []
    for scenario in args.scenarios or all_scenarios():
        try:
            rows += [dict(r, scenario=scenario) for r in run_scenario(scenario, args.reps, args.seconds, args.wait)]
        except (LabError, subprocess.SubprocessError, KeyError, StopIteration) as exc:
            print("%s: FAILED: %s" % (scenario, exc), file=sys.stderr)
            failed.append(scenario)
        except KeyboardInterrupt:
            print("throughput_bench: interrupted; the scenario's lab was destroyed", file=sys.stderr)
            return 130
    print_table(rows)
    missed = ["%s/%s" % (r["scenario"], r["forward"]) for r in rows if r["ratio"] < TARGET_RATIO]
    print("target: forwarded >= %.2f of the bare tunnel: %s%s" % (
        TARGET_RATIO, "missed by " + ", ".join(missed) if missed else "met by every forward measured",
        "; labs failed: " + ", ".join(failed) if failed else ""))
    info.update({"load_at_end": list(os.getloadavg()), "rows": rows, "failed": failed, "missed": missed})
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(info, handle, indent=1, sort_keys=True)
    print("saved %s" % args.json)
    return 2 if failed else (1 if missed else 0)


if __name__ == "__main__":
    sys.exit(main())
