# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""static_routes (Q2: clients come from a fixed set of networks, ``sources``).

Plain routes for the client networks send replies back the way they came:
the networks go into the AllowedIPs of every WireGuard hop toward the public
server, and a LAN private server gets routes to them via the intermediate
(unless the intermediate is its gateway anyway). The public server DNATs only
from ``sources``.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import (
    LINK_PLAIN, PEER_ALLOWED_IPS, Question, Requirement, Technique)


NAME = "static_routes"

QUESTION = Question(
    "Q2", "sources",
    "Do all Internet connections come from a small, fixed set of source addresses?",
    stops=bool,
    why_stop="the client networks are known, so plain routes for them send replies back the way they came",
    why_go="clients may come from anywhere, so no fixed routes can cover them",
    # The forward's sources, parsed and merged by the model (they also restrict the DNAT).
    default=[], read=lambda fwd, private: ([str(s) for s in fwd.sources], fwd.origins["sources"]))


class StaticRoutes(Technique):
    name = NAME
    rank = 20
    question = QUESTION
    link_mode = LINK_PLAIN
    peer_config = PEER_ALLOWED_IPS
    requirements = (
        Requirement(lambda fwd, private: bool(fwd.sources), "static_routes needs the fixed client networks in sources"),
    )

    def direct_peer(self, job):
        for src in job.fwd.sources:
            job.public_peer.allow(src)

    def intermediate(self, job):
        for src in job.fwd.sources:
            job.public_peer.allow(src)

    def behind_intermediate(self, job):
        inter, private = job.inter, job.private
        for src in job.fwd.sources:
            if job.spoke:
                job.spoke_if.peers[inter.name].allow(src)
            elif job.lan_needs_return and job.need_lan("static routes via the intermediate"):
                via = inter.lan_address(src.version)
                if via is not None:
                    job.private_draft.add_route(src.version, src, via, private.lan_interface)


TECHNIQUE = StaticRoutes()
