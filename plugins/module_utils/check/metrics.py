# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live check's verdicts (check_verdict.py) as Prometheus metrics, for node_exporter's textfile collector.

``metrics_text(report, now)`` writes the text exposition format: per forward
``wgpf_forward_ok`` (1 or 0, labelled with the forward, its public server, its
target and the first wrong hop), per WireGuard link the age of its latest
handshake as the check read it, and the time of the check (the collector
takes no sample timestamps). ``write_metrics`` replaces the file atomically:
a temporary file in the same folder, whose name does not end in ``.prom`` (the
collector reads every ``*.prom`` file, a half-written one too), renamed over
the target.
"""

from __future__ import annotations

import math
import os
import tempfile

from ansible_collections.wgforward.portforward.plugins.module_utils.model.knobs import metrics_path_problem

FILE_MODE = 0o644  # node_exporter reads it as its own user

FORWARD_OK = ("wgpf_forward_ok", "1 when the live check (wgforward.portforward.check) found every hop of the "
              "forward as planned, else 0; hop names the first wrong hop (empty when ok).")
HANDSHAKE_AGE = ("wgpf_link_handshake_age_seconds", "Seconds since the latest handshake of a WireGuard link as the "
                 "live check read it on host (+Inf: never); a link it could not read has no sample.")
CHECK_TIME = ("wgpf_check_timestamp_seconds", "Unix time at which the live check drew its verdicts.")


def escape_label(value):
    """A label value as the text format quotes it: backslash, double quote and line feed escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text):
    """HELP text as the text format wants it: backslash and line feed escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def sample(name, labels, value):
    """One sample line; labels in the order given."""
    body = ",".join('%s="%s"' % (key, escape_label(val)) for key, val in labels)
    return "%s%s %s" % (name, "{%s}" % body if labels else "", number(value))


def number(value):
    if value is None or (isinstance(value, float) and math.isinf(value)):
        return "+Inf"
    if isinstance(value, float) and not value.is_integer():
        return repr(value)
    return str(int(value))


def family(metric, lines):
    name, text = metric
    return ["# HELP %s %s" % (name, escape_help(text)), "# TYPE %s gauge" % name] + lines


def failing_hop(fwd):
    """The host of the first wrong hop on the forward's path, or ''."""
    return next((hop["host"] for hop in fwd["hops"] if hop["problem"] is not None), "")


def link_samples(report):
    """One sample per link (host, interface, peer) the check read, whichever forwards share it."""
    seen = {}
    for fwd in report:
        for hop in fwd["hops"]:
            for link in hop.get("links", []):
                if link["read"]:
                    seen[(hop["host"], link["iface"], link["peer"])] = link["handshake_age"]
    return [sample(HANDSHAKE_AGE[0], (("host", host), ("interface", iface), ("peer", peer)), age)
            for (host, iface, peer), age in sorted(seen.items())]


def metrics_text(report, now):
    """The verdicts (check_verdict.verdicts) as the text exposition format; ``now``: Unix time of the check."""
    forwards = [sample(FORWARD_OK[0], (("forward", fwd["forward"]), ("public", fwd["public"]), ("to", fwd["to"]),
                                       ("hop", failing_hop(fwd))), 1 if fwd["ok"] else 0)
                for fwd in sorted(report, key=lambda f: f["forward"])]
    lines = family(FORWARD_OK, forwards) + family(HANDSHAKE_AGE, link_samples(report))
    lines += family(CHECK_TIME, [sample(CHECK_TIME[0], (), float(now))])
    return "\n".join(lines) + "\n"


def write_metrics(path, text):
    """Replace the file at ``path`` with ``text`` atomically; raises ValueError for a path the collector ignores."""
    problem = metrics_path_problem(path)
    if problem is not None:
        raise ValueError(problem)
    folder = os.path.dirname(path)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".%s." % os.path.basename(path), suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, FILE_MODE)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
