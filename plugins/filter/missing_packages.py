# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: missing_packages
author: wgforward.portforward contributors
version_added: 0.2.0
short_description: The packages the collection needs that a package query did not report as installed
description:
  - The packages the collection needs that a package query did not report as installed.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: The query's output lines.
    type: list
    elements: str
    required: true
  os_family:
    description: The host's C(ansible_facts.os_family), which picks the package names (Debian or RedHat).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Note what is missing
  ansible.builtin.set_fact:
    missing: "{{ query.stdout_lines | wgforward.portforward.missing_packages(ansible_facts.os_family) }}"
"""

RETURN = r"""
_value:
  description: Package names.
  type: list
  elements: str
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked
from ansible_collections.wgforward.portforward.plugins.module_utils.apply_prepare import missing_packages as _impl


class FilterModule:
    def filters(self):
        return {"missing_packages": checked(_impl)}
