# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: explain
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: Explain the technique each forward of the inventory gets
description:
  - Validates the inventory like P(wgforward.portforward.plan#filter) and returns, per forward, the
    technique, the path through the decision tree with the answer, where it came from (set, inferred
    from facts, default) and the reason of each step, and notes on forced or escalated techniques.
options:
  _input:
    description:
      - C(hostvars), every inventory host's variables; the planner reads the C(wgpf_*) variables and, where they
        are not set, the gathered facts of the hosts in the three groups.
      - Facts are optional here; without them, defaults the facts would give are reported as missing.
    type: dict
    required: true
  groups:
    description: C(groups), the inventory's groups; C(wireguard_public), C(wireguard_intermediate) and
      C(wireguard_private) name the part each host plays.
    type: dict
    required: true
  as_text:
    description: Return readable lines (one per forward and one per step, as C(playbooks/explain.yml) prints)
      instead of a list of dictionaries.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Explain every forward
  ansible.builtin.debug:
    msg: "{{ hostvars | wgforward.portforward.explain(groups) }}"
"""

RETURN = r"""
_value:
  description: One dict per forward (or, with O(as_text=true), a list of lines) with C(forward), C(public), C(to), C(technique), C(tree_technique),
    C(forced), C(escalated), C(steps) and C(notes).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import explain_inventory, explain_lines


def explain(hostvars, groups, as_text=False):
    try:
        decisions = explain_inventory(from_hostvars(hostvars, groups))
        return explain_lines(decisions) if as_text else decisions
    except PlanError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"explain": explain}
