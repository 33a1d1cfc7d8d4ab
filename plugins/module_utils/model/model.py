# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse and validate the inventory model (README.md, "Inventory") into plain records.

The entry point only: forwards.py, hosts.py (with knobs.py), wg_interfaces.py and
crosscheck.py validate, facts.py infers defaults from facts, core/grammar.py holds
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
from ansible_collections.wgforward.portforward.plugins.module_utils.model.unmanaged import (
    CONTAINER, check_bridge, check_keys)
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
    host_fields = _host_fields(groups, inventory.get("hosts") or {}, vocabulary, problems)
    forwards = _collect_forwards(host_fields, vocabulary, problems)
    X.check_forward_references(forwards, host_fields, groups, problems)
    X.check_intermediate_references(host_fields, problems)
    _infer_across_hosts(host_fields, problems)
    hosts = {name: Host(**fields) for name, fields in host_fields.items()}
    for host in hosts.values():
        check_required(host, problems)
    check_links(hosts, problems)
    check_keys(hosts, problems)
    X.check_shared_addresses(hosts, problems)
    X.check_sources(forwards, hosts, problems)
    check_port_clashes(forwards, hosts, problems)
    if not collect:
        problems.raise_if_any()
    return Model(hosts, forwards, groups)


def _host_fields(groups, host_vars, vocabulary, problems):
    """{name: fields} of the hosts of the three groups, each in one group only."""
    host_fields = {}
    for group in GROUPS:
        for name in groups.get(group) or []:
            if name in host_fields:
                problems.add(host_where(name), None, "is in both wireguard_%s and %s: a host plays one part"
                             % (host_fields[name]["role"], group))
                continue
            host_fields[name] = parse_host(name, ROLE_OF_GROUP[group], host_vars.get(name) or {}, vocabulary, problems)
    return host_fields


def _infer_across_hosts(host_fields, problems):
    """An intermediate's LAN from where its private servers live, then each private server's Q5 from it."""
    on_lan = {}
    for fields in host_fields.values():
        if fields["role"] == "private" and fields["intermediate"] and fields["attachment"] != "wireguard":
            on_lan.setdefault(fields["intermediate"], []).append(fields)
    for name, fields in host_fields.items():
        if fields["role"] == "intermediate":
            F.infer_intermediate_lan(host_where(name), fields, on_lan.get(name, []), problems)
    for privates in on_lan.values():
        for fields in privates:
            F.infer_gateway(fields, host_fields.get(fields["intermediate"]))
            if fields["attachment"] == CONTAINER:
                check_bridge(fields["name"], fields, host_fields.get(fields["intermediate"]), problems)
            X.check_lan_side(fields, host_fields.get(fields["intermediate"]), problems)
    for fields in host_fields.values():
        if fields["gateway_is_intermediate"] is None:
            fields["gateway_is_intermediate"], fields["gateway_origin"] = False, DEFAULT


def _collect_forwards(host_fields, vocabulary, problems):
    """wgpf_forwards usually comes from group_vars/all: read it once per distinct definition."""
    chosen = None
    for name, fields in host_fields.items():
        raw = fields["vars"].get("wgpf_forwards")
        if raw is None:
            continue
        if chosen is None:
            chosen = (name, raw)
        elif raw is not chosen[1] and raw != chosen[1]:
            problems.add(host_where(name), "wgpf_forwards", "differs from the list host '%s' sees: define the "
                         "forwards once, usually in group_vars/all" % chosen[0])
    return parse_forwards(chosen[1] if chosen else [], vocabulary, problems)
