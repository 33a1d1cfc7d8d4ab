#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: packages
short_description: Install the packages a WireGuard host's role needs that its read found missing
version_added: "0.1.0"
description:
  - Installs, with M(ansible.builtin.apt) or M(ansible.builtin.dnf), the packages (wireguard-tools, nftables,
    iproute2, and conntrack on a public server) that M(wgforward.portforward.read_state) found missing on this host.
    Nothing runs on the host, and no package cache is updated, when none is missing.
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  install_packages:
    description: Install them. Unset, the host's C(wireguard_<role>_install_packages) from the inventory, else true.
    type: bool
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
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Install the missing packages
  wgforward.portforward.packages:
    install_packages: "{{ wireguard_public_install_packages }}"
"""

RETURN = r"""
{}
"""
