# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preshared keys (wgpf_preshared_key): which links use one, and which end makes it.

A link uses a preshared key when either end sets ``wgpf_preshared_key: true``.
One end generates it (the public server; on a hub's link to a spoke, the hub:
the end peers dial), in a 0600 file under the key directory; the other end
gets a copy of that file (the roles carry it with ``no_log``). The rendered
wg-quick config holds only a reference to the file; apply_plan puts the key in
on the host (apply/preshared.py), so ``wg-quick up`` and ``wg syncconf`` read
it from the config and nothing on the controller ever renders it. Deleting the
file on the generating end rotates the key at the next run. The roles' steps
that carry the keys are plugin_utils/preshared_keys.py.

A peer Ansible does not manage never receives a key: a link to it that asks
for one is refused (issue 16 item 2), unless that peer sets
``wgpf_preshared_key: false`` itself, which the explanation then states on
its forwards.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import KEY_DIR
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where

# The end that generates: the one the other dials (public server, then the hub), then by name.
ROLE_RANK = {"public": 0, "intermediate": 1, "private": 2}


def psk_path(iface, peer_host):
    """The key file of the link to ``peer_host`` on this host's ``iface``."""
    return "%s/%s.%s.psk" % (KEY_DIR, iface, peer_host)


def generates(me, other):
    """True when host record ``me`` is the end of its link with ``other`` that generates the key."""
    return (ROLE_RANK[me.role], me.name) < (ROLE_RANK[other.role], other.name)


def annotate(plans, hosts):
    """Give each peer of each plan its ``preshared_key``: None, or {path, generate, source_path}.

    ``source_path`` is where the generating end keeps the same key.
    """
    for name, plan in plans.items():
        me = hosts[name]
        for iface in plan["interfaces"]:
            for peer in iface["peers"]:
                other = hosts.get(peer["host"])
                # A peer the run never contacts cannot receive the key: its links stay without one.
                wanted = other is not None and me.contacted and other.contacted and \
                    (me.preshared_key or other.preshared_key)
                if not wanted:
                    peer["preshared_key"] = None
                    continue
                path, gen = psk_path(iface["name"], peer["host"]), generates(me, other)
                peer["preshared_key"] = {"path": path, "generate": gen,
                                         "source_path": path if gen else psk_path(peer["interface"], name)}
    return plans


def unmanaged_links(model):
    """{unmanaged peer: [hosts it has a WireGuard link with]}: its hub, or the public servers of its forwards."""
    publics = {}
    for fwd in model.forwards:
        if fwd.public:
            publics.setdefault(fwd.to, set()).add(fwd.public)
    return {host.name: [host.intermediate] if host.intermediate else sorted(publics.get(host.name, ()))
            for host in model.hosts.values() if host.public_key is not None}


def check_unmanaged(model, decisions, problems):
    """Refuse a preshared key asked for on a link to a peer Ansible does not manage; note the opt-out."""
    for name, others in unmanaged_links(model).items():
        peer = model.hosts[name]
        opted_out = peer.vars.get("wgpf_preshared_key") is not None and not peer.preshared_key
        for other in (model.hosts.get(o) for o in others):
            if other is None or not (peer.preshared_key or other.preshared_key):
                continue
            if not opted_out:
                asking = " and ".join("'%s'" % h.name for h in (other, peer) if h.preshared_key)
                problems.add(host_where(name), "wgpf_preshared_key", (
                    "its link to '%s' asks for a preshared key (wgpf_preshared_key: true on %s), but '%s' is a peer "
                    "Ansible does not manage, which the collection cannot hand a key: set wgpf_preshared_key: false "
                    "on '%s' to run that link without one" % (other.name, asking, name, name)))
                continue
            note = ("no preshared key on the link between '%s' and '%s', though '%s' asks for one: '%s' is a peer "
                    "Ansible does not manage and sets wgpf_preshared_key: false" % (name, other.name, other.name, name))
            for dec in decisions.values():  # only for a peer that opted out: rare, and one pass each
                if dec.forward.to == name and note not in dec.notes:
                    dec.notes.append(note)
