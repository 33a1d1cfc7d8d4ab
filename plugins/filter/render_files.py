# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: render_files
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: The files a host plan puts on the host
description:
  - Turns a plan from P(wgforward.portforward.plan#filter) into the files the roles write, with their
    contents, so the roles and C(playbooks/render.yml) share one source of truth.
  - WireGuard configs never hold the private key; a C(PostUp) loads it from the key file on the host.
options:
  _input:
    description: One host's plan, from P(wgforward.portforward.plan#filter) with a host or
      P(wgforward.portforward.host_plan#filter).
    type: dict
    required: true
  keys:
    description: Public keys by inventory host name; a peer without one gets a placeholder.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Files for this host
  ansible.builtin.set_fact:
    wgpf_files: "{{ wgpf_plan | wgforward.portforward.render_files(wgpf_public_keys) }}"
"""

RETURN = r"""
_value:
  description:
    - One dict per file with C(path), C(mode), C(kind) (wireguard, nftables, sysctl or routes) and
      C(content); WireGuard configs also carry C(interface), C(interface_digest) (changes when the
      [Interface] section changes, which needs a restart rather than a sync) and C(missing_keys).
    - Empty for a host whose C(wgpf_state) is absent.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files as _render


def render_files(plan, keys=None):
    if not isinstance(plan, dict) or "interfaces" not in plan:
        raise AnsibleFilterError("wgforward.portforward.render_files expects a plan from wgforward.portforward.plan")
    return _render(plan, dict(keys or {}))


class FilterModule:
    def filters(self):
        return {"render_files": render_files}
