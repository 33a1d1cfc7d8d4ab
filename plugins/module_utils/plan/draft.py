# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the planner gathers for one host while it places the forwards: its draft.

A ``HostDraft`` holds the host's WireGuard interfaces (``Iface``, each with
its ``Peer`` list), its nftables draft, sysctl needs, routes and rules.
export.py turns a finished draft into the host's plan (plain data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.nft_draft import NftDraft


@dataclass
class Peer:
    """One peer of a WireGuard interface: the host at the other end and what it may send (AllowedIPs)."""
    host: str
    interface: Optional[str]  # the peer's own interface on that link
    endpoint: Optional[str] = None
    keepalive: Optional[int] = None
    allowed: list = field(default_factory=list)
    seen: set = field(default_factory=set, repr=False)
    public_key: Optional[str] = None  # given by the inventory for a peer Ansible does not manage

    def allow(self, net):
        if not isinstance(net, A.netaddr.IPNetwork):
            net = A.netaddr.IPNetwork(net)
        key = (net.version, net.value, net.prefixlen)
        if key not in self.seen:
            self.seen.add(key)
            self.allowed.append(net)

    def as_dict(self):
        nets = A.netaddr.cidr_merge(self.allowed)
        out = {"host": self.host, "interface": self.interface, "endpoint": self.endpoint, "keepalive": self.keepalive,
               "allowed_ips": [str(n) for n in nets]}
        if self.public_key:
            out["public_key"] = self.public_key
        return out


@dataclass
class Iface:
    """One WireGuard interface of the host, as the forwards through it need it."""
    spec: object  # the model's WgSpec
    peers: Dict[str, Peer] = field(default_factory=dict)
    table: Optional[int] = None  # wg-quick's Table=, when the link routes by its own table
    rules: List[dict] = field(default_factory=list)  # ip rules added and removed with the interface
    loose: bool = False  # rp_filter=2: it carries asymmetric flows
    link_modes: Dict[str, List[str]] = field(default_factory=dict)  # link mode -> [forward names]

    @property
    def name(self):
        return self.spec.name

    def peer(self, host, interface=None, endpoint=None, keepalive=None):
        """The peer ``host`` (its side of the link is ``interface``), created on first use."""
        if host not in self.peers:
            self.peers[host] = Peer(host, interface, endpoint, keepalive)
        return self.peers[host]

    def versions(self):
        return sorted({n.version for n in self.spec.addresses})

    def use(self, link_mode, forward_name):
        self.link_modes.setdefault(link_mode, []).append(forward_name)


@dataclass
class HostDraft:
    """Mutable gathering of one host's artefacts; export.export_plan turns it into the plan."""
    host: object  # the model's Host
    ifaces: Dict[str, Iface] = field(default_factory=dict)
    nft: NftDraft = field(default_factory=NftDraft)
    forwarding: Set[int] = field(default_factory=set)  # address families to forward
    reserved: list = field(default_factory=list)  # public port spans
    loose_lan: Set[str] = field(default_factory=set)  # non-WireGuard interfaces with asymmetric flows
    routes: List[dict] = field(default_factory=list)
    rules: List[dict] = field(default_factory=list)  # rules of non-WireGuard interfaces
    forwards: Dict[str, object] = field(default_factory=dict)  # forward name -> Decision
    route_tables: Dict[str, int] = field(default_factory=dict)  # owner (interface or "lan") -> table number
    next_priority: int = 0
    rule_keys: set = field(default_factory=set, repr=False)  # (id(target), family, selector, table) added

    def __post_init__(self):
        self.next_priority = self.host.priority_base

    def iface(self, spec):
        if spec.name not in self.ifaces:
            self.ifaces[spec.name] = Iface(spec)
        return self.ifaces[spec.name]

    def table_for(self, owner):
        """The routing table number of ``owner``, allocated on first use from the host's base."""
        if owner not in self.route_tables:
            self.route_tables[owner] = self.host.table_base + len(self.route_tables)
        return self.route_tables[owner]

    def add_rule(self, target, version, selector, table):
        # A set, not a scan of target: rules per service port make thousands on one intermediate.
        key = (id(target), version, selector, table)
        if key in self.rule_keys:
            return
        self.rule_keys.add(key)
        target.append({"family": version, "selector": selector, "table": table, "priority": self.next_priority})
        self.next_priority += 1

    def add_route(self, version, to, via, dev, table=None):
        route = {"family": version, "to": str(to), "via": str(via), "dev": dev, "table": table}
        if route not in self.routes:
            self.routes.append(route)
