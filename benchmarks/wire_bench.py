# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule cost on the wire: new TCP connections through a public server with 1, 1,000 and 10,000 forwards.

Three network namespaces (client, public server, service) joined by veth pairs; the
public server's namespace holds, in turn, the nftables table the collection generates
for N forwards (planner + render.render_files on a generated inventory) and, for
comparison, one DNAT rule per forward (the first seed's style). The client connects to
the LAST forward's port, one connection at a time (a C load generator, compiled here with
gcc), and the new-connection rate and p50/p99 connect latency are recorded: the medians of
3 runs, interleaved so that a change in the machine's load hits every configuration alike.

Target: with the most forwards, the collection's table within 5% of its 1-forward figures
(rate and p50 latency). Needs root (ip netns, nft) and gcc. Run from the repository root:

    PYTHONPATH=.collections python3 benchmarks/wire_bench.py

Prints a table, saves JSON (--json), exits 1 when the target is missed, 2 when the lab
cannot be built or a run fails. Every namespace is deleted at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD_SOURCE = os.path.join(HERE, "wire_load.c")
TARGET_RATIO = 0.95  # rate at the most forwards / rate at 1 forward, and the same for p50 (inverted)

# The lab's addresses: RFC 1918 ranges, inside namespaces this script creates.
CLIENT_ADDR, PUBLIC_WAN_ADDR = "192.168.250.2", "192.168.250.1"
PUBLIC_TUNNEL, PRIVATE_TUNNEL = "10.77.0.1", "10.77.0.2"
# Interface names as on a real public server, so the table's iifname/oifname matches apply.
WAN_IF, TUNNEL_IF = "eth0", "wg0"
FIRST_PORT, FIRST_TO_PORT = 10000, 20000
SOURCE_POOL = ["198.18.%d.0/24" % i for i in range(200)]  # never the client's address


