# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: plan
author: wgforward.portforward contributors
version_added: 0.1.0
short_description: Plan the WireGuard interfaces, nftables table, sysctls, routes and rules of hosts
description:
  - Reads the whole inventory (the C(wgpf_) variables of the hosts in the groups C(wireguard_public),
    C(wireguard_intermediate) and C(wireguard_private), and their gathered facts where variables are
    not set), validates it, picks each forward's technique and returns what one host needs, or
    what every host needs when O(host) is not given.
  - Every problem found in the inventory is reported at once, each naming the forward or host and the
    field, before any host is touched.
  - Needs the Python library netaddr on the controller.
options:
  _input:
    description: C(hostvars), every inventory host's variables (the C(wgpf_*) variables, and the gathered facts
      the planner infers defaults from).
    type: dict
    required: true
  groups:
    description: C(groups), the inventory's groups; C(wireguard_public), C(wireguard_intermediate) and
      C(wireguard_private) name the part each host plays.
    type: dict
    required: true
  host:
    description:
      - The inventory host to plan for.
      - Without it, a dictionary of every host's plan, by host name. Planning the whole inventory once
        (for example with C(run_once)) and picking each host's plan from it is much cheaper in a large
        play than planning per host, since each host's task runs in its own worker process.
    type: str
    required: false
"""

EXAMPLES = r"""
- name: Plan this host
  ansible.builtin.set_fact:
    wgpf_plan: "{{ hostvars | wgforward.portforward.plan(groups, inventory_hostname) }}"

- name: Plan every host once (the whole inventory is read either way)
  ansible.builtin.set_fact:
    wgpf_plans: "{{ hostvars | wgforward.portforward.plan(groups) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - The plan, with C(host), C(role), C(state), C(interfaces) (each with C(name), C(addresses),
      C(listen_port), C(table), C(key_file), C(rp_filter), C(rules) and C(peers) with C(host),
      C(endpoint), C(keepalive) and C(allowed_ips)), C(nftables) (DNAT maps, masquerading, accepted
      flows, connection marks and SAV), C(sysctls), C(routes), C(rules) and C(forwards) (the decision
      for each forward that involves this host) and C(layout), where the collection's files live on a host
      (C(header), C(wg_dir), C(key_dir), C(etc_dir), C(nft_path), C(nft_table), C(sysctl_path),
      C(routes_path), C(sync_script), C(nft_unit), C(routes_unit)).
    - Without O(host), a dictionary of such plans by host name.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wgforward.portforward.plugins.module_utils.core.addresses import HAS_NETADDR
from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import as_dict as layout
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_cached


def plan(hostvars, groups, host=None):
    if not HAS_NETADDR:
        raise AnsibleFilterError("wgforward.portforward.plan needs the Python library netaddr on the controller")
    try:
        plans = plan_cached(from_hostvars(hostvars, groups))
    except PlanError as exc:
        raise AnsibleFilterError(str(exc))
    # Copies: the cached plans stay as the planner made them.
    where = layout()
    if host is None:
        return {name: dict(each, layout=where) for name, each in plans.items()}
    if host not in plans:
        raise AnsibleFilterError("wgforward.portforward.plan: host '%s' is in none of the groups wireguard_public, "
                                 "wireguard_intermediate, wireguard_private" % host)
    return dict(plans[host], layout=where)


class FilterModule:
    def filters(self):
        return {"plan": plan}
