# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: keys_to_ensure
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The interfaces of a host's plan whose key still needs wireguard_key
description:
  - The interfaces of the plan whose key file M(wgforward.portforward.host_state) did not report as settled (missing,
    invalid, or with another mode or owner than wireguard_key leaves), each with its C(name) and C(key_file).
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: This host's plan, as the plan filter returns it.
    type: dict
    required: true
  state:
    description: The registered result of M(wgforward.portforward.host_state).
    type: dict
    required: true
  check_mode:
    description:
      - Whether the run is in check mode (pass C(ansible_check_mode)); then, when the host has no C(wg) yet,
        no key is listed, since C(wireguard_key) could not derive one.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Ensure the keys host_state did not find settled
  wgforward.portforward.wireguard_key:
    path: "{{ item.key_file }}"
  loop: "{{ plan | wgforward.portforward.keys_to_ensure(state) }}"
"""

RETURN = r"""
_value:
  description: "[{name, key_file}]"
  type: list
  elements: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.keys import keys_to_ensure as _impl
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked


class FilterModule:
    def filters(self):
        return {"keys_to_ensure": checked(_impl)}
