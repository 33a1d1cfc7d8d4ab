# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: peer_files
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The wg-quick files of the WireGuard peers Ansible does not manage
description:
  - The wg-quick file of every peer given by C(wgpf_public_key), complete but for its private key (a marked
    C(PrivateKey) line), for the roles to write on the controller.
  - Without C(wgpf_peer_hooks) the file has no C(PostUp), C(PreDown) or C(Table), so the official WireGuard
    apps take it.
  - A peer whose servers' public keys are not all known in this run is left out, never written with a
    placeholder key.
options:
  _input:
    description: Every host's plan, from P(wgforward.portforward.plan#filter) without a host.
    type: dict
    required: true
  hostvars:
    description: C(hostvars), where each server's published fact O(fact) is read.
    type: dict
    required: true
  fact:
    description: The name of the fact each host publishes its public keys in.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Write the unmanaged peers' files on the controller
  ansible.builtin.copy:
    content: "{{ item.content }}"
    dest: "{{ item.path }}"
    mode: "{{ item.mode }}"
  loop: "{{ plans | wgforward.portforward.peer_files(hostvars, 'my_public_keys') }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: C([{host, dir, dir_mode, path, mode, content}]), one per peer.
  type: list
  elements: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.peer_files import peer_files as _impl
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked


class FilterModule:
    def filters(self):
        return {"peer_files": checked(_impl)}
