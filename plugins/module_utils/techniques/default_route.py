# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""default_route (Q3: the inner servers send all their Internet traffic through the public server).

The default route already carries the replies: the tunnel to the public
server takes 0.0.0.0/0 (wg-quick's default route), a spoke's tunnel to its
hub too, and a LAN private server gets 0.0.0.0/1 + 128.0.0.0/1 via the
intermediate (removable, leaving its original default). The public server
masquerades the inner servers' own Internet traffic.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core.origins import SET
from ansible_collections.wgforward.portforward.plugins.module_utils.model.vocabulary import HOST
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques import steps
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import (
    LINK_DEFAULT_ROUTE, PEER_ALLOWED_IPS, Question, Technique)


NAME = "default_route"

QUESTION = Question(
    "Q3", "internet_via_public",
    "Do the private and intermediate servers use the public server for all their Internet access?",
    stops=bool,
    why_stop="everything already leaves through the public server, so the default route carries the replies",
    why_go="the inner servers keep their own Internet access, so the default route cannot move",
    default=False, given_by=HOST)


class DefaultRoute(Technique):
    name = NAME
    rank = 30
    question = QUESTION
    # A peer Ansible does not manage whose wg-quick file cannot hold the tree's technique takes the full tunnel.
    unmanaged_fallback = True
    link_mode = LINK_DEFAULT_ROUTE
    peer_config = PEER_ALLOWED_IPS

    def public(self, job):
        job.public_draft.nft.masq_out.append((job.public_if.name, job.public.wan_interface))

    def direct_peer(self, job):
        steps.allow_everything(job.inner_if, job.public.name)

    def intermediate(self, job):
        steps.allow_everything(job.inner_if, job.public.name)

    def behind_intermediate(self, job):
        inter, private = job.inter, job.private
        if job.spoke:
            steps.allow_everything(job.spoke_if, inter.name)
            return
        # Once the two /1 routes are in place, the facts show the intermediate as the default
        # gateway; an inferred answer must not remove them again, and via the intermediate
        # they are harmless where it really is the gateway. Only a stated answer skips them.
        if private.gateway_is_intermediate and private.gateway_origin == SET:
            return
        if not job.need_lan("default route via the intermediate"):
            return
        for v in job.versions:
            via = inter.lan_address(v)
            if via is not None:
                for half in A.HALVES[v]:
                    job.private_draft.add_route(v, half, via, private.lan_interface)


TECHNIQUE = DefaultRoute()
