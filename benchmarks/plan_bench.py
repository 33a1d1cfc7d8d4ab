# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a large inventory and print wall time and peak memory.

10,000 forwards over 10 public, 5 intermediate and 100 private servers, every
attachment (LAN, container, WireGuard spoke, direct peer) and every technique,
including one hub that serves two public servers (wgpf_interfaces, escalated
to per-public-server connection marks). Targets: under 2 s and 200 MB.

Run from the repository root:

    PYTHONPATH=.collections python3 benchmarks/plan_bench.py

It prints figures and "over target" where one is missed; it never fails on them.
"""

from __future__ import annotations

import argparse
import collections
import gc
import math
import resource
import sys
import time
import tracemalloc

from ansible_collections.wgforward.portforward.plugins.module_utils import plan as plan_module
from ansible_collections.wgforward.portforward.plugins.module_utils.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render import render_files

TARGET_SECONDS = 2.0
TARGET_MB = 200.0

PUBLICS = 10
FORWARDS_PER_PRIVATE = 100
FIRST_PORT = 10000  # far from 22 and 51820
SOURCE_POOL = ["198.18.%d.0/24" % i for i in range(64)] + ["2001:db8:%x::/48" % i for i in range(16)]


def build_inventory():
    """{'hosts': {...}, 'groups': {...}} in the shape of inventory.from_hostvars()."""
    hosts = {}
    groups = {"wireguard_public": [], "wireguard_intermediate": [], "wireguard_private": []}

    def add(name, group, **wgpf):
        groups[group].append(name)
        hosts[name] = {"wgpf_" + k: v for k, v in wgpf.items()}

    for p in range(PUBLICS):
        add("public%d" % p, "wireguard_public", address=["10.%d.0.1/16" % (100 + p), "fd%02x::1/64" % p],
            endpoint="203.0.113.%d:51820" % (10 + p), wan_interface="eth0")

    # private name -> (intermediate or None, [public servers its forwards come from])
    privates = {}
    # inter0: a hub serving two public servers, one interface each, plus a spoke interface.
    add("inter0", "wireguard_intermediate", endpoint="192.168.50.1:51821", interfaces=[
        {"name": "wg0", "address": "10.50.0.1/16", "listen_port": 51821,
         "peers": ["spoke0_%d" % k for k in range(20)]},
        {"name": "wg1", "address": "10.100.0.2/16", "listen_port": 51000, "peers": ["public0"]},
        {"name": "wg2", "address": "10.101.0.2/16", "listen_port": 52000, "peers": ["public1"]},
    ])
    for k in range(20):
        name = "spoke0_%d" % k
        add(name, "wireguard_private", intermediate="inter0", attachment="wireguard",
            address="10.50.1.%d/16" % (k + 1), listen_port=51823)
        privates[name] = ["public0", "public1"]

    # inter1..inter4: one public server each, on a single wg0 shared with their spokes.
    layout = {1: (20, 0, 0), 2: (0, 15, 0), 3: (8, 0, 7), 4: (0, 0, 10)}  # (lan, container, spokes)
    for i, (n_lan, n_container, n_spoke) in layout.items():
        public = "public%d" % (i + 1)
        inter = "inter%d" % i
        add(inter, "wireguard_intermediate", address="10.%d.0.2/16" % (101 + i), listen_port=51821,
            endpoint="192.168.%d.1:51821" % i, lan_interface="eth1",
            lan_address="172.%d.0.1/16" % (20 + i), lan_mac="02:00:00:00:%02x:01" % i)
        for k in range(n_lan):
            name = "lan%d_%d" % (i, k)
            # Half of them use the intermediate as their default gateway.
            add(name, "wireguard_private", intermediate=inter, attachment="lan", lan_interface="eth0",
                lan_address="172.%d.1.%d/16" % (20 + i, k + 1), gateway_is_intermediate=k % 2 == 0,
                local_routes=[{"to": "192.0.2.0/24", "via": "172.%d.0.254" % (20 + i)}])
            privates[name] = [public]
        for k in range(n_container):
            name = "ctr%d_%d" % (i, k)
            add(name, "wireguard_private", intermediate=inter, attachment="container",
                lan_address="172.%d.2.%d/16" % (20 + i, k + 1))
            privates[name] = [public]
        for k in range(n_spoke):
            name = "spoke%d_%d" % (i, k)
            add(name, "wireguard_private", intermediate=inter, attachment="wireguard",
                address="10.%d.1.%d/16" % (101 + i, k + 1), listen_port=51823)
            privates[name] = [public]

    # 20 direct WireGuard peers of public6..public9; a quarter send all Internet traffic via the public server.
    for k in range(20):
        p = 6 + k % 4
        name = "peer%d" % k
        add(name, "wireguard_private", address=["10.%d.2.%d/16" % (100 + p, k + 1), "fd%02x::%x/64" % (p, k + 16)],
            internet_via_public=k % 4 == 3, sav="strict" if k % 5 == 0 else "loose")
        privates[name] = ["public%d" % p]

    assert len(groups["wireguard_public"]) == 10
    assert len(groups["wireguard_intermediate"]) == 5
    assert len(groups["wireguard_private"]) == 100, len(groups["wireguard_private"])

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
    for hv in hosts.values():
        hv["wgpf_forwards"] = forwards  # group_vars/all: one list every host sees
    groups["all"] = sorted(hosts)
    return {"hosts": hosts, "groups": groups}


def rss_mb():
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


CPU_TIMES = {}


def timed(fn, *args):
    """(result, wall seconds); the process CPU seconds go to CPU_TIMES[fn name] (less sensitive to a busy machine)."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    CPU_TIMES.setdefault(fn.__name__, []).append(time.process_time() - cpu)
    return result, time.perf_counter() - start


