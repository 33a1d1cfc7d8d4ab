# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: psk_to_generate
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The preshared keys a host generates, one per link it is the generating end of
description:
  - The preshared keys of the links (C(wgpf_preshared_key)) this host generates, each with its C(path), the C(peer)
    (interface and peer host, a loop label) and C(create).
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: This host's plan, from P(wgforward.portforward.host_plan#filter).
    type: dict
    required: true
  state:
    description:
      - The registered result of M(wgforward.portforward.host_state) on this host (its C(preshared_key_files)).
        Under C(--limit), a key whose other end is outside the play must be there already, else this fails
        naming the link.
    type: dict
  play_hosts:
    description: The hosts of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
  limited:
    description:
      - Whether the run is limited (C(ansible_limit is defined)); then C(create) is false for a link whose other
        end is outside the play, so a new key is never made that the other end would not get.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Ensure the preshared keys this host generates
  wgforward.portforward.wireguard_key:
    path: "{{ item.path }}"
    kind: preshared
    create: "{{ item.create }}"
  loop: "{{ plan | wgforward.portforward.psk_to_generate(state, ansible_play_hosts_all, ansible_limit is defined) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: "[{path, peer, create}]"
  type: list
  elements: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked
from ansible_collections.wgforward.portforward.plugins.plugin_utils.preshared_keys import to_generate as _impl


class FilterModule:
    def filters(self):
        return {"psk_to_generate": checked(_impl)}
