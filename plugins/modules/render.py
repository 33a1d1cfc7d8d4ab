#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: render
short_description: Write every file the plan puts on the hosts, on the controller, in one step
version_added: "0.1.0"
description:
  - Plans the inventory (once per run, like every step of the collection's roles) and writes, on the controller,
    every WireGuard host's files under O(dest)C(/<host>/<path on the host>) (wg-quick configs, nftables table,
    sysctl drop-in, routes script, firewall hooks' list) and each WireGuard peer Ansible does not manage its
    wg-quick file as O(dest)C(/<peer>/<peer>.conf), and a picture of the inventory (hosts by role, tunnels,
    each forward's path and technique; past 24 forwards one edge per path and technique) as
    O(dest)C(/inventory.mmd) (Mermaid) and, where Graphviz and its Python binding are installed on the controller,
    O(dest)C(/inventory.svg) (else a warning says why there is none). This is what C(wgforward.portforward.render) (C(playbooks/render.yml))
    runs; it contacts no host.
  - A public key that no host read in this run is a placeholder, C(<public key of HOST, not known yet>), which
    WireGuard refuses to load, so a file previewed before the servers are set up cannot be used by mistake.
    The private keys never appear (a C(PostUp) line loads each from its file on the host; a peer's file has a
    marked line for it).
  - With O(peer_files=true), also (or only, without O(dest)) writes each unmanaged peer's file where the inventory
    puts it (C(wgpf_peer_config_dir), beside the inventory by default), mode C(0600) in a C(0700) folder, once every
    public key it holds is known; the collection's roles do this after every server's keys are known.
  - A file is written only when its content or mode differs, in one rename; check mode writes nothing.
  - The inventory's problems, if any, fail the task as one list.
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  dest:
    description:
      - The folder of the preview. A relative path is relative to the folder the command runs in.
      - Default C(./rendered) when O(peer_files) is not set.
      - Refused when it lies inside the collection's own folders (an installed collection, or C(plugins/),
        C(roles/), C(playbooks/), C(meta/) of a source checkout).
    type: path
  peer_files:
    description: Write each unmanaged peer's file where the inventory puts it, once its servers' public keys are known.
    type: bool
    default: false
  plan:
    description:
      - The digest naming the run's plan, as M(wgforward.portforward.preflight) returns it (RV(wgforward.portforward.preflight#module:plan)).
        Unset, the plan of the inventory as this task sees it is found (made, the first time in the run).
      - Reading the planner's input out of hostvars costs seconds in a large inventory; the roles pass
        preflight's along so that it is read once per play.
    type: str
attributes:
  action:
    description: Runs on the controller.
    support: full
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Reads the hosts' facts and public keys from the fact C(wgforward_portforward) that the roles' first step sets in
    the same run (M(wgforward.portforward.read_state)); facts from an earlier run (a fact cache) are not used.
"""

EXAMPLES = r"""
- name: Preview every host's files under ./rendered
  wgforward.portforward.render:

- name: Preview them elsewhere
  wgforward.portforward.render:
    dest: /tmp/wgpf-preview
"""

RETURN = r"""
dest:
  description: The preview's folder, absolute.
  returned: when the preview is written
  type: str
  sample: /home/me/wgpf/rendered
files:
  description: The files written (or that would be, in check mode).
  returned: always
  type: list
  elements: str
peers_left:
  description: The unmanaged peers whose file was not written because a server's public key is not known yet.
  returned: with O(peer_files=true)
  type: list
  elements: str
"""
