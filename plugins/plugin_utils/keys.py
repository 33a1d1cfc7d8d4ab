# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Public keys in the roles: which keys to ensure on a host, what it publishes, and whose keys its configs need.

Public keys travel as a fact of each host (``{interface: public key}``); the
private keys never leave the hosts. host_state (on the host) reports the keys
already settled; wireguard_key makes or fixes the others.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.host_state import KEY_SUFFIX
from ansible_collections.wgforward.portforward.plugins.plugin_utils.host_plan import host_plan
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import PrepareError


def published(hostvars, host, fact):
    known = hostvars[host].get(fact) if host in hostvars else None
    return known if isinstance(known, dict) else {}


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
            if peer.get("public_key") or peer["interface"] in published(hostvars, peer["host"], fact) or \
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
            key = peer.get("public_key") or published(hostvars, peer["host"], fact).get(peer["interface"]) or \
                read_keys.get(peer["host"], {}).get(peer["interface"])
            if key:
                keys.setdefault(peer["host"], {})[peer["interface"]] = key
    for result in ensured or []:
        if result.get("public_key"):
            keys.setdefault(result["item"]["host"], {})[result["item"]["interface"]] = result["public_key"]
    return keys


def key_files(plan):
    return {iface["name"]: iface["key_file"] for iface in plan["interfaces"]}


def keys_to_ensure(plan, state, check_mode=False):
    """The plan's interfaces whose key host_state did not report settled: [{name, key_file}] for wireguard_key."""
    if check_mode and not state.get("wg"):
        # In check mode without wireguard-tools (installed by a real run) there is no wg to derive a key with.
        return []
    return [{"name": iface["name"], "key_file": iface["key_file"]} for iface in plan["interfaces"]
            if _settled_key(state, iface) is None]


def _settled_key(state, iface):
    """The public key host_state reported for the plan's interface, if its key file is the one it read."""
    if iface["key_file"] != "%s/%s%s" % (state.get("key_dir"), iface["name"], KEY_SUFFIX):
        return None
    return (state.get("public_keys") or {}).get(iface["name"])


def host_keys(plan, state, ensured=None):
    """{interface: public key} this host publishes: the settled keys of its plan's interfaces, then
    the results of the wireguard_key loop over keys_to_ensure."""
    out = {}
    for iface in plan["interfaces"]:
        key = _settled_key(state, iface)
        if key:
            out[iface["name"]] = key
    for result in ensured or []:
        if isinstance(result, dict) and result.get("public_key"):
            out[result["item"]["name"]] = result["public_key"]
    return out
