# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: technique
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: Pick the port-forwarding technique with the multi-hop decision tree
description:
  - Walks the decision tree of "WireGuard Port Forwarding From the Internet to Other Networks" and
    returns the technique that routes the private service's replies back through the public server.
  - Q1 C(preserve_source) false gives C(masquerade); Q2 non-empty C(sources) gives C(static_routes);
    Q3 C(internet_via_public) gives C(default_route); Q4 C(only_via_public) gives C(policy_routing);
    Q5 C(gateway_is_intermediate) gives C(connmark_intermediate), otherwise C(connmark_private).
  - For a direct WireGuard peer of the public server (C(intermediate) false) Q5 has no meaning and
    the last step is C(connmark_private) on the peer itself.
options:
  _input:
    description: The answers. Every key is optional and takes the default shown.
    type: dict
    required: true
    suboptions:
      preserve_source:
        description: Q1, does the service need the client's original address.
        type: bool
        default: true
      sources:
        description: Q2, the fixed client networks (CIDRs); empty means clients come from anywhere.
        type: list
        elements: str
        default: []
      internet_via_public:
        description: Q3, do the private and intermediate servers use the public server for all Internet access.
        type: bool
        default: false
      only_via_public:
        description: Q4, do all connections to the service come through the public server.
        type: bool
        default: true
      gateway_is_intermediate:
        description: Q5, is the intermediate server the private server's default gateway.
        type: bool
        default: false
      intermediate:
        description: Whether there is an intermediate server; false for a direct WireGuard peer.
        type: bool
        default: true
  explain:
    description: Return the path through the tree instead of the technique name.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Pick a technique
  ansible.builtin.debug:
    msg: "{{ {'sources': ['198.51.100.87/32']} | wgforward.portforward.technique }}"
  # -> static_routes

- name: Show why
  ansible.builtin.debug:
    msg: "{{ {'only_via_public': false} | wgforward.portforward.technique(explain=true) }}"
"""

RETURN = r"""
_value:
  description:
    - The technique name, one of C(masquerade), C(static_routes), C(default_route), C(policy_routing),
      C(connmark_intermediate), C(connmark_private).
    - With O(explain=true), a dict with C(technique) and C(steps), each step holding C(question), C(key),
      C(text), C(answer), C(source) (set, default, or not applicable), C(outcome) and C(reason).
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wgforward.portforward.plugins.module_utils.decide.answers import check_answers
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import complete, walk


def technique(answers, explain=False):
    problems = check_answers(answers)
    if problems:
        raise AnsibleFilterError("wgforward.portforward.technique: " + "; ".join(problems))
    full, origins = complete(answers)
    name, steps = walk(full, origins)
    if not explain:
        return name
    return {"technique": name, "steps": [s.as_dict() for s in steps]}


class FilterModule:
    def filters(self):
        return {"technique": technique}
