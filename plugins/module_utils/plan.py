# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the validated model and each forward's technique into one plan per host.

A plan is plain data (dicts, lists, strings, ints): WireGuard interfaces with
their peers, the nftables table's contents, sysctls, and the routes and rules
of non-WireGuard interfaces. render.py turns it into files.
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.wgforward.portforward.plugins.module_utils import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.decide import decide_all, publics_by_intermediate
from ansible_collections.wgforward.portforward.plugins.module_utils.export import export_plan
from ansible_collections.wgforward.portforward.plugins.module_utils.model import Model, build_model, port_text
from ansible_collections.wgforward.portforward.plugins.module_utils.problems import (
    Problems, forward_where, host_where)
from ansible_collections.wgforward.portforward.plugins.module_utils.tree import SET

# How a technique uses the WireGuard link that carries it (see link_mode()).
PLAIN, FULL, TABLE = "plain", "full", "table"
# Numbers, not names: `ip rule ipproto tcp` needs /etc/protocols, which minimal hosts lack.
IPPROTO = {"tcp": 6, "udp": 17}


class Peer:
    __slots__ = ("host", "interface", "endpoint", "keepalive", "allowed", "_seen")

    def __init__(self, host, interface, endpoint=None, keepalive=None):
        self.host, self.interface, self.endpoint, self.keepalive = host, interface, endpoint, keepalive
        self.allowed = []
        self._seen = set()

    def allow(self, net):
        if not isinstance(net, A.netaddr.IPNetwork):
            net = A.netaddr.IPNetwork(net)
        key = (net.version, net.value, net.prefixlen)
        if key not in self._seen:
            self._seen.add(key)
            self.allowed.append(net)

    def as_dict(self):
        nets = A.netaddr.cidr_merge(self.allowed)
        return {"host": self.host, "interface": self.interface, "endpoint": self.endpoint, "keepalive": self.keepalive,
                "allowed_ips": [str(n) for n in nets]}


class Iface:
    __slots__ = ("spec", "peers", "table", "rules", "loose", "modes")

    def __init__(self, spec):
        self.spec = spec
        self.peers = {}
        self.table = None
        self.rules = []
        self.loose = False
        self.modes = {}  # mode -> [forward names]

    def peer(self, host, interface=None, endpoint=None, keepalive=None):
        """The peer ``host`` (its side of the link is ``interface``), created on first use."""
        if host not in self.peers:
            self.peers[host] = Peer(host, interface, endpoint, keepalive)
        return self.peers[host]

    def versions(self):
        return sorted({n.version for n in self.spec.addresses})


class HostPlan:
    """Mutable accumulator for one host; as_dict() is the plan."""

    def __init__(self, host):
        self.host = host
        self.ifaces = {}
        self.forwarding = set()
        self.reserved = []
        self.dnat = {4: [], 6: []}
        self.masq = {}  # (oif, version) -> [(daddr, proto, port span)]
        self.masq_out = []  # (iif, oif): default_route's outbound masquerading
        self.accept = {4: [], 6: []}
        self.accept_iifs = set()
        self.marks_in = []  # {"iif", "mark"} connmark on the intermediate
        self.marks_private = []  # {"iif", "mac"|None, "mark", "match": {v: [(proto, span)]}}
        self.restore_output = False
        self.loose_lan = set()
        self.routes = []
        self.rules = []
        self.next_table = host.table_base
        self.next_priority = host.priority_base
        self.forwards = {}
        self.owned_tables = {}

    def iface(self, spec):
        if spec.name not in self.ifaces:
            self.ifaces[spec.name] = Iface(spec)
        return self.ifaces[spec.name]

    def table_for(self, key):
        if key not in self.owned_tables:
            self.owned_tables[key] = self.next_table
            self.next_table += 1
        return self.owned_tables[key]

    def priority(self):
        value = self.next_priority
        self.next_priority += 1
        return value

    def add_rule(self, target, version, selector, table):
        for rule in target:
            if rule["family"] == version and rule["selector"] == selector and rule["table"] == table:
                return
        target.append({"family": version, "selector": selector, "table": table, "priority": self.priority()})

    def add_route(self, version, to, via, dev, table=None):
        route = {"family": version, "to": str(to), "via": str(via), "dev": dev, "table": table}
        if route not in self.routes:
            self.routes.append(route)


def link_mode(technique):
    """How a technique uses the WireGuard link between the inner host and the public side."""
    if technique in ("masquerade", "static_routes"):
        return PLAIN
    if technique == "default_route":
        return FULL
    return TABLE


