# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""masquerade (Q1: the service does not need the client's address).

Every hop rewrites the source to its own address, so replies come back by
themselves: the public server masquerades into the tunnel, and an
intermediate that is not the private server's gateway masquerades toward the
LAN too. Works for every topology.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.model.vocabulary import FORWARD
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques import steps
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import LINK_PLAIN, PEER_ALLOWED_IPS, Question, Technique


NAME = "masquerade"

QUESTION = Question(
    "Q1", "preserve_source",
    "Does the private service need the original Internet source address of each connection?",
    stops=lambda answer: not answer,
    why_stop="the service does not need the client's address, so rewriting it to the forwarding hop's is simplest",
    why_go="the service must see the client's address, so it cannot be masqueraded",
    default=True, given_by=FORWARD)


class Masquerade(Technique):
    name = NAME
    rank = 10
    question = QUESTION
    link_mode = LINK_PLAIN
    peer_config = PEER_ALLOWED_IPS

    def public(self, job):
        # Forwarded flows leave into the tunnel with the public server's tunnel address.
        steps.masquerade_into(job.public_draft, job.public_if.name, job)

    def direct_peer(self, job):
        """Nothing: replies go to the public server's tunnel address, inside AllowedIPs."""

    def intermediate(self, job):
        if job.lan_needs_return and job.need_lan("masquerade on the intermediate"):
            steps.masquerade_into(job.inter_draft, job.inter.lan_interface, job)

    def behind_intermediate(self, job):
        """Nothing: replies go to the masquerading hop's address."""


TECHNIQUE = Masquerade()
