# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: install_packages
author: wgforward.portforward contributors
version_added: 0.2.0
short_description: Whether a host's missing packages are installed
description:
  - The value the role passed when it passed one, else the host's C(wireguard_<role>_install_packages) from the
    inventory, else true.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: The role's C(internal_install_packages), or null.
    type: raw
    required: true
  host_vars:
    description: The host's variables, C(hostvars[inventory_hostname]), where
      C(wireguard_<role>_install_packages) is looked up.
    type: dict
    required: true
  role:
    description: The host's role in the plan (public, intermediate or private).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Install the missing packages
  ansible.builtin.debug:
    msg: "{{ none | wgforward.portforward.install_packages(hostvars[inventory_hostname], 'public') }}"
"""

RETURN = r"""
_value:
  description: True or false.
  type: bool
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked
from ansible_collections.wgforward.portforward.plugins.module_utils.apply_prepare import install_packages as _impl


class FilterModule:
    def filters(self):
        return {"install_packages": checked(_impl)}
