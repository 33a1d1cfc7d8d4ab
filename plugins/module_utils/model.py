# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse and validate the inventory model of DESIGN.md into plain objects.

Everything here is pure Python on top of netaddr; no Ansible import.
Every problem is collected, so one run reports all of them at once.
"""

from __future__ import annotations

import re

from ansible_collections.wgforward.portforward.plugins.module_utils import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.problems import (
    Problems, forward_where, host_where)
from ansible_collections.wgforward.portforward.plugins.module_utils.tree import (
    DEFAULT, INFERRED, SET, TECHNIQUES)

GROUPS = ("wireguard_public", "wireguard_intermediate", "wireguard_private")
ROLE_OF_GROUP = {"wireguard_public": "public", "wireguard_intermediate": "intermediate",
                 "wireguard_private": "private"}

FORWARD_KEYS = ("name", "public", "port", "protocols", "to", "to_port", "preserve_source",
                "sources", "only_via_public", "technique")
NAME_RE = re.compile(r"^[a-z0-9_-]+$")
PROTOCOLS = ("tcp", "udp")
ATTACHMENTS = ("wireguard", "lan", "container")
SAV_MODES = ("loose", "strict", "off")
STATES = ("present", "absent")

# Collection-wide knobs and their defaults. The mark lives in bits 24-27: clear of
# kube-proxy (0x4000/0x8000), Cilium (0x0f00), Tailscale (0xff0000) and wg-quick's 51820 (0xca6c).
KNOB_DEFAULTS = {
    "wgpf_route_table_base": 51900,
    "wgpf_rule_priority_base": 5100,
    "wgpf_mark": 0x01000000,
    "wgpf_mark_mask": 0x0F000000,
    "wgpf_sav": "loose",
    "wgpf_reserve_ports": True,
    "wgpf_state": "present",
    "wgpf_keepalive": 25,
}
HOST_KEYS = ("wgpf_address", "wgpf_listen_port", "wgpf_interface", "wgpf_endpoint",
             "wgpf_wan_interface", "wgpf_lan_interface", "wgpf_lan_address", "wgpf_lan_mac",
             "wgpf_intermediate", "wgpf_attachment", "wgpf_gateway_is_intermediate",
             "wgpf_internet_via_public", "wgpf_local_routes", "wgpf_interfaces", "wgpf_forwards",
             "wgpf_render_dir") + tuple(KNOB_DEFAULTS)
IFACE_KEYS = ("name", "address", "listen_port", "peers")
LOCAL_ROUTE_KEYS = ("to", "via", "dev")

DEFAULT_INTERFACE = "wg0"
DEFAULT_LISTEN_PORT = 51820
SSH_PORT = 22


class Forward:
    __slots__ = ("name", "public", "port", "protocols", "to", "to_port", "preserve_source",
                 "sources", "only_via_public", "technique", "origins", "index")

    def span(self):
        return self.port[1] - self.port[0]


class WgSpec:
    """One WireGuard interface a host declares."""
    __slots__ = ("name", "addresses", "listen_port", "peers")

    def __init__(self, name, addresses, listen_port, peers=None):
        self.name = name
        self.addresses = addresses
        self.listen_port = listen_port
        self.peers = peers  # None: this interface takes every peer


class Host:
    __slots__ = ("name", "role", "vars", "wg", "endpoint", "wan_interface", "lan_interface",
                 "lan_addresses", "lan_mac", "intermediate", "attachment", "gateway_is_intermediate",
                 "gateway_origin", "internet_via_public", "internet_origin", "local_routes",
                 "table_base", "priority_base", "mark", "mark_mask", "sav", "reserve_ports",
                 "state", "keepalive", "default_gateways")

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


# ---------------------------------------------------------------- facts


def _facts(hv):
    facts = hv.get("ansible_facts")
    return facts if isinstance(facts, dict) else {}


def fact(hv, key):
    facts = _facts(hv)
    if key in facts:
        return facts[key]
    return hv.get("ansible_" + key)


def iface_facts(hv, name):
    for key in (name, re.sub(r"[-:.]", "_", name)):
        data = fact(hv, key)
        if isinstance(data, dict):
            return data
    return None


def iface_names(hv):
    names = fact(hv, "interfaces")
    return list(names) if isinstance(names, (list, tuple)) else []


# ---------------------------------------------------------------- scalars


def _is_bool(value):
    return isinstance(value, bool)


def _int(value):
    """Ints, and strings of decimal or 0x hex digits, as int; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return int(text, 16) if text.startswith("0x") else int(text, 10)
        except ValueError:
            return None
    return None


