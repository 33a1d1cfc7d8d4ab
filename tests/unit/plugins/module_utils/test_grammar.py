# -*- coding: utf-8 -*-
"""Issue 7.2: every value that lands in a file or a command is refused unless it fully matches its grammar.

Each field of the table gets each injection value appended to a valid value
(so a check that matches only a prefix, or accepts a trailing newline the way
a `$`-anchored pattern does, is caught), and must be refused with the message
given, naming the host or forward and the field. A second test renders every
case the planner accepts and finds no extra line in any file.
"""

from __future__ import annotations

import pytest
from builders import seed_lan, seed_two_publics

from ansible_collections.wgforward.portforward.plugins.module_utils.core.grammar import parse_port, port_text
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

BAD = ["x\ny", 'x"y', "x;y", "$(id)", "\n"]
BAD_IDS = ["newline", "quote", "semicolon", "command", "trailing-newline"]

IFNAME = "must be an interface name of 1-15 characters from A-Z a-z 0-9 _ = + . -, got {r}"
INTEGER = "must be an integer, got {r}"
BOOL = "must be true or false, got {r}"
TECHNIQUES = "masquerade, static_routes, default_route, policy_routing, connmark_intermediate, connmark_private"


def lan(forward=None):
    inv = seed_lan()
    inv.forward(**dict({"name": "web", "public": "public1", "port": 2000, "to": "private1", "to_port": 8080},
                       **(forward or {})))
    return inv


def two_publics():
    return seed_two_publics()


def set_fwd(key):
    return lambda v: lan({key: v})


def set_host(host, key, base=lan):
    def make(v):
        inv = base()
        inv.hosts[host][key] = v
        return inv
    return make


def set_iface(key, value):
    def make(v):
        inv = two_publics()
        inv.hosts["inter1"]["wgpf_interfaces"][0][key] = value(v)
        return inv
    return make


def set_route(key, value):
    def make(v):
        route = {"to": "192.168.99.0/24", "via": "172.31.0.254", "dev": "eth0"}
        route[key] = value(v)
        inv = lan()
        inv.hosts["private1"]["wgpf_local_routes"] = [route]
        return inv
    return make


def rename_private(v):
    inv = lan({"to": v})
    inv.groups["wireguard_private"] = [v]
    inv.hosts[v] = inv.hosts.pop("private1")
    return inv


def fact_of(host, unset, facts):
    def make(v):
        inv = lan()
        for key in unset:
            inv.hosts[host].pop(key)
        inv.hosts[host]["ansible_facts"] = facts(v)
        return inv
    return make


def inter_facts(name):
    return {"interfaces": [name], name: {"type": "ether", "macaddress": "02:00:00:00:00:02",
                                         "ipv4": {"address": "172.31.0.1", "netmask": "255.255.255.0"}}}


