# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: packages_to_install
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The packages to install on a host, from its host_state result
description:
  - The packages M(wgforward.portforward.host_state) found missing, or none when installing is off.
  - Fails naming the family when packages are to be installed on a family the collection cannot install on.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: The registered result of M(wgforward.portforward.host_state).
    type: dict
    required: true
  explicit:
    description: The role's install variable when it passed one, else null.
    type: raw
    required: true
  host_vars:
    description: The host's variables (its C(wireguard_<role>_install_packages) when O(explicit) is null).
    type: dict
    required: true
  role:
    description: The host's role (public, intermediate or private).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Install what is missing
  ansible.builtin.apt:
    name: "{{ state | wgforward.portforward.packages_to_install(none, hostvars[inventory_hostname], 'public') }}"
"""

RETURN = r"""
_value:
  description: Package names; empty when nothing is to be installed.
  type: list
  elements: str
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.packages import packages_to_install as _impl
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked


class FilterModule:
    def filters(self):
        return {"packages_to_install": checked(_impl)}
