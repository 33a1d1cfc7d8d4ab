#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: check_plan
short_description: Plan the inventory for the live check, once, and keep what each hop must show
version_added: "0.1.0"
description:
  - Plans the inventory as C(wgforward.portforward.site) does and works out what the live check expects on each
    hop of each forward (the WireGuard links of its path, the DNAT map entries, the listening service, where a
    reply must leave). Keeps it on the controller for the rest of the run, and returns the key
    M(wgforward.portforward.check_probe) and M(wgforward.portforward.check_verdicts) find it by
    (O(wgforward.portforward.check_probe#module:expect)), so neither reads the inventory again.
  - The inventory's problems fail the task as one list. Changes nothing and contacts no host; meant for
    C(run_once), after every host's facts are read.
  - Used by C(wgforward.portforward.check) (C(playbooks/check.yml)).
author:
  - wgforward.portforward maintainers (@wgforward)
options: {}
attributes:
  action:
    description: Runs on the controller.
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
- name: Plan every host for the check
  wgforward.portforward.check_plan:
  register: check__plan
  run_once: true

- name: Read what this host's forwards need
  wgforward.portforward.check_probe:
    expect: "{{ check__plan.expect }}"
  register: check__probe
"""

RETURN = r"""
expect:
  description: The key the run keeps the expectations under.
  returned: success
  type: str
forwards:
  description: How many forwards the check will judge.
  returned: success
  type: int
hosts:
  description: The hosts the run contacts that have something to read for the check.
  returned: success
  type: list
  elements: str
"""
