#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: keys
short_description: Make a WireGuard host's keys where missing, and carry the preshared keys it makes
version_added: "0.1.0"
description:
  - Runs M(wgforward.portforward.wireguard_key) on the host for each of its interfaces whose key is not settled (its
    read found none), and for each preshared key it makes (the plan says which end of a link makes it) that does not
    exist yet or that the other end does not hold (their digests differ); nothing runs on the host otherwise.
  - Updates the host's fact C(wgforward_portforward) with the public keys made, so the peers' configs find them.
  - Returns the preshared keys the other ends need in RV(preshared_keys); the whole result is then hidden
    (C(no_log)) and must be registered, never put into a fact. M(wgforward.portforward.apply) on the other end
    takes them from the variable C(engine__keys) every host's key step registers.
  - With C(delegate_to) (and C(delegate_facts)), does the same on a peer outside the play or batch; there it also
    installs the packages a host without C(wg) needs, as its own play would. Under C(--limit), a host outside the
    limit is only read (check mode, nothing made).
  - Every key step on one host runs one at a time (a lock on the controller), and wireguard_key keeps a key another
    run made meanwhile, so two steps never make two keys for one interface.
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
- name: Ensure this host's keys, and its peers' outside the play
  wgforward.portforward.keys:
  delegate_to: "{{ item }}"
  delegate_facts: true
  loop: "{{ preflight.key_hosts }}"
  register: engine__keys
"""

RETURN = r"""
preshared_keys:
  description: The preshared keys this host makes that the other end needs, C({host, path, value}). Secrets.
  returned: always
  type: list
  elements: dict
ansible_facts:
  description: The host's fact C(wgforward_portforward), with the public keys made.
  returned: success
  type: dict
"""
