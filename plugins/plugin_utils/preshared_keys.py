# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preshared keys in the roles: which keys a host generates, publishes and receives (no_log tasks carry them).

Which links have a key and which end makes it is the plan's (plan/psk.py); the
host fills the keys into its configs (apply/preshared.py).
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.plugin_utils.keys import published
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import PrepareError


def _links(plan):
    if plan.get("state") == "absent":
        return
    for iface in plan["interfaces"]:
        for peer in iface["peers"]:
            if peer.get("preshared_key"):
                yield iface, peer, peer["preshared_key"]


def to_generate(plan, state=None, play_hosts=None, limited=False):
    """[{path, peer, create}] of the keys this host generates. Under --limit a key is never made for a
    link whose other end is outside the play (that end would not get it): it must exist already
    (``state``: host_state's result), else this fails naming the link."""
    play = set(play_hosts or [])
    have = set((state or {}).get("preshared_key_files") or [])
    out = []
    for iface, peer, psk in _links(plan):
        if not psk["generate"]:
            continue
        create = not limited or peer["host"] in play
        if not create and psk["path"] not in have:
            raise PrepareError("%s %s: the preshared key of the link to %s (%s) does not exist yet, and %s is outside "
                               "--limit, so it would not get it: run without --limit, or include %s"
                               % (plan["host"], iface["name"], peer["host"], psk["path"], peer["host"], peer["host"]))
        out.append({"path": psk["path"], "peer": "%s %s" % (iface["name"], peer["host"]), "create": create})
    return out


def by_path(results):
    """{path: key} from the results of the wireguard_key loop over to_generate (what a host publishes)."""
    return {r["item"]["path"]: r["preshared_key"] for r in results or []
            if isinstance(r, dict) and r.get("preshared_key")}


def unpublished(plan, hostvars, fact, read=None, limited=False):
    """[{host, path}] of the keys this host receives whose generating end published none (it is outside
    the play): read there by a delegated wireguard_key (outside --limit, made there if missing). ``read``:
    the host_state results delegated to the hosts outside the play; under --limit a key they do not
    list fails naming the link."""
    files = {r["item"]: set(r.get("preshared_key_files") or []) for r in read or []
             if isinstance(r, dict) and r.get("item")}
    out = []
    for iface, peer, psk in _links(plan):
        if psk["generate"] or psk["source_path"] in published(hostvars, peer["host"], fact):
            continue
        if limited and psk["source_path"] not in files.get(peer["host"], ()):
            raise PrepareError("%s %s: no preshared key on %s (%s) for this link, and %s is outside --limit, where "
                               "a limited run makes nothing: run without --limit, or include %s"
                               % (plan["host"], iface["name"], peer["host"], psk["source_path"], peer["host"],
                                  peer["host"]))
        out.append({"host": peer["host"], "path": psk["source_path"]})
    return out


def to_receive(plan, hostvars, fact, read=None, check_mode=False):
    """[{path, peer, value}] of the keys this host receives, from the generating ends' published keys
    or the delegated reads. A key no end has fails naming the link, except in check mode."""
    got = {}
    for result in read or []:
        if isinstance(result, dict) and result.get("preshared_key"):
            got[(result["item"]["host"], result["item"]["path"])] = result["preshared_key"]
    out = []
    for iface, peer, psk in _links(plan):
        if psk["generate"]:
            continue
        value = published(hostvars, peer["host"], fact).get(psk["source_path"]) or \
            got.get((peer["host"], psk["source_path"]))
        if not value:
            if check_mode:
                continue
            raise PrepareError("%s %s: no preshared key from %s (%s): run the roles on %s too"
                               % (plan["host"], iface["name"], peer["host"], psk["source_path"], peer["host"]))
        out.append({"path": psk["path"], "peer": "%s %s" % (iface["name"], peer["host"]), "value": value})
    return out