def run(cmd, **kwargs):
    """Run a command, failing with its stderr."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False,
                          **kwargs)
    if proc.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), proc.returncode, proc.stderr.strip()[-2000:]))
    return proc.stdout


# ------------------------------------------------------------------ the two tables


def last_forward(n):
    """(public port, service port) of the forward the client connects to."""
    return FIRST_PORT + n - 1, FIRST_TO_PORT + n - 1


def build_inventory(n):
    """One public server, one direct WireGuard peer, n TCP forwards of every kind.

    Counted from the last forward backwards, every fourth forward is the plain default
    (the one measured is always such a forward), the others masquerade, carry a source
    list (static routes) or are not limited to the public server (connection marks), so
    the public server's table holds all its parts.
    """
    forwards = []
    for i in range(n):
        port, to_port = FIRST_PORT + i, FIRST_TO_PORT + i
        fwd = {"name": "f%d" % i, "public": "public1", "port": port, "protocols": ["tcp"],
               "to": "private1", "to_port": to_port}
        kind = (n - 1 - i) % 4
        if kind == 1:
            fwd["preserve_source"] = False
        elif kind == 2:
            fwd["sources"] = [SOURCE_POOL[i % len(SOURCE_POOL)]]
        elif kind == 3:
            fwd["only_via_public"] = False
        forwards.append(fwd)
    hosts = {
        "public1": {"wgpf_address": PUBLIC_TUNNEL + "/24", "wgpf_endpoint": "192.168.251.1:51820",
                    "wgpf_wan_interface": WAN_IF, "wgpf_forwards": forwards},
        "private1": {"wgpf_address": PRIVATE_TUNNEL + "/24", "wgpf_forwards": forwards},
    }
    groups = {"wireguard_public": ["public1"], "wireguard_intermediate": [], "wireguard_private": ["private1"],
              "all": ["private1", "public1"]}
    return {"hosts": hosts, "groups": groups}


def collection_table(n):
    """The nftables file the collection writes on the public server, for n forwards."""
    plans = plan_inventory(build_inventory(n))
    tables = [f["content"] for f in render_files(plans["public1"], {}) if f["kind"] == "nftables"]
    if len(tables) != 1:
        raise RuntimeError("the public server's plan renders %d nftables files, not 1" % len(tables))
    return tables[0]


def linear_table(n):
    """One DNAT rule per forward, as the first seed writes them (iptables -t nat -A PREROUTING ... -j DNAT)."""
    rule = "\t\tiifname \"%s\" tcp dport %d dnat ip to %s:%d\n"
    rules = [rule % (WAN_IF, FIRST_PORT + i, PRIVATE_TUNNEL, FIRST_TO_PORT + i) for i in range(n)]
    return ("table ip wgpf_seed {\n\tchain prerouting {\n"
            "\t\ttype nat hook prerouting priority dstnat; policy accept;\n%s\t}\n}\n" % "".join(rules))


STYLES = {"collection": "collection_table", "linear": "linear_table"}


def table_text(style, n):
    # Looked up by name so that a throwaway run can replace collection_table (see README).
    return globals()[STYLES[style]](n)


# ------------------------------------------------------------------ the lab


class Lab:
    """Client, public and service namespaces; torn down by close(), whatever state setup reached."""

    def __init__(self, workdir, seconds, max_connections):
        tag = "wgpfb%d" % os.getpid()
        self.ns = {"client": tag + "-client", "public": tag + "-public", "service": tag + "-service"}
        self.workdir, self.seconds, self.max_connections = workdir, seconds, max_connections
        self.binary = os.path.join(workdir, "wire_load")
        self.servers = []
        self.created = []
        self.conntrack_tuned = False

    def ip(self, where, *args):
        run(["ip", "-n", self.ns[where]] + list(args))

    def exec_cmd(self, where, *args):
        return ["ip", "netns", "exec", self.ns[where]] + list(args)

    def setup(self):
        run(["gcc", "-O2", "-Wall", "-o", self.binary, LOAD_SOURCE])
        for name in self.ns.values():
            run(["ip", "netns", "add", name])
            self.created.append(name)
        self.ip("public", "link", "add", WAN_IF, "type", "veth", "peer", "name", "eth0", "netns", self.ns["client"])
        self.ip("public", "link", "add", TUNNEL_IF, "type", "veth", "peer", "name", "eth0", "netns",
                self.ns["service"])
        for where, dev, addr in (("client", "eth0", CLIENT_ADDR), ("public", WAN_IF, PUBLIC_WAN_ADDR),
                                 ("public", TUNNEL_IF, PUBLIC_TUNNEL), ("service", "eth0", PRIVATE_TUNNEL)):
            self.ip(where, "addr", "add", addr + "/24", "dev", dev)
            self.ip(where, "link", "set", dev, "up")
        for where in self.ns:
            self.ip(where, "link", "set", "lo", "up")
        self.ip("service", "route", "add", "default", "via", PUBLIC_TUNNEL)
        run(self.exec_cmd("public", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"))
        # All 64k ports: connections are closed with a RST, so a port is free again at once.
        run(self.exec_cmd("client", "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535"))

    def start_service(self, port):
        proc = subprocess.Popen(self.exec_cmd("service", self.binary, "server", str(port)),
                                stdout=subprocess.PIPE, universal_newlines=True)
        self.servers.append(proc)
        if not proc.stdout.readline().startswith("listening"):
            raise RuntimeError("the service on port %d did not start" % port)

    def load(self, text):
        path = os.path.join(self.workdir, "table.nft")
        with open(path, "w") as handle:
            handle.write(text)
        run(self.exec_cmd("public", "nft", "flush", "ruleset"))
        run(self.exec_cmd("public", "nft", "-f", path))
        if not self.conntrack_tuned:
            # A reset connection stays in the conntrack table 10 s by default; at tens of
            # thousands per second that fills it. Only this namespace's setting changes.
            run(self.exec_cmd("public", "sysctl", "-q", "-w", "net.netfilter.nf_conntrack_tcp_timeout_close=1"))
            self.conntrack_tuned = True

    def connect(self, port, seconds, max_connections):
        out = subprocess.run(self.exec_cmd("client", self.binary, "client", PUBLIC_WAN_ADDR, str(port),
                                           str(max_connections), str(seconds)),
                             stdout=subprocess.PIPE, universal_newlines=True, timeout=seconds + 30, check=False)
        result = json.loads(out.stdout)
        # A rare reset (a reused port meeting its predecessor's state) is tolerated, not a failing run.
        if result["errors"] > max(5, result["connections"] // 1000) or not result["connections"]:
            raise RuntimeError("connections to port %d failed: %s" % (port, out.stdout.strip()))
        return result

    def measure(self, port):
        self.connect(port, 0.3, 5000)  # warm-up: caches, conntrack, the service's accept loop
        return self.connect(port, self.seconds, self.max_connections)

    def close(self):
        for proc in self.servers:
            proc.kill()
            proc.wait()
        for name in reversed(self.created):
            subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL, check=False)
        self.created = []


# ------------------------------------------------------------------ measuring and reporting


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def measure_all(lab, sizes, reps, styles):
    """{style: {n: [run, ...]}}; repetitions are the outer loop so load changes hit all alike."""
    texts = {(s, n): table_text(s, n) for s in styles for n in sizes}
    runs = {s: {n: [] for n in sizes} for s in styles}
    for n in sizes:
        lab.start_service(last_forward(n)[1])
    for rep in range(reps):
        for n in sizes:
            for style in styles:
                lab.load(texts[(style, n)])
                result = lab.measure(last_forward(n)[0])
                runs[style][n].append(result)
                print("  run %d/%d %-10s %6d forwards: %8.0f conn/s, p50 %6.1f us, p99 %7.1f us" % (
                    rep + 1, reps, style, n, result["rate"], result["p50_us"], result["p99_us"]), flush=True)
    return runs, {s: {n: texts[(s, n)].count("\n") for n in sizes} for s in styles}


def summarise(runs, sizes):
    """Medians per configuration and ratios against the same style's fewest forwards."""
    summary = {}
    for style, by_n in runs.items():
        summary[style] = {}
        base = None
        for n in sizes:
            row = {k: median([r[k] for r in by_n[n]]) for k in ("rate", "p50_us", "p99_us")}
            base = base or row
            row["rate_ratio"] = row["rate"] / base["rate"]
            row["p50_ratio"] = base["p50_us"] / row["p50_us"]  # > 1 would be faster than 1 forward
            row["p99_ratio"] = base["p99_us"] / row["p99_us"]
            summary[style][n] = row
    return summary


