# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: host_plan
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: One host's plan from every host's plans, checked against the role applied
description:
  - One host's plan from every host's plans, checked against the role applied.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: Every host's plan, from P(wgforward.portforward.plan#filter) without a host.
    type: dict
    required: true
  host:
    description: The inventory host whose plan is returned, usually C(inventory_hostname).
    type: str
    required: true
  role:
    description: The role being applied (V(public), V(intermediate) or V(private)); the plan must give the host
      that role, or the filter fails naming the host. Unset, any role is accepted.
    type: str
"""

EXAMPLES = r"""
- name: This host's plan
  ansible.builtin.set_fact:
    my_plan: "{{ plans | wgforward.portforward.host_plan(inventory_hostname, 'public') }}"
"""

RETURN = r"""
_value:
  description: The host's plan.
  type: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.host_plan import host_plan as _impl
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked


class FilterModule:
    def filters(self):
        return {"host_plan": checked(_impl)}
