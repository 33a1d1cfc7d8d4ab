# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what the planner needs out of Ansible's hostvars and groups, as plain data."""

from __future__ import annotations

import re
from collections.abc import Mapping

ROLES = ("public", "intermediate", "private")
# The groups that give a host its part, one per role.
GROUPS = tuple("wireguard_%s" % role for role in ROLES)
ROLE_OF_GROUP = dict(zip(GROUPS, ROLES))

FACT_VARS = ("ansible_default_ipv4", "ansible_default_ipv6", "ansible_interfaces")
# Also read: where the inventory is (unmanaged peers' files go beside it), and how Ansible reaches the
# host (no forward may take that port of a public server: own_ports.py).
PLANNER_VARS = ("inventory_dir", "ansible_inventory_sources", "ansible_port", "ansible_ssh_port", "ansible_connection")


def plain(value):
    """Tagged/lazy Ansible containers -> dict/list/str/int/bool, so the planner sees ordinary data."""
    if isinstance(value, dict) or isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def host_vars(hv, seen_forwards):
    """The planner's variables of one host; equal forward lists are converted once and shared."""
    out = {}
    for key in hv:
        if key == "wgpf_forwards":
            raw = hv[key]
            for known_raw, known in seen_forwards:
                if raw is known_raw or raw == known_raw:
                    out[key] = known
                    break
            else:
                out[key] = plain(raw)
                seen_forwards.append((raw, out[key]))
        elif key.startswith("wgpf_") or key in FACT_VARS or key in PLANNER_VARS:
            out[key] = plain(hv[key])
    for ifname in out.get("ansible_interfaces") or []:
        for key in _iface_keys(ifname, "ansible_"):
            if key in hv:
                out[key] = plain(hv[key])
    if isinstance(hv.get("ansible_facts"), Mapping):
        out["ansible_facts"] = planner_facts(hv["ansible_facts"])
    return out


def _iface_keys(ifname, prefix=""):
    # Both spellings facts.iface_facts looks up: as named, and with - : . as _.
    return (prefix + str(ifname), prefix + re.sub(r"[-:.]", "_", str(ifname)))


def planner_facts(facts):
    """The part of ``ansible_facts`` the planner reads: FACT_VARS, the interfaces', and the collection's own
    facts for the planner, named wgpf_* (the roles' fact of keys, wgforward_portforward, is not one). A fuller
    gathering (setup), the time of day or the roles' key fact does not change the plan's input."""
    out = {}
    for name in FACT_VARS:
        short = name[len("ansible_"):]
        if short in facts:
            out[short] = plain(facts[short])
    for name in facts:
        if isinstance(name, str) and name.startswith("wgpf_"):
            out[name] = plain(facts[name])
    names = out.get("interfaces")
    for ifname in names if isinstance(names, list) else []:
        for key in _iface_keys(ifname):
            if key in facts:
                out[key] = plain(facts[key])
    return out


def from_hostvars(hostvars, groups):
    """{'hosts': {...}, 'groups': {...}} for the hosts of the three wireguard_* groups."""
    groups = {k: list(v) for k, v in (groups or {}).items()}
    hosts = {}
    seen_forwards = []
    for group in GROUPS:
        for name in groups.get(group) or []:
            if name not in hosts:
                hosts[name] = host_vars(hostvars[name], seen_forwards) if name in hostvars else {}
    return {"hosts": hosts, "groups": groups}
