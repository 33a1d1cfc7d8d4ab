# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hosts the run never contacts: containers on an intermediate's bridge, and WireGuard peers Ansible
does not manage (a desktop, a game PC, a phone: the inventory gives their public key).

Both are planned from the inventory alone: no facts, no tasks, no connection.
``contacted`` is the one place that says which hosts those are; the roles end
such hosts before anything connects. Here too: their variables
(wgpf_public_key, wgpf_peer_hooks, wgpf_peer_config_dir), and what a container
target must give. decide/peer_file.py says which techniques
fit such a peer; plan/uncontacted.py checks what the planner put on them.
"""

from __future__ import annotations

import posixpath

from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G
from ansible_collections.wgforward.portforward.plugins.module_utils.core.keys import is_valid_key
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where

UNMANAGED_KEYS = ("wgpf_public_key", "wgpf_peer_hooks", "wgpf_peer_config_dir")
# Beside the inventory that describes the peers (their keys and addresses): the playbook's own
# folder is inside the installed collection when it runs as wgforward.portforward.site.
DEFAULT_CONFIG_DIR = "wgpf-peers"
CONTAINER = "container"


def contacted(hv):
    """False for a host the run must never contact: a container target, or a peer given by its public key."""
    hv = hv or {}
    if hv.get("wgpf_attachment") == CONTAINER:
        return False
    return hv.get("wgpf_public_key") in (None, "")


def parse_unmanaged(where, role, hv, problems):
    """The Host fields of an unmanaged peer (public_key, peer_hooks, peer_config_dir) and ``contacted``."""
    key = hv.get("wgpf_public_key")
    out = {"contacted": contacted(hv), "public_key": None, "peer_hooks": False, "peer_config_dir": None}
    if key in (None, ""):
        for name in ("wgpf_peer_hooks", "wgpf_peer_config_dir"):
            if hv.get(name) is not None:
                problems.add(where, name, "only for a peer Ansible does not manage (one with wgpf_public_key)")
        return out
    if role != "private":
        problems.add(where, "wgpf_public_key", "only a private server can be a peer Ansible does not manage")
    elif not isinstance(key, str) or not is_valid_key(key) or key != key.strip():
        problems.add(where, "wgpf_public_key", "must be a WireGuard public key (44 characters of base64, as "
                     "`wg pubkey` prints it), got %s" % G.quote(key))
    else:
        out["public_key"] = key
    if hv.get("wgpf_address") is None and hv.get("wgpf_interfaces") is None:
        problems.add(where, "wgpf_address", "required for a peer Ansible does not manage: its tunnel address")
    if hv.get("wgpf_attachment") not in (None, "wireguard"):
        problems.add(where, "wgpf_attachment", "a peer given by wgpf_public_key is a WireGuard peer: leave "
                     "wgpf_attachment unset or set it to wireguard")
    hooks = hv.get("wgpf_peer_hooks")
    if hooks is not None and not G.boolean(hooks):
        problems.add(where, "wgpf_peer_hooks", "must be true or false, got %r" % (hooks,))
    out["peer_hooks"] = hooks is True
    out["peer_config_dir"] = _config_dir(where, hv, problems)
    return out


def _config_dir(where, hv, problems):
    """Where the peer's file goes on the controller: set, or wgpf-peers, in the folder that holds the inventory."""
    base = inventory_base(hv.get("inventory_dir"), hv.get("ansible_inventory_sources"))
    value = hv.get("wgpf_peer_config_dir")
    if value is None:
        return posixpath.join(base, DEFAULT_CONFIG_DIR)
    if not isinstance(value, str) or not value.strip() or "\n" in value or "\0" in value:
        problems.add(where, "wgpf_peer_config_dir", "must be a folder on the controller, got %s" % G.quote(value))
        return None
    return posixpath.normpath(posixpath.join(base, value))


def inventory_base(inventory_dir, sources):
    """The folder that holds the inventory: the inventory file's, or beside an inventory folder given
    with -i (never inside it: Ansible reads every file below an inventory folder as inventory)."""
    base = inventory_dir if isinstance(inventory_dir, str) and inventory_dir else "."
    for source in sources if isinstance(sources, list) else []:
        source = posixpath.normpath(str(source))
        if base == source or base.startswith(source.rstrip("/") + "/"):
            return posixpath.dirname(source) or "."
    return base


def check_container(host, problems):
    """A container target has no facts to infer from: its address must be given."""
    if host.attachment != CONTAINER:
        return
    if not host.vars.get("wgpf_lan_address"):
        problems.add(host_where(host.name), "wgpf_lan_address", "required for wgpf_attachment: container: the "
                     "container is never contacted, so there are no facts to find its address in")
    if host.vars.get("wgpf_address") is not None or host.vars.get("wgpf_public_key"):
        problems.add(host_where(host.name), "wgpf_attachment", "a container is reached over its host's bridge, "
                     "not WireGuard: remove wgpf_address and wgpf_public_key")


def check_bridge(name, fields, inter, problems):
    """A container's address must be on the intermediate's LAN (bridge) interface the planner found."""
    if inter is None or not fields["lan_addresses"]:
        return
    if inter["lan_interface"] is None:
        problems.add(host_where(name), "wgpf_lan_address", "%s is on none of %s's interfaces (its facts): "
                     "set wgpf_lan_interface on %s to the bridge it is attached to"
                     % (", ".join(str(ip) for ip in fields["lan_addresses"]), inter["name"], name))
