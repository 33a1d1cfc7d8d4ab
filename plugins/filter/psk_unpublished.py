# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: psk_unpublished
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The preshared keys a host receives from generating ends that published none
description:
  - The preshared keys this host receives whose generating end published none (it is outside the play), each with
    the generating C(host) and the C(path) of the key there, for a M(wgforward.portforward.wireguard_key) delegated
    to it (read-only under C(--limit)).
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: This host's plan, from P(wgforward.portforward.host_plan#filter).
    type: dict
    required: true
  hostvars:
    description: C(hostvars), where each generating end's published fact O(fact) is looked for.
    type: dict
    required: true
  fact:
    description: The name of the fact each host publishes its preshared keys in.
    type: str
    required: true
  read:
    description: Results of the M(wgforward.portforward.host_state) loop delegated to the hosts outside the play.
    type: list
    elements: dict
  limited:
    description:
      - Whether the run is limited (C(ansible_limit is defined)); then a key that O(read) does not list on its
        generating end fails, naming the link, since a limited run makes nothing outside it.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read the preshared keys of generating ends outside the play
  wgforward.portforward.wireguard_key:
    path: "{{ item.path }}"
    kind: preshared
    create: false
  delegate_to: "{{ item.host }}"
  check_mode: true
  loop: "{{ plan | wgforward.portforward.psk_unpublished(hostvars, 'my_preshared_keys') }}"
  register: psk_read
  no_log: true
"""

RETURN = r"""
_value:
  description: "[{host, path}]"
  type: list
  elements: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked
from ansible_collections.wgforward.portforward.plugins.plugin_utils.preshared_keys import unpublished as _impl


class FilterModule:
    def filters(self):
        return {"psk_unpublished": checked(_impl)}
