# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What wire_bench.py loads on its public server: a users'-shaped inventory of N forwards and its tables.

The inventory is shaped like real ones, because a uniform one hides the cost: the
planner merges adjacent ports of one address into a single set element, so one
service on consecutive ports puts one element in the table whatever N is. Here:
four direct WireGuard peers and four LAN servers behind an intermediate; scattered
public ports (never adjacent across forwards); tcp, udp or both; some 3-port ranges;
some forwards with `sources`, some masqueraded, some not only via the public server;
service ports that are sometimes the public port and sometimes a well-known one.
The mix is drawn from a fixed seed, so every run measures the same table.

Three forwards are probed (every one plain TCP on a single port, so one connection is
one DNAT decision): the FIRST (lowest public port, a direct peer), the LAST (highest
port, a LAN server, masqueraded) and a SOURCE-restricted one in the middle whose
`sources` hold the lab client's network. Each probe is compared with a table planned
for that forward alone, and with one hand-written DNAT rule for it.

The planner is imported here and nowhere else in benchmarks/wire_*: when its modules
move, only the import block below changes.
"""

from __future__ import annotations

import importlib.util
import random

# ---- the planner: the only imports of the collection in wire_bench (its modules are moving)
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

# The lab's addresses (RFC 1918 and RFC 6598 ranges, inside namespaces wire_bench creates).
CLIENT_ADDR, CLIENT_NET, PUBLIC_WAN_ADDR = "192.168.250.2", "192.168.250.0/24", "192.168.250.1"
PUBLIC_TUNNEL, INTER_TUNNEL = "10.77.0.1", "10.77.0.2"
LAN_NET = "172.31.0.0/24"
# Interface names as on a real public server, so the table's iifname/oifname matches apply.
WAN_IF, TUNNEL_IF = "eth0", "wg0"
# The intermediate's (--host inter1): its link to the public server and its LAN.
INTER_LINK_IF, INTER_LAN_IF, INTER_LAN_ADDR = "wg0", "eth1", "172.31.0.1"
HOSTS = ("public1", "inter1")
# The intermediate's "hand" arm: no rule of the collection's, but conntrack on as its table turns it on.
CONNTRACK_ONLY = ("table inet wgpf_hand {\n\tchain forward {\n\t\ttype filter hook forward priority filter; "
                  "policy accept;\n\t\tct state established,related accept\n\t}\n}\n")
DIRECT = {"private%d" % i: "10.77.0.%d" % (10 + i) for i in range(1, 5)}
LAN = {"lan%d" % i: "172.31.0.%d" % (10 + i) for i in range(1, 5)}
# Every address the service namespace answers for: the forwards' targets.
SERVICE_ADDRS = [INTER_TUNNEL] + sorted(DIRECT.values()) + sorted(LAN.values())

FIRST_PORT, SLOT = 1024, 4  # a slot holds a forward's 1 or 3 ports and at least one free port
LAST_PORT = 50000  # below WireGuard's 51820 and the ephemeral range
WELL_KNOWN = [22, 80, 443, 3000, 5432, 8080, 8443, 25565, 27015, 3389]
SOURCE_POOL = ["100.64.%d.0/24" % i for i in range(250)]  # never the client's network
SEED = 20


def _draw(rng, index, port):
    """One forward of the mix (before the probes are fixed)."""
    target = rng.choice(sorted(DIRECT) + sorted(LAN))
    width = 3 if rng.random() < 0.10 else 1
    roll = rng.random()
    protocols = ["tcp"] if roll < 0.60 else (["udp"] if roll < 0.85 else ["tcp", "udp"])
    fwd = {"name": "f%d" % index, "public": "public1", "port": port if width == 1 else "%d-%d" % (port, port + 2),
           "protocols": protocols, "to": target}
    if width == 1 and rng.random() < 0.30:
        fwd["to_port"] = rng.choice(WELL_KNOWN)
    if rng.random() < 0.10:
        fwd["sources"] = rng.sample(SOURCE_POOL, rng.randint(1, 3))
    if rng.random() < 0.20:
        fwd["preserve_source"] = False
    if rng.random() < 0.10:
        fwd["only_via_public"] = False
    return fwd


def probe_forward(kind, index, port):
    """The probed forwards: plain TCP single ports, one of each kind."""
    fwd = {"name": "f%d" % index, "public": "public1", "port": port, "protocols": ["tcp"]}
    if kind == "first":
        fwd.update(to="private1", to_port=port + 1)
    elif kind == "last":
        fwd.update(to="lan4", to_port=port + 1, preserve_source=False)
    else:
        fwd.update(to="lan1", to_port=port + 1, sources=[CLIENT_NET, SOURCE_POOL[7]])
    return fwd


def forwards(n):
    """(the n forwards, {probe kind: forward}); with n == 1 every probe is the one forward's own inventory."""
    slots = (LAST_PORT - FIRST_PORT) // SLOT
    if n > slots:
        raise ValueError("at most %d forwards fit the port space with a free port between them" % slots)
    rng = random.Random(SEED)
    ports = [FIRST_PORT + SLOT * s for s in sorted(rng.sample(range(slots), n))]
    out = []
    for i, base in enumerate(ports):
        fwd = _draw(rng, i, base)
        if not isinstance(fwd["port"], str):
            # A single port anywhere in its slot but its last place: never adjacent to the next slot's ports.
            fwd["port"] = base + rng.randint(0, SLOT - 2)
        out.append(fwd)
    probes = {}
    for kind, index in (("first", 0), ("source", n // 2), ("last", n - 1)):
        out[index] = probe_forward(kind, index, ports[index])
        probes[kind] = out[index]
    return out, probes


def build_inventory(fwds):
    """One public server, four direct peers, an intermediate with four LAN servers; ``fwds`` everywhere."""
    hosts = {
        "public1": {"wgpf_address": PUBLIC_TUNNEL + "/24", "wgpf_endpoint": "192.168.251.1:51820",
                    # The kernel takes one page of reserved ports: 10,000 scattered ports are more (refused).
                    "wgpf_wan_interface": WAN_IF, "wgpf_reserve_ports": False},
        "inter1": {"wgpf_address": INTER_TUNNEL + "/24", "wgpf_listen_port": 51821,
                   "wgpf_lan_interface": INTER_LAN_IF, "wgpf_lan_address": INTER_LAN_ADDR + "/24",
                   "wgpf_lan_mac": "02:00:00:00:00:01"},
    }
    for name, addr in DIRECT.items():
        hosts[name] = {"wgpf_address": addr + "/24"}
    for name, addr in LAN.items():
        hosts[name] = {"wgpf_intermediate": "inter1", "wgpf_attachment": "lan", "wgpf_lan_interface": "eth0",
                       "wgpf_lan_address": addr + "/24", "wgpf_gateway_is_intermediate": False}
    for hv in hosts.values():
        hv["wgpf_forwards"] = fwds
    groups = {"wireguard_public": ["public1"], "wireguard_intermediate": ["inter1"],
              "wireguard_private": sorted(DIRECT) + sorted(LAN), "all": sorted(hosts)}
    return {"hosts": hosts, "groups": groups}


def host_plan(fwds, host="public1"):
    """The host's plan for ``fwds``: the planner's own entry point, as the roles reach it."""
    return plan_inventory(build_inventory(fwds))[host]


def collection_table(plan):
    """The nftables file the collection writes on the host."""
    tables = [f["content"] for f in render_files(plan, {}) if f["kind"] == "nftables"]
    if len(tables) != 1:
        raise RuntimeError("%s's plan renders %d nftables files, not 1" % (plan["host"], len(tables)))
    return tables[0]


def target(fwd):
    """(address, service port) the probe's connections reach."""
    addr = DIRECT.get(fwd["to"]) or LAN[fwd["to"]]
    return addr, fwd.get("to_port", fwd["port"])


def hand_table(fwd):
    """One hand-written DNAT rule for the probe (with its source match), and the masquerade it needs."""
    addr, to_port = target(fwd)
    match = " ip saddr %s" % CLIENT_NET if fwd.get("sources") else ""
    text = ("table ip wgpf_hand {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
            "\t\tiifname \"%s\"%s tcp dport %d dnat to %s:%d\n\t}\n" % (WAN_IF, match, fwd["port"], addr, to_port))
    if fwd.get("preserve_source") is False:
        text += ("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
                 "\t\toifname \"%s\" ip daddr %s tcp dport %d masquerade\n\t}\n" % (TUNNEL_IF, addr, to_port))
    return text + "}\n"


def load_shape(path):
    """An alternative table shape: a Python file whose ``public_table(plan)`` returns nft text for the plan."""
    spec = importlib.util.spec_from_file_location("wire_shape", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.public_table


def tables(n, shape=None, host="public1"):
    """{(arm, probe kind): nft text} for the probes; arms: coll-1, coll-N, hand, and shape-1, shape-N.

    For the intermediate (``host`` inter1) only the probes to its LAN servers, and "hand" is a
    table that only turns conntrack on: what its forward path costs without the collection's rules."""
    fwds, probes = forwards(n)
    if host != "public1":
        probes = {kind: fwd for kind, fwd in probes.items() if fwd["to"] in LAN}
    plans = {"N": host_plan(fwds, host)}
    plans.update({kind: host_plan([dict(fwd, name="solo")], host) for kind, fwd in probes.items()})
    makers = [("coll", collection_table)] + ([("shape", shape)] if shape else [])
    out = {}
    for prefix, make in makers:
        big = make(plans["N"])
        for kind in probes:
            out[("%s-1" % prefix, kind)] = make(plans[kind])
            out[("%s-N" % prefix, kind)] = big
    for kind, fwd in probes.items():
        out[("hand", kind)] = hand_table(fwd) if host == "public1" else CONNTRACK_ONLY
    return out, probes
