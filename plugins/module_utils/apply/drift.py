# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the apply step found live that differs from what the host's files say: the report of it.

Each kind of live state (the nftables table, the routes and rules, the running
sysctls, the firewall hooks, each WireGuard interface) is described as lines on
both sides, the live one and the planned one, by the module that reads it
(live_nft.py, live_routes.py, live_wg.py). ``Drift.add`` compares them and keeps
what is missing and what is extra: as result lines (the module's ``drift``) and
as a diff entry (``--diff``). No line ever holds a key: the readers leave keys out.
"""

from __future__ import annotations

from collections import Counter


def differences(live, wanted):
    """(missing, extra): the lines of ``wanted`` that ``live`` lacks and those ``live`` has beyond it,
    each as often as it is missing or extra, in the order of its side."""
    short, over = Counter(wanted) - Counter(live), Counter(live) - Counter(wanted)
    missing, extra = [], []
    for lines, counts, out in ((wanted, short, missing), (live, over, extra)):
        for line in lines:
            if counts[line] > 0:
                counts[line] -= 1
                out.append(line)
    return missing, extra


def _text(lines):
    return "".join(line + "\n" for line in lines)


class Drift:
    """The differences found on one host; ``diffs`` is the apply step's list of diff entries."""

    def __init__(self, diffs):
        self.diffs = diffs
        self.lines = []

    def add(self, what, live, wanted):
        """Compare one kind of live state with the plan; True when they differ (then it is reported)."""
        if list(live) == list(wanted):
            return False
        missing, extra = differences(live, wanted)
        found = ["%s: missing %s" % (what, line) for line in missing]
        found += ["%s: extra %s" % (what, line) for line in extra]
        if not found:
            found = ["%s: the same lines in another order" % what]
        self.lines += found
        self.diffs.append({"before_header": "%s (live)" % what, "after_header": "%s (as planned)" % what,
                           "before": _text(live), "after": _text(wanted)})
        return True
