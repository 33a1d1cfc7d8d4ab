# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collects every inventory problem so one run reports them all at once."""

from __future__ import annotations

import difflib
import re

from ansible_collections.wgforward.portforward.plugins.module_utils.core.grammar import quote


KEY_RE = re.compile(r"[A-Za-z0-9_.-]+")


class PlanError(Exception):
    """Raised with the full list of problems found in the inventory."""

    def __init__(self, problems, facts_needed=()):
        self.problems = list(problems)
        # (host, field) of the problems that are a value facts would give and none did (Problems.need_fact).
        self.facts_needed = list(facts_needed)
        super().__init__(self.message())

    def message(self):
        count = len(self.problems)
        head = "%d problem%s in the wgforward.portforward inventory:" % (count, "" if count == 1 else "s")
        return "\n".join([head] + ["  - " + p for p in self.problems])


class Problems:
    """An ordered, de-duplicated list of 'where: field: what' messages."""

    def __init__(self):
        self._items = []
        self._seen = set()
        self.facts_needed = []

    def add(self, where, field, message):
        text = "%s: %s: %s" % (where, field, message) if field else "%s: %s" % (where, message)
        # One problem, one line: a value quoted carelessly must not start a line of its own.
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
        if text not in self._seen:
            self._seen.add(text)
            self._items.append(text)

    def need_fact(self, host, field, message):
        """A value the inventory does not set and no fact gave (none gathered: render, explain): a problem,
        and noted, so an offline run can list every such value at once (plugin_utils/offline.py)."""
        self.add(host_where(host), field, message)
        if (host, field) not in self.facts_needed:
            self.facts_needed.append((host, field))

    def unknown_keys(self, where, given, allowed, what="key"):
        for key in sorted(set(given) - set(allowed), key=str):
            hint = difflib.get_close_matches(key, sorted(allowed), n=1) if isinstance(key, str) else []
            suffix = " (did you mean '%s'?)" % hint[0] if hint else ""
            shown = key if isinstance(key, str) and KEY_RE.fullmatch(key) else quote(key)
            self.add(where, shown, "unknown %s%s" % (what, suffix))

    def __bool__(self):
        return bool(self._items)

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def raise_if_any(self):
        if self._items:
            raise PlanError(self._items, self.facts_needed)


def forward_where(name):
    return "forward %s" % quote(name)


def host_where(name):
    return "host %s" % quote(name)
