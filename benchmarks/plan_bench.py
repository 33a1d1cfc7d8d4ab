# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a large inventory through the roles' path and print wall time and peak memory.

10,000 forwards over 10 public, 5 intermediate and 100 private servers, every
attachment (LAN, container, WireGuard spoke, direct peer) and every technique,
including one hub that serves two public servers (wgpf_interfaces, escalated
to per-public-server connection marks).

What is timed is what a play pays: the plan filter (plugins/filter/plan.py) called
once without a host on hostvars-like data, which plans every host. Targets: under
2 s wall time (the fastest of --repeat runs: the machine is shared) and under 200 MB
(tracemalloc peak, and the process's peak RSS).

Run from the repository root:

    PYTHONPATH=.collections python3 benchmarks/plan_bench.py

Prints a table, saves JSON (--json) and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Mapping

from ansible_collections.wgforward.portforward.plugins.filter.plan import plan as plan_filter
from ansible_collections.wgforward.portforward.plugins.module_utils.plan import plan as plan_module
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

TARGET_SECONDS = 2.0
TARGET_MB = 200.0

PUBLICS = 10
FORWARDS_PER_PRIVATE = 100
FIRST_PORT = 10000  # far from 22 and 51820
SOURCE_POOL = ["198.18.%d.0/24" % i for i in range(64)] + ["2001:db8:%x::/48" % i for i in range(16)]


class Builder:
    """Collects hosts and groups in the shape of inventory.from_hostvars(), and whose forwards come from where."""

    def __init__(self):
        self.hosts = {}
        self.groups = {"wireguard_public": [], "wireguard_intermediate": [], "wireguard_private": []}
        self.privates = {}  # private name -> [public servers its forwards come from]

    def add(self, name, group, **wgpf):
        self.groups[group].append(name)
        self.hosts[name] = {"wgpf_" + k: v for k, v in wgpf.items()}


def add_publics_and_hub(b):
    for p in range(PUBLICS):
        # reserve_ports: the kernel takes one page of reserved ports; thousands of scattered ports are more (refused).
        b.add("public%d" % p, "wireguard_public", address=["10.%d.0.1/16" % (100 + p), "fd%02x::1/64" % p],
              endpoint="203.0.113.%d:51820" % (10 + p), wan_interface="eth0", reserve_ports=False)
    # inter0: a hub serving two public servers, one interface each, plus a spoke interface.
    b.add("inter0", "wireguard_intermediate", endpoint="192.168.50.1:51821", interfaces=[
        {"name": "wg0", "address": "10.50.0.1/16", "listen_port": 51821,
         "peers": ["spoke0_%d" % k for k in range(20)]},
        {"name": "wg1", "address": "10.100.0.2/16", "listen_port": 51000, "peers": ["public0"]},
        {"name": "wg2", "address": "10.101.0.2/16", "listen_port": 52000, "peers": ["public1"]},
    ])
    for k in range(20):
        name = "spoke0_%d" % k
        b.add(name, "wireguard_private", intermediate="inter0", attachment="wireguard",
              address="10.50.1.%d/16" % (k + 1), listen_port=51823)
        b.privates[name] = ["public0", "public1"]


def add_intermediates(b):
    # inter1..inter4: one public server each, on a single wg0 shared with their spokes.
    layout = {1: (20, 0, 0), 2: (0, 15, 0), 3: (8, 0, 7), 4: (0, 0, 10)}  # (lan, container, spokes)
    for i, (n_lan, n_container, n_spoke) in layout.items():
        public = "public%d" % (i + 1)
        inter = "inter%d" % i
        b.add(inter, "wireguard_intermediate", address="10.%d.0.2/16" % (101 + i), listen_port=51821,
              endpoint="192.168.%d.1:51821" % i, lan_interface="eth1",
              lan_address="172.%d.0.1/16" % (20 + i), lan_mac="02:00:00:00:%02x:01" % i)
        for k in range(n_lan):
            name = "lan%d_%d" % (i, k)
            # Half of them use the intermediate as their default gateway.
            b.add(name, "wireguard_private", intermediate=inter, attachment="lan", lan_interface="eth0",
                  lan_address="172.%d.1.%d/16" % (20 + i, k + 1), gateway_is_intermediate=k % 2 == 0,
                  local_routes=[{"to": "192.0.2.0/24", "via": "172.%d.0.254" % (20 + i)}])
            b.privates[name] = [public]
        for k in range(n_container):
            name = "ctr%d_%d" % (i, k)
            b.add(name, "wireguard_private", intermediate=inter, attachment="container",
                  lan_address="172.%d.2.%d/16" % (20 + i, k + 1))
            b.privates[name] = [public]
        for k in range(n_spoke):
            name = "spoke%d_%d" % (i, k)
            b.add(name, "wireguard_private", intermediate=inter, attachment="wireguard",
                  address="10.%d.1.%d/16" % (101 + i, k + 1), listen_port=51823)
            b.privates[name] = [public]
    # 20 direct WireGuard peers of public6..public9; a quarter send all Internet traffic via the public server.
    for k in range(20):
        p = 6 + k % 4
        name = "peer%d" % k
        b.add(name, "wireguard_private", address=["10.%d.2.%d/16" % (100 + p, k + 1), "fd%02x::%x/64" % (p, k + 16)],
              internet_via_public=k % 4 == 3, sav="strict" if k % 5 == 0 else "loose")
        b.privates[name] = ["public%d" % p]


def build_forwards(privates):
    next_port = collections.Counter()
    forwards = []
    for private, publics in privates.items():
        for k in range(FORWARDS_PER_PRIVATE):
            public = publics[k % len(publics)]
            width = 3 if k % 10 == 9 else 1
            lo = FIRST_PORT + next_port[public]
            next_port[public] += width
            fwd = {"name": "%s-f%d" % (private.replace("_", "-"), k), "public": public,
                   "port": lo if width == 1 else "%d-%d" % (lo, lo + width - 1),
                   "protocols": [["tcp"], ["udp"], ["tcp", "udp"]][k % 3],
                   "to": private, "to_port": 20000 + k * 3}
            kind = k % 5
            if kind == 0:
                fwd["preserve_source"] = False  # masquerade
            elif kind == 1:
                fwd["sources"] = [SOURCE_POOL[k % 64], SOURCE_POOL[(k * 7) % 64]]  # static_routes
                if private.startswith("peer"):
                    fwd["sources"].append(SOURCE_POOL[64 + k % 16])
            elif kind == 2:
                fwd["only_via_public"] = False  # connmark_intermediate / connmark_private
            # else: policy_routing (or default_route for peers with internet_via_public)
            forwards.append(fwd)
    return forwards


def build_inventory():
    """{'hosts': {...}, 'groups': {...}} in the shape of inventory.from_hostvars()."""
    b = Builder()
    add_publics_and_hub(b)
    add_intermediates(b)
    assert len(b.groups["wireguard_public"]) == 10
    assert len(b.groups["wireguard_intermediate"]) == 5
    assert len(b.groups["wireguard_private"]) == 100, len(b.groups["wireguard_private"])
    forwards = build_forwards(b.privates)
    for hv in b.hosts.values():
        hv["wgpf_forwards"] = forwards  # group_vars/all: one list every host sees
    groups = dict(b.groups, all=sorted(b.hosts))
    return {"hosts": b.hosts, "groups": groups}


class HostVarsLike(Mapping):
    """Ansible's hostvars in the shape the filter sees: a mapping of lazy per-host mappings.

    Ansible templates a variable each time it is read, so every read of a host's
    wgpf_forwards yields new objects equal to group_vars/all's list, never the same
    one: the filter has to compare them to share one copy. Each host also carries
    ordinary Ansible variables the filter must skip.
    """

    def __init__(self, inventory):
        self.hosts = {}
        for name, hv in inventory["hosts"].items():
            groups = [g for g, members in inventory["groups"].items() if name in members and g != "all"]
            extra = {"inventory_hostname": name, "inventory_hostname_short": name, "group_names": groups,
                     "ansible_host": name + ".example.net", "ansible_user": "root",
                     "ansible_python_interpreter": "/usr/bin/python3", "playbook_dir": "/srv/ansible"}
            self.hosts[name] = HostVarsVarsLike(dict(hv, **extra))

    def __getitem__(self, name):
        return self.hosts[name]

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self):
        return len(self.hosts)


