#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: explain
short_description: Explain the technique each forward of the inventory gets, as a task
version_added: "0.1.0"
description:
  - Validates the inventory like the roles do and returns, per forward, the technique and the path through the
    decision tree, with each answer, where it came from (set, inferred from facts, default) and the reason of each
    step. C(wgforward.portforward.explain) (C(playbooks/explain.yml)) prints RV(lines).
  - The same as the P(wgforward.portforward.explain#filter) filter, but the inventory's problems fail the task as
    one list (a filter's failure is wrapped in the text of the task that called it).
  - Runs on the controller and contacts no host; without facts, the values facts would give are reported as missing.
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
- name: Explain every forward
  wgforward.portforward.explain:
  register: explained

- name: Show it
  ansible.builtin.debug:
    msg: "{{ explained.lines }}"
"""

RETURN = r"""
lines:
  description: "One line per forward (C(name (public -> to): technique)) and one per step of its walk."
  returned: success
  type: list
  elements: str
forwards:
  description: One dict per forward, as the P(wgforward.portforward.explain#filter) filter returns them.
  returned: success
  type: list
  elements: dict
"""
