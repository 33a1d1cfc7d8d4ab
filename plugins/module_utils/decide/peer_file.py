# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the wg-quick file of a peer Ansible does not manage can hold, and so which techniques fit it.

Such a peer (a desktop, a game PC, a phone: the inventory gives its public key)
gets only its own wg-quick file: AllowedIPs, and with wgpf_peer_hooks also
Table= and PostUp rules, never an nftables table. Each technique says what its
part on the private server needs (Technique.peer_config); a forced technique
that needs more is refused, and one the tree picked is replaced by the full
tunnel, with a note saying why.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import (
    PEER_ALLOWED_IPS, PEER_HOOKS, PEER_HOST)


def peer_config_needed(technique):
    return getattr(technique, "peer_config", PEER_HOST)


def expressible(technique, private):
    """True when the technique's part on the unmanaged peer fits in the peer's wg-quick file."""
    need = peer_config_needed(technique)
    return need == PEER_ALLOWED_IPS or (need == PEER_HOOKS and private.peer_hooks)


def what_it_can(private):
    if private.peer_hooks:
        return "its wg-quick file takes AllowedIPs, Table= and PostUp rules (wgpf_peer_hooks) but no nftables table"
    return ("its config must stay valid for the official WireGuard apps, so it takes AllowedIPs but no "
            "PostUp/Table= (wgpf_peer_hooks is false)")


def forced_problem(technique, private):
    """Why a forced technique cannot be written into an unmanaged peer's file (None when it can)."""
    if private.public_key is None or expressible(technique, private):
        return None
    return ("%s needs %s on '%s', a peer Ansible does not manage: %s" % (
        technique.name, "an nftables table" if peer_config_needed(technique) == PEER_HOST else "PostUp rules",
        private.name, what_it_can(private)))


def substitute_note(tree_name, technique, private, public):
    return ("%s instead of %s: '%s' is a WireGuard peer Ansible does not manage (wgpf_public_key) and %s; the "
            "full tunnel (AllowedIPs = 0.0.0.0/0, ::/0 towards %s) carries its replies and all its other "
            "traffic through %s" % (technique.name, tree_name, private.name, what_it_can(private), public, public))