def traced(fn, *args):
    """Peak Python heap allocated while fn runs, in MB (tracemalloc slows the run; timed separately)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn(*args)
    dummy, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, peak / 1e6


def render_all(plans):
    return {name: render_files(plan, {}) for name, plan in plans.items()}


def verdict(seconds=None, mb=None):
    over = (seconds is not None and seconds > TARGET_SECONDS) or (mb is not None and mb > TARGET_MB)
    return "  over target" if over else ""


def filter_path(inventory):
    """What a play pays for its plans.

    The roles call the plan filter without a host, once per play (run_once), and pick each
    host's plan from the result. Each task of each host runs in its own forked worker, so a
    per-host call (what the roles did before) could not reuse a memoised plan: every host
    paid a cold call. Both are printed.
    """
    from ansible_collections.wgforward.portforward.plugins.filter.plan import plan as plan_filter

    hostvars, groups = inventory["hosts"], inventory["groups"]
    hosts = [h for g in ("wireguard_public", "wireguard_intermediate", "wireguard_private") for h in groups[g]]
    dummy, read_s = timed(from_hostvars, hostvars, groups)
    plan_module._CACHE.clear()
    plans, once_s = timed(plan_filter, hostvars, groups)
    assert len(plans) == len(hosts), "the filter without a host must plan every host"
    plan_module._CACHE.clear()
    dummy, cold_s = timed(plan_filter, hostvars, groups, hosts[0])
    print("filter path: from_hostvars %.3f s; plan filter for every host at once (the roles, once per play) "
          "%.3f s%s" % (read_s, once_s, verdict(once_s)))
    print("filter path: one cold per-host call %.3f s; per host in each worker, as before, about %.0f s "
          "for the %d hosts" % (cold_s, cold_s * len(hosts), len(hosts)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each step (min and median shown)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of plan_inventory")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the tracemalloc runs (for timing the whole process from outside)")
    parser.add_argument("--no-filter", action="store_true",
                        help="skip the filter path (hostvars -> plan filter, as the roles call it once per play)")
    args = parser.parse_args(argv)

    inventory, build_s = timed(build_inventory)
    n_forwards = len(next(iter(inventory["hosts"].values()))["wgpf_forwards"])
    print("inventory: %d forwards, %d public, %d intermediate, %d private servers (built in %.2f s)" % (
        n_forwards, len(inventory["groups"]["wireguard_public"]), len(inventory["groups"]["wireguard_intermediate"]),
        len(inventory["groups"]["wireguard_private"]), build_s))
    print("targets: plan under %.1f s and %.0f MB" % (TARGET_SECONDS, TARGET_MB))
    rss_before = rss_mb()

    plan_times, plans = [], None
    for dummy in range(max(1, args.repeat)):
        plans, seconds = timed(plan_inventory, inventory)
        plan_times.append(seconds)
    render_times, files = [], None
    for dummy in range(max(1, args.repeat)):
        files, seconds = timed(render_all, plans)
        render_times.append(seconds)
    rss_after = rss_mb()
    del files
    if args.no_trace:
        plan_peak = render_peak = float("nan")
    else:
        plans = None
        dummy, plan_peak = traced(plan_inventory, inventory)
        plans = plan_inventory(inventory)
        dummy, render_peak = traced(render_all, plans)

    techniques = collections.Counter(d["technique"] for p in plans.values() if p["role"] == "public"
                                     for d in p["forwards"])
    n_files = sum(len(f) for f in render_all(plans).values())
    print("techniques: " + ", ".join("%s %d" % kv for kv in sorted(techniques.items())))
    print("plans: %d hosts, %d files rendered" % (len(plans), n_files))

    def median(values):
        return sorted(values)[len(values) // 2]

    def row(label, times, cpu, peak, target=True):
        print("%-20s wall min %.3f s, median %.3f s (%d runs); cpu median %.3f s; tracemalloc peak %s%s" % (
            label, min(times), median(times), len(times), median(cpu), "n/a" if math.isnan(peak) else "%.1f MB" % peak,
            verdict(median(times), peak) if target else ""))

    plan_cpu = CPU_TIMES["plan_inventory"][:len(plan_times)]
    render_cpu = CPU_TIMES["render_all"][:len(render_times)]
    row("plan_inventory", plan_times, plan_cpu, plan_peak)
    row("render_files (all)", render_times, render_cpu, render_peak, target=False)
    row("plan + render", [a + b for a, b in zip(plan_times, render_times)],
        [a + b for a, b in zip(plan_cpu, render_cpu)], max(plan_peak, render_peak))
    print("ru_maxrss: %.1f MB before planning (interpreter, imports, inventory), %.1f MB after%s"
          % (rss_before, rss_after, verdict(mb=rss_after)))

    if not args.no_filter:
        filter_path(inventory)
    print("ru_maxrss at exit: %.1f MB%s" % (rss_mb(), "" if args.no_trace else " (tracemalloc's own tables included)"))

    if args.profile:
        import cProfile
        import pstats
        profiler = cProfile.Profile()
        profiler.runcall(plan_inventory, inventory)
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