class HostVarsVarsLike(Mapping):
    def __init__(self, variables):
        self.variables = variables

    def __getitem__(self, key):
        value = self.variables[key]
        if isinstance(value, list):  # a fresh, equal copy per read, as templating returns
            return [dict(v) if isinstance(v, dict) else v for v in value]
        return value

    def __iter__(self):
        return iter(self.variables)

    def __len__(self):
        return len(self.variables)


def rss_mb():
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def forget_plans():
    """Empty the planner's memo so that every timed call plans from scratch."""
    cache = getattr(plan_module, "_CACHE", None)
    if not isinstance(cache, dict):
        raise RuntimeError("plan._CACHE is gone: update forget_plans() or the runs after the first are memoised")
    cache.clear()


def filter_all(hostvars, groups):
    """The roles' call: hostvars | wgforward.portforward.plan(groups), once per play."""
    forget_plans()
    return plan_filter(hostvars, groups)


def render_all(plans):
    return {name: render_files(plan, {}) for name, plan in plans.items()}


def timed(repeat, fn, *args):
    """(last result, [wall s], [cpu s]): cpu time is less sensitive to a busy machine."""
    walls, cpus, result = [], [], None
    for dummy in range(max(1, repeat)):
        result = None
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        result = fn(*args)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return result, walls, cpus