def mark_spec(mark, mask):
    return {"value": mark, "mask": mask}


class Planner:
    def __init__(self, model):
        self.model = model
        self.problems = Problems()
        self.decisions = decide_all(model, self.problems)
        self.plans = {name: HostPlan(h) for name, h in model.hosts.items()}
        self.multi = {k: v for k, v in publics_by_intermediate(model).items() if len(v) > 1}
        self._links = {}
        self._targets = {}

    # ------------------------------------------------------------ helpers

    def hostplan(self, name):
        return self.plans[name]

    def spec_for(self, host, peer, field="wgpf_interfaces"):
        spec = host.iface_for(peer)
        if spec is None:
            self.problems.add(host_where(host.name), field, "no WireGuard interface lists peer '%s'" % peer)
        return spec

    def target(self, private, version):
        """The address the public server forwards to, or None."""
        key = (private.name, version)
        if key not in self._targets:
            found = None
            if private.attachment == "wireguard":
                found = next((net.ip for net in private.wg[0].addresses if net.version == version), None)
            else:
                found = private.lan_address(version)
            self._targets[key] = found
        return self._targets[key]

    def target_text(self, private, version):
        key = (private.name, version, "text")
        if key not in self._targets:
            self._targets[key] = str(self.target(private, version))
        return self._targets[key]

    def hub_endpoint(self, inter, spec):
        host = inter.endpoint[0] if inter.endpoint else None
        if host is None:
            ip = inter.lan_address(4) or inter.lan_address(6)
            host = str(ip) if ip is not None else None
        if host is None:
            self.problems.add(host_where(inter.name), "wgpf_endpoint",
                              "required: spokes dial this hub, and no LAN address is known to dial")
            return None
        port = inter.endpoint[1] if (inter.endpoint and inter.vars.get("wgpf_interfaces") is None) else spec.listen_port
        return A.join_endpoint(host, port)

    def public_endpoint(self, public):
        return A.join_endpoint(*public.endpoint) if public.endpoint else None

    def need_lan(self, inter, fwd, what, mac=False):
        if not inter.lan_addresses or inter.lan_interface is None:
            self.problems.add(host_where(inter.name), "wgpf_lan_address",
                              "forward '%s' (%s) routes replies to this intermediate's LAN address, which is not set "
                              "and could not be inferred from facts" % (fwd.name, what))
            return False
        if mac and inter.lan_mac is None:
            self.problems.add(host_where(inter.name), "wgpf_lan_mac",
                              "forward '%s' (%s) marks connections by this intermediate's MAC address on the LAN, "
                              "which is not set and could not be inferred from facts" % (fwd.name, what))
            return False
        return True

    # ------------------------------------------------------------ links

    def link(self, inner, public):
        """The two ends of the link between an inner host (an intermediate, or a private server that
        is a direct peer) and a public server, made once. The inner side dials the public endpoint."""
        key = (inner.name, public.name)
        if key not in self._links:
            self._links[key] = self._make_link(inner, public)
        return self._links[key]

    def _make_link(self, inner, public):
        spec_i = self.spec_for(inner, public.name)
        spec_p = self.spec_for(public, inner.name)
        if spec_i is None or spec_p is None:
            return None, None
        i_if = self.hostplan(inner.name).iface(spec_i)
        p_if = self.hostplan(public.name).iface(spec_p)
        peer = i_if.peer(public.name, spec_p.name, self.public_endpoint(public), inner.keepalive or None)
        for net in spec_p.addresses:
            peer.allow(A.host_net(net.ip))
        back = p_if.peer(inner.name, spec_i.name)
        for net in spec_i.addresses:
            back.allow(A.host_net(net.ip))
        return i_if, p_if

    def link_spoke(self, private, inter, publics):
        spec_s = private.wg[0]
        spec_i = self.spec_for(inter, private.name)
        if spec_i is None:
            return None, None
        s_if = self.hostplan(private.name).iface(spec_s)
        hub = self.hostplan(inter.name).iface(spec_i)
        peer = s_if.peer(inter.name, spec_i.name, self.hub_endpoint(inter, spec_i), private.keepalive or None)
        for net in spec_i.addresses:
            peer.allow(net.cidr)
        for public in publics:
            for spec in public.wg:
                for net in spec.addresses:
                    if not any(net.ip in n for n in peer.allowed):
                        peer.allow(A.host_net(net.ip))
        back = hub.peer(private.name, spec_s.name)
        for net in spec_s.addresses:
            back.allow(A.host_net(net.ip))
        return s_if, hub

    # ------------------------------------------------------------ the walk

    def run(self):
        model = self.model
        publics_of_private = {}
        for fwd in model.forwards:
            publics_of_private.setdefault(fwd.to, set()).add(fwd.public)
        # Every declared interface is in the plan, even with no peer yet (and for removal).
        for host in model.hosts.values():
            for spec in host.wg:
                if spec.addresses:
                    self.hostplan(host.name).iface(spec)
        # Declared links first, so interfaces and peers exist even before any forward uses them.
        for private in model.by_role("private"):
            if private.intermediate and private.attachment == "wireguard":
                self.link_spoke(private, model.hosts[private.intermediate],
                                [model.hosts[p] for p in sorted(publics_of_private.get(private.name, ()))])
        for inter in model.by_role("intermediate"):
            for spec in inter.wg:
                self.hostplan(inter.name).iface(spec)
                for peer in spec.peers or ():
                    other = model.hosts.get(peer)
                    if other is None:
                        self.problems.add(host_where(inter.name), "wgpf_interfaces",
                                          "%s lists peer '%s', which is not a WireGuard host of the inventory"
                                          % (spec.name, peer))
                    elif other.role == "public" and "absent" not in (other.state, inter.state):
                        self.link(inter, other)
        for private in model.by_role("private"):
            if private.intermediate is None:
                publics = sorted(publics_of_private.get(private.name, ()))
                if len(publics) > 1:
                    self.problems.add(host_where(private.name), "wgpf_intermediate",
                                      "a direct peer takes forwards from one public server, but %s forward to it; "
                                      "reach it through an intermediate instead" % " and ".join(publics))
        for inter, publics in self.multi.items():
            names = {}
            for public in publics:
                spec = model.hosts[inter].iface_for(public)
                if spec is not None:
                    names.setdefault(spec.name, []).append(public)
            for ifname, shared in names.items():
                if len(shared) > 1:
                    self.problems.add(host_where(inter), "wgpf_interfaces",
                                      "public servers %s share interface %s, but replies must leave by the "
                                      "interface they came in on: give each public server its own interface "
                                      "in wgpf_interfaces" % (" and ".join(shared), ifname))
        for fwd in model.forwards:
            self.apply(fwd, self.decisions[fwd.name])
        self.check_modes()
        self.check_allowed_overlap()
        self.problems.raise_if_any()

    def apply(self, fwd, dec):
        model = self.model
        public = model.hosts[fwd.public]
        private = model.hosts[fwd.to]
        technique = dec.technique
        inter = model.hosts[private.intermediate] if private.intermediate else None
        pplan = self.hostplan(public.name)
        versions = [v for v in (4, 6) if self.target(private, v) is not None]
        if fwd.sources:
            versions = [v for v in versions if any(s.version == v for s in fwd.sources)]
        if not versions:
            self.problems.add(forward_where(fwd.name), "to", "'%s' has no address to forward to%s" % (
                private.name, " in the address family of sources" if fwd.sources else ""))
            return
        for host in filter(None, (public, private, inter)):
            self.hostplan(host.name).forwards[fwd.name] = dec

        inner_if, p_if = self.link(inter or private, public)
        if inner_if is None:
            return
        # --- the public server: DNAT, forward acceptance, reserved ports.
        pplan.forwarding.update(versions)
        pplan.reserved.append(fwd.port)
        for v in versions:
            dest = self.target_text(private, v)
            p_if.peer(inter.name if inter else private.name).allow(A.host_net(self.target(private, v)))
            sources = [str(s) for s in fwd.sources if s.version == v] or [A.ANY[v]]
            for proto in fwd.protocols:
                for src in sources:
                    pplan.dnat[v].append((src, proto, fwd.port, dest, fwd.to_port))
                pplan.accept[v].append((dest, proto, fwd.to_port))
        pplan.accept_iifs.add(public.wan_interface)
        mode = link_mode(technique)
        inner_if.modes.setdefault(mode, []).append(fwd.name)
        if technique == "masquerade":
            for v in versions:
                pplan.masq.setdefault((p_if.spec.name, v), []).extend(
                    (self.target_text(private, v), proto, fwd.to_port) for proto in fwd.protocols)
        if technique == "default_route":
            pplan.masq_out.append((p_if.spec.name, public.wan_interface))
        if inter is None:
            self.apply_direct(fwd, technique, private, public, inner_if, versions)
        else:
            self.apply_intermediate(fwd, technique, private, inter, public, inner_if, versions)

    def apply_direct(self, fwd, technique, private, public, s_if, versions):
        splan = self.hostplan(private.name)
        peer = s_if.peers[public.name]
        if technique == "static_routes":
            for src in fwd.sources:
                peer.allow(src)
        elif technique == "default_route":
            for v in s_if.versions():
                peer.allow(A.ANY[v])
        elif technique in ("policy_routing", "connmark_private"):
            s_if.table = splan.table_for(s_if.spec.name)
            for v in s_if.versions():
                peer.allow(A.ANY[v])
            s_if.loose = True
            if technique == "policy_routing":
                self.tunnel_source_rules(splan, s_if, private, fwd, versions)
            else:
                self.mark_private(splan, private, fwd, s_if.spec.name, None, s_if.table, s_if.rules, versions)

    def tunnel_source_rules(self, splan, s_if, private, fwd, versions):
        """Replies from the tunnel address go back through the tunnel (the seed's spoke rule).

        A UDP service bound to the wildcard address picks its reply's source by
        routing, which would choose the LAN address; when every client comes
        through the public server (Q4), route its UDP port through the tunnel
        too, so the reply leaves from the tunnel address.
        """
        for v in versions:
            splan.add_rule(s_if.rules, v, "from %s" % self.target_text(private, v), s_if.table)
            if fwd.only_via_public and "udp" in fwd.protocols:
                splan.add_rule(s_if.rules, v, "ipproto %d sport %s" % (IPPROTO["udp"], port_text(fwd.to_port)),
                               s_if.table)

    def mark_private(self, splan, private, fwd, iif, mac, table, rule_target, versions):
        """Connmark on the private server: mark new forwarded connections, route replies by the mark."""
        entry = None
        for item in splan.marks_private:
            if item["iif"] == iif and item["mac"] == mac:
                entry = item
        if entry is None:
            entry = {"iif": iif, "mac": mac, "mark": mark_spec(private.mark, private.mark_mask), "match": {}}
            splan.marks_private.append(entry)
        for v in versions:
            for proto in fwd.protocols:
                entry["match"].setdefault(v, []).append((self.target_text(private, v), proto, fwd.to_port))
        splan.restore_output = True
        for v in versions:
            splan.add_rule(rule_target, v, "fwmark %#x/%#x" % (private.mark, private.mark_mask), table)

    def apply_intermediate(self, fwd, technique, private, inter, public, i_if, versions):
        iplan = self.hostplan(inter.name)
        splan = self.hostplan(private.name)
        iplan.forwarding.update(versions)
        peer = i_if.peers[public.name]
        for v in versions:
            iplan.accept[v].extend((self.target_text(private, v), proto, fwd.to_port) for proto in fwd.protocols)
        iplan.accept_iifs.add(i_if.spec.name)
        spoke = private.attachment == "wireguard"
        s_if = splan.ifaces.get(private.wg[0].name) if spoke else None
        hub = iplan.ifaces.get(inter.iface_for(private.name).name) if spoke and inter.iface_for(private.name) else None
        if spoke and (s_if is None or hub is None):
            return
        if spoke:
            s_if.modes.setdefault(self.spoke_mode(technique, private), []).append(fwd.name)
        gateway = private.gateway_is_intermediate
        lan_needs = not spoke and not gateway  # replies do not pass the intermediate by themselves

        if technique == "masquerade":
            if lan_needs and self.need_lan(inter, fwd, "masquerade on the intermediate"):
                for v in versions:
                    iplan.masq.setdefault((inter.lan_interface, v), []).extend(
                        (self.target_text(private, v), proto, fwd.to_port) for proto in fwd.protocols)
        elif technique == "static_routes":
            for src in fwd.sources:
                peer.allow(src)
                if spoke:
                    s_if.peers[inter.name].allow(src)
                elif lan_needs and self.need_lan(inter, fwd, "static routes via the intermediate"):
                    via = inter.lan_address(src.version)
                    if via is not None:
                        splan.add_route(src.version, src, via, private.lan_interface)
        elif technique == "default_route":
            for v in i_if.versions():
                peer.allow(A.ANY[v])
            if spoke:
                for v in s_if.versions():
                    s_if.peers[inter.name].allow(A.ANY[v])
            # Once the two /1 routes are in place, the facts show the intermediate as the default
            # gateway; an inferred answer must not remove them again, and via the intermediate
            # they are harmless where it really is the gateway. Only a stated answer skips them.
            elif not spoke and not (gateway and private.gateway_origin == SET) and self.need_lan(
                    inter, fwd, "default route via the intermediate"):
                for v in versions:
                    via = inter.lan_address(v)
                    if via is not None:
                        for half in A.HALVES[v]:
                            splan.add_route(v, half, via, private.lan_interface)
        else:
            # Table-based: the link to the public server gets its own routing table with a default route.
            i_if.table = iplan.table_for(i_if.spec.name)
            for v in i_if.versions():
                peer.allow(A.ANY[v])
            i_if.loose = True
            marked = technique == "connmark_intermediate"
            if marked:
                self.mark_intermediate(iplan, inter, public, i_if, versions)
            elif spoke:
                hub.loose = True
                for v in versions:
                    # Only the spoke's own replies: forwards to LAN hosts also arrive on a hub that faces
                    # the public server, and must not be sent back into the tunnel.
                    iplan.add_rule(hub.rules, v, "from %s iif %s" % (self.target_text(private, v), hub.spec.name),
                                   i_if.table)
            elif self.need_lan(inter, fwd, "policy routing of the private server's replies"):
                iplan.loose_lan.add(inter.lan_interface)
                for v in versions:
                    iplan.add_rule(iplan.rules, v, "from %s" % self.target_text(private, v), i_if.table)
            self.private_return(fwd, technique, private, inter, splan, s_if, versions)

    def spoke_mode(self, technique, private):
        if technique == "connmark_intermediate" and private.gateway_is_intermediate:
            return PLAIN
        return link_mode(technique)

    def private_return(self, fwd, technique, private, inter, splan, s_if, versions):
        """What the private server needs so replies of table-based techniques reach the intermediate."""
        spoke = s_if is not None
        if technique == "connmark_intermediate" and private.gateway_is_intermediate:
            return  # replies already go to the intermediate, its default gateway
        if spoke:
            s_if.table = splan.table_for(s_if.spec.name)
            s_if.loose = True
            for v in s_if.versions():
                s_if.peers[inter.name].allow(A.ANY[v])
            if technique == "connmark_private":
                self.mark_private(splan, private, fwd, s_if.spec.name, None, s_if.table, s_if.rules, versions)
            else:
                self.tunnel_source_rules(splan, s_if, private, fwd, versions)
            return
        if private.gateway_is_intermediate:
            return
        mac = technique != "policy_routing"
        if not self.need_lan(inter, fwd, "%s on the private server" % technique, mac=mac):
            return
        table = splan.table_for("lan")
        splan.loose_lan.add(private.lan_interface)
        for v in versions:
            via = inter.lan_address(v)
            if via is not None:
                splan.add_route(v, "default", via, private.lan_interface, table)
        if technique == "policy_routing":
            for v in versions:
                for proto in fwd.protocols:
                    splan.add_rule(splan.rules, v, "ipproto %d sport %s" % (IPPROTO[proto], port_text(fwd.to_port)),
                                   table)
        else:
            self.mark_private(splan, private, fwd, private.lan_interface, inter.lan_mac, table, splan.rules, versions)

    def mark_intermediate(self, iplan, inter, public, i_if, versions):
        publics = self.multi.get(inter.name, [public.name])
        index = publics.index(public.name) + 1 if public.name in publics else 1
        value = inter.mark * index
        if value & ~inter.mark_mask & 0xFFFFFFFF or value > 0xFFFFFFFF:
            self.problems.add(host_where(inter.name), "wgpf_mark_mask",
                              "%d public servers need %d marks of %#x, which do not fit in mask %#x"
                              % (len(publics), len(publics), inter.mark, inter.mark_mask))
            return
        if not any(m["iif"] == i_if.spec.name for m in iplan.marks_in):
            iplan.marks_in.append({"iif": i_if.spec.name, "mark": mark_spec(value, inter.mark_mask)})
        for v in versions:
            iplan.add_rule(i_if.rules, v, "fwmark %#x/%#x" % (value, inter.mark_mask), i_if.table)

    # ------------------------------------------------------------ checks

    def check_modes(self):
        """Reconcile forwards that use one link differently; refuse what cannot share it."""
        for name, plan in self.plans.items():
            for iface in plan.ifaces.values():
                modes = iface.modes
                if TABLE in modes and FULL in modes:
                    self.problems.add(host_where(name), iface.spec.name,
                                      "forwards %s move the default route (default_route) but forwards %s need a "
                                      "separate routing table on the same interface: force one technique for them"
                                      % (", ".join(modes[FULL]), ", ".join(modes[TABLE])))
                if TABLE in modes and PLAIN in modes and iface.table is not None:
                    # Routes of a Table= interface live only in that table: send the plain forwards'
                    # destinations there with rules, so they share the link with the table-based ones.
                    for fwd_name in modes[PLAIN]:
                        fwd = self.decisions[fwd_name].forward
                        for net in self.plain_destinations(fwd, iface):
                            plan.add_rule(iface.rules, net.version, "to %s" % net, iface.table)

    def plain_destinations(self, fwd, iface):
        """Where replies of a plain forward go: its sources, or the masquerading public server."""
        if fwd.sources:
            return list(fwd.sources)
        public = self.model.hosts[fwd.public]
        return [A.host_net(net.ip) for spec in public.wg for net in spec.addresses
                if not any(net.ip in own for own in iface.spec.addresses)]

    def check_allowed_overlap(self):
        # WireGuard routes by longest prefix, so a hub's 0.0.0.0/0 beside a spoke's /32 is fine;
        # the same network on two peers is not: the last peer silently takes it from the first.
        for name, plan in self.plans.items():
            for iface in plan.ifaces.values():
                owner = {}
                for peer in sorted(iface.peers.values(), key=lambda p: p.host):
                    for net in A.netaddr.cidr_merge(peer.allowed):
                        if str(net) in owner:
                            self.problems.add(host_where(name), "AllowedIPs",
                                              "peers '%s' and '%s' of %s both claim %s: WireGuard would route it "
                                              "to only one of them" % (owner[str(net)], peer.host,
                                                                       iface.spec.name, net))
                        owner[str(net)] = peer.host


