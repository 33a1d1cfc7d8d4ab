# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: host_keys
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The public keys a host publishes for its peers, by interface
description:
  - The public keys of the plan's interfaces, from M(wgforward.portforward.host_state) and from the
    M(wgforward.portforward.wireguard_key) loop over P(wgforward.portforward.keys_to_ensure#filter).
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
  ensured:
    description: The registered results of the wireguard_key loop (items from keys_to_ensure).
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Publish this host's public keys
  ansible.builtin.set_fact:
    public_keys: "{{ plan | wgforward.portforward.host_keys(state, own_keys.results | default([])) }}"
"""

RETURN = r"""
_value:
  description: "{interface: public key}"
  type: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.keys import host_keys as _impl
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked


class FilterModule:
    def filters(self):
        return {"host_keys": checked(_impl)}
