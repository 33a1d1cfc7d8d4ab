# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule cost on the wire: new TCP connections through the public server's table at N forwards against 1.

Three network namespaces (client, public server, service) joined by veth pairs; the public
server's namespace loads, in turn, for each probed forward (wire_inventory.py: the first, the
last and a source-restricted one of a users'-shaped inventory of N forwards):
  coll-N  the table the collection generates for the N forwards (planner + render),
  coll-1  the table it generates for that forward alone,
  hand    one hand-written DNAT rule for that forward (and its masquerade rule when it has one),
  shape-N, shape-1  the same two inventories rendered by an alternative shape (--shape FILE.py,
          a prototype whose public_table(plan) returns nft text), when given,
  aa      the base arm again (coll-1; hand with --stream): an A/A control (--no-aa: left out).
A C load generator (wire_load.c, compiled here with gcc) opens TCP connections to the probe's
port one after the other: the rate (per wall second, and 1 / the median socket-to-close cycle,
which the CPU's other tenants disturb less) and the p50/p99 connect latency are recorded. With
--stream, one TCP stream of MTU-sized packets through the first probe is measured instead.
Rounds are interleaved: in each round every probe meets every arm once, back to back, and the
order of the arms turns and reverses from round to round, so that no arm is always first. The
figures are medians over the rounds; the ratios are paired (in the same round) and printed as
median [min-max], with the resolution the A/A control's spread allows. The load average is
recorded with every run.

Targets (issue 20): for every probe, the collection's table at N forwards reaches >= 0.95 of the
1-forward (cycle) rate and <= 1.05 of its p50 latency; with --stream, >= 0.97 of the hand-written
rule's throughput. Needs root (ip netns, nft) and gcc. From the repository root:

    PYTHONPATH=.collections python3 benchmarks/wire_bench.py [--forwards 10000] [--rounds 15] [--shape FILE.py]

Prints a table, saves JSON (--json), exits 1 when a target is missed or unresolved (closer to it
than the A/A control resolves), 2 when the lab cannot be built or a run fails. Every namespace is
deleted at the end, also on Ctrl-C.
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

import wire_inventory as W
from bench_stats import turn
from wire_report import AA_BASE, P50_TARGET, PROBES, RATE_TARGET, STREAM_TARGET, print_summary, summarise, verdict

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD_SOURCE = os.path.join(HERE, "wire_load.c")


def run(cmd, **kwargs):
    """Run a command, failing with its stderr."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False,
                          **kwargs)
    if proc.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), proc.returncode, proc.stderr.strip()[-2000:]))
    return proc.stdout


# ------------------------------------------------------------------ the lab


class Lab:
    """Client, public and service namespaces; torn down by close(), whatever state setup reached."""

    def __init__(self, workdir, seconds, max_connections, host="public1"):
        tag = "wgpfb%d" % os.getpid()
        # "public": the namespace whose table is measured (the intermediate's with host inter1).
        self.ns = {"client": tag + "-client", "public": tag + "-public", "service": tag + "-service"}
        self.workdir, self.seconds, self.max_connections, self.host = workdir, seconds, max_connections, host
        self.binary = os.path.join(workdir, "wire_load")
        self.servers, self.created, self.loaded, self.sink = [], [], None, None

    def ip(self, where, *args):
        run(["ip", "-n", self.ns[where]] + list(args))

    def exec_cmd(self, where, *args):
        return ["ip", "netns", "exec", self.ns[where]] + list(args)

    def links(self):
        """(client side, service side) interface names and addresses of the measured host."""
        if self.host == "public1":
            return (W.WAN_IF, W.PUBLIC_WAN_ADDR), (W.TUNNEL_IF, W.PUBLIC_TUNNEL), W.INTER_TUNNEL
        # The intermediate: the client stands for the public server at the far end of its link.
        return (W.INTER_LINK_IF, W.PUBLIC_WAN_ADDR), (W.INTER_LAN_IF, W.INTER_LAN_ADDR), "172.31.0.2"

    def dest(self, fwd):
        """Where the probe's connections go: the public port, or (intermediate) the translated target."""
        return (W.PUBLIC_WAN_ADDR, fwd["port"]) if self.host == "public1" else W.target(fwd)

    def setup(self):
        run(["gcc", "-O2", "-Wall", "-o", self.binary, LOAD_SOURCE])
        for name in self.ns.values():
            run(["ip", "netns", "add", name])
            self.created.append(name)
        (near, near_addr), (far, far_addr), service_addr = self.links()
        self.ip("public", "link", "add", near, "type", "veth", "peer", "name", "eth0", "netns", self.ns["client"])
        self.ip("public", "link", "add", far, "type", "veth", "peer", "name", "eth0", "netns", self.ns["service"])
        for where, dev, addr in (("client", "eth0", W.CLIENT_ADDR + "/24"), ("public", near, near_addr + "/24"),
                                 ("public", far, far_addr + "/24"), ("service", "eth0", service_addr + "/24")):
            self.ip(where, "addr", "add", addr, "dev", dev)
            self.ip(where, "link", "set", dev, "up")
        # The service namespace stands for every private server (direct peers and LAN servers alike).
        for addr in W.SERVICE_ADDRS[1:]:
            self.ip("service", "addr", "add", addr + "/32", "dev", "eth0")
        for where in self.ns:
            self.ip(where, "link", "set", "lo", "up")
        self.ip("service", "route", "add", "default", "via", far_addr)
        if self.host == "public1":
            self.ip("public", "route", "add", W.LAN_NET, "via", W.INTER_TUNNEL)
        else:
            self.ip("client", "route", "add", W.LAN_NET, "via", near_addr)
        run(self.exec_cmd("public", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"))
        # A reset connection stays in the conntrack table 10 s by default; at tens of
        # thousands per second that fills it. Only this namespace's setting changes.
        run(self.exec_cmd("public", "sysctl", "-q", "-w", "net.netfilter.nf_conntrack_tcp_timeout_close=1"))
        # All 64k ports: connections are closed with a RST, so a port is free again at once.
        run(self.exec_cmd("client", "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535"))

    def start_service(self, port):
        proc = subprocess.Popen(self.exec_cmd("service", self.binary, "server", str(port)),
                                stdout=subprocess.PIPE, universal_newlines=True)
        self.servers.append(proc)
        if not proc.stdout.readline().startswith("listening"):
            raise RuntimeError("the service on port %d did not start" % port)

    def start_sink(self, port):
        proc = subprocess.Popen(self.exec_cmd("service", self.binary, "sink", str(port)),
                                stdout=subprocess.PIPE, universal_newlines=True)
        self.servers.append(proc)
        if not proc.stdout.readline().startswith("listening"):
            raise RuntimeError("the sink on port %d did not start" % port)
        self.sink = proc

    def one_packet_per_segment(self):
        """No GSO on the senders' links: the public server forwards MTU-sized packets, as it does
        from a link without GRO, so the table's per-packet cost is not spread over 64 KB."""
        self.ip("client", "link", "set", "dev", "eth0", "gso_max_segs", "1")
        self.ip("service", "link", "set", "dev", "eth0", "gso_max_segs", "1")

    def stream(self, addr, port, seconds):
        out = subprocess.run(self.exec_cmd("client", self.binary, "stream", addr, str(port), str(seconds)),
                             stdout=subprocess.PIPE, universal_newlines=True, timeout=seconds + 30, check=False)
        if out.returncode != 0:
            raise RuntimeError("the stream to port %d failed: %s" % (port, out.stdout.strip()))
        result = json.loads(self.sink.stdout.readline())
        if not result["bytes"]:
            raise RuntimeError("the stream to port %d carried nothing: %s" % (port, result))
        return result

    def measure_stream(self, addr, port):
        self.stream(addr, port, 0.3)  # warm-up
        return self.stream(addr, port, self.seconds)

    def load(self, text):
        if text == self.loaded:
            return
        path = os.path.join(self.workdir, "table.nft")
        with open(path, "w") as handle:
            handle.write(text)
        run(self.exec_cmd("public", "nft", "flush", "ruleset"))
        run(self.exec_cmd("public", "nft", "-f", path))
        self.loaded = text

    def connect(self, addr, port, seconds, max_connections):
        out = subprocess.run(self.exec_cmd("client", self.binary, "client", addr, str(port),
                                           str(max_connections), str(seconds)),
                             stdout=subprocess.PIPE, universal_newlines=True, timeout=seconds + 30, check=False)
        result = json.loads(out.stdout)
        # A rare reset (a reused port meeting its predecessor's state) is tolerated, not a failing run:
        # up to 0.5% (seen: 0.12% in a 1 s run through a masquerading table).
        if result["errors"] > max(5, result["connections"] // 200) or not result["connections"]:
            raise RuntimeError("connections to port %d failed: %s" % (port, out.stdout.strip()))
        return result

    def measure(self, addr, port):
        self.connect(addr, port, 0.3, 5000)  # warm-up: caches, conntrack, the service's accept loop
        return self.connect(addr, port, self.seconds, self.max_connections)

    def close(self):
        for proc in self.servers:
            proc.kill()
            proc.wait()
        for name in reversed(self.created):
            subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL, check=False)
        self.created = []


# ------------------------------------------------------------------ measuring


def measure_all(lab, texts, probes, arms, rounds, stream=False):
    """{arm: {probe: [run, ...]}}, each run with its round and the load average when it started.

    New connections to every probe, or (``stream``) one TCP stream through the first probe."""
    kinds = [kind for kind in PROBES if kind in probes][:1 if stream else None]
    runs = {arm: {kind: [] for kind in kinds} for arm in arms}
    if stream:
        lab.one_packet_per_segment()
        lab.start_sink(W.target(probes[kinds[0]])[1])
    else:
        for fwd in probes.values():
            lab.start_service(W.target(fwd)[1])
    for rnd in range(rounds):
        for kind in turn(kinds, rnd):
            for arm in turn(arms, rnd):
                lab.load(texts[(arm, kind)])
                load = os.getloadavg()[0]
                addr, port = lab.dest(probes[kind])
                result = dict(lab.measure_stream(addr, port) if stream else lab.measure(addr, port), round=rnd,
                              load=load)
                runs[arm][kind].append(result)
                if stream:
                    print("  round %d/%d %-6s %-8s %8.0f Mbit/s, load %.2f"
                          % (rnd + 1, rounds, kind, arm, result["mbps"], load), flush=True)
                else:
                    print("  round %d/%d %-6s %-8s %8.0f conn/s, p50 %6.1f us, p99 %7.1f us, cycle %6.1f us, "
                          "load %.2f" % (rnd + 1, rounds, kind, arm, result["rate"], result["p50_us"],
                                         result["p99_us"], result["cycle_p50_us"], load), flush=True)
    return runs


# ------------------------------------------------------------------ main


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
    parser.add_argument("--forwards", type=int, default=10000, help="forwards in the big table (default 10000)")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds; medians are reported")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one run (bounded)")
    parser.add_argument("--max-connections", type=int, default=200000, help="connections per run at most")
    parser.add_argument("--shape", help="a Python file whose public_table(plan) renders an alternative table")
    parser.add_argument("--host", choices=W.HOSTS, default="public1",
                        help="whose table to measure: the public server's (default), or the intermediate's for "
                             "the probes to its LAN servers, against conntrack alone as 'hand'")
    parser.add_argument("--no-aa", dest="aa", action="store_false",
                        help="leave out the A/A control arm (the base arm measured again: the method's resolution)")
    parser.add_argument("--stream", action="store_true",
                        help="measure one TCP stream through the first probe (MTU-sized packets) instead of "
                             "new connections; --seconds is then each stream's length")
    parser.add_argument("--arms", type=lambda v: v.split(","),
                        help="only these arms (comma-separated; default every one the other options give)")
    parser.add_argument("--save-tables", help="write every table loaded into this directory")
    parser.add_argument("--json", default=".benchmarks/wire_bench.json", help="where to save the results")
    return parser.parse_args(argv)


def interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def build_tables(args):
    shape = W.load_shape(args.shape) if args.shape else None
    texts, probes = W.tables(args.forwards, shape, args.host)
    arms = ["coll-1", "coll-N", "hand"] + (["shape-1", "shape-N"] if shape else [])
    if args.aa:
        # The base arm again, as text that differs by a comment so that it is loaded afresh like
        # every other arm: its ratio to the base is what the method reads for "no difference".
        base = AA_BASE["stream" if args.stream else "connect"]
        arms.append("aa")
        texts.update({("aa", kind): texts[(base, kind)] + "# A/A control\n" for kind in probes})
    if args.arms:
        arms = [arm for arm in arms if arm in args.arms]
    if args.save_tables:
        os.makedirs(args.save_tables, exist_ok=True)
        for (arm, kind), text in texts.items():
            with open(os.path.join(args.save_tables, "%s-%s.nft" % (arm, kind)), "w") as handle:
                handle.write(text)
    return texts, probes, arms


def main(argv=None):
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("wire_bench: needs root (network namespaces, nft)", file=sys.stderr)
        return 2
    for tool in ("gcc", "ip", "nft"):
        if not shutil.which(tool):
            print("wire_bench: %s is missing" % tool, file=sys.stderr)
            return 2
    if args.shape and args.host != "public1":
        print("wire_bench: --shape renders a public server's table only", file=sys.stderr)
        return 2
    texts, probes, arms = build_tables(args)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    info = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "forwards": args.forwards, "rounds": args.rounds, "seconds": args.seconds, "arms": arms, "host": args.host,
            "mode": "stream" if args.stream else "connect",
            "shape": args.shape, "probes": probes,
            "targets": {"rate": RATE_TARGET, "p50": P50_TARGET, "stream": STREAM_TARGET},
            "table_lines": {"%s/%s" % k: v.count("\n") for k, v in texts.items()}}
    print("wire_bench: %(nproc)s CPUs (%(cpu)s), kernel %(kernel)s, load %(loadavg)s" % info["machine"])
    workdir = tempfile.mkdtemp(prefix="wgpf-wire-")
    lab = Lab(workdir, args.seconds, args.max_connections, args.host)
    try:
        lab.setup()
        runs = measure_all(lab, texts, probes, arms, args.rounds, stream=args.stream)
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
    mode = "stream" if args.stream else "connect"
    summary = summarise(runs, arms, mode)
    print_summary(summary, arms, args.forwards, mode)
    loads = [r["load"] for by_kind in runs.values() for rs in by_kind.values() for r in rs]
    print("load average (1 min) during the runs: %.2f-%.2f" % (min(loads), max(loads)))
    passed, lines = verdict(summary, "coll", mode)
    if "shape-N" in arms:
        lines += verdict(summary, "shape", mode)[1]
    print("\n".join(lines))
    info.update({"load_at_end": list(os.getloadavg()), "runs": runs, "summary": summary, "passed": passed,
                 "verdict": lines})
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(info, handle, indent=1, sort_keys=True)
    print("saved %s" % args.json)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
