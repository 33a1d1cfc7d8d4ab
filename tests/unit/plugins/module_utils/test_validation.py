# -*- coding: utf-8 -*-
"""Every validation error of the inventory, table-driven: each names the forward or host and the field."""

from __future__ import annotations

import pytest
from builders import Inv, seed_direct, seed_hub, seed_lan, seed_two_publics

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import VOCABULARY
from ansible_collections.wgforward.portforward.plugins.module_utils.model import model
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import explain_inventory, plan_inventory


def build_model(inventory):
    """The model as the planner builds it: with the techniques' vocabulary (decide/tree.py)."""
    return model.build_model(inventory, VOCABULARY)


def fwd(**kw):
    forward = {"name": "web", "public": "public1", "port": 2000, "to": "private1", "to_port": 8080}
    forward.update(kw)
    return forward


def lan(*forwards, private=None, inter=None, public=None):
    inv = seed_lan(private_vars=private, inter_vars=inter, public_vars=public)
    for forward in forwards or (fwd(),):
        inv.forward(**forward)
    return inv


def hub(*forwards, private=None, inter=None):
    inv = seed_hub(private_vars=private, inter_vars=inter)
    for forward in forwards or (fwd(),):
        inv.forward(**forward)
    return inv


def direct(*forwards, private=None, public=None):
    inv = seed_direct(private_vars=private)
    inv.hosts["public1"].update(public or {})
    for forward in forwards or (fwd(),):
        inv.forward(**forward)
    return inv


def tweak(inv, change):
    """Apply change(inv) and return inv, for one-line table entries."""
    change(inv)
    return inv


def edit(inv, host, **changes):
    """Set (value) or delete (None) wgpf_ variables of one host."""
    for key, value in changes.items():
        key = key if key.startswith(("wgpf_", "ansible_")) else "wgpf_" + key
        if value is None:
            inv.hosts[host].pop(key, None)
        else:
            inv.hosts[host][key] = value
    return inv


# The public server's facts as host_state returns them: eth0 (WAN) 203.0.113.2 and 2001:db8::2, docker0
# 172.17.0.1, and the fact wgpf_ports with its listeners and ephemeral range.
PUBLIC_FACTS = {
    "interfaces": ["lo", "eth0", "docker0", "wg0"],
    "eth0": {"ipv4": {"address": "203.0.113.2", "netmask": "255.255.255.0"},
             "ipv6": [{"address": "2001:db8::2", "prefix": "64", "scope": "global"}]},
    "docker0": {"ipv4": {"address": "172.17.0.1", "netmask": "255.255.0.0"}},
    "lo": {"ipv4": {"address": "127.0.0.1", "netmask": "255.0.0.0"}},
}


def listen(protocol, address, port, *processes, iface=None):
    return {"protocol": protocol, "address": address, "interface": iface, "port": port, "processes": list(processes)}


def own(*listeners, ephemeral=None, **hostvars):
    """A public server's variables with host_state's facts: these listeners, and ephemeral range."""
    facts = dict(PUBLIC_FACTS, wgpf_ports={"listening": list(listeners), "ephemeral": ephemeral or [32768, 60999]})
    return dict(hostvars, ansible_facts=facts)


def dual(inv):
    """Every host of the inventory with an IPv6 tunnel address beside its IPv4 one (fd00::<last octet>)."""
    for name, hv in inv.hosts.items():
        if isinstance(hv.get("wgpf_address"), str):
            ip, prefix = hv["wgpf_address"].split("/")
            hv["wgpf_address"] = [hv["wgpf_address"], "fd00::%s/64" % ip.split(".")[-1]]
    return inv


def dual_lan(inv):
    """dual(), and the LAN (intermediate and private server) in IPv6 too: fd00:31::/64."""
    dual(inv)
    edit(inv, "inter1", lan_address=["172.31.0.1", "fd00:31::1"])
    if inv.hosts["private1"].get("wgpf_lan_address") == "172.31.0.3":
        edit(inv, "private1", lan_address=["172.31.0.3", "fd00:31::3"])
    return inv


KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="


def peer(inventory_dir=None, ansible_inventory_sources=None, **private):
    """private1 as a direct peer Ansible does not manage, its inventory where given."""
    inv = direct(private=dict({"public_key": KEY}, **private))
    if inventory_dir is not None:
        inv.hosts["private1"].update(inventory_dir=inventory_dir, ansible_inventory_sources=ansible_inventory_sources)
    return inv


def unmanaged_pair(key1, key2):
    inv = direct(fwd(), fwd(name="b", port=2001, to="private2"), private={"public_key": key1})
    inv.host("private2", "private", address="10.0.0.4/24", public_key=key2)
    return inv


def container(ct=None, inter=None, name="ct1", **forward):
    """A container (ct1) on inter1's bridge (172.17.0.2), and a forward to it."""
    inv = Inv()
    inv.host("public1", "public", address="10.0.0.2/24", endpoint="203.0.113.2:51822", wan_interface="eth0")
    inv.host("inter1", "intermediate", address="10.0.0.1/24", **(inter or {}))
    inv.host(name, "private", **dict({"intermediate": "inter1", "attachment": "container",
                                      "lan_address": "172.17.0.2"}, **(ct or {})))
    inv.forward(**dict({"name": "app", "public": "public1", "port": 2000, "to": name, "to_port": 8080}, **forward))
    return inv


def add_public2(inv, **extra):
    inv.host("public2", "public", address="10.0.0.4/24", endpoint="203.0.113.4:51820", wan_interface="eth0", **extra)
    return inv


def with_outsider(inv):
    """A host in the inventory (group all) but in none of the wireguard_* groups."""
    data = inv.data()
    data["hosts"]["outsider"] = {}
    data["groups"]["all"] = sorted(data["groups"]["all"] + ["outsider"])
    return data


def two_publics_one_interface():
    """The two-public-server hub, but the intermediate puts both public servers on one wg0."""
    inv = seed_two_publics()
    edit(inv, "inter1", interfaces=None, address="10.0.0.1/24")
    edit(inv, "public1", address="10.0.0.2/24")
    edit(inv, "public2", address="10.0.0.4/24")
    return inv


def two_sites_same_lan():
    """Two intermediates whose LANs reuse 172.31.0.3: public1's wg0 would get it from two peers."""
    inv = lan(fwd(), fwd(name="b", port=2001, to="private2"))
    inv.host("inter2", "intermediate", address="10.0.0.5/24", endpoint="172.31.0.1:51821", lan_interface="eth0",
             lan_address="172.31.0.1", lan_mac="12:34:56:78:90:ac")
    inv.host("private2", "private", intermediate="inter2", attachment="lan", lan_interface="eth0",
             lan_address="172.31.0.3", gateway_is_intermediate=False)
    return inv


MODEL = build_model
PLAN = plan_inventory
# A peer Ansible does not manage gives its public key (model/unmanaged.py).
PEER_KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
ROUTE = "routing its replies back through the public server would capture the inventory's own traffic"

