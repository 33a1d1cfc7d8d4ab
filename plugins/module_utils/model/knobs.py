# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection-wide knobs a host may override: routing tables, rule priorities, marks, SAV, state,
and where the live check writes its metrics."""

from __future__ import annotations

import posixpath

from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G

# The mark lives in bits 24-27: clear of kube-proxy (0x4000/0x8000), Cilium (0x0f00),
# Tailscale (0xff0000) and wg-quick's 51820 (0xca6c).
KNOB_DEFAULTS = {
    "wgpf_route_table_base": 51900,
    "wgpf_rule_priority_base": 5100,
    "wgpf_mark": 0x01000000,
    "wgpf_mark_mask": 0x0F000000,
    "wgpf_sav": "loose",
    "wgpf_reserve_ports": True,
    "wgpf_state": "present",
    "wgpf_keepalive": 25,
    "wgpf_preshared_key": False,
}
INT_KNOBS = ("wgpf_route_table_base", "wgpf_rule_priority_base", "wgpf_mark", "wgpf_mark_mask", "wgpf_keepalive")
# check.yml's metrics file (check/metrics.py), for node_exporter's textfile collector: it reads only *.prom.
METRICS_PATH = "wgpf_check_metrics_path"
METRICS_SUFFIX = ".prom"
# What check.yml prints of each forward's hops: only the forwards that are not ok, or every forward's.
CHECK_HOPS = "wgpf_check_hops"
CHECK_HOPS_CHOICES = ("failing", "all")
CHOICES = {"wgpf_sav": ("loose", "strict", "off"), "wgpf_state": ("present", "absent")}


def parse_knobs(where, hv, problems):
    """{Host attribute: value} for the knobs, each checked; an invalid one falls back to its default."""
    knob = dict(KNOB_DEFAULTS)
    knob.update({k: hv[k] for k in KNOB_DEFAULTS if hv.get(k) is not None})
    for key in INT_KNOBS:
        value = G.integer(knob[key])
        if value is None:
            problems.add(where, key, "must be an integer, got %r" % (knob[key],))
            value = KNOB_DEFAULTS[key]
        knob[key] = value
    for key, allowed in CHOICES.items():
        if not isinstance(knob[key], str) or knob[key] not in allowed:
            problems.add(where, key, "must be one of %s, got %r" % (", ".join(allowed), knob[key]))
            knob[key] = KNOB_DEFAULTS[key]
    for key in ("wgpf_reserve_ports", "wgpf_preshared_key"):
        if not G.boolean(knob[key]):
            problems.add(where, key, "must be true or false, got %r" % (knob[key],))
            knob[key] = KNOB_DEFAULTS[key]
    _check_ranges(where, knob, problems)
    if hv.get(METRICS_PATH) is not None:
        problem = metrics_path_problem(hv[METRICS_PATH])
        if problem is not None:
            problems.add(where, METRICS_PATH, problem)
    if hv.get(CHECK_HOPS) is not None and check_hops_problem(hv[CHECK_HOPS]) is not None:
        problems.add(where, CHECK_HOPS, check_hops_problem(hv[CHECK_HOPS]))
    return {"table_base": knob["wgpf_route_table_base"], "priority_base": knob["wgpf_rule_priority_base"],
            "mark": knob["wgpf_mark"], "mark_mask": knob["wgpf_mark_mask"], "keepalive": knob["wgpf_keepalive"],
            "sav": knob["wgpf_sav"], "state": knob["wgpf_state"], "reserve_ports": knob["wgpf_reserve_ports"],
            "preshared_key": knob["wgpf_preshared_key"]}


def _check_ranges(where, knob, problems):
    table = knob["wgpf_route_table_base"]
    if not 1 <= table <= 0xFFFF0000 or 253 <= table <= 255:
        problems.add(where, "wgpf_route_table_base", "must be a routing table id in 1-4294901760 that is not "
                     "main, local or default (253-255), got %d" % table)
    priority = knob["wgpf_rule_priority_base"]
    if not 1 <= priority <= 32000:
        problems.add(where, "wgpf_rule_priority_base", "must be in 1-32000 so the rules come before the main "
                     "table's (32766), got %d" % priority)
    mark, mask = knob["wgpf_mark"], knob["wgpf_mark_mask"]
    if not 0 < mask <= 0xFFFFFFFF:
        problems.add(where, "wgpf_mark_mask", "must be a non-zero 32-bit mask, got %#x" % mask)
    elif mark <= 0 or mark & ~mask & 0xFFFFFFFF or mark > 0xFFFFFFFF:
        problems.add(where, "wgpf_mark", "%#x is outside its mask %#x (a mark must be non-zero and set only "
                     "bits of wgpf_mark_mask)" % (mark, mask))
    if not 0 <= knob["wgpf_keepalive"] <= 65535:
        problems.add(where, "wgpf_keepalive", "must be in 0-65535 seconds, got %d" % knob["wgpf_keepalive"])


def check_hops_problem(value):
    """Why ``value`` is no wgpf_check_hops, or None."""
    if isinstance(value, str) and value in CHECK_HOPS_CHOICES:
        return None
    return "must be one of %s, got %s" % (", ".join(CHECK_HOPS_CHOICES), G.quote(value))


def metrics_path_problem(path):
    """Why node_exporter's textfile collector would not read a metrics file at ``path``, or None."""
    if not isinstance(path, str) or not path or not path.isprintable():
        return "must be the path of a file, got %s" % G.quote(path)
    if not posixpath.isabs(path):
        return "must be an absolute path (in node_exporter's --collector.textfile.directory), got %s" % G.quote(path)
    if not path.endswith(METRICS_SUFFIX) or posixpath.basename(path) == METRICS_SUFFIX:
        return "must name a *.prom file: node_exporter's textfile collector reads no other, got %s" % G.quote(path)
    return None