def parse_port(value):
    """int or 'lo-hi' -> (lo, hi); raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("expected a port or 'lo-hi' range, got %r" % (value,))
    if isinstance(value, int):
        lo = hi = value
    elif isinstance(value, str) and re.match(r"^\s*\d+\s*(-\s*\d+\s*)?$", value):
        parts = [int(p) for p in value.split("-")]
        lo, hi = parts[0], parts[-1]
    else:
        raise ValueError("expected a port (1-65535) or a 'lo-hi' range, got %r" % (value,))
    if not (1 <= lo <= 65535 and 1 <= hi <= 65535):
        raise ValueError("port %r is outside 1-65535" % (value,))
    if lo > hi:
        raise ValueError("range %r runs backwards" % (value,))
    return lo, hi


def port_text(span):
    return str(span[0]) if span[0] == span[1] else "%d-%d" % span


# ---------------------------------------------------------------- forwards


def parse_forwards(raw, problems):
    forwards = []
    if raw is None:
        return forwards
    if not isinstance(raw, list):
        problems.add("inventory", "wgpf_forwards", "must be a list of forwards, got %s" % type(raw).__name__)
        return forwards
    seen = {}
    for index, item in enumerate(raw):
        where = "forward #%d" % (index + 1)
        if not isinstance(item, dict):
            problems.add(where, None, "must be a mapping, got %s" % type(item).__name__)
            continue
        name = item.get("name")
        if isinstance(name, str) and NAME_RE.match(name):
            where = forward_where(name)
            if name in seen:
                problems.add(where, "name", "duplicate forward name (also forward #%d)" % (seen[name] + 1))
            seen[name] = index
        else:
            problems.add(where, "name", "required, and must match [a-z0-9_-]+, got %r" % (name,))
        problems.unknown_keys(where, item, FORWARD_KEYS)
        fwd = Forward()
        fwd.index = index
        fwd.name = name if isinstance(name, str) else "#%d" % (index + 1)
        fwd.origins = {}
        for key in ("public", "to"):
            value = item.get(key)
            if not isinstance(value, str) or not value:
                problems.add(where, key, "required: the inventory host name")
            setattr(fwd, key, value if isinstance(value, str) else None)
        fwd.port = fwd.to_port = None
        try:
            fwd.port = parse_port(item.get("port"))
        except ValueError as exc:
            problems.add(where, "port", str(exc))
        if item.get("to_port") is None:
            fwd.to_port = fwd.port
        else:
            try:
                to_port = parse_port(item["to_port"])
            except ValueError as exc:
                problems.add(where, "to_port", str(exc))
            else:
                if fwd.port is not None:
                    width = fwd.span()
                    if to_port[0] == to_port[1] and width:
                        to_port = (to_port[0], to_port[0] + width)
                        if to_port[1] > 65535:
                            problems.add(where, "to_port", "range %s-%d maps past port 65535"
                                         % (to_port[0], to_port[1]))
                    elif to_port[1] - to_port[0] != width:
                        problems.add(where, "to_port", "range %s has %d ports but port %s has %d"
                                     % (port_text(to_port), to_port[1] - to_port[0] + 1,
                                        port_text(fwd.port), width + 1))
                fwd.to_port = to_port
        protocols = item.get("protocols", ["tcp"])
        if isinstance(protocols, str):
            protocols = [protocols]
        if (not isinstance(protocols, list) or not protocols
                or any(p not in PROTOCOLS for p in protocols) or len(set(protocols)) != len(protocols)):
            problems.add(where, "protocols", "must be a non-empty list of distinct tcp/udp, got %r" % (protocols,))
            protocols = [p for p in PROTOCOLS if isinstance(protocols, list) and p in protocols] or ["tcp"]
        fwd.protocols = tuple(protocols)
        for key, default in (("preserve_source", True), ("only_via_public", True)):
            value = item.get(key)
            if value is None:
                value = default
                fwd.origins[key] = DEFAULT
            elif not _is_bool(value):
                problems.add(where, key, "must be true or false, got %r" % (value,))
                value = default
            else:
                fwd.origins[key] = SET
            setattr(fwd, key, value)
        fwd.sources = []
        sources = item.get("sources")
        fwd.origins["sources"] = DEFAULT if sources is None else SET
        if sources is not None:
            if not isinstance(sources, list):
                problems.add(where, "sources", "must be a list of CIDRs, got %r" % (sources,))
            else:
                for src in sources:
                    try:
                        fwd.sources.append(A.parse_cidr(src))
                    except ValueError as exc:
                        problems.add(where, "sources", str(exc))
        technique = item.get("technique", "auto")
        if technique is None:
            technique = "auto"
        if technique != "auto" and technique not in TECHNIQUES:
            problems.add(where, "technique", "must be auto or one of %s, got %r" % (", ".join(TECHNIQUES), technique))
            technique = "auto"
        fwd.technique = technique
        forwards.append(fwd)
    return forwards


def check_port_clashes(forwards, hosts, problems):
    """Two forwards on one public port and protocol; forwards on WireGuard's or SSH's port."""
    by_key = {}
    for fwd in forwards:
        if fwd.port is None or fwd.public is None:
            continue
        for proto in fwd.protocols:
            by_key.setdefault((fwd.public, proto), []).append(fwd)
    for (public, proto), group in by_key.items():
        group.sort(key=lambda f: f.port)
        reach = None  # the forward whose range reaches furthest so far
        for cur in group:
            if reach is not None and cur.port[0] <= reach.port[1]:
                problems.add(forward_where(cur.name), "port",
                             "%s/%s on %s is already forwarded by '%s' (%s)"
                             % (port_text(cur.port), proto, public, reach.name, port_text(reach.port)))
            if reach is None or cur.port[1] > reach.port[1]:
                reach = cur
        host = hosts.get(public)
        if host is None or host.role != "public":
            continue
        reserved = []
        if proto == "udp":
            reserved += [(s.listen_port, "its WireGuard listen port") for s in host.wg]
        if proto == "tcp":
            reserved.append((SSH_PORT, "SSH"))
        for fwd in group:
            for port, what in reserved:
                if fwd.port[0] <= port <= fwd.port[1]:
                    problems.add(forward_where(fwd.name), "port",
                                 "%s/%s on %s takes %d, %s" % (port_text(fwd.port), proto, public, port, what))


# ---------------------------------------------------------------- hosts


def _addresses(where, field, value, problems):
    values = value if isinstance(value, list) else [value]
    out = []
    for item in values:
        try:
            out.append(A.parse_interface_address(item))
        except ValueError as exc:
            problems.add(where, field, str(exc))
    return out


def _listen_port(where, field, value, problems):
    port = _int(value)
    if value is None:
        return DEFAULT_LISTEN_PORT
    if port is None or not 1 <= port <= 65535:
        problems.add(where, field, "must be a port in 1-65535, got %r" % (value,))
        return DEFAULT_LISTEN_PORT
    return port


def _ifname(where, field, value, problems):
    if value is None:
        return None
    if not isinstance(value, str) or not A.IFNAME_RE.match(value):
        problems.add(where, field, "must be an interface name of 1-15 characters, got %r" % (value,))
        return None
    return value


def _wg_specs(where, hv, problems):
    name = _ifname(where, "wgpf_interface", hv.get("wgpf_interface", DEFAULT_INTERFACE), problems)
    explicit = hv.get("wgpf_interfaces")
    if explicit is None:
        addrs = hv.get("wgpf_address")
        return [WgSpec(name or DEFAULT_INTERFACE,
                       _addresses(where, "wgpf_address", addrs, problems) if addrs is not None else [],
                       _listen_port(where, "wgpf_listen_port", hv.get("wgpf_listen_port"), problems))]
    if not isinstance(explicit, list) or not explicit:
        problems.add(where, "wgpf_interfaces", "must be a non-empty list of {name, address, listen_port, peers}")
        return []
    specs = []
    for i, item in enumerate(explicit):
        field = "wgpf_interfaces[%d]" % i
        if not isinstance(item, dict):
            problems.add(where, field, "must be a mapping")
            continue
        problems.unknown_keys(where, item, IFACE_KEYS, what="key of %s" % field)
        ifname = _ifname(where, field + ".name", item.get("name"), problems)
        if ifname is None:
            problems.add(where, field + ".name", "required")
            ifname = "wg%d" % i
        if item.get("address") is None:
            problems.add(where, field + ".address", "required")
        addrs = _addresses(where, field + ".address", item.get("address"), problems) if item.get("address") else []
        peers = item.get("peers", [])
        if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
            problems.add(where, field + ".peers", "must be a list of inventory host names")
            peers = []
        port = _listen_port(where, field + ".listen_port", item.get("listen_port"), problems)
        specs.append(WgSpec(ifname, addrs, port, list(peers)))
    for attr, what in (("name", "interface name"), ("listen_port", "listen port")):
        values = [getattr(s, attr) for s in specs]
        for value in sorted(set(v for v in values if values.count(v) > 1), key=str):
            problems.add(where, "wgpf_interfaces", "%s %s is used twice" % (what, value))
    claimed = {}
    for spec in specs:
        for peer in spec.peers:
            if peer in claimed:
                problems.add(where, "wgpf_interfaces", "peer '%s' is listed on both %s and %s"
                             % (peer, claimed[peer], spec.name))
            claimed[peer] = spec.name
    return specs


def _bool_var(where, hv, key, problems):
    value = hv.get(key)
    if value is None:
        return None
    if not _is_bool(value):
        problems.add(where, key, "must be true or false, got %r" % (value,))
        return None
    return value


def _knobs(host, where, hv, problems):
    knob = dict(KNOB_DEFAULTS)
    knob.update({k: hv[k] for k in KNOB_DEFAULTS if hv.get(k) is not None})
    for key in ("wgpf_route_table_base", "wgpf_rule_priority_base", "wgpf_mark", "wgpf_mark_mask",
                "wgpf_keepalive"):
        value = _int(knob[key])
        if value is None:
            problems.add(where, key, "must be an integer, got %r" % (knob[key],))
            value = KNOB_DEFAULTS[key]
        knob[key] = value
    host.table_base = knob["wgpf_route_table_base"]
    if not 1 <= host.table_base <= 0xFFFF0000 or 253 <= host.table_base <= 255:
        problems.add(where, "wgpf_route_table_base", "must be a routing table id in 1-4294901760 that is not "
                     "main, local or default (253-255), got %d" % host.table_base)
    host.priority_base = knob["wgpf_rule_priority_base"]
    if not 1 <= host.priority_base <= 32000:
        problems.add(where, "wgpf_rule_priority_base", "must be in 1-32000 so the rules come before the main "
                     "table's (32766), got %d" % host.priority_base)
    host.mark, host.mark_mask = knob["wgpf_mark"], knob["wgpf_mark_mask"]
    if not 0 < host.mark_mask <= 0xFFFFFFFF:
        problems.add(where, "wgpf_mark_mask", "must be a non-zero 32-bit mask, got %#x" % host.mark_mask)
    elif host.mark <= 0 or host.mark & ~host.mark_mask & 0xFFFFFFFF or host.mark > 0xFFFFFFFF:
        problems.add(where, "wgpf_mark", "%#x is outside its mask %#x (a mark must be non-zero and set only "
                     "bits of wgpf_mark_mask)" % (host.mark, host.mark_mask))
    host.keepalive = knob["wgpf_keepalive"]
    if not 0 <= host.keepalive <= 65535:
        problems.add(where, "wgpf_keepalive", "must be in 0-65535 seconds, got %d" % host.keepalive)
    for key, allowed, attr in (("wgpf_sav", SAV_MODES, "sav"), ("wgpf_state", STATES, "state")):
        if knob[key] not in allowed:
            problems.add(where, key, "must be one of %s, got %r" % (", ".join(allowed), knob[key]))
            knob[key] = KNOB_DEFAULTS[key]
        setattr(host, attr, knob[key])
    if not _is_bool(knob["wgpf_reserve_ports"]):
        problems.add(where, "wgpf_reserve_ports", "must be true or false, got %r" % (knob["wgpf_reserve_ports"],))
        knob["wgpf_reserve_ports"] = True
    host.reserve_ports = knob["wgpf_reserve_ports"]


def _local_routes(where, hv, problems):
    raw = hv.get("wgpf_local_routes") or []
    routes = []
    if not isinstance(raw, list):
        problems.add(where, "wgpf_local_routes", "must be a list of {to, via}")
        return routes
    for i, item in enumerate(raw):
        field = "wgpf_local_routes[%d]" % i
        if not isinstance(item, dict):
            problems.add(where, field, "must be a mapping {to, via}")
            continue
        problems.unknown_keys(where, item, LOCAL_ROUTE_KEYS, what="key of %s" % field)
        try:
            to = A.parse_cidr(item.get("to"))
            via = A.parse_address(item.get("via"))
        except ValueError as exc:
            problems.add(where, field, str(exc))
            continue
        if to.version != via.version:
            problems.add(where, field, "to %s and via %s are of different IP versions" % (to, via))
            continue
        routes.append({"to": str(to), "via": str(via),
                       "dev": _ifname(where, field + ".dev", item.get("dev"), problems)})
    return routes


def parse_host(name, role, hv, problems):
    where = host_where(name)
    problems.unknown_keys(where, [k for k in hv if k.startswith("wgpf_")], HOST_KEYS, what="variable")
    host = Host()
    host.name, host.role, host.vars = name, role, hv
    _knobs(host, where, hv, problems)
    host.wg = _wg_specs(where, hv, problems)
    if hv.get("wgpf_interfaces") is not None and role != "intermediate":
        problems.add(where, "wgpf_interfaces", "only intermediate servers take several interfaces")
    host.endpoint = None
    if hv.get("wgpf_endpoint") is not None:
        try:
            host.endpoint = A.split_endpoint(hv["wgpf_endpoint"])
        except ValueError as exc:
            problems.add(where, "wgpf_endpoint", str(exc))
    default4 = fact(hv, "default_ipv4") or {}
    default6 = fact(hv, "default_ipv6") or {}
    host.default_gateways = [g for g in (default4.get("gateway"), default6.get("gateway")) if g]
    host.wan_interface = _ifname(where, "wgpf_wan_interface", hv.get("wgpf_wan_interface"), problems)
    if host.wan_interface is None and role == "public":
        host.wan_interface = default4.get("interface") or default6.get("interface")
    host.lan_interface = _ifname(where, "wgpf_lan_interface", hv.get("wgpf_lan_interface"), problems)
    host.lan_addresses = []
    lan = hv.get("wgpf_lan_address")
    if lan is not None:
        for net in _addresses(where, "wgpf_lan_address", lan, problems):
            host.lan_addresses.append(net.ip)
    host.lan_mac = hv.get("wgpf_lan_mac")
    if host.lan_mac is not None and not (isinstance(host.lan_mac, str) and A.MAC_RE.match(host.lan_mac)):
        problems.add(where, "wgpf_lan_mac", "must be a MAC address like 12:34:56:78:90:ab, got %r" % (host.lan_mac,))
        host.lan_mac = None
    if role == "private":
        if host.lan_interface is None:
            host.lan_interface = default4.get("interface") or default6.get("interface")
        if not host.lan_addresses:
            for data in (default4, default6):
                if data.get("address"):
                    host.lan_addresses.append(A.parse_address(data["address"]))
    host.intermediate = hv.get("wgpf_intermediate")
    if host.intermediate is not None and role != "private":
        problems.add(where, "wgpf_intermediate", "only private servers are reached through an intermediate")
        host.intermediate = None
    attachment = hv.get("wgpf_attachment")
    if attachment is not None and attachment not in ATTACHMENTS:
        problems.add(where, "wgpf_attachment", "must be one of %s, got %r" % (", ".join(ATTACHMENTS), attachment))
        attachment = None
    if role == "private" and host.intermediate is None and attachment not in (None, "wireguard"):
        problems.add(where, "wgpf_attachment", "%s needs wgpf_intermediate: without it the private server is a "
                     "direct WireGuard peer of the public server" % attachment)
        attachment = "wireguard"
    if attachment is None and role == "private":
        attachment = "wireguard" if (host.intermediate is None or hv.get("wgpf_address") is not None) else "lan"
    host.attachment = attachment
    host.gateway_is_intermediate = _bool_var(where, hv, "wgpf_gateway_is_intermediate", problems)
    host.gateway_origin = SET if host.gateway_is_intermediate is not None else None
    host.internet_via_public = _bool_var(where, hv, "wgpf_internet_via_public", problems)
    host.internet_origin = SET if host.internet_via_public is not None else DEFAULT
    if host.internet_via_public is None:
        host.internet_via_public = False
    host.local_routes = _local_routes(where, hv, problems)
    if host.local_routes and role == "public":
        problems.add(where, "wgpf_local_routes", "only intermediate and private servers keep local routes")
    return host


def _infer_intermediate_lan(inter, privates, problems):
    """Fill an intermediate's LAN interface/address/MAC from facts, from where its private servers live."""
    hv = inter.vars
    targets = [ip for p in privates for ip in p.lan_addresses]
    if inter.lan_interface is None or not inter.lan_addresses:
        for ifname in iface_names(hv):
            data = iface_facts(hv, ifname) or {}
            v4 = data.get("ipv4") or {}
            if not (v4.get("address") and v4.get("netmask")):
                continue
            net = A.netaddr.IPNetwork("%s/%s" % (v4["address"], v4["netmask"]))
            if any(ip in net for ip in targets):
                if inter.lan_interface is None:
                    inter.lan_interface = ifname
                if not inter.lan_addresses:
                    inter.lan_addresses.append(A.netaddr.IPAddress(v4["address"]))
                break
    if inter.lan_mac is None and inter.lan_interface is not None:
        data = iface_facts(hv, inter.lan_interface) or {}
        if isinstance(data.get("macaddress"), str) and A.MAC_RE.match(data["macaddress"]):
            inter.lan_mac = data["macaddress"]


