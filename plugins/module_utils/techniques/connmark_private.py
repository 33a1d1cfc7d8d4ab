# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""connmark_private (the service also answers other clients, and replies do not pass the intermediate).

The private server marks new connections that arrive from the intermediate's
MAC (LAN) or from the tunnel (spoke, direct peer), restores the mark on its
replies, and an fwmark rule sends them to a table via the intermediate or the
tunnel. The intermediate does as for policy_routing. Works for every topology;
the last step for a direct peer, which has no Q5.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.grammar import port_text
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques import steps
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import (
    LINK_OWN_TABLE, Technique)

NAME = "connmark_private"

# Connection marks only work for replies conntrack matches to the forwarded flow. A UDP
# reply from a wildcard socket takes the source address the main table picks (not the
# tunnel address the datagram came to), so it is a new flow with no mark.
UDP_TUNNEL_NOTE = ("UDP on '%(host)s' port %(port)s: the service must answer from the tunnel address the "
                   "datagram came to (bind that address, or use IP_PKTINFO as most UDP servers can); a "
                   "wildcard-bound UDP socket answers from its main-table address and the reply misses the "
                   "connection mark. TCP is not affected.")


class ConnmarkPrivate(Technique):
    name = NAME
    rank = 60
    # No question of its own: every answer said go on (or Q5 had no meaning, for a direct peer).
    ends_tree = True
    link_mode = LINK_OWN_TABLE

    def notes(self, fwd, private):
        if "udp" in fwd.protocols and private.attachment == "wireguard":
            return [UDP_TUNNEL_NOTE % {"host": private.name, "port": port_text(fwd.to_port)}]
        return []

    def direct_peer(self, job):
        self._mark_from_tunnel(job, job.inner_if)

    def intermediate(self, job):
        steps.route_link_by_table(job.inter_draft, job.inner_if, job.public.name)
        steps.intermediate_source_rules(job)

    def behind_intermediate(self, job):
        private = job.private
        if job.spoke:
            self._mark_from_tunnel(job, job.spoke_if)
        elif not private.gateway_is_intermediate and job.need_lan("%s on the private server" % NAME, mac=True):
            table = steps.lan_return_table(job)
            steps.mark_on_private(job, private.lan_interface, job.inter.lan_mac, table, job.private_draft.rules)

    @staticmethod
    def _mark_from_tunnel(job, iface):
        """Mark what arrives through the tunnel iface; replies by mark into its own table."""
        peer_host = job.inter.name if job.spoke else job.public.name
        steps.route_link_by_table(job.private_draft, iface, peer_host)
        steps.mark_on_private(job, iface.name, None, iface.table, iface.rules)


TECHNIQUE = ConnmarkPrivate()