# (id, inventory from the bad value, how the value is written, the problem expected ({r}: repr of the value))
FIELDS = [
    # ---- forwards
    ("forward.name", set_fwd("name"), "web{}", "forward #1: name: required, and must match [a-z0-9_-]+, got {r}"),
    ("forward.public", set_fwd("public"), "public1{}", "forward 'web': public: host {r} is not in the inventory"),
    ("forward.to", set_fwd("to"), "private1{}", "forward 'web': to: host {r} is not in the inventory"),
    ("forward.port", set_fwd("port"), "2000{}",
     "forward 'web': port: expected a port (1-65535) or a 'lo-hi' range, got {r}"),
    ("forward.port-range", set_fwd("port"), "2000-2001{}",
     "forward 'web': port: expected a port (1-65535) or a 'lo-hi' range, got {r}"),
    ("forward.to_port", set_fwd("to_port"), "8080{}",
     "forward 'web': to_port: expected a port (1-65535) or a 'lo-hi' range, got {r}"),
    ("forward.protocols", lambda v: lan({"protocols": ["tcp", v]}), "udp{}",
     "forward 'web': protocols: must be a non-empty list of distinct tcp/udp, got ['tcp', {r}]"),
    ("forward.sources", lambda v: lan({"sources": ["198.51.100.0/24", v]}), "192.0.2.0/24{}",
     "forward 'web': sources: {r} is not a CIDR"),
    ("forward.technique", set_fwd("technique"), "masquerade{}",
     "forward 'web': technique: must be auto or one of %s, got {r}" % TECHNIQUES),
    ("forward.preserve_source", set_fwd("preserve_source"), "true{}", "forward 'web': preserve_source: " + BOOL),
    ("forward.only_via_public", set_fwd("only_via_public"), "true{}", "forward 'web': only_via_public: " + BOOL),
    # ---- host names and variables
    ("host.name", rename_private, "private1{}",
     "host {r}: name: inventory host name {r} lands in the files' comments: use letters, digits and . _ : -"),
    ("wgpf_address", set_host("public1", "wgpf_address"), "10.0.0.2/24{}",
     "host 'public1': wgpf_address: {r} is not an IP address with optional /prefix"),
    ("wgpf_address-list", lambda v: set_host("public1", "wgpf_address")(["10.0.0.2/24", v]), "fd00::2/64{}",
     "host 'public1': wgpf_address: {r} is not an IP address with optional /prefix"),
    ("wgpf_listen_port", set_host("public1", "wgpf_listen_port"), "51822{}",
     "host 'public1': wgpf_listen_port: must be a port in 1-65535, got {r}"),
    ("wgpf_interface", set_host("public1", "wgpf_interface"), "wg0{}", "host 'public1': wgpf_interface: " + IFNAME),
    ("wgpf_endpoint-host", set_host("public1", "wgpf_endpoint"), "vpn{}.example.com:51822",
     "host 'public1': wgpf_endpoint: the host of {r} must be a DNS name (RFC 1123) or an IP address"),
    ("wgpf_endpoint-address", set_host("public1", "wgpf_endpoint"), "203.0.113.2{}:51822",
     "host 'public1': wgpf_endpoint: the host of {r} must be a DNS name (RFC 1123) or an IP address"),
    ("wgpf_endpoint-ipv6", set_host("public1", "wgpf_endpoint"), "[2001:db8::2{}]:51822",
     "host 'public1': wgpf_endpoint: expected [IPv6]:port, got {r}"),
    ("wgpf_endpoint-port", set_host("public1", "wgpf_endpoint"), "203.0.113.2:51822{}",
     "host 'public1': wgpf_endpoint: expected host:port with a port in 1-65535, got {r}"),
    ("wgpf_wan_interface", set_host("public1", "wgpf_wan_interface"), "eth0{}",
     "host 'public1': wgpf_wan_interface: " + IFNAME),
    ("wgpf_lan_interface", set_host("inter1", "wgpf_lan_interface"), "eth0{}",
     "host 'inter1': wgpf_lan_interface: " + IFNAME),
    ("wgpf_lan_address", set_host("private1", "wgpf_lan_address"), "172.31.0.3{}",
     "host 'private1': wgpf_lan_address: {r} is not an IP address with optional /prefix"),
    ("wgpf_lan_mac", set_host("inter1", "wgpf_lan_mac"), "12:34:56:78:90:ab{}",
     "host 'inter1': wgpf_lan_mac: must be a MAC address like 12:34:56:78:90:ab, got {r}"),
    ("wgpf_intermediate", set_host("private1", "wgpf_intermediate"), "inter1{}",
     "host 'private1': wgpf_intermediate: {r} is not a host in the group wireguard_intermediate"),
    ("wgpf_attachment", set_host("private1", "wgpf_attachment"), "lan{}",
     "host 'private1': wgpf_attachment: must be one of wireguard, lan, container, got {r}"),
    ("wgpf_gateway_is_intermediate", set_host("private1", "wgpf_gateway_is_intermediate"), "false{}",
     "host 'private1': wgpf_gateway_is_intermediate: " + BOOL),
    ("wgpf_internet_via_public", set_host("private1", "wgpf_internet_via_public"), "false{}",
     "host 'private1': wgpf_internet_via_public: " + BOOL),
    ("wgpf_local_routes.to", set_route("to", lambda v: v), "192.168.99.0/24{}",
     "host 'private1': wgpf_local_routes[0].to: {r} is not a CIDR"),
    ("wgpf_local_routes.via", set_route("via", lambda v: v), "172.31.0.254{}",
     "host 'private1': wgpf_local_routes[0].via: {r} is not an IP address"),
    ("wgpf_local_routes.dev", set_route("dev", lambda v: v), "eth0{}",
     "host 'private1': wgpf_local_routes[0].dev: " + IFNAME),
    ("wgpf_interfaces.name", set_iface("name", lambda v: v), "wg0{}", "host 'inter1': wgpf_interfaces[0].name: " + IFNAME),
    ("wgpf_interfaces.address", set_iface("address", lambda v: v), "10.0.0.1/24{}",
     "host 'inter1': wgpf_interfaces[0].address: {r} is not an IP address with optional /prefix"),
    ("wgpf_interfaces.listen_port", set_iface("listen_port", lambda v: v), "51821{}",
     "host 'inter1': wgpf_interfaces[0].listen_port: must be a port in 1-65535, got {r}"),
    ("wgpf_interfaces.peers", set_iface("peers", lambda v: [v]), "private1{}",
     "host 'inter1': wgpf_interfaces: wg0 lists peer {r}, which is not a WireGuard host of the inventory"),
    ("wgpf_route_table_base", set_host("inter1", "wgpf_route_table_base"), "51900{}",
     "host 'inter1': wgpf_route_table_base: " + INTEGER),
    ("wgpf_rule_priority_base", set_host("inter1", "wgpf_rule_priority_base"), "5100{}",
     "host 'inter1': wgpf_rule_priority_base: " + INTEGER),
    ("wgpf_mark", set_host("inter1", "wgpf_mark"), "0x01000000{}", "host 'inter1': wgpf_mark: " + INTEGER),
    ("wgpf_mark_mask", set_host("inter1", "wgpf_mark_mask"), "0x0f000000{}", "host 'inter1': wgpf_mark_mask: " + INTEGER),
    ("wgpf_keepalive", set_host("inter1", "wgpf_keepalive"), "25{}", "host 'inter1': wgpf_keepalive: " + INTEGER),
    ("wgpf_sav", set_host("inter1", "wgpf_sav"), "loose{}",
     "host 'inter1': wgpf_sav: must be one of loose, strict, off, got {r}"),
    ("wgpf_state", set_host("inter1", "wgpf_state"), "present{}",
     "host 'inter1': wgpf_state: must be one of present, absent, got {r}"),
    ("wgpf_reserve_ports", set_host("public1", "wgpf_reserve_ports"), "true{}",
     "host 'public1': wgpf_reserve_ports: " + BOOL),
    # ---- values inferred from facts land in the same files
    ("facts.wan_interface", fact_of("public1", ["wgpf_wan_interface"],
                                    lambda v: {"default_ipv4": {"interface": v, "address": "203.0.113.2"}}), "eth0{}",
     "host 'public1': wgpf_wan_interface: inferred from facts: " + IFNAME + "; set it in the inventory"),
    ("facts.private_lan_interface",
     fact_of("private1", ["wgpf_lan_interface"], lambda v: {"default_ipv4": {"interface": v, "address": "172.31.0.3"}}),
     "eth0{}", "host 'private1': wgpf_lan_interface: inferred from facts: " + IFNAME + "; set it in the inventory"),
    ("facts.private_lan_address",
     fact_of("private1", ["wgpf_lan_address"], lambda v: {"default_ipv4": {"interface": "eth0", "address": v}}),
     "172.31.0.3{}", "host 'private1': wgpf_lan_address: inferred from facts: {r} is not an IP address; set it in "
     "the inventory"),
    ("facts.intermediate_lan_interface", fact_of("inter1", ["wgpf_lan_interface"], inter_facts), "eth0{}",
     "host 'inter1': wgpf_lan_interface: inferred from facts: must be an interface name of 1-15 characters from "
     "A-Z a-z 0-9 _ = + . -, got {r}; set it in the inventory"),
]

