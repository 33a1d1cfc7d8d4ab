# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: check_expect
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: What the live check reads on each host and expects on each hop of each forward
description:
  - Plans the inventory like P(wgforward.portforward.plan#filter) and returns, per forward, its hops in path order
    (public server, intermediate, private server) with what must hold on each, and per contacted host the arguments
    of M(wgforward.portforward.forward_probe).
  - On a hop, in this order, the WireGuard links of the path (up, a handshake with the peer within 180 s when the
    link has a keepalive), the public server's DNAT map entries, the service listening on the private server, and
    where a reply of the service to an Internet address (the first of the forward's C(sources) when it has them)
    must leave, with the packet mark of the technique (interface, and gateway on a LAN).
  - A host the run does not contact (its plan says C(contacted=false)) gets no probe; its hop reads "not checked".
  - Used by C(playbooks/check.yml) (C(wgforward.portforward.check)); the logic is unit-tested Python.
options:
  _input:
    description: C(hostvars), every inventory host's variables and gathered facts, as for
      P(wgforward.portforward.plan#filter).
    type: dict
    required: true
  groups:
    description: C(groups), the inventory's groups; C(wireguard_public), C(wireguard_intermediate) and
      C(wireguard_private) name the part each host plays.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: What to read and expect
  ansible.builtin.set_fact:
    expect: "{{ hostvars | wgforward.portforward.check_expect(groups) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: C(forwards), one dict per forward (C(forward), C(public), C(to), C(path), C(hops)), and C(hosts),
    per contacted host the arguments of M(wgforward.portforward.forward_probe).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_expect import expectations
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars


def check_expect(hostvars, groups):
    try:
        return expectations(from_hostvars(hostvars, groups))
    except PlanError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"check_expect": check_expect}
