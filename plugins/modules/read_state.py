#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: read_state
short_description: Read a WireGuard host once per run, for the collection's roles
version_added: "0.1.0"
description:
  - Runs M(wgforward.portforward.host_state) on the host (the facts the planner reads, the missing packages, the
    settled public keys, which preshared key files hold a key and their digests) and files what the other steps
    need as the fact C(wgforward_portforward), stamped with this run. A host already read in this run (by an earlier
    play, batch or a peer's delegated read) is not read again.
  - With C(delegate_to) and C(delegate_facts), reads a host outside the play; the roles read every WireGuard host the
    plan needs that no task of this step reads (RV(unread)). Changes nothing on any host.
  - Where the host keeps the arguments of its last apply (C(/var/lib/wgpf/applied.json), written by
    M(wgforward.portforward.apply_plan)), the same read compares the host with them by apply_plan's own run in check
    mode, and the fact says whether nothing would change (C(in_sync)) and their digest (C(applied_digest));
    M(wgforward.portforward.apply) then calls no module when this run's arguments have that digest, so a host that
    changes nothing costs this one round trip. O(compare_applied=false) leaves the comparison out.
  - The first step of the collection's roles (C(wgforward.portforward.engine) and the three roles that import it).
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  compare_applied:
    description:
      - Whether the read compares the host with the arguments its last apply kept (C(in_sync), C(applied_digest) in
        the fact). False for a read that only plans (C(playbooks/check.yml)); the fact then says C(in_sync) false,
        so an apply later in the same run calls its module. At 10,000 forwards the comparison is two thirds of the
        read.
    type: bool
    default: true
attributes:
  action:
    description: Runs on the controller, and runs modules on the host through its connection.
    support: full
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - The fact holds public keys and digests of the preshared keys, never a private or a preshared key, so a fact cache
    may keep it. A fact of an earlier run is never trusted; the roles read the host again.
"""

EXAMPLES = r"""
- name: Read this host
  wgforward.portforward.read_state:
  register: state

- name: Read the WireGuard hosts outside this play
  wgforward.portforward.read_state:
  delegate_to: "{{ item }}"
  delegate_facts: true
  run_once: true
  loop: "{{ state.unread }}"
"""

RETURN = r"""
unread:
  description:
    - The WireGuard hosts the run contacts that no read of this run reached and that do not read themselves in this
      task (outside the play or the batch, or not waited for under a C(free) strategy).
  returned: when not delegated
  type: list
  elements: str
ansible_facts:
  description:
    - The facts the planner reads (as M(wgforward.portforward.host_state) returns them) and C(wgforward_portforward),
      which holds C(in_sync) and C(applied_digest) as host_state returns them (C(in_sync) false, C(applied_digest)
      null where the host keeps no arguments).
  returned: when the host was read
  type: dict
"""