CASES = [(f[0], f[1], f[2], f[3], bad) for f in FIELDS for bad in BAD]
IDS = ["%s-%s" % (f[0], bid) for f in FIELDS for bid in BAD_IDS]


def test_field_ids_are_unique():
    assert len({f[0] for f in FIELDS}) == len(FIELDS)


@pytest.mark.parametrize("field,make,written,expected,bad", CASES, ids=IDS)
def test_value_is_refused_naming_host_or_forward_and_field(field, make, written, expected, bad):
    value = written.format(bad)
    with pytest.raises(PlanError) as err:
        plan_inventory(make(value).data())
    assert expected.format(r=repr(value)) in err.value.problems
    for problem in err.value.problems:
        assert "\n" not in problem, problem


def test_base_inventories_plan():
    """The table's inventories are valid before a bad value goes in."""
    for inv in (lan(), two_publics()):
        assert plan_inventory(inv.data())


def _lines(plans):
    return {(host, f["path"]): f["content"].count("\n") for host, plan in plans.items() for f in render_files(plan)}


def _where_field(expected):
    """'host 'x': field' of an expected problem: the refusal must name the same place."""
    return expected.split(": ")[0] + ": " + expected.split(": ")[1]


LISTED = [f for f in FIELDS if f[0] in ("forward.protocols", "forward.sources", "wgpf_address-list",
                                        "wgpf_interfaces.peers", "wgpf_local_routes.dev")]


