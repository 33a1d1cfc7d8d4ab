# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: check_verdicts
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: One verdict per forward from what every host's probe read
description:
  - Compares what M(wgforward.portforward.forward_probe) read on each host with what
    P(wgforward.portforward.check_expect#filter) expects, hop by hop in the forward's path order.
  - "A forward's verdict is V(ok), or the first hop that is wrong and the first reason there, for example
    C(intermediate1: wg0 is down), C(private1: nothing listens on tcp 172.31.17.3:8080), or
    C(private1: a reply from 172.31.17.3 tcp sport 8080 to 198.18.0.1 (mark 0x1000000) would leave by eth0 via
    172.31.17.254 (table main), not by eth0 via 172.31.17.2 (table 51900))."
  - A host that was unreachable or whose probe failed is the wrong hop; a host the run does not contact is
    "not checked" and does not make a verdict wrong.
options:
  _input:
    description: The result of P(wgforward.portforward.check_expect#filter).
    type: dict
    required: true
  results:
    description: Per host name, the registered result of M(wgforward.portforward.forward_probe) on it (a result
      with C(unreachable), C(failed) or C(skipped) is reported as such; a missing host as not probed).
    type: dict
    required: true
  as_text:
    description: Return readable lines (each forward's hops, then one verdict line per forward) instead of a list
      of dictionaries.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Print the verdicts
  ansible.builtin.debug:
    msg: "{{ expect | wgforward.portforward.check_verdicts(results, as_text=true) }}"
"""

RETURN = r"""
_value:
  description: One dict per forward with C(forward), C(public), C(to), C(path), C(hops) (C(host), C(lines),
    C(problem)), C(ok), C(verdict) and C(line) (the verdict line); or, with O(as_text=true), a list of lines.
  type: list
"""

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_verdict import verdict_lines, verdicts
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import plain


def check_verdicts(expect, results, as_text=False):
    report = verdicts(plain(expect), plain(results))
    return verdict_lines(report) if as_text else report


class FilterModule:
    def filters(self):
        return {"check_verdicts": check_verdicts}
