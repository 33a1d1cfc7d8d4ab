# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What model/inventory.py hands the planner from the facts: the facts it reads, nothing else.

The plan is cached per run under a digest of the planner's input: a fuller gathering
(setup in a play of the user's), a fact that changes by the minute, or the roles' own fact
(public keys) must not change that input, or the plan would be made again.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import fingerprint

NETWORK = {
    "interfaces": ["eth0", "br-1.5"],
    "default_ipv4": {"interface": "eth0", "address": "192.0.2.7", "gateway": "192.0.2.1"},
    "default_ipv6": {},
    "eth0": {"type": "ether", "ipv4": {"address": "192.0.2.7"}},
    "br_1_5": {"type": "bridge"},
}


def inventory(facts):
    hostvars = {"h1": {"wgpf_address": "10.0.0.1/24", "inventory_hostname": "h1", "ansible_facts": facts}}
    return from_hostvars(hostvars, {"wireguard_public": ["h1"]})


def test_the_planner_gets_the_network_facts_it_reads():
    facts = inventory(dict(NETWORK))["hosts"]["h1"]["ansible_facts"]
    assert facts == NETWORK


def test_the_collections_own_planner_facts_are_kept():
    # A fact host_state files for the planner (named wgpf_*, e.g. the listening ports) is part of its input.
    facts = inventory(dict(NETWORK, wgpf_ports={"tcp": [22]}))["hosts"]["h1"]["ansible_facts"]
    assert facts["wgpf_ports"] == {"tcp": [22]}


def test_other_facts_do_not_change_the_planners_input():
    fuller = dict(NETWORK, date_time={"epoch": "1700000000"}, memfree_mb=812, distribution="Debian",
                  wgforward_portforward={"public_keys": {"wg0": "k"}, "run": "ansible-local-1"})
    assert inventory(fuller) == inventory(dict(NETWORK))
    assert fingerprint(inventory(fuller)) == fingerprint(inventory(dict(NETWORK)))
    changed = dict(NETWORK, default_ipv4={"interface": "eth1"})
    assert fingerprint(inventory(changed)) != fingerprint(inventory(dict(NETWORK)))
