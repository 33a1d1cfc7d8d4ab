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
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import KEY_DIR

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