def print_table(summary, sizes):
    header = ("table", "forwards", "conn/s", "p50 us", "p99 us", "ratio to %d forward (rate, p50, p99)" % sizes[0])
    print("\n%-10s %9s %11s %10s %10s   %s" % header)
    for style, by_n in summary.items():
        for n in sizes:
            row = by_n[n]
            print("%-10s %9d %11.0f %10.1f %10.1f   %.2f, %.2f, %.2f" % (
                style, n, row["rate"], row["p50_us"], row["p99_us"], row["rate_ratio"], row["p50_ratio"],
                row["p99_ratio"]))


def verdict(summary, sizes):
    """(passed, message) for the collection's table at the most forwards."""
    row = summary["collection"][sizes[-1]]
    worst = min(row["rate_ratio"], row["p50_ratio"])
    line = ("collection's table at %d forwards: rate %.2f, p50 %.2f of the %d-forward figures (target >= %.2f)"
            % (sizes[-1], row["rate_ratio"], row["p50_ratio"], sizes[0], TARGET_RATIO))
    if "linear" in summary:
        lin = summary["linear"][sizes[-1]]
        line += "; one rule per forward: rate %.2f, p50 %.2f" % (lin["rate_ratio"], lin["p50_ratio"])
    passed = worst >= TARGET_RATIO
    return passed, line + ("" if passed else "  -- TARGET MISSED")


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "loadavg": list(os.getloadavg())}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1, 1000, 10000],
                        help="forward counts, smallest first (default 1,1000,10000)")
    parser.add_argument("--reps", type=int, default=3, help="runs per configuration; the median is reported")
    parser.add_argument("--seconds", type=float, default=1.5, help="length of one run (bounded)")
    parser.add_argument("--max-connections", type=int, default=200000, help="connections per run at most")
    parser.add_argument("--no-linear", action="store_true", help="skip the one-rule-per-forward baseline")
    parser.add_argument("--json", default=".benchmarks/wire_bench.json", help="where to save the results")
    return parser.parse_args(argv)


def interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv=None):
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("wire_bench: needs root (network namespaces, nft)", file=sys.stderr)
        return 2
    for tool in ("gcc", "ip", "nft"):
        if not shutil.which(tool):
            print("wire_bench: %s is missing" % tool, file=sys.stderr)
            return 2
    sizes = sorted(args.sizes)
    styles = ["collection"] + ([] if args.no_linear else ["linear"])
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    info = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sizes": sizes, "reps": args.reps, "seconds": args.seconds, "target_ratio": TARGET_RATIO}
    print("wire_bench: %(nproc)s CPUs (%(cpu)s), kernel %(kernel)s, load %(loadavg)s" % info["machine"])
    workdir = tempfile.mkdtemp(prefix="wgpf-wire-")
    lab = Lab(workdir, args.seconds, args.max_connections)
    try:
        lab.setup()
        runs, lines = measure_all(lab, sizes, args.reps, styles)
    except (RuntimeError, subprocess.SubprocessError, ValueError) as exc:
        print("wire_bench: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("wire_bench: interrupted (%s); removing the lab" % exc, file=sys.stderr)
        return 130
    finally:
        # A second signal must not cut the teardown short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        lab.close()
        shutil.rmtree(workdir, ignore_errors=True)
    summary = summarise(runs, sizes)
    print_table(summary, sizes)
    passed, line = verdict(summary, sizes)
    print(line)
    info.update({"load_at_end": list(os.getloadavg()), "table_lines": lines, "runs": runs, "summary": summary,
                 "passed": passed, "verdict": line})
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(info, handle, indent=1, sort_keys=True)
    print("saved %s" % args.json)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
