#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight
short_description: Plan every host once per run and check everything that can refuse the run, before any change
version_added: "0.1.0"
description:
  - Plans the whole inventory from every WireGuard host's variables and facts (hostvars), once per run (the plan is
    kept on the controller, in a 0700 folder of the run, and shared by every later step, play and batch).
  - Then checks, for the whole play, everything that can refuse the run, and fails listing every problem at once
    before any host is changed. The inventory's problems; a host of the play in no WireGuard group, or in another
    role's group than O(role); under C(--limit), a public key or a preshared key a host outside the limit would have
    to make; a host whose keys must be made with no C(wg) that gets no package; a C(wgpf_*) variable set where
    the planner does not see it (a play's, a role's, a block's or a task's C(vars), a role parameter), naming the
    variable, the host and the place.
  - A list every host of the play finds is printed once, by the first host that reports it.
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  role:
    description: The role applied (V(public), V(intermediate) or V(private)); every host of the play must be planned in it.
    type: str
    choices: [public, intermediate, private]
  install_packages:
    description:
      - Whether the play installs missing packages on its hosts. Unset, each host's C(wireguard_<role>_install_packages)
        from the inventory, else true. C(--skip-tags wgpf_packages) turns it off.
    type: bool
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
"""

EXAMPLES = r"""
- name: Plan every host and check the run
  wgforward.portforward.preflight:
    role: public
  register: preflight
"""

RETURN = r"""
key_hosts:
  description: The hosts whose key step this host needs, itself first, then the peers it needs a key from that do not run theirs in this step.
  returned: success
  type: list
  elements: str
plan:
  description: The digest of the planner's input that names the run's plan.
  returned: success
  type: str
plan_computed:
  description: Whether this task made the plan (true for one task of the run per planner input).
  returned: success
  type: bool
"""
