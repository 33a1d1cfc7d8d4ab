# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A play that covers part of the inventory (--limit, or a role applied to one group) still plans all of it:
the WireGuard hosts outside the play are read there, changing nothing.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import GROUPS
from ansible_collections.wgforward.portforward.plugins.module_utils.model.unmanaged import contacted


def outside_play(groups, play_hosts, hostvars=None):
    """The WireGuard hosts of the inventory that are not in this play (--limit, or a role applied to one
    group) and that a play would contact (the same rule as the roles' first task: model/unmanaged.py): their
    facts and public keys are read there, read-only, so the plan is the whole inventory's."""
    play = set(play_hosts or [])
    hostvars = hostvars or {}
    return sorted({host for group in GROUPS for host in groups.get(group, [])
                   if host not in play and contacted(hostvars.get(host))})