# (id, stage, inventory factory, problem fragments that must each appear in one problem)
CASES = [
    # ---- forwards: keys, names, ports, protocols
    ("forward-unknown-key-did-you-mean", MODEL, lambda: lan(fwd(to_prot=8080)),
     ["forward 'web': to_prot: unknown key (did you mean 'to_port'?)"]),
    ("forward-unknown-key-did-you-mean-source", MODEL, lambda: lan(fwd(source=["192.0.2.0/24"])),
     ["forward 'web': source: unknown key (did you mean 'sources'?)"]),
    ("forward-bad-name", MODEL, lambda: lan(fwd(name="Web!")),
     ["forward #1: name: required, and must match [a-z0-9_-]+, got 'Web!'"]),
    ("forward-missing-name", MODEL, lambda: lan(fwd(name=None)),
     ["forward #1: name: required"]),
    ("forward-duplicate-name", MODEL, lambda: lan(fwd(), fwd(port=2001)),
     ["forward 'web': name: duplicate forward name (also forward #1)"]),
    ("forward-missing-public", MODEL, lambda: lan(fwd(public=None)),
     ["forward 'web': public: required: the inventory host name"]),
    ("port-zero", MODEL, lambda: lan(fwd(port=0)),
     ["forward 'web': port: port 0 is outside 1-65535"]),
    ("port-too-high", MODEL, lambda: lan(fwd(port=65536)),
     ["forward 'web': port: port 65536 is outside 1-65535"]),
    ("port-range-too-high", MODEL, lambda: lan(fwd(port="65000-70000")),
     ["forward 'web': port: port '65000-70000' is outside 1-65535"]),
    ("port-not-a-number", MODEL, lambda: lan(fwd(port="http")),
     ["forward 'web': port: expected a port (1-65535) or a 'lo-hi' range, got 'http'"]),
    ("port-bool", MODEL, lambda: lan(fwd(port=True)),
     ["forward 'web': port: expected a port or 'lo-hi' range, got True"]),
    ("port-backwards-range", MODEL, lambda: lan(fwd(port="2010-2000")),
     ["forward 'web': port: range '2010-2000' runs backwards"]),
    ("to-port-outside", MODEL, lambda: lan(fwd(to_port=99999)),
     ["forward 'web': to_port: port 99999 is outside 1-65535"]),
    ("to-port-backwards", MODEL, lambda: lan(fwd(port="2000-2010", to_port="8090-8080")),
     ["forward 'web': to_port: range '8090-8080' runs backwards"]),
    ("to-port-range-other-size", MODEL, lambda: lan(fwd(port="2000-2010", to_port="8080-8085")),
     ["forward 'web': to_port: range 8080-8085 has 6 ports but port 2000-2010 has 11"]),
    ("to-port-range-for-single-port", MODEL, lambda: lan(fwd(port=2000, to_port="8080-8081")),
     ["forward 'web': to_port: range 8080-8081 has 2 ports but port 2000 has 1"]),
    ("to-port-maps-past-65535", MODEL, lambda: lan(fwd(port="2000-2010", to_port=65530)),
     ["forward 'web': to_port: range 65530-65540 maps past port 65535"]),
    ("protocols-unknown", MODEL, lambda: lan(fwd(protocols=["icmp"])),
     ["forward 'web': protocols: must be a non-empty list of distinct tcp/udp, got ['icmp']"]),
    ("protocols-twice", MODEL, lambda: lan(fwd(protocols=["tcp", "tcp"])),
     ["forward 'web': protocols: must be a non-empty list of distinct tcp/udp"]),
    ("protocols-empty", MODEL, lambda: lan(fwd(protocols=[])),
     ["forward 'web': protocols: must be a non-empty list of distinct tcp/udp, got []"]),
    ("preserve-source-not-bool", MODEL, lambda: lan(fwd(preserve_source="yes")),
     ["forward 'web': preserve_source: must be true or false, got 'yes'"]),
    ("only-via-public-not-bool", MODEL, lambda: lan(fwd(only_via_public=0)),
     ["forward 'web': only_via_public: must be true or false, got 0"]),
    ("technique-unknown", MODEL, lambda: lan(fwd(technique="nat")),
     ["forward 'web': technique: must be auto or one of masquerade, static_routes"]),
    # ---- sources
    ("sources-host-bits", MODEL, lambda: lan(fwd(sources=["198.51.100.1/24"])),
     ["forward 'web': sources: '198.51.100.1/24' has host bits set (did you mean 198.51.100.0/24?)"]),
    ("sources-ipv6-host-bits", MODEL, lambda: lan(fwd(sources=["2001:db8::1/32"])),
     ["forward 'web': sources: '2001:db8::1/32' has host bits set (did you mean 2001:db8::/32?)"]),
    ("sources-not-cidr", MODEL, lambda: lan(fwd(sources=["198.51.100.300/32"])),
     ["forward 'web': sources: '198.51.100.300/32' is not a CIDR"]),
    ("sources-not-list", MODEL, lambda: lan(fwd(sources="198.51.100.0/24")),
     ["forward 'web': sources: must be a list of CIDRs, got '198.51.100.0/24'"]),
    # ---- references
    ("public-missing-host", MODEL, lambda: lan(fwd(public="public9")),
     ["forward 'web': public: host 'public9' is not in the inventory"]),
    ("to-missing-host", MODEL, lambda: lan(fwd(to="private9")),
     ["forward 'web': to: host 'private9' is not in the inventory"]),
    ("public-is-intermediate", MODEL, lambda: lan(fwd(public="inter1")),
     ["forward 'web': public: host 'inter1' is a intermediate server, not in the group wireguard_public"]),
    ("to-is-public", MODEL, lambda: lan(fwd(to="public1")),
     ["forward 'web': to: host 'public1' is a public server, not in the group wireguard_private"]),
    ("public-in-no-wireguard-group", MODEL, lambda: with_outsider(lan(fwd(public="outsider"))),
     ["forward 'web': public: host 'outsider' is not in the group wireguard_public"]),
    ("intermediate-is-public", MODEL, lambda: lan(private={"intermediate": "public1"}),
     ["host 'private1': wgpf_intermediate: 'public1' is not a host in the group wireguard_intermediate"]),
    ("intermediate-missing", MODEL, lambda: lan(private={"intermediate": "ghost"}),
     ["host 'private1': wgpf_intermediate: 'ghost' is not a host in the group wireguard_intermediate"]),
    ("intermediate-on-non-private", MODEL, lambda: lan(inter={"intermediate": "inter1"}),
     ["host 'inter1': wgpf_intermediate: only private servers are reached through an intermediate"]),
    ("host-in-two-groups", MODEL,
     lambda: tweak(lan(), lambda inv: inv.groups["wireguard_private"].append("inter1")),
     ["host 'inter1': is in both wireguard_intermediate and wireguard_private"]),
    # ---- host variables
    ("host-unknown-variable-did-you-mean", MODEL, lambda: edit(lan(), "inter1", wgpf_adress="10.0.0.9/24"),
     ["host 'inter1': wgpf_adress: unknown variable (did you mean 'wgpf_address'?)"]),
    ("host-unknown-variable-endpoint", MODEL, lambda: edit(lan(), "public1", wgpf_endpiont="203.0.113.2:1"),
     ["host 'public1': wgpf_endpiont: unknown variable (did you mean 'wgpf_endpoint'?)"]),
    ("address-not-an-ip", MODEL, lambda: edit(lan(), "inter1", address="10.0.0.300/24"),
     ["host 'inter1': wgpf_address: '10.0.0.300/24' is not an IP address with optional /prefix"]),
    ("address-is-network", MODEL, lambda: edit(lan(), "inter1", address="10.0.0.0/24"),
     ["host 'inter1': wgpf_address: '10.0.0.0/24' is a network address, not a host address"]),
    ("address-missing", MODEL, lambda: edit(lan(), "inter1", address=None),
     ["host 'inter1': wgpf_address: required: the tunnel address(es) of wg0"]),
    ("lan-address-bad", MODEL, lambda: edit(lan(), "private1", lan_address="172.31.0.999"),
     ["host 'private1': wgpf_lan_address: '172.31.0.999' is not an IP address"]),
    ("lan-mac-bad", MODEL, lambda: edit(lan(), "inter1", lan_mac="12:34:56"),
     ["host 'inter1': wgpf_lan_mac: must be a MAC address like 12:34:56:78:90:ab, got '12:34:56'"]),
    ("listen-port-outside", MODEL, lambda: edit(lan(), "inter1", listen_port=70000),
     ["host 'inter1': wgpf_listen_port: must be a port in 1-65535, got 70000"]),
    ("interface-name-too-long", MODEL, lambda: edit(lan(), "inter1", interface="wireguard-tunnel0"),
     ["host 'inter1': wgpf_interface: must be an interface name of 1-15 characters from A-Z a-z 0-9 _ = + . -, "
      "got 'wireguard-tunnel0'"]),
    ("endpoint-no-port", MODEL, lambda: edit(lan(), "public1", endpoint="203.0.113.2"),
     ["host 'public1': wgpf_endpoint: expected host:port, got '203.0.113.2'"]),
    ("endpoint-ipv6-no-brackets", MODEL, lambda: edit(lan(), "public1", endpoint="2001:db8::2:51820"),
     ["host 'public1': wgpf_endpoint: an IPv6 endpoint needs brackets"]),
    ("public-without-endpoint", MODEL, lambda: edit(lan(), "public1", endpoint=None),
     ["host 'public1': wgpf_endpoint: required: the host:port that peers dial to reach this server"]),
    ("public-without-wan-interface-or-facts", MODEL, lambda: edit(lan(), "public1", wan_interface=None),
     ["host 'public1': wgpf_wan_interface: not set and no default IPv4 route in the facts to infer it"]),
    ("sav-bad", MODEL, lambda: edit(lan(), "private1", sav="paranoid"),
     ["host 'private1': wgpf_sav: must be one of loose, strict, off, got 'paranoid'"]),
    ("state-bad", MODEL, lambda: edit(lan(), "public1", state="removed"),
     ["host 'public1': wgpf_state: must be one of present, absent, got 'removed'"]),
    ("reserve-ports-not-bool", MODEL, lambda: edit(lan(), "public1", reserve_ports="yes"),
     ["host 'public1': wgpf_reserve_ports: must be true or false, got 'yes'"]),
    ("mark-outside-mask", MODEL, lambda: edit(lan(), "private1", mark=0x10, mark_mask=0x0F000000),
     ["host 'private1': wgpf_mark: 0x10 is outside its mask 0xf000000"]),
    ("mark-outside-mask-hex-strings", MODEL, lambda: edit(lan(), "inter1", mark="0x10", mark_mask="0x0f000000"),
     ["host 'inter1': wgpf_mark: 0x10 is outside its mask 0xf000000"]),
    ("mark-zero", MODEL, lambda: edit(lan(), "private1", mark=0),
     ["host 'private1': wgpf_mark: 0x0 is outside its mask"]),
    ("mark-mask-zero", MODEL, lambda: edit(lan(), "private1", mark_mask=0),
     ["host 'private1': wgpf_mark_mask: must be a non-zero 32-bit mask"]),
    ("mark-not-int", MODEL, lambda: edit(lan(), "private1", mark="lots"),
     ["host 'private1': wgpf_mark: must be an integer, got 'lots'"]),
    ("route-table-main", MODEL, lambda: edit(lan(), "inter1", route_table_base=254),
     ["host 'inter1': wgpf_route_table_base: must be a routing table id"]),
    ("rule-priority-after-main", MODEL, lambda: edit(lan(), "inter1", rule_priority_base=32766),
     ["host 'inter1': wgpf_rule_priority_base: must be in 1-32000"]),
    ("gateway-not-bool", MODEL, lambda: edit(lan(), "private1", gateway_is_intermediate="no"),
     ["host 'private1': wgpf_gateway_is_intermediate: must be true or false, got 'no'"]),
    ("container-gateway-false", MODEL,
     lambda: edit(lan(), "private1", attachment="container", gateway_is_intermediate=False),
     ["host 'private1': wgpf_gateway_is_intermediate: a container on a Docker bridge always has its host"]),
    ("attachment-unknown", MODEL, lambda: edit(lan(), "private1", attachment="vlan"),
     ["host 'private1': wgpf_attachment: must be one of wireguard, lan, container, got 'vlan'"]),
    ("lan-attachment-without-intermediate", MODEL,
     lambda: edit(direct(), "private1", attachment="lan", lan_address="172.31.0.3"),
     ["host 'private1': wgpf_attachment: lan needs wgpf_intermediate"]),
    ("private-lan-without-address-or-facts", MODEL, lambda: edit(lan(), "private1", lan_address=None),
     ["host 'private1': wgpf_lan_address: not set and no default route in the facts to infer it"]),
    ("interfaces-on-public", MODEL,
     lambda: edit(lan(), "public1", interfaces=[{"name": "wg0", "address": "10.0.0.2/24", "peers": ["inter1"]}]),
     ["host 'public1': wgpf_interfaces: only intermediate servers take several interfaces"]),
    ("interfaces-unknown-key", MODEL,
     lambda: tweak(
         seed_two_publics(), lambda inv: inv.hosts["inter1"]["wgpf_interfaces"][1].update(listenport=1)),
     ["host 'inter1': listenport: unknown key of wgpf_interfaces[1] (did you mean 'listen_port'?)"]),
    ("interfaces-peer-twice", MODEL,
     lambda: tweak(
         seed_two_publics(), lambda inv: inv.hosts["inter1"]["wgpf_interfaces"][2]["peers"].append("public1")),
     ["host 'inter1': wgpf_interfaces: peer 'public1' is listed on both wg1 and wg2"]),
    ("local-routes-host-bits", MODEL,
     lambda: edit(lan(), "private1", local_routes=[{"to": "192.168.99.1/24", "via": "192.168.1.1"}]),
     ["host 'private1': wgpf_local_routes[0].to: '192.168.99.1/24' has host bits set"]),
    # ---- ports on the public server
    ("public-port-twice", MODEL, lambda: lan(fwd(), fwd(name="b", to_port=8081)),
     ["forward 'b': port: 2000/tcp on public1 is already forwarded by 'web' (2000)"]),
    ("public-port-overlapping-ranges", MODEL,
     lambda: lan(fwd(port="2000-2010"), fwd(name="b", port="2005-2020", to_port=9000)),
     ["forward 'b': port: 2005-2020/tcp on public1 is already forwarded by 'web' (2000-2010)"]),
    ("public-port-twice-udp", MODEL,
     lambda: lan(fwd(protocols=["tcp", "udp"]), fwd(name="b", protocols=["udp"], to_port=9000)),
     ["/udp on public1 is already forwarded by"]),
    ("public-port-is-wireguard-listen-port", MODEL, lambda: lan(fwd(port=51822, protocols=["udp"])),
     ["forward 'web': port: 51822/udp on public1 takes 51822, its WireGuard listen port"]),
    ("public-port-range-covers-default-listen-port", MODEL,
     lambda: direct(fwd(port="51800-51900", protocols=["tcp", "udp"])),
     ["forward 'web': port: 51800-51900/udp on public1 takes 51820, its WireGuard listen port"]),
    # ---- issue 16 item 1: the public server's own ports (model/own_ports.py)
    ("public-port-is-ansible-s-default-ssh-port", MODEL, lambda: lan(fwd(port=22)),
     ["forward 'web': port: 22/tcp on public1 takes 22, the port Ansible connects to (SSH's default: no "
      "ansible_port is set; set it if Ansible uses another): converging would cut its own connection"]),
    ("public-port-range-covers-ansible-s-default-port", MODEL, lambda: lan(fwd(port="20-30")),
     ["forward 'web': port: 20-30/tcp on public1 takes 22, the port Ansible connects to (SSH's default"]),
    ("public-port-is-ansible-port-offline", MODEL, lambda: lan(fwd(port=2222), public={"ansible_port": 2222}),
     ["forward 'web': port: 2222/tcp on public1 takes 2222, the port Ansible connects to (ansible_port): "
      "converging would cut its own connection"]),
    ("public-port-is-ansible-ssh-port-string", MODEL,
     lambda: lan(fwd(port=2000), public={"ansible_ssh_port": "2000", "ansible_connection": "ssh"}),
     ["forward 'web': port: 2000/tcp on public1 takes 2000, the port Ansible connects to (ansible_ssh_port)"]),
    # Ansible's port is refused even when the state read shows nothing listening there (docker exec, a NAT).
    ("public-port-is-ansible-port-not-listened-on", MODEL,
     lambda: lan(fwd(port=2222), public=own(ansible_port=2222, ansible_connection="community.docker.docker")),
     ["forward 'web': port: 2222/tcp on public1 takes 2222, the port Ansible connects to (ansible_port)"]),
    ("public-port-is-ansible-s-default-port-fqcn", MODEL,
     lambda: lan(fwd(port=22), public={"ansible_connection": "ansible.builtin.ssh"}),
     ["forward 'web': port: 22/tcp on public1 takes 22, the port Ansible connects to (SSH's default"]),
    ("ansible-port-not-a-port", MODEL, lambda: lan(public={"ansible_port": "ssh"}),
     ["host 'public1': ansible_port: must be a port in 1-65535, got 'ssh'"]),
    ("public-port-sshd-listens-everywhere", MODEL,
     lambda: lan(fwd(port=2222), public=own(listen("tcp", "0.0.0.0", 2222, "sshd"), ansible_port=2222)),
     ["forward 'web': port: 2222/tcp on public1 takes 2222, where its own service 'sshd' listens (on every "
      "address; the state host_state read): the DNAT would take its connections from the WAN; forward another "
      "port, or stop that service or bind it off the WAN first"]),
    ("public-port-service-on-the-wan-address", MODEL,
     lambda: lan(fwd(port=443), public=own(listen("tcp", "203.0.113.2", 443, "nginx", "nginx", "angie"))),
     ["forward 'web': port: 443/tcp on public1 takes 443, where its own services 'angie' and 'nginx' listen (on "
      "203.0.113.2;"]),
    ("public-port-service-on-the-wan-ipv6-address", MODEL,
     lambda: lan(fwd(port=443), public=own(listen("tcp", "2001:db8::2", 443, "caddy"))),
     ["forward 'web': port: 443/tcp on public1 takes 443, where its own service 'caddy' listens (on 2001:db8::2;"]),
    ("public-port-service-dual-stack-wildcard", MODEL,
     lambda: lan(fwd(port="8000-8100"), public=own(listen("tcp", "*", 8080, "java"), listen("tcp", "::", 8090, "x"))),
     ["forward 'web': port: 8000-8100/tcp on public1 takes 8080, where its own service 'java' listens (on every",
      "forward 'web': port: 8000-8100/tcp on public1 takes 8090, where its own service 'x' listens (on every"]),
    ("public-port-udp-service-bound-to-the-wan-interface", MODEL,
     lambda: lan(fwd(port=53, protocols=["udp"]), public=own(listen("udp", "0.0.0.0", 53, "dnsmasq", iface="eth0"))),
     ["forward 'web': port: 53/udp on public1 takes 53, where its own service 'dnsmasq' listens (on every address "
      "of eth0;"]),
    ("public-port-kernel-socket", MODEL,
     lambda: lan(fwd(port=4789, protocols=["udp"]), public=own(listen("udp", "0.0.0.0", 4789))),
     ["forward 'web': port: 4789/udp on public1 takes 4789, where a socket of the kernel listens (on every"]),
    # An address the facts place on no interface (a floating address, a non-local bind): the safe side.
    ("public-port-service-on-an-address-of-no-interface", MODEL,
     lambda: lan(fwd(port=8443), public=own(listen("tcp", "192.0.2.80", 8443, "haproxy"))),
     ["forward 'web': port: 8443/tcp on public1 takes 8443, where its own service 'haproxy' listens (on 192.0.2.80;"]),
    ("ephemeral-ports-all-reserved", MODEL, lambda: direct(fwd(port="1024-65535", to_port=None)),
     ["host 'public1': wgpf_reserve_ports: the forwards 'web' (1024-65535) would reserve 28232 of its 28232 "
      "ephemeral ports (32768-60999, Linux's default ip_local_port_range; the host's own is read by site.yml), "
      "leaving its own connections 0: at least half must stay free. Narrow their public ports, or set "
      "wgpf_reserve_ports: false on public1 (its own connections may then pick a forwarded port)"]),
    # 900 scattered ports, 5,399 characters as the kernel's list: more than the page it takes from a write.
    ("reserved-ports-longer-than-the-kernel-takes", MODEL,
     lambda: direct(*[fwd(name="p%d" % i, port=10000 + 3 * i, to_port=None) for i in range(900)]),
     ["host 'public1': wgpf_reserve_ports: the public ports of its 900 forwards come to 5399 characters as "
      "net.ipv4.ip_local_reserved_ports, and the kernel takes at most 4095 from one write"]),
    ("ephemeral-ports-more-than-half-reserved-by-two", MODEL,
     lambda: direct(fwd(port="40000-49999", to_port=None), fwd(name="b", port="50000-55000", to_port=None)),
     ["host 'public1': wgpf_reserve_ports: the forwards 'web' (40000-49999), 'b' (50000-55000) would reserve 15001 "
      "of its 28232 ephemeral ports"]),
    ("ephemeral-ports-of-the-host-s-own-range", MODEL,
     lambda: direct(fwd(port="50000-56000", to_port=None), public=own(ephemeral=[50000, 60000])),
     ["host 'public1': wgpf_reserve_ports: the forwards 'web' (50000-56000) would reserve 6001 of its 10001 "
      "ephemeral ports (50000-60000, its ip_local_port_range), leaving its own connections 4000"]),
    # ---- issue 16 items 2 and 3: the address families a forward serves (decide/families.py)
    ("sources-ipv6-beside-ipv4-to-an-ipv4-only-target", PLAN,
     lambda: lan(fwd(sources=["198.51.100.0/24", "2001:db8:99::/48"])),
     ["forward 'web': sources: 2001:db8:99::/48 is IPv6, but 'private1' has no IPv6 address to forward to"]),
    ("sources-ipv6-to-an-ipv4-only-peer", PLAN, lambda: direct(fwd(sources=["2001:db8::/32"])),
     ["forward 'web': sources: 2001:db8::/32 is IPv6, but 'private1' has no IPv6 address to forward to"]),
    ("sources-ipv6-through-an-ipv4-only-tunnel", PLAN,
     lambda: edit(direct(fwd(sources=["2001:db8::/32"])), "private1", address=["10.0.0.3/24", "fd00::3/64"]),
     ["forward 'web': sources: 2001:db8::/32 is IPv6, but 'public1' has no IPv6 address on wg0, a tunnel the "
      "forward takes"]),
    ("ipv6-only-tunnel-target-by-default", PLAN,
     lambda: edit(dual(direct()), "private1", address="fd00::3/64"),
     ["forward 'web': to: 'private1' has no IPv4 address to forward to: IPv4 clients of 'public1' would get "
      "nothing. Give it one, or set families: [ipv6] on the forward to serve IPv6 clients only"]),
    ("ipv6-only-lan-target-by-default", PLAN, lambda: dual_lan(edit(lan(), "private1", lan_address="fd00:31::3")),
     ["forward 'web': to: 'private1' has no IPv4 address to forward to: IPv4 clients of 'public1' would get nothing"]),
    ("ipv4-tunnel-missing-on-one-end", PLAN, lambda: edit(dual(direct()), "public1", address="fd00::2/64"),
     ["forward 'web': to: 'public1' has no IPv4 address on wg0, a tunnel the forward takes: IPv4 clients"]),
    ("families-ipv4-to-an-ipv6-only-target", PLAN,
     lambda: edit(dual(direct(fwd(families=["ipv4"]))), "private1", address="fd00::3/64"),
     ["forward 'web': families: ipv4: 'private1' has no IPv4 address to forward to"]),
    ("families-ipv6-through-an-ipv4-only-tunnel", PLAN,
     lambda: edit(direct(fwd(families=["ipv6"])), "private1", address=["10.0.0.3/24", "fd00::3/64"]),
     ["forward 'web': families: ipv6: 'public1' has no IPv6 address on wg0, a tunnel the forward takes"]),
    ("families-ipv6-hub-without-ipv6", PLAN,
     lambda: edit(edit(hub(fwd(families=["ipv6"])), "private1", address=["10.0.0.3/24", "fd00::3/64"]),
                  "public1", address=["10.0.0.2/24", "fd00::2/64"]),
     ["forward 'web': families: ipv6: 'inter1' has no IPv6 address on wg0, a tunnel the forward takes"]),
    ("families-ipv6-lan-intermediate-without-ipv6-lan-address", PLAN,
     lambda: edit(dual_lan(lan(fwd(families=["ipv6"]))), "inter1", lan_address="172.31.0.1"),
     ["forward 'web': families: ipv6: 'inter1' has no IPv6 LAN address (wgpf_lan_address), through which "
      "'private1' is reached"]),
    # With sources, only they may connect: an IPv6 DNAT without an IPv6 source would be open to everyone.
    ("families-ipv6-without-ipv6-sources", PLAN,
     lambda: dual(direct(fwd(families=["ipv4", "ipv6"], sources=["198.51.100.0/24"]))),
     ["forward 'web': families: ipv6 is listed, but no network of sources is IPv6: only the sources may connect, "
      "so add IPv6 ones or leave ipv6 out"]),
    ("sources-of-a-family-families-leaves-out", PLAN,
     lambda: dual(direct(fwd(families=["ipv4"], sources=["198.51.100.0/24", "2001:db8::/32"]))),
     ["forward 'web': sources: 2001:db8::/32 is IPv6, which families leaves out"]),
    ("families-unknown", MODEL, lambda: lan(fwd(families=["ip6"])),
     ["forward 'web': families: must be a non-empty list of distinct ipv4/ipv6, got ['ip6']"]),
    ("families-empty", MODEL, lambda: lan(fwd(families=[])),
     ["forward 'web': families: must be a non-empty list of distinct ipv4/ipv6, got []"]),
    ("families-twice", MODEL, lambda: lan(fwd(families=["ipv4", "ipv4"])),
     ["forward 'web': families: must be a non-empty list of distinct ipv4/ipv6"]),
    ("families-not-a-list", MODEL, lambda: lan(fwd(families={"ipv4": True})),
     ["forward 'web': families: must be a non-empty list of distinct ipv4/ipv6"]),
    # ---- issue 16 item 3: the last round's variables, class by class
    ("public-key-on-two-peers", MODEL, lambda: unmanaged_pair(KEY, KEY),
     ["host 'private2': wgpf_public_key: is also the key of host 'private1': WireGuard would take both for one "
      "peer and a forward would go nowhere; each peer needs its own key pair"]),
    # The same 32 bytes spelled with other unused low bits of the last base64 character: one key.
    ("public-key-on-two-peers-other-spelling", MODEL, lambda: unmanaged_pair(KEY, KEY[:42] + "h="),
     ["host 'private2': wgpf_public_key: is also the key of host 'private1'"]),
    ("peer-config-dir-inside-the-inventory-folder", MODEL,
     lambda: peer(peer_config_dir="inventory/peers", inventory_dir="/srv/inventory",
                  ansible_inventory_sources=["/srv/inventory"]),
     ["host 'private1': wgpf_peer_config_dir: /srv/inventory/peers is inside the inventory /srv/inventory: the next "
      "run would read the peer's file as inventory; choose a folder outside it (the default, wgpf-peers, is beside "
      "it)"]),
    ("peer-config-dir-reaching-the-inventory-with-dot-dot", MODEL,
     lambda: peer(peer_config_dir="../srv/inventory/./x/..", inventory_dir="/srv/inventory/prod",
                  ansible_inventory_sources=["/srv/inventory"]),
     ["host 'private1': wgpf_peer_config_dir: /srv/inventory is inside the inventory /srv/inventory"]),
    ("peer-config-dir-absolute-inside-an-inventory", MODEL,
     lambda: peer(peer_config_dir="/etc/ansible/inv/peers", inventory_dir="/srv",
                  ansible_inventory_sources=["/srv/hosts.yml", "/etc/ansible/inv/"]),
     ["host 'private1': wgpf_peer_config_dir: /etc/ansible/inv/peers is inside the inventory /etc/ansible/inv"]),
    ("peer-config-dir-home", MODEL, lambda: peer(peer_config_dir="~/peers"),
     ["host 'private1': wgpf_peer_config_dir: '~/peers' starts with ~, which a shell expands but the collection "
      "does not: give an absolute path, or one relative to the folder of the inventory"]),
    ("container-outside-the-stated-lan-prefix", MODEL,
     lambda: container(inter={"lan_interface": "eth1", "lan_address": "192.168.1.1/24"}),
     ["host 'ct1': wgpf_lan_address: 172.17.0.2 is outside 192.168.1.0/24, the LAN of 'inter1' on eth1 (the prefix "
      "of its wgpf_lan_address): it is not on that LAN side, which the intermediate routes to and strict SAV "
      "guards"]),
    ("container-bridge-beside-the-intermediate-s-lan-interface", MODEL,
     lambda: container(ct={"lan_interface": "docker0"}, inter={"lan_interface": "eth1"}),
     ["host 'ct1': wgpf_lan_interface: names the bridge docker0, but 'inter1' reaches its LAN servers and "
      "containers through eth1: an intermediate has one LAN side; put them all on it (or set wgpf_lan_interface "
      "on 'inter1' to docker0)"]),
    ("containers-on-two-bridges", MODEL,
     lambda: tweak(container(ct={"lan_interface": "br-a"}), lambda inv: (
         inv.host("ct2", "private", intermediate="inter1", attachment="container", lan_address="172.18.0.2",
                  lan_interface="br-b"),
         inv.forward(name="b", public="public1", port=2001, to="ct2", to_port=8080))),
     ["host 'ct2': wgpf_lan_interface: names the bridge br-b, but 'inter1' reaches its LAN servers and containers "
      "through br-a"]),
    ("lan-server-outside-the-intermediate-s-lan", MODEL,
     lambda: edit(edit(lan(), "inter1", lan_address="172.31.0.1/24"), "private1", lan_address="172.31.5.3"),
     ["host 'private1': wgpf_lan_address: 172.31.5.3 is outside 172.31.0.0/24, the LAN of 'inter1' on eth0"]),
    ("lan-server-outside-the-intermediate-s-lan-from-facts", MODEL,
     lambda: edit(edit(lan(), "private1", lan_address="10.9.0.3"), "inter1", ansible_facts={
         "interfaces": ["eth0"], "eth0": {"ipv4": {"address": "172.31.0.1", "netmask": "255.255.255.0"}}}),
     ["host 'private1': wgpf_lan_address: 10.9.0.3 is outside 172.31.0.0/24, the LAN of 'inter1' on eth0 (its "
      "facts)"]),
    ("mtu-below-1280-with-ipv6-in-allowed-ips", PLAN,
     lambda: edit(edit(direct(), "private1", mtu=1200), "public1", address=["10.0.0.2/24", "fd00::2/64"]),
     ["host 'private1': wgpf_mtu: 1200 is below 1280, IPv6's minimum, but wg0 carries IPv6 (AllowedIPs "
      "fd00::2/128 of peer 'public1'): wg-quick could not route it and the tunnel would not come up; set 1280 or "
      "more"]),
    ("mtu-below-1280-on-a-spoke-with-ipv6-in-allowed-ips", PLAN,
     lambda: edit(edit(hub(), "private1", mtu=1000), "public1", address=["10.0.0.2/24", "fd00::2/64"]),
     ["host 'private1': wgpf_mtu: 1000 is below 1280, IPv6's minimum, but wg0 carries IPv6 (AllowedIPs fd00::2/128 "
      "of peer 'inter1')"]),
    ("mtu-of-one-interface-below-1280-with-ipv6-in-allowed-ips", PLAN,
     lambda: tweak(seed_two_publics(), lambda inv: (
         inv.hosts["inter1"]["wgpf_interfaces"][1].update(mtu=1200),
         inv.hosts["public1"].update(wgpf_address=["10.100.100.2/24", "fd00:100::2/64"]))),
     ["host 'inter1': wgpf_interfaces[1].mtu: 1200 is below 1280, IPv6's minimum, but wg1 carries IPv6"]),
    ("local-routes-on-a-container", MODEL,
     lambda: container(ct={"local_routes": [{"to": "192.168.99.0/24", "via": "172.17.0.1"}]}),
     ["host 'ct1': wgpf_local_routes: a container is never contacted, so the collection puts no routes on it: add "
      "them on the host itself (its network settings)"]),
    ("local-routes-on-an-unmanaged-peer", MODEL,
     lambda: peer(local_routes=[{"to": "192.168.99.0/24", "via": "192.168.1.1"}]),
     ["host 'private1': wgpf_local_routes: a peer Ansible does not manage is never contacted, so the collection "
      "puts no routes on it: add them on the host itself (its network settings, or its wg-quick file's PostUp)"]),
    # ---- tunnel addresses and AllowedIPs
    ("duplicate-tunnel-address", MODEL, lambda: edit(lan(), "inter1", address="10.0.0.2/24"),
     ["wgpf_address: tunnel address 10.0.0.2 is also used by"]),
    ("duplicate-tunnel-address-ipv6", MODEL,
     lambda: edit(edit(lan(), "inter1", address=["10.0.0.1/24", "fd00::9/64"]), "public1",
                  address=["10.0.0.2/24", "fd00::9/64"]),
     ["wgpf_address: tunnel address fd00::9 is also used by"]),
    ("duplicate-tunnel-address-spoke", MODEL, lambda: edit(hub(), "private1", address="10.0.0.1/24"),
     ["wgpf_address: tunnel address 10.0.0.1 is also used by"]),
    # Issue 7: two hosts with one address are refused by the model, before AllowedIPs could clash.
    ("two-hosts-one-lan-address", PLAN, two_sites_same_lan,
     ["host 'private1': wgpf_lan_address: LAN address 172.31.0.3 is also used by host 'private2' (its LAN address): "
      "one address, one host"]),
    # ---- topology the techniques cannot serve
    ("two-publics-share-intermediate-interface", PLAN, two_publics_one_interface,
     ["host 'inter1': wgpf_interfaces: public servers public1 and public2 share interface wg0"]),
    ("direct-peer-with-two-publics", PLAN,
     lambda: add_public2(direct(fwd(), fwd(name="b", public="public2"))),
     ["host 'private1': wgpf_intermediate: a direct peer takes forwards from one public server, but public1 and "
      "public2 forward to it"]),
    ("connmark-private-lan-without-mac", PLAN,
     lambda: edit(lan(fwd(only_via_public=False)), "inter1", lan_mac=None),
     ["host 'inter1': wgpf_lan_mac: forward 'web' (connmark_private on the private server) marks connections by "
      "this intermediate's MAC address on the LAN, which is not set and could not be inferred from facts"]),
    ("policy-routing-lan-without-intermediate-lan-address", PLAN,
     lambda: edit(lan(), "inter1", lan_address=None, lan_interface=None),
     ["host 'inter1': wgpf_lan_address: forward 'web' (policy routing of the private server's replies)"]),
    # ---- issue 7.3: sources that would break routing, one address on two hosts
    ("sources-cover-a-lan", MODEL, lambda: lan(fwd(sources=["172.31.0.0/24"])),
     ["forward 'web': sources: 172.31.0.0/24 covers the LAN address 172.31.0.1 of host 'inter1': " + ROUTE,
      "forward 'web': sources: 172.31.0.0/24 covers the LAN address 172.31.0.3 of host 'private1': " + ROUTE]),
    ("sources-cover-a-tunnel-network", MODEL, lambda: lan(fwd(sources=["10.0.0.0/16"])),
     ["forward 'web': sources: 10.0.0.0/16 covers the tunnel network 10.0.0.0/24 of host 'public1' (wg0): " + ROUTE]),
    ("sources-inside-a-tunnel-network", MODEL, lambda: lan(fwd(sources=["10.0.0.128/25"])),
     ["forward 'web': sources: 10.0.0.128/25 lies inside the tunnel network 10.0.0.0/24 of host 'public1' (wg0): "
      + ROUTE]),
    ("sources-cover-a-public-endpoint", MODEL, lambda: lan(fwd(sources=["203.0.113.0/24"])),
     ["forward 'web': sources: 203.0.113.0/24 covers 203.0.113.2, the endpoint of public server 'public1': "
      + ROUTE]),
    ("sources-whole-internet", MODEL, lambda: lan(fwd(sources=["0.0.0.0/0"])),
     ["forward 'web': sources: 0.0.0.0/0 covers the whole Internet (or half of it): that is default_route: set "
      "wgpf_internet_via_public on the private server"]),
    ("sources-whole-internet-ipv6", MODEL, lambda: lan(fwd(sources=["::/0"])),
     ["forward 'web': sources: ::/0 covers the whole Internet (or half of it): that is default_route"]),
    ("sources-half-the-internet", MODEL, lambda: lan(fwd(sources=["128.0.0.0/1"])),
     ["forward 'web': sources: 128.0.0.0/1 covers the whole Internet (or half of it): that is default_route"]),
    ("sources-two-halves-merge-to-everything", MODEL, lambda: lan(fwd(sources=["0.0.0.0/1", "128.0.0.0/1"])),
     ["forward 'web': sources: 0.0.0.0/0 covers the whole Internet (or half of it): that is default_route"]),
    ("tunnel-address-is-another-hosts-lan-address", MODEL, lambda: edit(lan(), "inter1", address="172.31.0.3/32"),
     ["host 'inter1': wgpf_address: tunnel address 172.31.0.3 is also used by host 'private1' (its LAN address): "
      "one address, one host"]),
    ("spoke-tunnel-address-is-a-lan-servers-address", MODEL,
     lambda: tweak(hub(fwd(), fwd(name="b", port=2001, to="private2")), lambda inv: inv.host(
         "private2", "private", intermediate="inter1", attachment="lan", lan_interface="eth0", lan_address="10.0.0.3",
         gateway_is_intermediate=False)),
     ["host 'private1': wgpf_address: tunnel address 10.0.0.3 is also used by host 'private2' (its LAN address): "
      "one address, one host"]),
    ("two-lan-servers-one-address", MODEL,
     lambda: tweak(lan(fwd(), fwd(name="b", port=2001, to="private2")), lambda inv: inv.host(
         "private2", "private", intermediate="inter1", attachment="lan", lan_address="172.31.0.3")),
     ["host 'private1': wgpf_lan_address: LAN address 172.31.0.3 is also used by host 'private2' (its LAN address): "
      "one address, one host"]),
    # ---- issue 7.2: WireGuard interface names the host already uses
    ("wireguard-interface-is-the-wan", MODEL, lambda: edit(lan(), "public1", interface="eth0"),
     ["host 'public1': wgpf_interface: eth0 is this host's WAN interface (wgpf_wan_interface): give the WireGuard "
      "interface another name"]),
    ("wireguard-interface-is-the-lan", MODEL, lambda: edit(lan(), "inter1", interface="eth0"),
     ["host 'inter1': wgpf_interface: eth0 is this host's LAN interface (wgpf_lan_interface): give the WireGuard "
      "interface another name"]),
    ("wireguard-interface-exists-in-facts", MODEL,
     lambda: edit(lan(), "public1", interface="ens4", ansible_facts={"interfaces": ["lo", "eth0", "ens4"],
                                                                     "ens4": {"type": "ether"}}),
     ["host 'public1': wgpf_interface: ens4 already exists on this host, as an interface of type ether (facts): give "
      "the WireGuard interface another name"]),
    ("wireguard-interface-is-a-bridge-in-facts", MODEL,
     lambda: edit(seed_two_publics(), "inter1", ansible_facts={"interfaces": ["wg1"], "wg1": {"type": "bridge"}}),
     ["host 'inter1': wgpf_interfaces: wg1 already exists on this host, as an interface of type bridge (facts)"]),
    ("wireguard-interface-lo", MODEL, lambda: edit(lan(), "public1", interface="lo"),
     ["host 'public1': wgpf_interface: 'lo' is not an interface name the collection may use"]),
    ("wireguard-interface-dot-dot", MODEL, lambda: edit(lan(), "public1", interface=".."),
     ["host 'public1': wgpf_interface: '..' is not an interface name the collection may use"]),
    ("wireguard-interface-slash", MODEL, lambda: edit(lan(), "public1", interface="wg/0"),
     ["host 'public1': wgpf_interface: must be an interface name of 1-15 characters"]),
    ("wireguard-interface-colon", MODEL, lambda: edit(lan(), "public1", interface="wg:0"),
     ["host 'public1': wgpf_interface: must be an interface name of 1-15 characters"]),
    ("wireguard-interface-space", MODEL, lambda: edit(lan(), "public1", interface="wg 0"),
     ["host 'public1': wgpf_interface: must be an interface name of 1-15 characters"]),
    ("endpoint-ipv6-without-brackets", MODEL, lambda: edit(lan(), "public1", endpoint="2001:db8::2:51822"),
     ["host 'public1': wgpf_endpoint: an IPv6 endpoint needs brackets: [2001:db8::2]:51822"]),
    ("endpoint-host-label-with-underscore", MODEL, lambda: edit(lan(), "public1", endpoint="vpn_1.example.com:51822"),
     ["host 'public1': wgpf_endpoint: the host of 'vpn_1.example.com:51822' must be a DNS name (RFC 1123) or an IP "
      "address"]),
    ("endpoint-host-numeric-tld", MODEL, lambda: edit(lan(), "public1", endpoint="203.0.113:51822"),
     ["host 'public1': wgpf_endpoint: the host of '203.0.113:51822' must be a DNS name (RFC 1123) or an IP address"]),
    # ---- MTU (wgpf_mtu, wgpf_interfaces[].mtu) and strict SAV's LAN prefix
    ("mtu-below-ipv4-minimum", MODEL, lambda: edit(lan(), "public1", mtu=575),
     ["host 'public1': wgpf_mtu: must be an MTU in 576-65535, got 575"]),
    ("mtu-below-ipv6-minimum", MODEL, lambda: edit(lan(), "public1", mtu=1279, address=["10.0.0.2/24", "fd00::2/64"]),
     ["host 'public1': wgpf_mtu: must be an MTU in 1280-65535 (the tunnel carries IPv6), got 1279"]),
    ("mtu-above-maximum", MODEL, lambda: edit(lan(), "public1", mtu=65536),
     ["host 'public1': wgpf_mtu: must be an MTU in 576-65535, got 65536"]),
    ("mtu-not-a-number", MODEL, lambda: edit(lan(), "public1", mtu="jumbo"),
     ["host 'public1': wgpf_mtu: must be an MTU in 576-65535, got 'jumbo'"]),
    ("mtu-of-one-interface", MODEL,
     lambda: tweak(seed_two_publics(), lambda inv: inv.hosts["inter1"]["wgpf_interfaces"][1].update(mtu=100)),
     ["host 'inter1': wgpf_interfaces[1].mtu: must be an MTU in 576-65535, got 100"]),
    ("strict-sav-without-lan-prefix", PLAN, lambda: edit(lan(), "inter1", sav="strict"),
     ["host 'inter1': wgpf_sav: strict drops what the LAN sends from outside its networks, but the LAN's IPv4 "
      "prefix is not known: set wgpf_lan_address with its prefix, like 192.168.1.1/24"]),
    ("strict-sav-without-lan-interface", PLAN,
     lambda: edit(lan(), "inter1", sav="strict", lan_address="172.31.0.1/24", lan_interface=None),
     ["host 'inter1': wgpf_sav: strict drops what the LAN sends from outside its networks, but the LAN interface "
      "is not known: set wgpf_lan_interface"]),
    # ---- what an unmanaged peer's file says for its device (model/peer_device.py)
    ("dns-not-an-address", MODEL, lambda: direct(private={"public_key": PEER_KEY, "dns": ["dns.example"]}),
     ["host 'private1': wgpf_dns: 'dns.example' is not the IP address of a DNS server (a bare unicast IPv4 or "
      "IPv6 address such as 9.9.9.9, no /prefix, no name)"]),
    ("dns-with-prefix", MODEL, lambda: direct(private={"public_key": PEER_KEY, "dns": "9.9.9.9/32"}),
     ["host 'private1': wgpf_dns: '9.9.9.9/32' is not the IP address of a DNS server"]),
    ("dns-multicast-and-unspecified", MODEL,
     lambda: direct(private={"public_key": PEER_KEY, "dns": ["224.0.0.251", "::", "9.9.9.9"]}),
     ["host 'private1': wgpf_dns: '224.0.0.251' is not the IP address of a DNS server",
      "host 'private1': wgpf_dns: '::' is not the IP address of a DNS server"]),
    ("dns-line-injection", MODEL, lambda: direct(private={"public_key": PEER_KEY, "dns": "9.9.9.9\nPostUp = id"}),
     ["host 'private1': wgpf_dns: '9.9.9.9\\nPostUp = id' is not the IP address of a DNS server"]),
    ("dns-empty-list", MODEL, lambda: direct(private={"public_key": PEER_KEY, "dns": []}),
     ["host 'private1': wgpf_dns: must be an IP address or a non-empty list of them, got []"]),
    ("dns-on-a-managed-host", MODEL, lambda: direct(private={"dns": ["9.9.9.9"]}),
     ["host 'private1': wgpf_dns: only for a peer Ansible does not manage (one with wgpf_public_key)"]),
    ("peer-default-route-unknown", MODEL,
     lambda: direct(private={"public_key": PEER_KEY, "peer_default_route": "split"}),
     ["host 'private1': wgpf_peer_default_route: must be one of whole, halves, got 'split'"]),
    ("peer-default-route-on-a-managed-host", MODEL, lambda: direct(private={"peer_default_route": "halves"}),
     ["host 'private1': wgpf_peer_default_route: only for a peer Ansible does not manage"]),
    # ---- forced techniques that cannot work
    ("forced-static-routes-without-sources", PLAN, lambda: lan(fwd(technique="static_routes")),
     ["forward 'web': technique: static_routes needs the fixed client networks in sources"]),
    ("forced-connmark-intermediate-direct-peer", PLAN, lambda: direct(fwd(technique="connmark_intermediate")),
     ["forward 'web': technique: connmark_intermediate needs an intermediate, but 'private1' is a direct "
      "WireGuard peer of 'public1'"]),
    ("forced-connmark-intermediate-gateway-false", PLAN, lambda: lan(fwd(technique="connmark_intermediate")),
     ["forward 'web': technique: connmark_intermediate needs the private server's replies to pass through the "
      "intermediate, but 'private1' does not use 'inter1' as its default gateway"]),
    ("forced-policy-routing-two-publics", PLAN,
     lambda: tweak(seed_two_publics(), lambda inv: inv.forwards[0].update(technique="policy_routing")),
     ["forward 'web1': technique: policy_routing cannot work: intermediate 'inter1' carries forwards from public1 "
      "and public2"]),
    ("forced-masquerade-two-publics", PLAN,
     lambda: tweak(seed_two_publics(), lambda inv: inv.forwards[1].update(technique="masquerade")),
     ["forward 'web2': technique: masquerade cannot work: intermediate 'inter1' carries forwards from public1 "
      "and public2"]),
]