@pytest.mark.parametrize("field,make,written,expected,bad",
                         [(f[0], f[1], f[2], f[3], bad) for f in LISTED for bad in BAD],
                         ids=["%s-%s" % (f[0], bid) for f in LISTED for bid in BAD_IDS])
def test_value_inside_a_list_adds_no_line(field, make, written, expected, bad):
    """A bad value among good ones in a list: refused at that field, or rendered without a line of its own."""
    value = written.format(bad)
    base = _lines(plan_inventory(make(written.format("")).data()))
    try:
        plans = plan_inventory(make(value).data())
    except PlanError as err:
        assert any(p.startswith(_where_field(expected) + ":") for p in err.problems), err.problems
    else:
        assert _lines(plans) == base


# Odd but valid spellings: accepted, and written in canonical form with the lines of the plain spelling.
# (id, inventory from the value, odd spelling, plain spelling, text the files must hold)
ACCEPTED = [
    ("ipv6-upper-case", set_host("public1", "wgpf_address"), ["10.0.0.2/24", "FD00::2/64"],
     ["10.0.0.2/24", "fd00::2/64"], "Address = fd00::2/64"),
    ("endpoint-dns-final-dot", set_host("public1", "wgpf_endpoint"), "vpn.example.com.:51822",
     "vpn.example.com:51822", "Endpoint = vpn.example.com.:51822"),
    ("endpoint-ipv6", set_host("public1", "wgpf_endpoint"), "[2001:db8::2]:51822", "203.0.113.2:51822",
     "Endpoint = [2001:db8::2]:51822"),
    ("mac-upper-case", set_host("inter1", "wgpf_lan_mac", base=lambda: lan({"only_via_public": False})),
     "12:34:56:78:90:AB", "12:34:56:78:90:ab", "ether saddr 12:34:56:78:90:AB"),
    ("port-range-with-spaces", set_fwd("port"), "2000 - 2001", "2000-2001", "tcp . 2001 : 172.31.0.3 . 8081"),
    ("sources-overlapping", lambda v: lan({"sources": v}), ["198.51.100.0/25", "198.51.100.0/24", "198.51.100.128/25"],
     ["198.51.100.0/24"], "2000 . tcp . 198.51.100.0/24 :"),
]


@pytest.mark.parametrize("make,value,plain,canonical", [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_odd_but_valid_spelling_renders_the_same_lines(make, value, plain, canonical, nft_check, tmp_path):
    plans = plan_inventory(make(value).data())
    files = [f for plan in plans.values() for f in render_files(plan)]
    assert canonical in "".join(f["content"] for f in files)
    assert _lines(plans) == _lines(plan_inventory(make(plain).data()))
    for item in files:
        if item["kind"] == "nftables":
            nft_check(item["content"], tmp_path)


@pytest.mark.parametrize("span,text", [((2000, 2000), "2000"), ((2000, 2010), "2000-2010"), ([80, 81], "80-81")])
def test_a_port_span_has_one_spelling(span, text):
    # ip rules, nft sets, the kernel's reserved ports and messages all write a span with port_text,
    # and it reads back as the same span.
    assert port_text(span) == text
    assert parse_port(text) == tuple(span)
