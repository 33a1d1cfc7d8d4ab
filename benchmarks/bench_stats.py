# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks share. Rounds and their statistics, for wire_bench.py and throughput_bench.py:
the order of the arms in a round, paired ratios, and the resolution an A/A control's spread allows.
The lab lock, for the benchmarks that run Ansible on containers (controller_bench.py, scale_bench.py)."""

from __future__ import annotations

import math
import os
import sys

LOCK = "/tmp/wgpf-lab.lock"


def turn(items, rnd):
    """The round's order: turned by the round number, reversed every other round."""
    items = list(items)
    shift = rnd % len(items)
    items = items[shift:] + items[:shift]
    return items[::-1] if rnd % 2 else items


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def spread(values):
    return {"median": median(values), "min": min(values), "max": max(values), "all": values}


def resolution(ratios):
    """Half-width, relative, of a 95% confidence interval of the median of ``ratios``: 1.96 x 1.2533 x
    the standard deviation of their logarithms / sqrt(n) (the normal approximation; None under 3 rounds)."""
    if len(ratios) < 3:
        return None
    logs = [math.log(r) for r in ratios]
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    return 1.96 * 1.2533 * sd / math.sqrt(len(logs))


def paired(runs_a, runs_b, key, invert=False):
    """Per-round ratios a/b of ``key`` (runs of one probe, same rounds); b/a with ``invert``."""
    by_round = {r["round"]: r[key] for r in runs_b}
    return spread([(by_round[r["round"]] / r[key]) if invert else (r[key] / by_round[r["round"]]) for r in runs_a])


# Per mode: the figures summarised, and the paired ratios (name, figure, inverted: base/arm).


def holds_lock():
    """True when the lab lock is held through a descriptor this process inherited (`flock LOCK cmd`)."""
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name) == LOCK:
                return True
        except OSError:
            continue
    return False


def rerun_under_lock():
    """Return when this process holds the lab lock; else run this script again under `flock LOCK` (no return).

    Scenarios and benchmark labs share container names and Docker: one user of the lab at a time."""
    if not holds_lock():
        os.execvp("flock", ["flock", LOCK, sys.executable] + sys.argv)