def data_of(inv):
    return inv if isinstance(inv, dict) else inv.data()


@pytest.mark.parametrize("stage,factory,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problem_is_reported(stage, factory, fragments):
    with pytest.raises(PlanError) as err:
        stage(data_of(factory()))
    problems = err.value.problems
    for fragment in fragments:
        assert any(fragment in p for p in problems), "%r not in %r" % (fragment, problems)
    for problem in problems:
        assert problem.startswith(("forward '", "forward #", "host '")), problem
    assert str(err.value).startswith("%d problem" % len(problems))


def test_case_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------- what must NOT be an error

VALID = [
    ("same-port-other-protocol", lambda: lan(fwd(), fwd(name="b", protocols=["udp"]))),
    ("same-port-other-public", seed_two_publics),
    ("adjacent-ranges", lambda: lan(fwd(port="2000-2010"), fwd(name="b", port="2011-2020", to_port=9000))),
    ("tcp-on-wireguard-listen-port", lambda: lan(fwd(port=51822, protocols=["tcp"]))),
    ("udp-on-ssh-port", lambda: lan(fwd(port=22, protocols=["udp"]))),
    # issue 16 item 1: SSH moved to 2222 (ansible_port), nothing listens on 22 any more: 22 is free.
    ("port-22-when-ssh-moved", lambda: lan(fwd(port=22), public=own(
        listen("tcp", "0.0.0.0", 2222, "sshd"), listen("tcp", "::", 2222, "sshd"), ansible_port=2222))),
    ("port-22-when-ansible-does-not-use-ssh", lambda: lan(fwd(port=22), public={"ansible_connection": "local"})),
    ("port-of-a-loopback-service", lambda: lan(fwd(port=8080), public=own(
        listen("tcp", "127.0.0.1", 8080, "gitea"), listen("tcp", "::1", 8080, "gitea")))),
    ("port-of-a-service-bound-to-lo", lambda: lan(fwd(port=53, protocols=["udp", "tcp"]), public=own(
        listen("udp", "0.0.0.0", 53, "resolved", iface="lo"), listen("tcp", "*", 53, "resolved", iface="lo")))),
    ("port-of-a-service-on-another-interface-s-address", lambda: lan(fwd(port=5000), public=own(
        listen("tcp", "172.17.0.1", 5000, "registry")))),
    ("port-of-a-service-bound-to-another-interface", lambda: lan(fwd(port=67, protocols=["udp"]), public=own(
        listen("udp", "0.0.0.0", 67, "dnsmasq", iface="docker0")))),
    ("udp-listener-other-protocol", lambda: lan(fwd(port=5353), public=own(listen("udp", "0.0.0.0", 5353, "avahi")))),
    # wireguard-go holds the WireGuard listen port: reported as that port, and only for UDP.
    ("tcp-on-the-port-wireguard-go-holds", lambda: lan(fwd(port=51822), public=own(
        listen("udp", "0.0.0.0", 51822, "wireguard-go")))),
    ("reserved-ports-leave-half-the-ephemeral-range", lambda: direct(fwd(port="32768-46883", to_port=None))),
    ("wide-range-without-reserved-ports", lambda: direct(fwd(port="1024-65535", to_port=None),
                                                         public={"wgpf_reserve_ports": False})),
    ("wide-range-below-the-host-s-ephemeral-range", lambda: direct(fwd(port="1024-49999", to_port=None),
                                                                   public=own(ephemeral=[50000, 60000]))),
    ("single-to-port-on-range", lambda: lan(fwd(port="2000-2010", to_port=8080))),
    ("hub-default-route-beside-spoke", hub),
    ("direct-peer-connmark-private", lambda: direct(fwd(only_via_public=False))),
    ("port-as-string", lambda: lan(fwd(port="2000", to_port="8080"))),
    ("mark-as-hex-string", lambda: edit(lan(), "private1", mark="0x02000000", mark_mask="0x0f000000")),
    # Two public ports of one server onto one service (80 and 8080 -> 8080): the sets merge the flows.
    ("two-forwards-one-service", lambda: lan(fwd(), fwd(name="b", port=2001))),
    ("two-forwards-overlapping-service-ranges",
     lambda: lan(fwd(port="2000-2010", to_port="8080-8090"), fwd(name="b", port=3000, to_port=8085))),
    ("same-service-other-protocol", lambda: lan(fwd(protocols=["tcp"]), fwd(name="b", port=2001, protocols=["udp"]))),
    ("sources-partner-networks", lambda: dual(direct(fwd(sources=["198.51.100.0/24", "2001:db8:99::/48"])))),
    # issue 16 item 2: a family stated is served.
    ("families-ipv6-only-stated", lambda: edit(dual(direct(fwd(families=["ipv6"]))), "private1", address="fd00::3/64")),
    ("families-ipv4-only-stated-beside-ipv6", lambda: dual(direct(fwd(families=["ipv4"])))),
    ("sources-ipv6-only-to-a-dual-stack-peer", lambda: dual(direct(fwd(sources=["2001:db8:99::/48"])))),
    ("families-both-on-a-dual-stack-lan", lambda: dual_lan(lan(fwd(families=["ipv4", "ipv6"])))),
    ("families-and-sources-agree", lambda: dual(direct(fwd(families=["ipv6"], sources=["2001:db8::/32"])))),
    ("wireguard-interface-up-in-facts", lambda: edit(lan(), "public1", ansible_facts={
        "interfaces": ["lo", "eth0", "wg0"], "wg0": {"type": "tunnel"}, "eth0": {"type": "ether"}})),
    ("endpoint-dns-name", lambda: edit(lan(), "public1", endpoint="vpn-1.example.com:51822")),
    # issue 16 item 3: a container whose private server asks for internet_via_public (default_route): its
    # gateway is its host, so nothing lands on it, and the intermediate takes the full tunnel as Q3 says.
    ("container-internet-via-public", lambda: container(
        ct={"internet_via_public": True}, inter={"lan_interface": "docker0", "lan_address": "172.17.0.1/16"},
        name="private1")),
    ("container-on-the-bridge-it-names", lambda: container(
        ct={"lan_interface": "docker0"}, inter={"lan_address": "172.17.0.1/16"}, name="private1")),
    ("peer-config-dir-beside-an-inventory-folder", lambda: peer(
        peer_config_dir="../inventory-peers", inventory_dir="/srv/inventory", ansible_inventory_sources=["/srv/inventory"])),
    # default_route on a direct peer: its default route (the LAN interface inferred from facts) is the tunnel.
    ("direct-peer-default-route-via-its-tunnel", lambda: edit(direct(), "private1", internet_via_public=True,
                                                              ansible_facts={"default_ipv4": {"interface": "wg0"}})),
    ("intermediates-at-two-sites-share-a-lan-address", lambda: tweak(
        lan(fwd(), fwd(name="b", port=2001, to="private2")), lambda inv: (
            inv.host("inter2", "intermediate", address="10.0.0.5/24", endpoint="172.31.0.1:51821",
                     lan_interface="eth0", lan_address="172.31.0.1", lan_mac="12:34:56:78:90:ac"),
            inv.host("private2", "private", intermediate="inter2", attachment="lan", lan_interface="eth0",
                     lan_address="172.31.0.4", gateway_is_intermediate=False)))),
]


@pytest.mark.parametrize("factory", [v[1] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_inventory_plans(factory):
    plans = plan_inventory(data_of(factory()))
    assert {"public1", "private1"} <= set(plans)
    assert all(p["forwards"] for p in plans.values() if p["role"] == "public")


def test_hub_default_route_beside_spoke_is_longest_prefix_match():
    """WireGuard routes by longest prefix: the hub's 0.0.0.0/0 to public1 and its spoke's /32 coexist."""
    plans = plan_inventory(hub().data())
    (wg0,) = plans["inter1"]["interfaces"]
    allowed = {p["host"]: p["allowed_ips"] for p in wg0["peers"]}
    assert allowed == {"public1": ["0.0.0.0/0"], "private1": ["10.0.0.3/32"]}


def test_overlapping_ranges_report_every_clash():
    """c (2500) lies inside a (1000-3000) just like b (1500): both clashes must be reported, not only b's."""
    inv = lan(fwd(name="a", port="1000-3000", to_port=1000), fwd(name="b", port=1500, to_port=9000),
              fwd(name="c", port=2500, to_port=9001))
    with pytest.raises(PlanError) as err:
        build_model(inv.data())
    problems = err.value.problems
    assert any(p.startswith("forward 'b': port:") and "'a'" in p for p in problems), problems
    assert any(p.startswith("forward 'c': port:") and "'a'" in p for p in problems), problems


# ---------------------------------------------------------------- every problem at once

BROKEN = [
    "forward 'web': to_prot: unknown key (did you mean 'to_port'?)",
    "forward 'b': port: port 70000 is outside 1-65535",
    "forward 'c': sources: '198.51.100.1/24' has host bits set (did you mean 198.51.100.0/24?)",
    "forward 'c': name: duplicate forward name (also forward #3)",
    "forward 'd': public: host 'inter1' is a intermediate server, not in the group wireguard_public",
    "forward 'e': port: 22/tcp on public1 takes 22, the port Ansible connects to (SSH's default: no ansible_port "
    "is set; set it if Ansible uses another): converging would cut its own connection",
    "host 'inter1': wgpf_adress: unknown variable (did you mean 'wgpf_address'?)",
    "host 'private1': wgpf_sav: must be one of loose, strict, off, got 'strictest'",
    "host 'private1': wgpf_mark: 0x10 is outside its mask 0xf000000 (a mark must be non-zero and set only bits "
    "of wgpf_mark_mask)",
    "host 'public1': wgpf_endpoint: required: the host:port that peers dial to reach this server",
]


def broken_inventory():
    inv = lan(fwd(to_prot=8080), fwd(name="b", port=70000, to_port=8081),
              fwd(name="c", port=2002, to_port=8082, sources=["198.51.100.1/24"]), fwd(name="c", port=2003, to_port=8083),
              fwd(name="d", public="inter1", port=2004, to_port=8084), fwd(name="e", port=22, to_port=8085))
    edit(inv, "inter1", wgpf_adress="10.0.0.9/24")
    edit(inv, "private1", sav="strictest", mark=0x10)
    edit(inv, "public1", endpoint=None)
    return inv


@pytest.mark.parametrize("stage", [build_model, plan_inventory, explain_inventory],
                         ids=["build_model", "plan_inventory", "explain_inventory"])
def test_every_problem_in_one_error(stage):
    with pytest.raises(PlanError) as err:
        stage(broken_inventory().data())
    assert sorted(err.value.problems) == sorted(BROKEN)
    message = str(err.value)
    assert message.splitlines()[0] == "%d problems in the wgforward.portforward inventory:" % len(BROKEN)
    for problem in BROKEN:
        assert "  - " + problem in message.splitlines()


def test_forward_problems_and_forced_technique_problems_together():
    """A typo in one forward must not hide that another forward forces a technique that cannot work:
    every problem found in the inventory is reported at once, before any host is touched."""
    inv = lan(fwd(to_prot=8080), fwd(name="b", port=2001, to_port=8081, technique="static_routes"))
    with pytest.raises(PlanError) as err:
        plan_inventory(inv.data())
    assert sorted(err.value.problems) == sorted([
        "forward 'web': to_prot: unknown key (did you mean 'to_port'?)",
        "forward 'b': technique: static_routes needs the fixed client networks in sources",
    ])


# ---------------------------------------------------------------- inference from facts

INTER_FACTS = {
    "interfaces": ["lo", "wg0", "eth1", "eth0"],
    "lo": {"ipv4": {"address": "127.0.0.1", "netmask": "255.0.0.0"}},
    "wg0": {"ipv4": {"address": "10.0.0.1", "netmask": "255.255.255.0"}},
    "eth1": {"ipv4": {"address": "192.168.5.1", "netmask": "255.255.255.0"}, "macaddress": "02:00:00:00:00:01"},
    "eth0": {"ipv4": {"address": "172.31.0.1", "netmask": "255.255.0.0"}, "macaddress": "02:00:00:00:00:02"},
}


def inter_from_facts(facts_style="ansible_facts"):
    inv = edit(lan(fwd(only_via_public=False)), "inter1", lan_interface=None, lan_address=None, lan_mac=None)
    if facts_style == "ansible_facts":
        inv.hosts["inter1"]["ansible_facts"] = INTER_FACTS
    else:  # the top-level ansible_* variables of hostvars
        inv.hosts["inter1"]["ansible_interfaces"] = INTER_FACTS["interfaces"]
        for name in INTER_FACTS["interfaces"]:
            inv.hosts["inter1"]["ansible_" + name] = INTER_FACTS[name]
    return inv


@pytest.mark.parametrize("style", ["ansible_facts", "top-level"])
def test_intermediate_lan_inferred_from_facts(style):
    model = build_model(inter_from_facts(style).data())
    inter = model.hosts["inter1"]
    assert inter.lan_interface == "eth0"  # the interface whose network holds private1 (172.31.0.3)
    assert [str(ip) for ip in inter.lan_addresses] == ["172.31.0.1"]
    assert inter.lan_mac == "02:00:00:00:00:02"


def test_intermediate_lan_facts_feed_the_plan():
    plans = plan_inventory(inter_from_facts().data())
    routes = plans["private1"]["routes"]
    assert any(r["via"] == "172.31.0.1" and r["to"] == "default" for r in routes), routes
    assert "02:00:00:00:00:02" in repr(plans["private1"]["nftables"])


def test_intermediate_lan_not_inferred_from_unrelated_network():
    inv = inter_from_facts()
    facts = dict(INTER_FACTS, interfaces=["lo", "eth1"])
    inv.hosts["inter1"]["ansible_facts"] = facts
    with pytest.raises(PlanError) as err:
        plan_inventory(inv.data())
    assert any(p.startswith("host 'inter1': wgpf_lan_address: forward 'web'") for p in err.value.problems)


def gateway_inventory(gateway, **private):
    private.setdefault("gateway_is_intermediate", None)
    inv = edit(lan(fwd(only_via_public=False)), "private1", **private)
    inv.hosts["private1"]["ansible_facts"] = {
        "default_ipv4": {"gateway": gateway, "interface": "eth0", "address": "172.31.0.3"}}
    return inv


@pytest.mark.parametrize("gateway,answer,technique", [
    ("172.31.0.1", True, "connmark_intermediate"),
    ("172.31.0.254", False, "connmark_private"),
], ids=["gateway-is-intermediate", "gateway-is-router"])
def test_gateway_is_intermediate_inferred_from_facts(gateway, answer, technique):
    model = build_model(gateway_inventory(gateway).data())
    assert model.hosts["private1"].gateway_is_intermediate is answer
    assert model.hosts["private1"].gateway_origin == "inferred from facts"
    (dec,) = explain_inventory(gateway_inventory(gateway).data())
    assert dec["technique"] == technique
    q5 = dec["steps"][-1]
    assert (q5["question"], q5["answer"], q5["source"]) == ("Q5", answer, "inferred from facts")


def test_private_lan_address_and_gateway_both_from_facts():
    inv = gateway_inventory("172.31.0.1", lan_address=None, lan_interface=None)
    private = build_model(inv.data()).hosts["private1"]
    assert private.lan_interface == "eth0"
    assert [str(ip) for ip in private.lan_addresses] == ["172.31.0.3"]
    assert private.gateway_is_intermediate is True and private.gateway_origin == "inferred from facts"


def test_gateway_without_facts_is_default_false():
    inv = edit(lan(fwd(only_via_public=False)), "private1", gateway_is_intermediate=None)
    (dec,) = explain_inventory(inv.data())
    q5 = dec["steps"][-1]
    assert (q5["answer"], q5["source"], dec["technique"]) == (False, "default", "connmark_private")


def test_gateway_set_beats_facts():
    inv = gateway_inventory("172.31.0.254", gateway_is_intermediate=True)
    (dec,) = explain_inventory(inv.data())
    assert (dec["steps"][-1]["answer"], dec["steps"][-1]["source"]) == (True, "set")


def test_container_gateway_defaults_true():
    inv = edit(lan(fwd(only_via_public=False)), "private1", attachment="container", gateway_is_intermediate=None)
    (dec,) = explain_inventory(inv.data())
    assert (dec["steps"][-1]["answer"], dec["steps"][-1]["source"]) == (True, "default")
    assert dec["technique"] == "connmark_intermediate"


def test_public_wan_interface_inferred_from_facts():
    inv = edit(lan(), "public1", wan_interface=None)
    inv.hosts["public1"]["ansible_facts"] = {"default_ipv4": {"interface": "ens3", "address": "203.0.113.2"}}
    assert build_model(inv.data()).hosts["public1"].wan_interface == "ens3"


# ---------------------------------------------------------------- issue 7.4: sources of one forward merge

@pytest.mark.parametrize("written,merged", [
    (["198.51.100.0/25", "198.51.100.0/24", "198.51.100.128/25"], ["198.51.100.0/24"]),
    (["198.51.100.0/25", "198.51.100.128/25"], ["198.51.100.0/24"]),
    (["198.51.100.87/32", "198.51.100.87/32"], ["198.51.100.87/32"]),
    (["198.51.100.87/32", "192.0.2.144/30"], ["198.51.100.87/32", "192.0.2.144/30"]),  # order kept: nothing merges
], ids=["overlapping", "adjacent", "duplicate", "disjoint"])
def test_sources_of_one_forward_are_merged(written, merged):
    (forward,) = build_model(lan(fwd(sources=written)).data()).forwards
    assert [str(n) for n in forward.sources] == merged


def test_merged_sources_render_one_dnat_row_per_network():
    plans = plan_inventory(lan(fwd(sources=["198.51.100.0/25", "198.51.100.0/24"])).data())
    rows = plans["public1"]["nftables"]["dnat"]["4"]
    assert [r["saddr"] for r in rows] == ["198.51.100.0/24"]


# ---------------------------------------------------------------- issue 16 item 1: own ports, once each

def test_wireguard_s_own_listen_port_is_reported_once_as_such():
    """wireguard-go holds the WireGuard listen port: the forward is refused for taking that port, not
    also as another service's (the collection's own socket does not clash with itself)."""
    wireguard_go = own(listen("udp", "0.0.0.0", 51822, "wireguard-go"), listen("udp", "::", 51822, "wireguard-go"))
    inv = lan(fwd(port=51822, protocols=["udp"]), public=wireguard_go)
    with pytest.raises(PlanError) as err:
        build_model(inv.data())
    assert err.value.problems == ["forward 'web': port: 51822/udp on public1 takes 51822, its WireGuard listen port"]


# ---------------------------------------------------------------- issue 16 item 2: families, stated in explain

def dnat_families(plans):
    return sorted(v for v, rows in plans["public1"]["nftables"]["dnat"].items() if rows)


def notes_of(inv):
    (dec,) = explain_inventory(inv.data())
    return dec["notes"]


def test_dual_stack_all_the_way_serves_both_families_without_a_note():
    inv = dual_lan(lan())
    assert dnat_families(plan_inventory(inv.data())) == ["4", "6"]
    assert not any("IPv" in note for note in notes_of(inv))


def test_ipv6_target_behind_an_ipv4_tunnel_serves_ipv4_and_explain_says_why():
    """The LAN target has an IPv6 address, the tunnel none: IPv4 only, and explain states it."""
    inv = edit(dual_lan(lan()), "public1", address="10.0.0.2/24")
    assert dnat_families(plan_inventory(inv.data())) == ["4"]
    assert notes_of(inv) == ["IPv4 only: 'public1' has no IPv6 address on wg0, a tunnel the forward takes, so "
                             "IPv6 clients of 'public1' get nothing (give every hop an IPv6 address to serve them, "
                             "or set families: [ipv4] to say so)"]


def test_families_ipv6_serves_ipv6_only_and_explain_says_ipv4_clients_get_nothing():
    inv = dual_lan(lan(fwd(families=["ipv6"])))
    plans = plan_inventory(inv.data())
    assert dnat_families(plans) == ["6"]
    assert plans["public1"]["sysctls"].get("net.ipv4.ip_forward") is None
    assert notes_of(inv) == ["serves IPv6 only, as families says: IPv4 clients of 'public1' get nothing"]
