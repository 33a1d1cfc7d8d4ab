# -*- coding: utf-8 -*-
"""The inventories the repository ships (inventory.example, every molecule/*/inventory) as planner input.

Molecule scenarios keep their groups in molecule.yml and rely on gathered facts for
some defaults (the public server's WAN interface, a LAN server's addresses and
gateways, an intermediate's LAN interface, addresses and MAC). Those facts are
synthesised here from the scenario's networks the way Docker lays them out:
a container's interfaces are eth0, eth1, ... in the order of its networks' names,
with an IPv6 address where the network has one, and the default routes are the
`test_ip` "[-6] route replace default via X" of the host.
"""

from __future__ import annotations

import glob
import ipaddress
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GROUPS = ("wireguard_public", "wireguard_intermediate", "wireguard_private")


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _vars_of(folder, name):
    """host_vars/<name>.yml or host_vars/<name>/*.yml, likewise group_vars/all."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, name + ".yml")) + glob.glob(os.path.join(folder, name, "*.yml"))):
        out.update(_load(path))
    return out


def _inventory(folder, groups):
    common = _vars_of(os.path.join(folder, "group_vars"), "all")
    hosts = {}
    for group in GROUPS:
        for name in groups.get(group, []):
            hv = dict(common)
            hv.update(_vars_of(os.path.join(folder, "host_vars"), name))
            hosts[name] = hv
    groups = dict(groups)
    groups["all"] = sorted(hosts)
    return {"hosts": hosts, "groups": groups}


def example():
    hosts = _load(os.path.join(ROOT, "inventory.example", "hosts.yml"))["all"]["children"]
    groups = {g: list((hosts.get(g) or {}).get("hosts") or {}) for g in GROUPS}
    return _inventory(os.path.join(ROOT, "inventory.example"), groups)


def _defaults(hv):
    """{4: gateway, 6: gateway} of the host's `test_ip` "[-6] route replace default via X"."""
    via = {}
    for cmd in hv.get("test_ip") or []:
        words = cmd.split()
        family = 6 if words[0] == "-6" else 4
        words = words[1:] if words[0] in ("-4", "-6") else words
        if words[:3] == ["route", "replace", "default"]:
            via[family] = ipaddress.ip_address(words[4])
    return via


def _facts(platform, subnets, hv):
    """ansible_facts of a scenario's container: its interfaces (IPv4, and IPv6 on a network with
    ``enable_ipv6``) and its default route of each family."""
    nets = sorted(platform.get("networks") or [], key=lambda n: n["name"])
    facts = {"interfaces": ["lo"] + ["eth%d" % i for i in range(len(nets))],
             "lo": {"type": "loopback", "ipv4": {"address": "127.0.0.1", "netmask": "255.0.0.0"}}}
    via = _defaults(hv)
    for i, net in enumerate(nets):
        v4, v6 = (next((n for n in subnets[net["name"]] if n.version == v), None) for v in (4, 6))
        data = {"type": "ether", "macaddress": net.get("mac_address", "02:42:ac:1f:%02x:%02x" % (i, len(nets))),
                "ipv4": {"address": net["ipv4_address"], "netmask": str(v4.netmask)}}
        addresses = {4: net["ipv4_address"]}
        if net.get("ipv6_address") and v6 is not None:
            data["ipv6"] = [{"address": net["ipv6_address"], "prefix": str(v6.prefixlen), "scope": "global"}]
            addresses[6] = net["ipv6_address"]
        facts["eth%d" % i] = data
        for family, subnet in ((4, v4), (6, v6)):
            if via.get(family) is not None and subnet is not None and via[family] in subnet and family in addresses:
                facts["default_ipv%d" % family] = {"interface": "eth%d" % i, "address": addresses[family],
                                                   "gateway": str(via[family])}
    if hv.get("test_iptables"):
        # molecule/resources/playbooks/docker_footprint.yml: Docker's bridge.
        facts["interfaces"].append("docker0")
        facts["docker0"] = {"type": "bridge", "macaddress": "02:42:0a:00:00:01",
                            "ipv4": {"address": "172.17.0.1", "netmask": "255.255.0.0"}}
    return facts


def scenario(name):
    folder = os.path.join(ROOT, "molecule", name)
    platforms = _load(os.path.join(folder, "molecule.yml"))["platforms"]
    subnets = {n["name"]: [ipaddress.ip_network(c["subnet"]) for c in n["ipam_config"]]
               for p in platforms for n in p.get("docker_networks") or []}
    groups = {g: [p["name"] for p in platforms if g in (p.get("groups") or [])] for g in GROUPS}
    # Hosts that are no container of the scenario (inventory/hosts.yml: a container target in a
    # network namespace of its intermediate, never contacted).
    extra = os.path.join(folder, "inventory", "hosts.yml")
    if os.path.exists(extra):
        children = _load(extra)["all"]["children"]
        for group in GROUPS:
            groups[group] += [h for h in (children.get(group) or {}).get("hosts") or {} if h not in groups[group]]
    inv = _inventory(os.path.join(folder, "inventory"), groups)
    for platform in platforms:
        if platform["name"] in inv["hosts"]:
            hv = inv["hosts"][platform["name"]]
            hv["ansible_facts"] = _facts(platform, subnets, hv)
    return inv


def scenarios():
    found = glob.glob(os.path.join(ROOT, "molecule", "*", "molecule.yml"))
    return sorted(os.path.basename(os.path.dirname(p)) for p in found)
