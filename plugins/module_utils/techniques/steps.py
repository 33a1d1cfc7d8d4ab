# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Steps several techniques share: masquerading, return tables, source rules and connection marks."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core.grammar import port_text
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where

# Numbers, not names: `ip rule ipproto tcp` needs /etc/protocols, which minimal hosts lack.
IPPROTO = {"tcp": 6, "udp": 17}


def mark_spec(mark, mask):
    return {"value": mark, "mask": mask}


# ------------------------------------------------------------------ masquerading


def masquerade_into(draft, oif, job):
    """Masquerade the forward's flows leaving ``oif``, so replies come back to this host by themselves."""
    for v in job.versions:
        draft.nft.masquerade(oif, v, job.flows(v))


# ------------------------------------------------------------------ routes that send everything back


def allow_everything(iface, peer_host):
    """AllowedIPs 0.0.0.0/0 (and ::/0) for the peer: whatever the link carries back is accepted."""
    peer = iface.peers[peer_host]
    for v in iface.versions():
        peer.allow(A.ANY[v])


def route_link_by_table(draft, iface, peer_host):
    """Give the link its own routing table (wg-quick's Table=) whose default route is the peer.

    Replies reach that table only through rules, so the host's own traffic keeps its
    main table; the link carries asymmetric flows, hence loose rp_filter.
    """
    iface.table = draft.table_for(iface.name)
    allow_everything(iface, peer_host)
    iface.loose = True


def lan_return_table(job):
    """A table on the private server with a default route via the intermediate's LAN address."""
    draft, private = job.private_draft, job.private
    table = draft.table_for("lan")
    draft.loose_lan.add(private.lan_interface)
    for v in job.versions:
        via = job.inter.lan_address(v)
        if via is not None:
            draft.add_route(v, "default", via, private.lan_interface, table)
    return table


# ------------------------------------------------------------------ rules that pick the replies


def reply_selectors(job, version, skip=()):
    """ip-rule selectors for the service's replies: its address, protocol and port.

    Only the service's replies move, so the private server's own traffic (updates, DNS)
    keeps its route; all of its traffic only when it asked for that (wgpf_internet_via_public).
    """
    source = "from %s" % job.target_text(version)
    if job.private.answers["internet_via_public"]:
        return [source]
    return ["%s ipproto %d sport %s" % (source, IPPROTO[proto], port_text(job.fwd.to_port))
            for proto in job.fwd.protocols if proto not in skip]


def tunnel_source_rules(job, draft, iface):
    """Replies from the tunnel address go back through the tunnel (the seed's spoke rule).

    A UDP service bound to the wildcard address picks its reply's source by
    routing, which would choose the LAN address; when every client comes
    through the public server (Q4), route its UDP port through the tunnel
    too, so the reply leaves from the tunnel address (that rule covers the
    address's UDP replies as well).
    """
    fwd = job.fwd
    wildcard_udp = fwd.answers["only_via_public"] and "udp" in fwd.protocols
    for v in job.versions:
        for selector in reply_selectors(job, v, skip=("udp",) if wildcard_udp else ()):
            draft.add_rule(iface.rules, v, selector, iface.table)
        if wildcard_udp:
            draft.add_rule(iface.rules, v, "ipproto %d sport %s" % (IPPROTO["udp"], port_text(fwd.to_port)),
                           iface.table)


def intermediate_source_rules(job):
    """On the intermediate: the private server's replies go to the public link's table, by source and port."""
    inter, draft, hub = job.inter, job.inter_draft, job.hub_if
    table = job.inner_if.table
    if job.spoke:
        hub.loose = True
        for v in job.versions:
            # Only the spoke's own replies: forwards to LAN hosts also arrive on a hub that faces
            # the public server, and must not be sent back into the tunnel.
            for selector in reply_selectors(job, v):
                draft.add_rule(hub.rules, v, "%s iif %s" % (selector, hub.name), table)
    elif job.need_lan("policy routing of the private server's replies"):
        draft.loose_lan.add(inter.lan_interface)
        for v in job.versions:
            for selector in reply_selectors(job, v):
                draft.add_rule(draft.rules, v, selector, table)


def service_port_rules(job, table):
    """On a LAN private server: replies from the service's port use the table via the intermediate."""
    draft, fwd = job.private_draft, job.fwd
    for v in job.versions:
        for proto in fwd.protocols:
            draft.add_rule(draft.rules, v, "ipproto %d sport %s" % (IPPROTO[proto], port_text(fwd.to_port)), table)


# ------------------------------------------------------------------ connection marks


def mark_on_private(job, iif, mac, table, rule_target):
    """Connmark on the private server: mark new forwarded connections, route replies by the mark."""
    draft, private = job.private_draft, job.private
    entry = draft.nft.mark_private(iif, mac, mark_spec(private.mark, private.mark_mask))
    for v in job.versions:
        entry["match"].setdefault(v, []).extend(job.flows(v))
    draft.nft.restore_output = True
    for v in job.versions:
        draft.add_rule(rule_target, v, "fwmark %#x/%#x" % (private.mark, private.mark_mask), table)


def mark_on_intermediate(job):
    """Connmark on the intermediate: one mark per public server, its replies routed to that server's link."""
    inter, draft, iface = job.inter, job.inter_draft, job.inner_if
    publics = job.publics_through_intermediate()
    index = publics.index(job.public.name) + 1 if job.public.name in publics else 1
    value = inter.mark * index
    if value & ~inter.mark_mask & 0xFFFFFFFF or value > 0xFFFFFFFF:
        job.planner.problems.add(host_where(inter.name), "wgpf_mark_mask",
                                 "%d public servers need %d marks of %#x, which do not fit in mask %#x"
                                 % (len(publics), len(publics), inter.mark, inter.mark_mask))
        return
    draft.nft.mark_in(iface.name, mark_spec(value, inter.mark_mask))
    for v in job.versions:
        draft.add_rule(iface.rules, v, "fwmark %#x/%#x" % (value, inter.mark_mask), iface.table)
