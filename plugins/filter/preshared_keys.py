# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: preshared_keys
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The preshared keys a host publishes to the other ends of its links, by key file
description:
  - The preshared keys from the results of a M(wgforward.portforward.wireguard_key) loop over
    P(wgforward.portforward.psk_to_generate#filter), by the key file's path on this host.
  - "Secrets: set the fact in a task with C(no_log). Used by the collection's roles; the logic is unit-tested Python."
options:
  _input:
    description: The C(results) of the registered wireguard_key loop.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Publish the preshared keys for the other ends
  ansible.builtin.set_fact:
    my_preshared_keys: "{{ generated.results | wgforward.portforward.preshared_keys }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: "C({path: preshared key})."
  type: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked
from ansible_collections.wgforward.portforward.plugins.plugin_utils.preshared_keys import by_path as _impl


class FilterModule:
    def filters(self):
        return {"preshared_keys": checked(_impl)}
