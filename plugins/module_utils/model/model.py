# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse and validate the inventory model of DESIGN.md into plain records.

The entry point only: forwards.py, hosts.py (with knobs.py), wg_interfaces.py and
crosscheck.py validate, facts.py infers defaults from facts, grammar.py holds
the grammar of every value that lands in a file. Everything is pure Python on
top of netaddr; no Ansible import. Every problem is collected, so one run
reports all of them at once.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core.origins import DEFAULT
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import Problems, host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.model import crosscheck as X
from ansible_collections.wgforward.portforward.plugins.module_utils.model import facts as F
from ansible_collections.wgforward.portforward.plugins.module_utils.model.forwards import check_port_clashes, parse_forwards
from ansible_collections.wgforward.portforward.plugins.module_utils.model.hosts import check_required, parse_host
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import GROUPS, ROLE_OF_GROUP
from ansible_collections.wgforward.portforward.plugins.module_utils.model.records import Host, Model
from ansible_collections.wgforward.portforward.plugins.module_utils.model.unmanaged import CONTAINER, check_bridge
from ansible_collections.wgforward.portforward.plugins.module_utils.model.wg_interfaces import check_links

def build_model(inventory, vocabulary, problems=None):
    """inventory: {'hosts': {name: vars}, 'groups': {group: [names]}} -> Model.

    ``vocabulary`` (model/vocabulary.py, decide/tree.VOCABULARY) names the techniques a forward may
    force and the tree's answers a forward or a host gives.

    Raises PlanError, unless the caller passes its own Problems to collect into
    (it then goes on with the valid part of the model and raises later).
    """
    A.require_netaddr()
    collect = problems is not None
    problems = problems if collect else Problems()
    groups = inventory.get("groups") or {}
    drafts = _drafts(groups, inventory.get("hosts") or {}, vocabulary, problems)
    forwards = _collect_forwards(drafts, vocabulary, problems)
    X.check_forward_references(forwards, drafts, groups, problems)
    X.check_intermediate_references(drafts, problems)
    _infer_across_hosts(drafts, problems)
    hosts = {name: Host(**draft) for name, draft in drafts.items()}
    for host in hosts.values():
        check_required(host, problems)
    check_links(hosts, problems)
    X.check_shared_addresses(hosts, problems)
    X.check_sources(forwards, hosts, problems)
    check_port_clashes(forwards, hosts, problems)
    if not collect:
        problems.raise_if_any()
    return Model(hosts, forwards, groups)


def _drafts(groups, host_vars, vocabulary, problems):
    """{name: draft} of the hosts of the three groups, each in one group only."""
    drafts = {}
    for group in GROUPS:
        for name in groups.get(group) or []:
            if name in drafts:
                problems.add(host_where(name), None, "is in both wireguard_%s and %s: a host plays one part"
                             % (drafts[name]["role"], group))
                continue
            drafts[name] = parse_host(name, ROLE_OF_GROUP[group], host_vars.get(name) or {}, vocabulary, problems)
    return drafts


def _infer_across_hosts(drafts, problems):
    """An intermediate's LAN from where its private servers live, then each private server's Q5 from it."""
    on_lan = {}
    for draft in drafts.values():
        if draft["role"] == "private" and draft["intermediate"] and draft["attachment"] != "wireguard":
            on_lan.setdefault(draft["intermediate"], []).append(draft)
    for name, draft in drafts.items():
        if draft["role"] == "intermediate":
            F.infer_intermediate_lan(host_where(name), draft, on_lan.get(name, []), problems)
    for privates in on_lan.values():
        for draft in privates:
            F.infer_gateway(draft, drafts.get(draft["intermediate"]))
            if draft["attachment"] == CONTAINER:
                check_bridge(draft["name"], draft, drafts.get(draft["intermediate"]), problems)
    for draft in drafts.values():
        if draft["gateway_is_intermediate"] is None:
            draft["gateway_is_intermediate"], draft["gateway_origin"] = False, DEFAULT


def _collect_forwards(drafts, vocabulary, problems):
    """wgpf_forwards usually comes from group_vars/all: read it once per distinct definition."""
    chosen = None
    for name, draft in drafts.items():
        raw = draft["vars"].get("wgpf_forwards")
        if raw is None:
            continue
        if chosen is None:
            chosen = (name, raw)
        elif raw is not chosen[1] and raw != chosen[1]:
            problems.add(host_where(name), "wgpf_forwards", "differs from the list host '%s' sees: define the "
                         "forwards once, usually in group_vars/all" % chosen[0])
    return parse_forwards(chosen[1] if chosen else [], vocabulary, problems)
