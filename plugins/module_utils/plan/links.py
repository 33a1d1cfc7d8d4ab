# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WireGuard links between hosts, and the checks on what the forwards made of them.

A link joins an inner host (an intermediate, or a private server that is a
direct peer) to a public server, or a spoke to its hub; each end is an
``Iface`` of that host's draft with a ``Peer`` for the other end.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import (
    LINK_DEFAULT_ROUTE, LINK_OWN_TABLE, LINK_PLAIN)


class Links:
    """Makes each link once, on first use, in the drafts of the planner's hosts."""

    def __init__(self, planner):
        self.planner = planner
        self.made = {}

    def spec_for(self, host, peer, field="wgpf_interfaces"):
        spec = host.iface_for(peer)
        if spec is None:
            self.planner.problems.add(host_where(host.name), field, "no WireGuard interface lists peer '%s'" % peer)
        return spec

    def public_link(self, inner, public):
        """(inner end, public end) of the link between an inner host and a public server; the inner
        side dials the public endpoint. (None, None) when either side has no interface for it."""
        key = (inner.name, public.name)
        if key not in self.made:
            self.made[key] = self._make(inner, public)
        return self.made[key]

    def _make(self, inner, public):
        spec_i = self.spec_for(inner, public.name)
        spec_p = self.spec_for(public, inner.name)
        if spec_i is None or spec_p is None:
            return None, None
        i_if = self.planner.draft(inner.name).iface(spec_i)
        p_if = self.planner.draft(public.name).iface(spec_p)
        endpoint = A.join_endpoint(*public.endpoint) if public.endpoint else None
        peer = i_if.peer(public.name, spec_p.name, endpoint, inner.keepalive or None)
        for net in spec_p.addresses:
            peer.allow(A.host_net(net.ip))
        back = p_if.peer(inner.name, spec_i.name)
        back.public_key = inner.public_key
        for net in spec_i.addresses:
            back.allow(A.host_net(net.ip))
        return i_if, p_if

    def hub_endpoint(self, inter, spec):
        host = inter.endpoint[0] if inter.endpoint else None
        if host is None:
            ip = inter.lan_address(4) or inter.lan_address(6)
            host = str(ip) if ip is not None else None
        if host is None:
            self.planner.problems.add(host_where(inter.name), "wgpf_endpoint",
                                      "required: spokes dial this hub, and no LAN address is known to dial")
            return None
        port = inter.endpoint[1] if (inter.endpoint and inter.vars.get("wgpf_interfaces") is None) else spec.listen_port
        return A.join_endpoint(host, port)

    def spoke(self, private, inter, publics):
        """The link between a spoke and its hub; the spoke reaches the public servers' tunnel addresses too."""
        spec_s = private.wg[0]
        spec_i = self.spec_for(inter, private.name)
        if spec_i is None:
            return
        s_if = self.planner.draft(private.name).iface(spec_s)
        hub = self.planner.draft(inter.name).iface(spec_i)
        peer = s_if.peer(inter.name, spec_i.name, self.hub_endpoint(inter, spec_i), private.keepalive or None)
        for net in spec_i.addresses:
            peer.allow(net.cidr)
        for public in publics:
            for spec in public.wg:
                for net in spec.addresses:
                    if not any(net.ip in n for n in peer.allowed):
                        peer.allow(A.host_net(net.ip))
        back = hub.peer(private.name, spec_s.name)
        back.public_key = private.public_key
        for net in spec_s.addresses:
            back.allow(A.host_net(net.ip))


# ------------------------------------------------------------------ checks once every forward is placed


def check_link_modes(planner):
    """Reconcile forwards that use one link differently; refuse what cannot share it."""
    for name, draft in planner.drafts.items():
        for iface in draft.ifaces.values():
            modes = iface.link_modes
            if LINK_OWN_TABLE in modes and LINK_DEFAULT_ROUTE in modes:
                planner.problems.add(host_where(name), iface.name,
                                     "forwards %s move the default route (default_route) but forwards %s need a "
                                     "separate routing table on the same interface: force one technique for them"
                                     % (", ".join(modes[LINK_DEFAULT_ROUTE]), ", ".join(modes[LINK_OWN_TABLE])))
            if LINK_OWN_TABLE in modes and LINK_PLAIN in modes and iface.table is not None:
                # Routes of a Table= interface live only in that table: send the plain forwards'
                # destinations there with rules, so they share the link with the table-based ones.
                for fwd_name in modes[LINK_PLAIN]:
                    fwd = planner.decisions[fwd_name].forward
                    for net in plain_destinations(planner.model, fwd, iface):
                        draft.add_rule(iface.rules, net.version, "to %s" % net, iface.table)


def plain_destinations(model, fwd, iface):
    """Where replies of a plain forward go: its sources, or the masquerading public server."""
    if fwd.sources:
        return list(fwd.sources)
    public = model.hosts[fwd.public]
    return [A.host_net(net.ip) for spec in public.wg for net in spec.addresses
            if not any(net.ip in own for own in iface.spec.addresses)]


def check_allowed_overlap(planner):
    # WireGuard routes by longest prefix, so a hub's 0.0.0.0/0 beside a spoke's /32 is fine;
    # the same network on two peers is not: the last peer silently takes it from the first.
    for name, draft in planner.drafts.items():
        for iface in draft.ifaces.values():
            owner = {}
            for peer in sorted(iface.peers.values(), key=lambda p: p.host):
                for net in A.netaddr.cidr_merge(peer.allowed):
                    if str(net) in owner:
                        planner.problems.add(host_where(name), "AllowedIPs",
                                             "peers '%s' and '%s' of %s both claim %s: WireGuard would route it "
                                             "to only one of them" % (owner[str(net)], peer.host, iface.name, net))
                    owner[str(net)] = peer.host


def check_shared_interfaces(planner):
    """An intermediate serving several public servers needs one interface per public server."""
    for inter, publics in planner.multi.items():
        names = {}
        for public in publics:
            spec = planner.model.hosts[inter].iface_for(public)
            if spec is not None:
                names.setdefault(spec.name, []).append(public)
        for ifname, shared in names.items():
            if len(shared) > 1:
                planner.problems.add(host_where(inter), "wgpf_interfaces",
                                     "public servers %s share interface %s, but replies must leave by the "
                                     "interface they came in on: give each public server its own interface "
                                     "in wgpf_interfaces" % (" and ".join(shared), ifname))
