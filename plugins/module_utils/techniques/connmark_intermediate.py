# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""connmark_intermediate (Q5: the intermediate is the private server's default gateway).

Replies already pass through the intermediate, so it marks each new
connection from the public link, copies the mark to the replies' packet mark
and routes them by an fwmark rule to that link's table. One mark and table
per public server, which is why an intermediate carrying forwards from more
than one public server uses this technique for all of them.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.origins import SET
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques import steps
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import (
    LINK_OWN_TABLE, LINK_PLAIN, Question, Requirement, Technique)

NAME = "connmark_intermediate"

QUESTION = Question(
    "Q5", "gateway_is_intermediate",
    "Is the intermediate server the private server's default gateway?",
    stops=bool,
    why_stop="replies already pass through the intermediate, which can mark connections and route them back",
    why_go="replies do not pass through the intermediate, so the private server must mark connections itself",
    # The model's: set, inferred from the private server's facts, or false.
    default=False, read=lambda fwd, private: (private.gateway_is_intermediate, private.gateway_origin or SET),
    # A direct peer has no intermediate: the walk goes on to its end, where the peer marks connections itself.
    applies=lambda answers: answers["intermediate"],
    why_not="no intermediate: the private server is a direct WireGuard peer of the public server, so it marks "
            "connections from the tunnel and routes replies back by mark")


class ConnmarkIntermediate(Technique):
    name = NAME
    rank = 50
    question = QUESTION
    # One mark and table per public server: replies leave by the interface they came in on.
    serves_several_publics = True
    link_mode = LINK_OWN_TABLE
    requirements = (
        Requirement(lambda fwd, private: private.intermediate is not None,
                    NAME + " needs an intermediate, but '%(private)s' is a direct WireGuard peer of '%(public)s'"),
        Requirement(lambda fwd, private: private.gateway_is_intermediate,
                    NAME + " needs the private server's replies to pass through the intermediate, but "
                    "'%(private)s' does not use '%(intermediate)s' as its default gateway "
                    "(wgpf_gateway_is_intermediate is false)"),
    )

    def spoke_link_mode(self, private):
        # A spoke whose gateway is the hub needs nothing of its own link.
        return LINK_PLAIN if private.gateway_is_intermediate else self.link_mode

    def direct_peer(self, job):
        """Never: a direct peer has no intermediate (see requirements)."""

    def intermediate(self, job):
        steps.route_link_by_table(job.inter_draft, job.inner_if, job.public.name)
        steps.mark_on_intermediate(job)

    def behind_intermediate(self, job):
        private = job.private
        if private.gateway_is_intermediate:
            return  # replies already go to the intermediate, its default gateway
        # Escalated here (several public servers) for a server that does not route through the
        # intermediate: bring its replies there as connmark_private would, or by source on a spoke.
        if job.spoke:
            steps.route_link_by_table(job.private_draft, job.spoke_if, job.inter.name)
            steps.tunnel_source_rules(job, job.private_draft, job.spoke_if)
        elif job.need_lan("%s on the private server" % NAME, mac=True):
            table = steps.lan_return_table(job)
            steps.mark_on_private(job, private.lan_interface, job.inter.lan_mac, table, job.private_draft.rules)


TECHNIQUE = ConnmarkIntermediate()
