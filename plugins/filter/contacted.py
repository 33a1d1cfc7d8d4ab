# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: contacted
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: Whether the run may contact a host, from its inventory variables alone
description:
  - V(false) for a host the run never contacts, decided before anything connects to it, from its variables
    alone - a container target (C(wgpf_attachment=container)) or a WireGuard peer Ansible does not manage
    (C(wgpf_public_key) set). Such hosts are planned from the inventory alone; the plan says the same in
    its C(contacted) field.
  - The roles end those hosts with C(ansible.builtin.meta=end_host) as their first task.
options:
  _input:
    description: The host's variables, usually C(hostvars[inventory_hostname]).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Never contact containers and unmanaged peers
  ansible.builtin.meta: end_host
  when: not (hostvars[inventory_hostname] | wgforward.portforward.contacted)
"""

RETURN = r"""
_value:
  description: V(true) when the run may connect to the host.
  type: bool
"""

from ansible_collections.wgforward.portforward.plugins.module_utils.model.unmanaged import contacted as _impl


class FilterModule:
    def filters(self):
        return {"contacted": _impl}
