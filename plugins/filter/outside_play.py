# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: outside_play
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The WireGuard hosts of the inventory that are not in this play
description:
  - The hosts of the groups wireguard_public, wireguard_intermediate and wireguard_private that are not in the
    play (under C(--limit), or when a role is applied to one group), sorted. The roles read their facts and public
    keys with M(wgforward.portforward.host_state) delegated to them, which changes nothing, so a limited run plans
    from the whole inventory.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: C(groups), the inventory's groups and their hosts.
    type: dict
    required: true
  play_hosts:
    description: The hosts of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  hostvars:
    description:
      - C(hostvars); hosts planned from the inventory alone and never contacted (C(wgpf_attachment=container),
        or a C(wgpf_public_key) peer) are left out.
    type: dict
"""

EXAMPLES = r"""
- name: Read the WireGuard hosts outside the play
  wgforward.portforward.host_state:
  delegate_to: "{{ item }}"
  delegate_facts: true
  run_once: true
  loop: "{{ groups | wgforward.portforward.outside_play(ansible_play_hosts_all, hostvars) }}"
"""

RETURN = r"""
_value:
  description: The host names.
  type: list
  elements: str
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.limit import outside_play as _impl
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked


class FilterModule:
    def filters(self):
        return {"outside_play": checked(_impl)}