def planned(inventory):
    """A Planner that has run; raises PlanError listing every problem found."""
    problems = Problems()
    model = build_model(inventory, problems)
    if problems:
        # Decide what can be decided, so forced-technique problems come in the same report.
        hosts = model.hosts
        sound = [f for f in model.forwards
                 if f.port and hosts.get(f.public) is not None and hosts[f.public].role == "public"
                 and hosts.get(f.to) is not None and hosts[f.to].role == "private"]
        decide_all(Model(hosts, sound, model.groups), problems)
        problems.raise_if_any()
    planner = Planner(model)
    planner.run()
    return planner


def plan_inventory(inventory):
    """{host: plan dict} for every WireGuard host; raises PlanError listing every problem."""
    planner = planned(inventory)
    return {name: export_plan(planner, plan) for name, plan in planner.plans.items()}


_CACHE = {}


def fingerprint(inventory):
    """A digest of the inventory's content; a forwards list shared by many hosts is hashed once."""
    digest = hashlib.sha256()
    lists = {}
    for name in sorted(inventory["hosts"]):
        hv = dict(inventory["hosts"][name])
        forwards = hv.pop("wgpf_forwards", None)
        if forwards is not None:
            if id(forwards) not in lists:
                lists[id(forwards)] = hashlib.sha256(json.dumps(forwards, sort_keys=True, default=str)
                                                     .encode()).hexdigest()
            hv["wgpf_forwards"] = lists[id(forwards)]
        digest.update(json.dumps([name, hv], sort_keys=True, default=str).encode())
    digest.update(json.dumps(inventory["groups"], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def plan_cached(inventory):
    """plan_inventory, memoised on the inventory's content: the filter runs once per host."""
    key = fingerprint(inventory)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = plan_inventory(inventory)
    return _CACHE[key]


def explain_inventory(inventory):
    """[decision dict] per forward, with the path through the tree."""
    planner = planned(inventory)
    return [planner.decisions[f.name].as_dict() for f in planner.model.forwards]


def explain_lines(decisions):
    """Readable lines: per forward, the technique and each step of the walk."""
    lines = []
    for dec in decisions:
        lines.append("%s (%s -> %s): %s" % (dec["forward"], dec["public"], dec["to"], dec["technique"]))
        for step in dec["steps"]:
            answer = "n/a" if step["answer"] is None else step["answer"]
            lines.append("  %s %s = %s (%s) -> %s: %s" % (
                step["question"], step["key"], answer, step["source"], step["outcome"], step["reason"]))
        lines.extend("  note: %s" % note for note in dec["notes"])
    return lines
