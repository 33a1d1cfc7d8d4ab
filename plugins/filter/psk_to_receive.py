# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: psk_to_receive
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The preshared keys a host receives, with their values, to write with wireguard_key
description:
  - The preshared keys this host receives from the generating ends of its links, each with the C(path) of its copy
    here, the C(peer) (interface and peer host, a loop label) and the key as C(value). Loop over it only in a task
    with C(no_log).
  - A key that no generating end published or was read fails naming the link, except in check mode.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: This host's plan, from P(wgforward.portforward.host_plan#filter).
    type: dict
    required: true
  hostvars:
    description: C(hostvars), where each generating end's published fact O(fact) is read.
    type: dict
    required: true
  fact:
    description: The name of the fact each host publishes its preshared keys in.
    type: str
    required: true
  read:
    description: Results of a wireguard_key loop over P(wgforward.portforward.psk_unpublished#filter).
    type: list
    elements: dict
  check_mode:
    description: Whether the run is in check mode (C(ansible_check_mode)); then keys not made yet are left out.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Ensure this host's copies of the preshared keys
  wgforward.portforward.wireguard_key:
    path: "{{ item.path }}"
    kind: preshared
    value: "{{ item.value }}"
  loop: "{{ plan | wgforward.portforward.psk_to_receive(hostvars, 'my_preshared_keys', psk_read.results) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: "[{path, peer, value}]"
  type: list
  elements: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked
from ansible_collections.wgforward.portforward.plugins.plugin_utils.preshared_keys import to_receive as _impl


class FilterModule:
    def filters(self):
        return {"psk_to_receive": checked(_impl)}
