#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: check_probe
short_description: Read what the forwards of the inventory need on this host, for the live check
version_added: "0.1.0"
description:
  - With O(expect) (C(wgforward.portforward.check) passes what M(wgforward.portforward.check_plan) returned), reads
    what that step kept for this host; else plans the inventory (once per run) and works out what the live check
    expects on each hop of each forward
    (the WireGuard links of its path, the DNAT map entries, the listening service, where a reply must leave), then
    runs M(wgforward.portforward.forward_probe) on this host with what to read here. Changes nothing.
  - A host with nothing to check is skipped; the inventory's problems fail the task as one list, printed once.
  - Used by C(wgforward.portforward.check) (C(playbooks/check.yml)); M(wgforward.portforward.check_verdicts) draws
    the verdicts from every host's registered result.
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  expect:
    description: The key M(wgforward.portforward.check_plan) returned (only this host's share of the check is read
      then); unset, the inventory is read from hostvars and planned (once per run).
    type: str
attributes:
  action:
    description: Runs on the controller, and runs forward_probe on the host.
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
- name: Read what this host's forwards need
  wgforward.portforward.check_probe:
    expect: "{{ check__plan.expect }}"
  register: check__probe
"""

RETURN = r"""
{}
"""
