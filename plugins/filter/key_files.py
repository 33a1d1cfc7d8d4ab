# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: key_files
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The private key file of each WireGuard interface of a plan
description:
  - The private key file of each WireGuard interface of a plan.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: A host's plan, from P(wgforward.portforward.host_plan#filter).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Key files by interface
  ansible.builtin.debug:
    msg: "{{ my_plan | wgforward.portforward.key_files }}"
"""

RETURN = r"""
_value:
  description: 'C({interface: key file path}), the key_files option of M(wgforward.portforward.apply_plan).'
  type: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.keys import key_files as _impl
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked


class FilterModule:
    def filters(self):
        return {"key_files": checked(_impl)}
