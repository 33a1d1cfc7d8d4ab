# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: peer_keys
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The public keys of a host's peers, from the hosts' published facts and keys ensured on the peers
description:
  - The public keys of a host's peers, from the hosts' published facts, the keys read on the hosts outside the play
    and the keys ensured on the peers.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: This host's plan, from P(wgforward.portforward.host_plan#filter).
    type: dict
    required: true
  hostvars:
    description: C(hostvars), where each peer's published fact O(fact) is read.
    type: dict
    required: true
  fact:
    description: The name of the fact each host publishes its public keys in.
    type: str
    required: true
  ensured:
    description: Results of a wireguard_key loop over P(wgforward.portforward.unpublished_peers#filter), delegated to the peers.
    type: list
    elements: dict
  read:
    description:
      - Results of the M(wgforward.portforward.host_state) loop delegated to the hosts outside the play
        (P(wgforward.portforward.outside_play#filter)), whose C(public_keys) are used for those peers.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Render with the peers' keys
  ansible.builtin.set_fact:
    files: "{{ my_plan | wgforward.portforward.render_files(my_plan | wgforward.portforward.peer_keys(hostvars, 'my_public_keys')) }}"
"""

RETURN = r"""
_value:
  description: 'C({host: {interface: public key}}), the keys argument of P(wgforward.portforward.render_files#filter).'
  type: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.keys import peer_keys as _impl
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked


class FilterModule:
    def filters(self):
        return {"peer_keys": checked(_impl)}
