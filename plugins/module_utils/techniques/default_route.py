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
    LINK_DEFAULT_ROUTE, LINK_OWN_TABLE, PEER_ALLOWED_IPS, Question, Technique)


NAME = "default_route"

QUESTION = Question(
    "Q3", "internet_via_public",
    "Do the private and intermediate servers use the public server for all their Internet access?",
    stops=bool,
    why_stop="everything already leaves through the public server, so the default route carries the replies",
    why_go="the inner servers keep their own Internet access, so the default route cannot move",
    default=False, given_by=HOST)


def spoke_only(private):
    """True for a spoke Ansible does not manage that takes the full tunnel in place of the tree's technique
    (its file cannot hold that one) without asking for internet_via_public: its hub must not move its own
    default route for it (Q3 was not answered so), so the hub sends only what comes from that spoke to the
    public server."""
    return (private.public_key is not None and private.intermediate is not None and private.attachment == "wireguard"
            and not private.answers["internet_via_public"])


class DefaultRoute(Technique):
    name = NAME
    rank = 30
    question = QUESTION
    # A peer Ansible does not manage whose wg-quick file cannot hold the tree's technique takes the full tunnel.
    unmanaged_fallback = True
    link_mode = LINK_DEFAULT_ROUTE
    peer_config = PEER_ALLOWED_IPS

    def public_link_mode(self, private):
        return LINK_OWN_TABLE if spoke_only(private) else self.link_mode

    def public(self, job):
        job.public_draft.nft.masq_out.append((job.public_if.name, job.public.wan_interface))

    def direct_peer(self, job):
        steps.allow_everything(job.inner_if, job.public.name)

    def intermediate(self, job):
        if spoke_only(job.private):
            # Only what comes from that spoke takes the public link (its own table); the hub keeps its route.
            steps.route_link_by_table(job.inter_draft, job.inner_if, job.public.name)
            steps.spoke_traffic_rules(job)
            return
        steps.allow_everything(job.inner_if, job.public.name)

    def behind_intermediate(self, job):
        inter, private = job.inter, job.private
        if job.spoke:
            steps.allow_everything(job.spoke_if, inter.name)
            return
        # Once the two /1 routes are in place, the facts show the intermediate as the default
        # gateway; an inferred answer must not remove them again, and via the intermediate
        # they are harmless where it really is the gateway. Only a stated answer skips them,
        # or a host never contacted (a container, whose gateway is its host): it has no facts
        # to change the answer, and nothing can be put on it.
        if private.gateway_is_intermediate and (private.gateway_origin == SET or not private.contacted):
            return
        if not job.need_lan("default route via the intermediate"):
            return
        for v in job.versions:
            via = inter.lan_address(v)
            if via is not None:
                for half in A.HALVES[v]:
                    job.private_draft.add_route(v, half, via, private.lan_interface)


TECHNIQUE = DefaultRoute()
