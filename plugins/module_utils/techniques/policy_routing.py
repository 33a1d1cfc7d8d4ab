# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""policy_routing (Q4: every connection to the service comes through the public server).

Every reply of the service belongs to a forwarded connection, so a routing
rule on its address (or port) sends it back: the link to the public server
gets its own table (``Table=``, AllowedIPs 0.0.0.0/0), and rules pick the
private server's replies into it. Works for every topology.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.model.vocabulary import FORWARD
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques import steps
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import (
    LINK_OWN_TABLE, PEER_HOOKS, Question, Technique)


NAME = "policy_routing"

QUESTION = Question(
    "Q4", "only_via_public",
    "Do all connections to the private service come through the public server?",
    stops=bool,
    why_stop="every reply of the service belongs to a forwarded connection, so a routing rule on its address or "
             "port suffices",
    why_go="the service also answers other clients, so replies must be told apart per connection",
    default=True, given_by=FORWARD)


class PolicyRouting(Technique):
    name = NAME
    rank = 40
    question = QUESTION
    link_mode = LINK_OWN_TABLE
    peer_config = PEER_HOOKS

    def direct_peer(self, job):
        # Rule "from <tunnel address>" (and the UDP port) into the tunnel's table.
        steps.route_link_by_table(job.private_draft, job.inner_if, job.public.name)
        steps.tunnel_source_rules(job, job.private_draft, job.inner_if)

    def intermediate(self, job):
        # Rule "from <spoke> iif <hub>" (spoke) or "from <private>" (LAN) into the public link's table.
        steps.route_link_by_table(job.inter_draft, job.inner_if, job.public.name)
        steps.intermediate_source_rules(job)

    def behind_intermediate(self, job):
        if job.spoke:
            steps.route_link_by_table(job.private_draft, job.spoke_if, job.inter.name)
            steps.tunnel_source_rules(job, job.private_draft, job.spoke_if)
        elif not job.private.gateway_is_intermediate and job.need_lan("%s on the private server" % NAME):
            # A table with the default via the intermediate, for replies from the service's port.
            steps.service_port_rules(job, steps.lan_return_table(job))


TECHNIQUE = PolicyRouting()
