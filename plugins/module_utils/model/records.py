# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validated inventory as records, each built complete by its constructor.

The parsers (forwards.py, hosts.py, wg_interfaces.py) and the inference from facts
(facts.py) work out every field first; the planner only reads these. Records
compare by identity (eq=False), as the planner keys on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class Forward:
    """One entry of wgpf_forwards: ports as (lo, hi), sources as merged netaddr networks."""
    name: str
    index: int
    public: object  # the public server's host name, or None when missing
    to: object  # the private server's host name, or None when missing
    port: object  # (lo, hi), or None when invalid
    to_port: object  # (lo, hi), or None when invalid
    protocols: tuple
    sources: list
    technique: str
    answers: dict  # the tree's answers a forward gives (model/vocabulary.py): key -> true or false
    origins: dict  # answer key (and "sources") -> core/origins.py's SET or DEFAULT

    def width(self):
        """hi - lo of the public port range: 0 for a single port."""
        return self.port[1] - self.port[0]


@dataclass(eq=False)
class WgSpec:
    """One WireGuard interface a host declares."""
    name: str
    addresses: list  # netaddr.IPNetwork, host address kept
    listen_port: int
    peers: object = None  # None: this interface takes every peer; else a list of host names
    mtu: object = None  # wg-quick's MTU =, or None for wg-quick's own choice


@dataclass(eq=False)
class Host:
    """One WireGuard host, with every default filled in (set, inferred from facts, or default)."""
    name: str
    role: str
    vars: dict = field(repr=False)
    wg: list
    endpoint: object  # (host, port) or None
    wan_interface: object
    lan_interface: object
    lan_addresses: list  # netaddr.IPAddress
    lan_networks: list  # netaddr.IPNetwork (cidr) of the LAN, for strict SAV: a set prefix, else the facts' netmask
    lan_mac: object
    intermediate: object
    attachment: object
    gateway_is_intermediate: bool
    gateway_origin: object
    answers: dict  # the tree's answers a host gives as wgpf_<key> (model/vocabulary.py): key -> true or false
    origins: dict  # answer key -> core/origins.py's SET or DEFAULT
    local_routes: list
    table_base: int
    priority_base: int
    mark: int
    mark_mask: int
    sav: str
    reserve_ports: bool
    state: str
    keepalive: int
    default_gateways: list
    # Hosts the run never contacts (model/unmanaged.py): a container's bridge on the intermediate, if set;
    # an unmanaged peer's public key, whether its file takes hooks, and where it is written.
    contacted: bool = True
    bridge: object = None
    public_key: object = None
    peer_hooks: bool = False
    peer_config_dir: object = None
    preshared_key: bool = False  # wgpf_preshared_key: its links use a preshared key (either end asks)

    def iface_for(self, peer):
        """The WireGuard interface spec that carries ``peer`` (None if none does)."""
        for spec in self.wg:
            if spec.peers is None or peer in spec.peers:
                return spec
        return None

    def lan_address(self, version):
        for ip in self.lan_addresses:
            if ip.version == version:
                return ip
        return None


class Model:
    def __init__(self, hosts, forwards, groups):
        self.hosts = hosts
        self.forwards = forwards
        self.groups = groups

    def by_role(self, role):
        return [h for h in self.hosts.values() if h.role == role]
