# -*- coding: utf-8 -*-
"""The inventories whose rendered files are kept under tests/golden/, loaded with Ansible's Python API.

inventory.example/ is read as it is (every value it needs is set). A Molecule
scenario's inventory holds only group_vars and host_vars; its hosts and groups
come from the scenario's molecule.yml platforms, and some defaults (LAN
addresses, the WAN interface, a gateway) are inferred from the containers'
facts. Those facts are made up here from molecule.yml and the `test_ip`
default routes, the way Docker and the scenario's prepare step lay the
containers out: interfaces eth0, eth1, ... in the order of their networks'
names, each with its fixed addresses, a MAC Docker would derive from it (or the
platform's mac_address), and a default route of a family only where `test_ip`
sets one (the networks are internal, so Docker gives none).
"""

from __future__ import annotations

import os
import pathlib

import netaddr
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
# Set to 1 to rewrite tests/golden/ from what the code renders now (`make golden`).
UPDATE_ENV = "WGPF_GOLDEN_UPDATE"


def inventories():
    """{golden folder name: inventory path}: inventory.example and every Molecule scenario's inventory."""
    found = {"inventory.example": ROOT / "inventory.example"}
    for molecule_yml in sorted(ROOT.glob("molecule/*/molecule.yml")):
        if (molecule_yml.parent / "inventory").is_dir():
            found["molecule-" + molecule_yml.parent.name] = molecule_yml.parent / "inventory"
    return found


def _mac(ip):
    # Docker's MAC for a container address: 02:42 then the four IPv4 bytes.
    return "02:42:" + ":".join("%02x" % b for b in netaddr.IPAddress(ip).packed)


def _subnets(platforms):
    nets = {}
    for platform in platforms:
        for net in platform.get("docker_networks") or []:
            nets[net["name"]] = [netaddr.IPNetwork(c["subnet"]) for c in net.get("ipam_config") or []]
    return nets


def _default_gateways(hostvars_file):
    """{4: X, 6: Y} of the `[-6] route replace default via X` of a scenario's test_ip, as prepare applies it."""
    if not hostvars_file.is_file():
        return {}
    data = yaml.safe_load(hostvars_file.read_text()) or {}
    out = {}
    for cmd in data.get("test_ip") or []:
        words = cmd.split()
        family = 6 if words[0] == "-6" else 4
        words = words[1:] if words[0] in ("-4", "-6") else words
        if words[:4] == ["route", "replace", "default", "via"]:
            out[family] = netaddr.IPAddress(words[4])
    return out


def platform_facts(platform, subnets, inventory_dir):
    """The facts the planner reads, for one container of a scenario."""
    facts = {"interfaces": ["lo"]}
    gateways = _default_gateways(inventory_dir / "host_vars" / ("%s.yml" % platform["name"]))
    gateway = gateways.get(4)
    networks = sorted(platform.get("networks") or [], key=lambda n: n["name"])
    mac = next((n["mac_address"] for n in networks if n.get("mac_address")), None)
    for index, net in enumerate(networks):
        ifname = "eth%d" % index
        ip = netaddr.IPAddress(net["ipv4_address"])
        subnet = next(s for s in subnets[net["name"]] if s.version == 4 and ip in s)
        data = {"device": ifname, "macaddress": mac if (mac and index == 0) else _mac(ip),
                "ipv4": {"address": str(ip), "netmask": str(subnet.netmask), "network": str(subnet.network)}}
        if net.get("ipv6_address"):
            v6 = next(s for s in subnets[net["name"]] if s.version == 6)
            data["ipv6"] = [{"address": net["ipv6_address"], "prefix": str(v6.prefixlen), "scope": "global"}]
            if gateways.get(6) is not None and gateways[6] in v6:
                facts["default_ipv6"] = {"interface": ifname, "address": net["ipv6_address"],
                                         "gateway": str(gateways[6]), "prefix": str(v6.prefixlen)}
        facts["interfaces"].append(ifname)
        facts[ifname] = data
        if gateway is not None and gateway in subnet:
            facts["default_ipv4"] = {"interface": ifname, "address": str(ip), "gateway": str(gateway),
                                     "netmask": str(subnet.netmask), "macaddress": data["macaddress"]}
    if _host_var(inventory_dir / "host_vars" / ("%s.yml" % platform["name"]), "test_iptables"):
        # molecule/resources/playbooks/docker_footprint.yml: Docker's bridge and its address.
        facts["interfaces"].append("docker0")
        facts["docker0"] = {"device": "docker0", "macaddress": "02:42:ac:11:00:01", "type": "bridge",
                            "ipv4": {"address": "172.17.0.1", "netmask": "255.255.0.0", "network": "172.17.0.0"}}
    return facts


def _host_var(hostvars_file, name):
    if not hostvars_file.is_file():
        return None
    return (yaml.safe_load(hostvars_file.read_text()) or {}).get(name)


def load(path):
    """{'hosts': ..., 'groups': ...} as the plan filter would build it from this inventory's hostvars."""
    hostvars, groups = hostvars_of(path)
    return from_hostvars(hostvars, groups)


def hostvars_of(path):
    """(Ansible's own HostVars, groups) of this inventory, with facts made up from molecule.yml."""
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(path)])
    variables = VariableManager(loader=loader, inventory=inventory)
    molecule_yml = path.parent / "molecule.yml"
    if path.name == "inventory" and molecule_yml.is_file():
        platforms = yaml.safe_load(molecule_yml.read_text())["platforms"]
        subnets = _subnets(platforms)
        for platform in platforms:
            for group in platform.get("groups") or ["ungrouped"]:
                inventory.add_group(group)
                inventory.add_host(platform["name"], group=group)
        variables = VariableManager(loader=loader, inventory=inventory)
        for platform in platforms:
            variables.set_host_facts(platform["name"], platform_facts(platform, subnets, path))
    hostvars = HostVars(inventory=inventory, variable_manager=variables, loader=loader)
    return hostvars, inventory.get_groups_dict()


def rendered(path):
    """{'<host>/<path on the host>': (mode, kind, content)} for every host of the inventory."""
    out = {}
    for host, plan in sorted(plan_inventory(load(path)).items()):
        for item in render_files(plan, {}):
            out[host + item["path"]] = (item["mode"], item["kind"], item["content"])
    return out


def manifest(files):
    """One line per file: its mode and kind (what the roles read beside the content)."""
    return "".join("%s %s %s\n" % (mode, kind, name) for name, (mode, kind, _c) in sorted(files.items()))


def write(name, files):
    """Replace tests/golden/<name>/ with these files (and their MANIFEST)."""
    target = GOLDEN / name
    if target.exists():
        for item in sorted(target.rglob("*"), reverse=True):
            item.unlink() if item.is_file() else item.rmdir()
    target.mkdir(parents=True, exist_ok=True)
    for rel, (_m, _k, content) in files.items():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(content.encode())
    (target / "MANIFEST").write_text(manifest(files))


def stored(name):
    """{'<host>/<path>': bytes} as kept under tests/golden/<name>/, MANIFEST apart."""
    target = GOLDEN / name
    return {str(p.relative_to(target)): p.read_bytes() for p in sorted(target.rglob("*"))
            if p.is_file() and p.name != "MANIFEST"}


def updating():
    return os.environ.get(UPDATE_ENV) == "1"
