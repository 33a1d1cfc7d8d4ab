# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument checks for the technique filter's answers."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import Problems
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import ANSWER_DEFAULTS


def check_answers(answers):
    """Every problem with the answers, as a list of messages."""
    problems = Problems()
    if not isinstance(answers, dict):
        return ["answers must be a dict, got %s" % type(answers).__name__]
    problems.unknown_keys("answers", answers, ANSWER_DEFAULTS)
    for key, default in ANSWER_DEFAULTS.items():
        value = answers.get(key)
        if value is None:
            continue
        if isinstance(default, bool) and not isinstance(value, bool):
            problems.add("answers", key, "must be true or false, got %r" % (value,))
    sources = answers.get("sources")
    if sources is not None:
        if not isinstance(sources, list):
            problems.add("answers", "sources", "must be a list of CIDRs, got %r" % (sources,))
        else:
            A.require_netaddr()
            for src in sources:
                try:
                    A.parse_cidr(src)
                except ValueError as exc:
                    problems.add("answers", "sources", str(exc))
    return list(problems)