def _check_references(model, problems):
    hosts = model.hosts
    for fwd in model.forwards:
        where = forward_where(fwd.name)
        for key, role in (("public", "public"), ("to", "private")):
            value = getattr(fwd, key)
            if value is None:
                continue
            if value not in hosts:
                exists = value in model.groups.get("all", [])
                problems.add(where, key, "host '%s' is %s" % (
                    value, "not in the group wireguard_%s" % role if exists else "not in the inventory"))
            elif hosts[value].role != role:
                problems.add(where, key, "host '%s' is a %s server, not in the group wireguard_%s"
                             % (value, hosts[value].role, role))
            elif hosts[value].state == "absent":
                problems.add(where, key, "host '%s' is being removed (wgpf_state: absent): remove this forward "
                             "in the same run" % value)
    for host in model.by_role("private"):
        if host.intermediate is None:
            continue
        inter = hosts.get(host.intermediate)
        if inter is None or inter.role != "intermediate":
            problems.add(host_where(host.name), "wgpf_intermediate",
                         "'%s' is not a host in the group wireguard_intermediate" % host.intermediate)
            host.intermediate = None
        elif inter.state == "absent" and host.state == "present":
            problems.add(host_where(host.name), "wgpf_intermediate",
                         "'%s' is being removed (wgpf_state: absent): remove this host too, or reach it another way"
                         % host.intermediate)


