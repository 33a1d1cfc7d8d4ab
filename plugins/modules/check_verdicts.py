#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: check_verdicts
short_description: One verdict per forward of the live check, from every host's probe
version_added: "0.1.0"
description:
  - Compares what M(wgforward.portforward.check_probe) read on each host of the play with what the check expects,
    hop by hop in each forward's path order (public server, intermediate, private server). A forward's verdict is
    V(ok), or the first hop that is wrong and the first reason there; a host that was unreachable or whose probe
    failed is the wrong hop, a host the run does not contact is "not checked".
  - Changes nothing; meant for C(run_once). The per-forward report is not returned (at 10,000 forwards it is
    13 MB that Ansible would carry); the verdict lines and the metrics file hold every forward.
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  expect:
    description: The key M(wgforward.portforward.check_plan) returned; unset, the inventory is read from hostvars
      again and planned (once per run).
    type: str
  probes:
    description: The variable every host registered the result of M(wgforward.portforward.check_probe) in.
    type: str
    default: check__probe
  metrics_path:
    description:
      - Also write the verdicts there, on the controller, as Prometheus metrics in node_exporter's textfile format
        (one gauge per forward, the handshake age of every link read, the time of the check), replacing the file
        atomically. An absolute path ending in C(.prom) in an existing folder; C(wgpf_check_metrics_path) in
        C(wgforward.portforward.check). Check mode writes nothing.
      - The file is the check's report, not a change, so the task stays C(ok).
    type: str
  hops:
    description:
      - Whose hops RV(lines) shows before the verdict lines, V(failing) those of the forwards that are not ok,
        V(all) every forward's (at 10,000 forwards, 120,000 lines). C(wgpf_check_hops) in
        C(wgforward.portforward.check).
    type: str
    choices: [failing, all]
    default: failing
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
- name: Draw the verdicts
  wgforward.portforward.check_verdicts:
    expect: "{{ check__plan.expect }}"
    probes: check__probe
  register: check__verdicts
  run_once: true
"""

RETURN = r"""
lines:
  description: "The hops of each forward that is not ok (every forward's with O(hops=all)), then one verdict line
    per forward (C(<forward> (<public> -> <to>): <verdict>)), then one line of counts (RV(summary))."
  returned: success
  type: list
  elements: str
summary:
  description: C(forwards), C(ok) (every hop read and as planned), C(wrong) (not ok) and C(not_checked) (ok where
    read, but a host on the path is one Ansible does not contact).
  returned: success
  type: dict
metrics_path:
  description: Where the metrics were written (or, in check mode, would be).
  returned: when O(metrics_path) is set
  type: str
failures:
  description: The verdict lines of the forwards that are not ok.
  returned: success
  type: list
  elements: str
"""
