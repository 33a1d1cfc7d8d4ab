# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""render.yml of inventory.example, old against new, side by side (run on demand, not in `make test`).

"old" is render.yml of an earlier commit (--base, default the commit before the render action:
one `copy` task per file), extracted with `git archive` into a temporary folder and run
with its own collection path; "new" is the working tree's. Each round runs both, alternating
which goes first, as whole `ansible-playbook` processes into fresh folders: the wall time
(a monotonic clock around the process) and the CPU time of the process and its children
(getrusage). Both must write the same files, byte for byte (checked once). Prints min, median
and max of each and the median of the new/old ratio per round, saves JSON (default
.benchmarks/render.json), exits 1 when the new median is not under --target seconds (3).

  PYTHONPATH=.collections .venv/bin/python benchmarks/render_bench.py [--rounds N] [--base REV]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = "92df888"  # main before the engine branch: render.yml's copy loop


def checkout(rev, where):
    """The collection at ``rev`` under where/ansible_collections/wgforward/portforward."""
    dest = os.path.join(where, "ansible_collections", "wgforward", "portforward")
    os.makedirs(dest)
    archive = subprocess.run(["git", "-C", ROOT, "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)
    return where


def run(collections, out):
    """(wall seconds, cpu seconds) of one render.yml run writing into ``out``."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1")
    env.pop("PYTHONPATH", None)  # the collection comes from ANSIBLE_COLLECTIONS_PATH alone
    playbook = os.path.join(collections, "ansible_collections", "wgforward", "portforward", "playbooks", "render.yml")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(["ansible-playbook", "-i", os.path.join(ROOT, "inventory.example"), playbook,
                           "-e", "wgpf_render_dir=%s" % out], capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit("render.yml failed (%s):\n%s" % (collections, done.stdout[-3000:] + done.stderr[-2000:]))
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)[1:] != ([], []):
        return False
    return all(same_tree(os.path.join(a, d), os.path.join(b, d)) for d in cmp.common_dirs)


def spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--base", default=BASE, help="the old render.yml's commit (default %(default)s)")
    parser.add_argument("--target", type=float, default=3.0, help="new median wall time, seconds")
    parser.add_argument("--json", default=os.path.join(ROOT, ".benchmarks", "render.json"))
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="wgpf-render-bench-")
    try:
        old = checkout(args.base, os.path.join(work, "old"))
        new = os.path.join(ROOT, ".collections")
        figures = {"old": {"wall": [], "cpu": []}, "new": {"wall": [], "cpu": []}}
        load = [os.getloadavg()]
        for number in range(args.rounds):
            order = [("old", old), ("new", new)] if number % 2 == 0 else [("new", new), ("old", old)]
            for name, collections in order:
                out = os.path.join(work, "out-%s-%d" % (name, number))
                wall, cpu = run(collections, out)
                figures[name]["wall"].append(wall)
                figures[name]["cpu"].append(cpu)
            if number == 0 and not same_tree(os.path.join(work, "out-old-0"), os.path.join(work, "out-new-0")):
                sys.exit("old and new render.yml wrote different files")
        load.append(os.getloadavg())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratios = [n / o for n, o in zip(figures["new"]["wall"], figures["old"]["wall"])]
    report = {"machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "load": load},
              "base": args.base, "rounds": args.rounds,
              "old": {k: spread(v) for k, v in figures["old"].items()},
              "new": {k: spread(v) for k, v in figures["new"].items()},
              "ratio_new_old_wall": spread(ratios), "samples": figures}
    print("render.yml of inventory.example, %d rounds, alternating (load %.2f -> %.2f)"
          % (args.rounds, load[0][0], load[1][0]))
    print("%-6s %-28s %-28s" % ("", "wall s (min / median / max)", "cpu s (min / median / max)"))
    for name in ("old", "new"):
        w, c = report[name]["wall"], report[name]["cpu"]
        print("%-6s %6.2f / %6.2f / %6.2f        %6.2f / %6.2f / %6.2f"
              % (name, w["min"], w["median"], w["max"], c["min"], c["median"], c["max"]))
    print("new/old wall, median of the rounds: %.3f" % report["ratio_new_old_wall"]["median"])
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    met = report["new"]["wall"]["median"] < args.target
    print("target: new median under %.1f s: %s" % (args.target, "met" if met else "MISSED"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