def _check_hosts(model, problems):
    hosts = model.hosts
    forwards_to = {}
    for fwd in model.forwards:
        forwards_to.setdefault(fwd.to, []).append(fwd)
    privates_of = {}
    for host in model.by_role("private"):
        if host.intermediate:
            privates_of.setdefault(host.intermediate, []).append(host)
    for host in model.by_role("intermediate"):
        _infer_intermediate_lan(host, [p for p in privates_of.get(host.name, []) if p.attachment != "wireguard"],
                                problems)
    owners = {}
    for host in hosts.values():
        where = host_where(host.name)
        needs_wg = host.role in ("public", "intermediate") or host.attachment == "wireguard"
        for spec in host.wg:
            if needs_wg and not spec.addresses:
                field = "wgpf_address" if host.vars.get("wgpf_interfaces") is None else "wgpf_interfaces"
                problems.add(where, field, "required: the tunnel address(es) of %s, like 10.0.0.2/24" % spec.name)
            for net in spec.addresses:
                owners.setdefault(str(net.ip), []).append("%s (%s)" % (host.name, spec.name))
        if host.role == "public":
            if host.endpoint is None:
                problems.add(where, "wgpf_endpoint", "required: the host:port that peers dial to reach this server")
            if host.wan_interface is None:
                problems.add(where, "wgpf_wan_interface", "not set and no default IPv4 route in the facts to infer it")
        if host.role == "private" and host.attachment != "wireguard":
            if not host.lan_addresses:
                problems.add(where, "wgpf_lan_address", "not set and no default route in the facts to infer it: "
                             "the public server forwards to this address")
            if host.attachment == "container" and host.gateway_is_intermediate is False:
                problems.add(where, "wgpf_gateway_is_intermediate", "a container on a Docker bridge always has its "
                             "host as default gateway")
        if host.role == "private" and host.intermediate and host.attachment != "wireguard":
            inter = hosts[host.intermediate]
            if host.gateway_is_intermediate is None:
                if host.attachment == "container":
                    host.gateway_is_intermediate, host.gateway_origin = True, DEFAULT
                elif inter.lan_addresses and host.default_gateways:
                    host.gateway_is_intermediate = any(str(ip) in host.default_gateways for ip in inter.lan_addresses)
                    host.gateway_origin = INFERRED
        if host.gateway_is_intermediate is None:
            host.gateway_is_intermediate, host.gateway_origin = False, DEFAULT
    for ip, who in owners.items():
        if len(who) > 1:
            problems.add("host '%s'" % who[0].split(" ")[0], "wgpf_address",
                         "tunnel address %s is also used by %s" % (ip, ", ".join(who[1:])))


