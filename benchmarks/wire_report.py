# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wire_bench.py's summaries: medians per arm and probe, paired ratios, the verdicts against the
targets, and the printed tables."""

from __future__ import annotations

from bench_stats import paired, resolution, spread

PROBES = ("first", "source", "last")
RATE_TARGET, P50_TARGET = 0.95, 1.05  # N against 1 forward: rate ratio at least, p50 ratio at most
STREAM_TARGET = 0.97  # --stream: the N-forward table against one hand-written DNAT rule
MODES = {
    "connect": {"keys": ("rate", "p50_us", "p99_us", "cycle_p50_us"),
                # cycle_rate: 1 / the median cycle, a rate the CPU's other tenants disturb less.
                "ratios": (("rate", "rate", False), ("p50", "p50_us", False), ("cycle_rate", "cycle_p50_us", True))},
    "stream": {"keys": ("mbps",), "ratios": (("mbps", "mbps", False),)},
}
PAIRS = (("coll-N", "coll-1"), ("coll-N", "hand"), ("coll-1", "hand"), ("shape-N", "shape-1"), ("shape-N", "hand"),
         ("shape-N", "coll-N"), ("shape-1", "coll-1"), ("aa", "coll-1"), ("aa", "hand"))
# The A/A control repeats the arm the mode's target compares with.
AA_BASE = {"connect": "coll-1", "stream": "hand"}


def summarise(runs, arms, mode):
    """Medians per arm and probe; paired ratios of each big table against its 1-forward table and hand."""
    spec, kinds = MODES[mode], list(runs[arms[0]])
    out = {"arms": {}, "ratios": {}}
    for arm in arms:
        out["arms"][arm] = {kind: {k: spread([r[k] for r in runs[arm][kind]]) for k in spec["keys"]}
                            for kind in kinds}
    for arm, base in PAIRS:
        if arm in arms and base in arms and (arm != "aa" or base == AA_BASE[mode]):
            out["ratios"]["%s/%s" % (arm, base)] = {
                kind: {name: paired(runs[arm][kind], runs[base][kind], key, invert)
                       for name, key, invert in spec["ratios"]} for kind in kinds}
    return out


def verdict(summary, prefix, mode):
    """(passed, lines) for one shape: in connect mode every probe's N/1 rate (from the median cycle) and
    p50 ratios, in stream mode the N-forward table's rate against the hand-written rule's. A figure
    within the A/A control's 95% resolution of its target is reported as unresolved, not as met or missed."""
    kinds = list(summary["arms"]["%s-N" % prefix])
    if mode == "stream":
        checks = [(kinds[0], "mbps", "%s-N/hand" % prefix, STREAM_TARGET, 1)]
    else:
        checks = [(kind, ratio, "%s-N/%s-1" % (prefix, prefix), target, sign) for kind in kinds
                  for ratio, target, sign in (("cycle_rate", RATE_TARGET, 1), ("p50", P50_TARGET, -1))]
    aa = summary["ratios"].get("aa/%s" % AA_BASE[mode])
    lines, passed = [], True
    for kind, ratio, name, target, sign in checks:
        value = summary["ratios"][name][kind][ratio]["median"]
        res = resolution(aa[kind][ratio]["all"]) if aa else None
        if res is not None and abs(value - target) < res * target:
            state = "UNRESOLVED (A/A resolution +-%.1f%%)" % (100 * res)
        else:
            state = "met" if sign * (value - target) >= 0 else "MISSED"
        passed = passed and state == "met"
        lines.append("%s %-6s %-10s %s %.3f (target %s %.2f): %s" % (
            prefix, kind, ratio, name, value, ">=" if sign > 0 else "<=", target, state))
    return passed, lines


def fmt(s, digits=3):
    return "%.*f [%.*f-%.*f]" % (digits, s["median"], digits, s["min"], digits, s["max"])


def print_summary(summary, arms, n, mode):
    kinds = list(summary["arms"][arms[0]])
    if mode == "stream":
        print("\nprobe  arm      Mbit/s median [min-max]")
    else:
        print("\nprobe  arm      conn/s median [min-max]      p50 us median [min-max]  p99 us  cycle p50 us")
    for kind in kinds:
        for arm in arms:
            row = summary["arms"][arm][kind]
            if mode == "stream":
                print("%-6s %-8s %s" % (kind, arm, fmt(row["mbps"], 0)))
            else:
                print("%-6s %-8s %-27s %-24s %7.1f  %s" % (
                    kind, arm, fmt(row["rate"], 0), fmt(row["p50_us"], 1), row["p99_us"]["median"],
                    fmt(row["cycle_p50_us"], 1)))
    print("\npaired ratios per round, median [min-max] (N = %d forwards; higher is better but for p50)" % n)
    for name, by_kind in summary["ratios"].items():
        for kind in kinds:
            print("%-16s %-6s %s" % (name, kind, "   ".join(
                "%s %s" % (ratio, fmt(value)) for ratio, value in by_kind[kind].items())))
    aa = [(name, by_kind) for name, by_kind in summary["ratios"].items() if name.startswith("aa/")]
    for name, by_kind in aa:
        for kind in kinds:
            print("resolution (95%%, from %s's spread) %-6s %s" % (name, kind, ", ".join(
                "%s +-%.1f%%" % (ratio, 100 * resolution(value["all"])) for ratio, value in by_kind[kind].items()
                if resolution(value["all"]) is not None)))
