#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apply
short_description: Apply a WireGuard host's plan, its peers' public keys filled in, in one module call
version_added: "0.1.0"
description:
  - Renders this host's files from its plan (made once per run by M(wgforward.portforward.preflight)) with each peer's
    public key from the peer's fact C(wgforward_portforward), takes the preshared keys its links receive from the key
    steps' results, and runs M(wgforward.portforward.apply_plan) once with all of it (for C(wgpf_state=absent), the
    removal).
  - Calls no module when the host's read in this run (M(wgforward.portforward.read_state)) ran apply_plan's own
    comparison against the arguments the host's last apply kept and found nothing to change (C(in_sync)), and this
    run's arguments, every one of them, have their digest; it returns apply_plan's no-change result with
    RV(verified_by). Any other argument (a forward, a peer's key, a preshared key to copy), drift, a package
    installed or a key made since the read, C(wgpf_state=absent), or a second apply of the host in the run
    calls apply_plan as before.
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  plan:
    description:
      - The digest naming the run's plan, as M(wgforward.portforward.preflight) returns it (RV(wgforward.portforward.preflight#module:plan)).
        Unset, the plan of the inventory as this task sees it is found (made, the first time in the run).
      - Reading the planner's input out of hostvars costs seconds in a large inventory; the roles pass
        preflight's along so that it is read once per play.
    type: str
attributes:
  action:
    description: Runs on the controller, and runs modules on the host through its connection.
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
"""

EXAMPLES = r"""
- name: Apply this host's plan
  wgforward.portforward.apply:
"""

RETURN = r"""
actions:
  description: The commands that changed the host (or would, in check mode), as M(wgforward.portforward.apply_plan) returns them.
  returned: always
  type: list
  elements: str
files:
  description: The paths written or removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
drift:
  description: What was found running that differs from the files, as M(wgforward.portforward.apply_plan) returns it.
  returned: always
  type: list
  elements: str
verified_by:
  description: V(read_state) when apply_plan was not called, the host's read having found it in sync with these arguments.
  returned: when apply_plan was not called
  type: str
  sample: read_state
"""
