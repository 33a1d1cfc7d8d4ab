# -*- coding: utf-8 -*-
"""Inventory builders for planner tests: small inventories in the shape of README.md's "Inventory"."""

from __future__ import annotations

import copy

ROLES = {"public": "wireguard_public", "intermediate": "wireguard_intermediate", "private": "wireguard_private"}


class Inv:
    """A mutable inventory: hosts with vars, groups, and group_vars/all forwards."""

    def __init__(self):
        self.hosts = {}
        self.groups = {g: [] for g in ROLES.values()}
        self.forwards = []

    def host(self, name, role, **wgpf):
        self.groups[ROLES[role]].append(name)
        self.hosts[name] = {("wgpf_" + k if not k.startswith(("wgpf_", "ansible_")) else k): v
                            for k, v in wgpf.items()}
        return self

    def forward(self, **fwd):
        self.forwards.append(fwd)
        return self

    def data(self):
        hosts = {}
        for name, hv in self.hosts.items():
            hv = copy.deepcopy(hv)
            hv.setdefault("wgpf_forwards", self.forwards)
            hosts[name] = hv
        groups = dict(self.groups)
        groups["all"] = sorted(hosts)
        return {"hosts": hosts, "groups": groups}


def seed_lan(private_vars=None, inter_vars=None, public_vars=None):
    """The seed's LAN topology: public 10.0.0.2, intermediate 10.0.0.1 + LAN 172.31.0.1, private 172.31.0.3."""
    inv = Inv()
    inv.host("public1", "public", address="10.0.0.2/24", listen_port=51822, endpoint="203.0.113.2:51822",
             wan_interface="eth0", **(public_vars or {}))
    inv.host("inter1", "intermediate", address="10.0.0.1/24", listen_port=51821, endpoint="172.31.0.1:51821",
             lan_interface="eth0", lan_address="172.31.0.1", lan_mac="12:34:56:78:90:ab", **(inter_vars or {}))
    pv = {"intermediate": "inter1", "attachment": "lan", "lan_interface": "eth0", "lan_address": "172.31.0.3",
          "gateway_is_intermediate": False}
    pv.update(private_vars or {})
    inv.host("private1", "private", **pv)
    return inv


def seed_hub(private_vars=None, inter_vars=None):
    """The seed's hub-and-spoke topology: private1 is spoke 10.0.0.3 of hub inter1."""
    inv = Inv()
    inv.host("public1", "public", address="10.0.0.2/24", listen_port=51822, endpoint="203.0.113.2:51822",
             wan_interface="eth0")
    inv.host("inter1", "intermediate", address="10.0.0.1/24", listen_port=51821, endpoint="172.31.0.1:51821",
             **(inter_vars or {}))
    pv = {"intermediate": "inter1", "attachment": "wireguard", "address": "10.0.0.3/24", "listen_port": 51823}
    pv.update(private_vars or {})
    inv.host("private1", "private", **pv)
    return inv


def seed_direct(private_vars=None):
    """The second seed: private1 (10.0.0.3) is a direct WireGuard peer of public1."""
    inv = Inv()
    inv.host("public1", "public", address="10.0.0.2/24", endpoint="203.0.113.2:51820", wan_interface="eth0")
    pv = {"address": "10.0.0.3/24"}
    pv.update(private_vars or {})
    inv.host("private1", "private", **pv)
    return inv


def seed_two_publics():
    """The seed's two-public-server hub: inter1 has wg0 (spoke), wg1 (public1), wg2 (public2)."""
    inv = Inv()
    inv.host("public1", "public", address="10.100.100.2/24", endpoint="198.51.100.11:51820", wan_interface="eth0")
    inv.host("public2", "public", address="10.200.200.2/24", endpoint="203.0.113.22:51820", wan_interface="eth0")
    inv.host("inter1", "intermediate", endpoint="172.31.0.1:51821", interfaces=[
        {"name": "wg0", "address": "10.0.0.1/24", "listen_port": 51821, "peers": ["private1"]},
        {"name": "wg1", "address": "10.100.100.1/24", "listen_port": 51000, "peers": ["public1"]},
        {"name": "wg2", "address": "10.200.200.1/24", "listen_port": 52000, "peers": ["public2"]},
    ])
    inv.host("private1", "private", intermediate="inter1", attachment="wireguard", address="10.0.0.3/24",
             listen_port=51823)
    inv.forward(name="web1", public="public1", port=2000, to="private1", to_port=8080)
    inv.forward(name="web2", public="public2", port=2000, to="private1", to_port=8080)
    return inv


def hostvars_of(inv, extra=None):
    """A fake hostvars: a plain dict of dicts, with unrelated variables the filters must ignore."""
    data = inv.data()
    hostvars = {}
    for name, hv in data["hosts"].items():
        hv = dict(hv)
        hv.update({"ansible_host": "192.0.2.250", "inventory_hostname": name, "some_other_var": [1, 2]})
        hv.update((extra or {}).get(name, {}))
        hostvars[name] = hv
    hostvars["unrelated"] = {"wgpf_nonsense": 1}  # not in a wireguard_* group: never read
    groups = dict(data["groups"])
    groups["all"] = sorted(hostvars)
    groups["ungrouped"] = ["unrelated"]
    return hostvars, groups


def lan_inventory(**fwd):
    inv = seed_lan()
    forward = {"name": "web", "public": "public1", "port": 2000, "to": "private1", "to_port": 8080}
    forward.update(fwd)
    inv.forward(**forward)
    return inv
