# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side steps of the roles that used to be Jinja loops: pick a host's plan,
which packages are missing, and whose public keys a host's configs need.

Public keys travel as a fact of each host (``{interface: public key}``); the
private keys never leave the hosts.
"""

from __future__ import annotations


class PrepareError(Exception):
    """A host the roles cannot prepare; the message names it."""


ROLES = ("public", "intermediate", "private")
GROUPS = tuple("wireguard_%s" % role for role in ROLES)

# By ansible_facts.os_family: what the collection needs on a host.
PACKAGES = {
    "Debian": ["wireguard-tools", "nftables", "iproute2"],
    "RedHat": ["wireguard-tools", "nftables", "iproute"],
}
# What one role needs on top: the public server deletes stale conntrack entries of new UDP forwards.
ROLE_PACKAGES = {
    "public": {"Debian": ["conntrack"], "RedHat": ["conntrack-tools"]},
}
# How to ask which are installed without python3-apt or a package cache; prints "<name> installed".
PACKAGE_QUERY = {
    "Debian": ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n"],
    "RedHat": ["rpm", "--query", "--queryformat=%{NAME} installed\\n"],
}


def host_plan(plans, host, role=None):
    """``host``'s plan from every host's plans; with ``role``, the plan must give the host that role."""
    if host not in plans:
        raise PrepareError("%s is in none of the groups wireguard_public, wireguard_intermediate, wireguard_private, "
                           "so the collection has nothing to plan for it" % host)
    plan = plans[host]
    if role is not None and role not in ROLES:
        raise PrepareError("%s: internal is an internal role: apply wgforward.portforward.wireguard_public, "
                           "wireguard_intermediate or wireguard_private instead (role %r)" % (host, role))
    if role is not None and plan["role"] != role:
        raise PrepareError("%s is planned as a %s server, but the role wgforward.portforward.wireguard_%s is applied to "
                           "it: put it in the group wireguard_%s or apply wgforward.portforward.wireguard_%s"
                           % (host, plan["role"], role, role, plan["role"]))
    return plan


def needed_packages(os_family, role=None):
    """The packages a host of ``role`` needs; every role's when ``role`` is None (what host_state asks about)."""
    roles = ROLES if role is None else (role,)
    extra = [name for r in roles for name in ROLE_PACKAGES.get(r, {}).get(os_family, [])]
    return PACKAGES[os_family] + extra


def package_query(os_family):
    """argv that lists which of the needed packages are installed."""
    if os_family not in PACKAGES:
        raise PrepareError("installing packages on the %s family is not supported: install wireguard-tools, nftables "
                           "and iproute2 yourself and set wireguard_<role>_install_packages to false" % os_family)
    return PACKAGE_QUERY[os_family] + needed_packages(os_family)


def missing_packages(query_lines, os_family):
    """The needed packages (of any role) the query did not report as installed."""
    installed = set()
    for line in query_lines:
        words = line.split()
        if len(words) == 2 and words[1] == "installed":
            installed.add(words[0])
    return [name for name in needed_packages(os_family) if name not in installed]


def _published(hostvars, host, fact):
    known = hostvars[host].get(fact) if host in hostvars else None
    return known if isinstance(known, dict) else {}


def never_contacted(host_vars):
    """A host the collection plans from the inventory alone (DESIGN.md): a container target, or a peer
    Ansible does not manage (its public key in the inventory)."""
    return host_vars.get("wgpf_attachment") == "container" or bool(host_vars.get("wgpf_public_key"))


def outside_play(groups, play_hosts, hostvars=None):
    """The WireGuard hosts of the inventory that are not in this play (--limit, or a role applied to one
    group) and that may be contacted: their facts and public keys are read there, read-only, so the plan
    is the whole inventory's."""
    play = set(play_hosts or [])
    hostvars = hostvars or {}
    return sorted({host for group in GROUPS for host in groups.get(group, [])
                   if host not in play and not never_contacted(hostvars.get(host) or {})})


def _read_keys(read):
    """{host: {interface: public key}} from the host_state results delegated to the hosts outside the play."""
    out = {}
    for result in read or []:
        if isinstance(result, dict) and isinstance(result.get("public_keys"), dict) and result.get("item"):
            out[result["item"]] = result["public_keys"]
    return out


def unpublished_peers(plan, hostvars, plans, fact, read=None, limited=False):
    """The peers whose public key no host published as ``fact`` and no read found: [{host, interface,
    key_file}] to ensure there. Under --limit (``limited``) those are outside the run and are never
    changed: their missing keys fail, naming them."""
    out = []
    read_keys = _read_keys(read)
    for iface in plan["interfaces"]:
        for peer in iface["peers"]:
            # A peer Ansible does not manage has its key in the inventory and is never contacted.
            if peer.get("public_key") or peer["interface"] in _published(hostvars, peer["host"], fact) or \
                    peer["interface"] in read_keys.get(peer["host"], {}):
                continue
            peer_plan = host_plan(plans, peer["host"])
            for peer_iface in peer_plan["interfaces"]:
                entry = {"host": peer["host"], "interface": peer["interface"], "key_file": peer_iface["key_file"]}
                if peer_iface["name"] == peer["interface"] and entry not in out:
                    out.append(entry)
    if limited and out:
        missing = ", ".join("%s %s (%s)" % (e["host"], e["interface"], e["key_file"]) for e in out)
        raise PrepareError("%s: no settled public key on %s, outside --limit: a limited run only reads the hosts "
                           "outside it (it never generates a key or fixes a key file there): run without --limit, "
                           "or include %s" % (plan["host"], missing, " and ".join(sorted({e["host"] for e in out}))))
    return out


def peer_keys(plan, hostvars, fact, ensured=None, read=None):
    """{host: {interface: public key}} of this host's peers: published facts, keys read on the hosts outside
    the play, then keys ensured on the peers."""
    keys = {}
    read_keys = _read_keys(read)
    for iface in plan["interfaces"]:
        for peer in iface["peers"]:
            key = peer.get("public_key") or _published(hostvars, peer["host"], fact).get(peer["interface"]) or \
                read_keys.get(peer["host"], {}).get(peer["interface"])
            if key:
                keys.setdefault(peer["host"], {})[peer["interface"]] = key
    for result in ensured or []:
        if result.get("public_key"):
            keys.setdefault(result["item"]["host"], {})[result["item"]["interface"]] = result["public_key"]
    return keys


def key_files(plan):
    return {iface["name"]: iface["key_file"] for iface in plan["interfaces"]}