def build_model(inventory, problems=None):
    """inventory: {'hosts': {name: vars}, 'groups': {group: [names]}} -> Model.

    Raises PlanError, unless the caller passes its own Problems to collect into
    (it then goes on with the valid part of the model and raises later).
    """
    A.require_netaddr()
    collect = problems is not None
    problems = problems if collect else Problems()
    groups = inventory.get("groups") or {}
    host_vars = inventory.get("hosts") or {}
    hosts = {}
    for group in GROUPS:
        for name in groups.get(group) or []:
            if name in hosts:
                problems.add(host_where(name), None, "is in both wireguard_%s and %s: a host plays one part"
                             % (hosts[name].role, group))
                continue
            hosts[name] = parse_host(name, ROLE_OF_GROUP[group], host_vars.get(name) or {}, problems)
    forwards = _collect_forwards(hosts, problems)
    model = Model(hosts, forwards, groups)
    _check_references(model, problems)
    _check_hosts(model, problems)
    check_port_clashes(forwards, hosts, problems)
    if not collect:
        problems.raise_if_any()
    return model


def _collect_forwards(hosts, problems):
    """wgpf_forwards usually comes from group_vars/all: read it once per distinct definition."""
    chosen = None
    for name, host in hosts.items():
        raw = host.vars.get("wgpf_forwards")
        if raw is None:
            continue
        if chosen is None:
            chosen = (name, raw)
        elif raw is not chosen[1] and raw != chosen[1]:
            problems.add(host_where(name), "wgpf_forwards", "differs from the list host '%s' sees: define the "
                         "forwards once, usually in group_vars/all" % chosen[0])
    return parse_forwards(chosen[1] if chosen else [], problems)