def traced(fn, *args):
    """Peak Python heap allocated while fn runs, in MB (tracemalloc slows the run; timed separately)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn(*args)
    dummy, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def median(values):
    return sorted(values)[len(values) // 2]


def measure(inventory, repeat, trace):
    """{step: row}; the filter step (the roles' path) is the one judged against the targets."""
    hostvars, groups = HostVarsLike(inventory), inventory["groups"]
    hosts = [h for g in ("wireguard_public", "wireguard_intermediate", "wireguard_private") for h in groups[g]]
    rss_before = rss_mb()
    plans, walls, cpus = timed(repeat, filter_all, hostvars, groups)
    if sorted(plans) != sorted(hosts):
        raise RuntimeError("the plan filter without a host must plan every host")
    rows = {"plan filter, every host": {"wall": walls, "cpu": cpus, "rss_mb": rss_mb(), "judged": True}}
    dummy, walls, cpus = timed(repeat, plan_inventory, inventory)
    rows["plan_inventory (no filter)"] = {"wall": walls, "cpu": cpus, "rss_mb": rss_mb()}
    dummy, walls, cpus = timed(repeat, render_all, plans)
    rows["render_files, every host"] = {"wall": walls, "cpu": cpus, "rss_mb": rss_mb()}
    # Traced last: tracemalloc's own tables would inflate the RSS figures above.
    if trace:
        rows["plan filter, every host"]["tracemalloc_mb"] = traced(filter_all, hostvars, groups)
        rows["plan_inventory (no filter)"]["tracemalloc_mb"] = traced(plan_inventory, inventory)
        rows["render_files, every host"]["tracemalloc_mb"] = traced(render_all, plans)
    return plans, rows, rss_before


def misses(row):
    out = []
    # The fastest run is the one least disturbed by whatever else the machine runs.
    if min(row["wall"]) >= TARGET_SECONDS:
        out.append("fastest wall %.2f s >= %.1f s" % (min(row["wall"]), TARGET_SECONDS))
    if row.get("tracemalloc_mb", 0) >= TARGET_MB:
        out.append("tracemalloc peak %.0f MB >= %.0f MB" % (row["tracemalloc_mb"], TARGET_MB))
    if row["rss_mb"] >= TARGET_MB:
        out.append("peak RSS %.0f MB >= %.0f MB" % (row["rss_mb"], TARGET_MB))
    return out


def print_table(rows):
    print("\n%-28s %9s %9s %9s %11s %9s" % ("step", "wall med", "wall min", "cpu med", "tracemalloc", "peak RSS"))
    for label, row in rows.items():
        trace = "%9.1f MB" % row["tracemalloc_mb"] if "tracemalloc_mb" in row else "%11s" % "n/a"
        print("%-28s %7.3f s %7.3f s %7.3f s %s %6.0f MB%s" % (
            label, median(row["wall"]), min(row["wall"]), median(row["cpu"]), trace, row["rss_mb"],
            "  <- judged" if row.get("judged") else ""))


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "loadavg": list(os.getloadavg()),
            "python": platform.python_version()}


def describe(inventory, plans):
    techniques = collections.Counter(d["technique"] for p in plans.values() if p["role"] == "public"
                                     for d in p["forwards"])
    n_files = sum(len(f) for f in render_all(plans).values())
    print("techniques: " + ", ".join("%s %d" % kv for kv in sorted(techniques.items())))
    print("plans: %d hosts, %d files rendered" % (len(plans), n_files))
    return {"techniques": dict(techniques), "hosts": len(plans), "files": n_files,
            "forwards": len(next(iter(inventory["hosts"].values()))["wgpf_forwards"])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed runs of each step (median and min shown; the min is judged)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the filter call")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the tracemalloc runs (for timing the whole process from outside)")
    parser.add_argument("--json", default=".benchmarks/plan_bench.json", help="where to save the results")
    args = parser.parse_args(argv)

    inventory = build_inventory()
    print("inventory: %d forwards, %d public, %d intermediate, %d private servers" % (
        len(inventory["hosts"]["public0"]["wgpf_forwards"]), len(inventory["groups"]["wireguard_public"]),
        len(inventory["groups"]["wireguard_intermediate"]), len(inventory["groups"]["wireguard_private"])))
    info = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "targets": {"seconds": TARGET_SECONDS, "mb": TARGET_MB}}
    print("machine: %(nproc)s CPUs (%(cpu)s), kernel %(kernel)s, Python %(python)s, load %(loadavg)s"
          % info["machine"])
    plans, rows, rss_before = measure(inventory, args.repeat, not args.no_trace)
    info["inventory"] = describe(inventory, plans)
    print_table(rows)
    judged = rows["plan filter, every host"]
    missed = misses(judged)
    print("RSS before planning (interpreter, Ansible imports, inventory): %.0f MB" % rss_before)
    print("targets (the plan filter for every host, as the roles call it): fastest wall < %.1f s, tracemalloc peak and "
          "peak RSS < %.0f MB: %s" % (TARGET_SECONDS, TARGET_MB, "missed: " + "; ".join(missed) if missed else "met"))
    info.update({"rows": rows, "rss_before_mb": rss_before, "missed": missed, "passed": not missed})
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(info, handle, indent=1, sort_keys=True)
    print("saved %s" % args.json)
    if args.profile:
        import cProfile
        import pstats
        profiler = cProfile.Profile()
        profiler.runcall(filter_all, HostVarsLike(inventory), inventory["groups"])
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
