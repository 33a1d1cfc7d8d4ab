# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the planner put on hosts the run never contacts must need no contact (model/unmanaged.py).

A container target gets nothing; a peer Ansible does not manage gets only what
its own wg-quick file can say: AllowedIPs, and with wgpf_peer_hooks also
Table= and PostUp rules.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.nft_draft import needs_table


def check_plans(model, plans, problems):
    """What the planner put on hosts the run never contacts must need no contact."""
    for name, host in model.hosts.items():
        if host.contacted:
            continue
        plan, where = plans[name], host_where(name)
        extra = [what for what, found in (
            ("routes", plan["routes"]), ("rules", plan["rules"]), ("sysctls", plan["sysctls"]),
            ("an nftables table", needs_table(plan["nftables"]))) if found]
        if host.public_key is None and plan["interfaces"]:
            extra.append("a WireGuard interface")
        if host.public_key is not None and not host.peer_hooks:
            for iface in plan["interfaces"]:
                if iface["table"] is not None or iface["rules"] or iface["rp_filter"] is not None:
                    extra.append("Table=/PostUp rules on %s" % iface["name"])
        if extra:
            problems.add(where, None, "is never contacted (%s), but its forwards need %s on it" % (
                "a container" if host.public_key is None else "a peer Ansible does not manage",
                " and ".join(extra)))
