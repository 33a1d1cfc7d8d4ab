# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an offline run (render, explain: no host contacted, so no facts) needs from the inventory, all at once.

The planner reports a value it could not infer from facts (Problems.need_fact), but one
such value can hide the next: a private server's LAN address is what the intermediate's
LAN side is found from. So the planner runs again with a stand-in for each value found
missing, until no new one shows (a few rounds at most), and the report lists every value
the inventory must give, then the inventory's other problems. Stand-ins are never used
for anything else: nothing is rendered from them.
"""

from __future__ import annotations

import copy

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError, host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import planned

# A value that passes the grammar, for the next round only (TEST-NET-1 addresses, a locally administered MAC).
STAND_INS = {"wgpf_wan_interface": "eth0", "wgpf_lan_interface": "eth0", "wgpf_lan_mac": "02:00:00:00:00:01"}
LAN_STAND_INS = {"private": "192.0.2.10", "intermediate": "192.0.2.1"}
ROUNDS = 6


def _role(inventory, host):
    groups = inventory["groups"]
    return next((role for role in ("public", "intermediate", "private")
                 if host in groups.get("wireguard_%s" % role, [])), None)


def _stand_in(inventory, host, field):
    hv = inventory["hosts"][host]
    if field == "wgpf_lan_address":
        hv.setdefault("wgpf_lan_interface", STAND_INS["wgpf_lan_interface"])
        hv[field] = LAN_STAND_INS.get(_role(inventory, host), "192.0.2.20")
    else:
        hv[field] = STAND_INS[field]


def facts_needed(inventory, error):
    """([(host, field, why)] of every value an offline run needs, [the first run's other problems])."""
    needed = {(h, f): None for h, f in error.facts_needed}
    whys = set(error.problems)
    others = [p for p in error.problems if not any(p.startswith("%s: %s: " % (host_where(h), f)) for h, f in needed)]
    trial = copy.deepcopy(inventory)
    for _round in range(ROUNDS):
        for host, field in needed:
            _stand_in(trial, host, field)
        try:
            planned(trial)
            break
        except PlanError as exc:
            new = [n for n in exc.facts_needed if n not in needed]
            whys.update(exc.problems)
            if not new:
                break
            needed.update((n, None) for n in new)
    out = []
    for host, field in needed:
        prefix = "%s: %s: " % (host_where(host), field)
        why = next((p[len(prefix):] for p in sorted(whys) if p.startswith(prefix)), "")
        out.append((host, field, why))
    return out, others


def offline_message(inventory, error):
    """The one block an offline run prints for a PlanError: the values it needs, then the other problems."""
    needed, others = facts_needed(inventory, error)
    if not needed:
        return str(error)
    lines = ["%d value%s an offline run (render, explain: no host is read) cannot infer without facts: set %s "
             "in the inventory, or let site.yml read the hosts:" % (
                 len(needed), "" if len(needed) == 1 else "s", "it" if len(needed) == 1 else "them")]
    lines += ["  - %s: %s: %s" % (host_where(h), f, why) for h, f, why in needed]
    if others:
        lines.append(PlanError(others).message())
    return "\n".join(lines)
