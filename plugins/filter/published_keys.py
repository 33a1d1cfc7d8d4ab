# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: published_keys
author: wgforward.portforward contributors
version_added: 0.2.0
short_description: A host's public keys by interface, from a wireguard_key loop over its plan's interfaces
description:
  - A host's public keys by interface, from a wireguard_key loop over its plan's interfaces.
  - Used by the collection's roles; the logic is unit-tested Python, not Jinja.
options:
  _input:
    description: The registered loop results (items are the plan's interfaces).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Publish this host's public keys
  ansible.builtin.set_fact:
    my_public_keys: "{{ own_keys.results | wgforward.portforward.published_keys }}"
"""

RETURN = r"""
_value:
  description: 'C({interface: public key}); interfaces without a key yet (check mode) are left out.'
  type: dict
"""

# One file per filter: Ansible finds a collection filter by its file name without importing the others.
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import checked
from ansible_collections.wgforward.portforward.plugins.module_utils.apply_prepare import published_keys as _impl


class FilterModule:
    def filters(self):
        return {"published_keys": checked(_impl)}
