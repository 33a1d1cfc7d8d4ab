# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: unpublished_peers
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The peers of a host whose public keys no host has published yet
description:
  - The peers of a host whose public keys no host has published yet.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: This host's plan, from P(wgforward.portforward.host_plan#filter).
    type: dict
    required: true
  hostvars:
    description: C(hostvars), where each peer's published fact O(fact) is looked for.
    type: dict
    required: true
  plans:
    description: Every host's plan (for the peers' key files).
    type: dict
    required: true
  fact:
    description: The name of the fact each host publishes its public keys in.
    type: str
    required: true
  read:
    description:
      - Results of the M(wgforward.portforward.host_state) loop delegated to the hosts outside the play; the peers
        whose keys it found are not listed.
    type: list
    elements: dict
  limited:
    description:
      - Whether the run is limited (C(ansible_limit is defined)); then a peer with no key found fails, naming it,
        instead of being listed, since a limited run never changes a host outside it.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Peers to ensure keys on
  ansible.builtin.set_fact:
    todo: "{{ my_plan | wgforward.portforward.unpublished_peers(hostvars, plans, 'my_public_keys') }}"
"""

RETURN = r"""
_value:
  description: One C({host, interface, key_file}) per peer interface, each once.
  type: list
  elements: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.keys import unpublished_peers as _impl
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked


class FilterModule:
    def filters(self):
        return {"unpublished_peers": checked(_impl)}
