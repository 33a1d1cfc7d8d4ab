# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' first step after planning: take this host's plan, and check the role applied to it."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import ROLES
from ansible_collections.wgforward.portforward.plugins.plugin_utils.prepare_errors import PrepareError


def host_plan(plans, host, role=None):
    """``host``'s plan from every host's plans; with ``role``, the plan must give the host that role."""
    if host not in plans:
        raise PrepareError("%s is in none of the groups wireguard_public, wireguard_intermediate, wireguard_private, "
                           "so the collection has nothing to plan for it" % host)
    plan = plans[host]
    if role is not None and role not in ROLES:
        raise PrepareError("%s: internal is an internal role: apply wgforward.portforward.wireguard_public, "
                           "wireguard_intermediate or wireguard_private instead (role %r)" % (host, role))
    if role is not None and plan["role"] != role:
        raise PrepareError("%s is planned as a %s server, but the role wgforward.portforward.wireguard_%s is applied to "
                           "it: put it in the group wireguard_%s or apply wgforward.portforward.wireguard_%s"
                           % (host, plan["role"], role, role, plan["role"]))
    return plan
