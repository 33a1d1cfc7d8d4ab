# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: package_query
author: wgforward.portforward contributors
version_added: 0.2.0
short_description: The command that lists which of the packages the collection needs are installed
description:
  - The command that lists which of the packages the collection needs are installed.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: C(ansible_facts.os_family); Debian and RedHat are known.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Ask which packages are installed
  ansible.builtin.command:
    argv: "{{ ansible_facts.os_family | wgforward.portforward.package_query }}"
"""

RETURN = r"""
_value:
  description: argv (dpkg-query or rpm); each installed package prints C(<name> installed).
  type: list
  elements: str
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked
from ansible_collections.wgforward.portforward.plugins.module_utils.apply_prepare import package_query as _impl


class FilterModule:
    def filters(self):
        return {"package_query": checked(_impl)}
