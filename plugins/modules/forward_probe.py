#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: forward_probe
short_description: Read what the forwards of wgforward.portforward need on one host, changing nothing
version_added: "0.1.0"
description:
  - The reading step of the live check C(wgforward.portforward.check) (C(playbooks/check.yml)); the
    M(wgforward.portforward.check_probe) works out what to read, and
    M(wgforward.portforward.check_verdicts) turns what every host read into one verdict per forward.
  - For each WireGuard interface, whether it exists and is up (C(ip -j link show)), its public key and, per peer,
    the allowed IPs and the age of the latest handshake (C(wg show)); no private key is read or returned.
  - The collection's nftables table as C(nft -j list table inet <name>) prints it (maps, sets, rule counters).
  - The listening TCP and UDP sockets (C(ss -Hltn), C(ss -Hlun)).
  - For each route, what C(ip -j route get <dst> from <from> [iif <iif>] ipproto <proto> sport <port>
    [mark <mark>]) answers.
  - Runs read-only commands only and never reports a change; a command that fails is reported in the result,
    the module itself does not fail for it.
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  interfaces:
    description: WireGuard interfaces to read.
    type: list
    elements: str
    default: []
  nft_table:
    description: Name of the C(inet) table to list; unset, no table is read.
    type: str
  listen:
    description: Read the listening TCP and UDP sockets.
    type: bool
    default: false
  routes:
    description: Routes to ask the kernel for, each a dict with C(family) (4 or 6), C(proto) (V(tcp) or V(udp)),
      C(dst), C(from), C(sport), and optionally C(iif) (for a forwarded reply; the source is not local) and
      C(mark) (the packet mark the technique gives the reply).
    type: list
    elements: dict
    default: []
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Needs root (C(wg show) and C(nft list) do), like the roles.
"""

EXAMPLES = r"""
- name: Read the hops of this host's forwards
  wgforward.portforward.forward_probe:
    interfaces: [wg0]
    nft_table: wgpf
    listen: true
    routes:
      - {family: 4, proto: tcp, dst: 198.18.0.1, from: 172.31.17.3, sport: 8080, mark: "0x1000000"}
  register: probe
"""

RETURN = r"""
interfaces:
  description: Per interface name, C(exists), C(up), C(public_key), C(peers) (a list of C(public_key),
    C(allowed_ips) and C(handshake_age), seconds since the latest handshake or null for none) and C(error).
  returned: always
  type: dict
nft:
  description: "C(table) (the C(nftables) list of C(nft -j), each map element as one string
    C(<key> : <value>), the parts of a concatenation joined by C( . ), a range C(<low>-<high>)), or C(error);
    null when O(nft_table) is unset."
  returned: always
  type: dict
listening:
  description: C(tcp) and C(udp), each a list of C([address, port]) (address V(*) for a wildcard socket),
    or C(error); null unless O(listen).
  returned: always
  type: dict
routes:
  description: The O(routes), each with C(route) (the first object of C(ip -j route get)) or C(error).
  returned: always
  type: list
  elements: dict
"""

import json
import time

from ansible.module_utils.basic import AnsibleModule

WILDCARDS = ("*", "0.0.0.0", "::")


def parse_listening(text):
    """[[address, port]] of `ss -Hl[tu]n` output; a wildcard address is "*"."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        addr, sep, port = fields[3].rpartition(":")
        if not sep or not port.isdigit():
            continue
        addr = addr.strip("[]").split("%")[0]
        out.append(["*" if addr in WILDCARDS else addr, int(port)])
    return out


def parse_wg(handshakes, allowed, now):
    """Peers of `wg show <if> latest-handshakes` and `wg show <if> allowed-ips`."""
    peers = {}
    for line in allowed.splitlines():
        fields = line.split()
        if fields:
            ips = [ip for ip in fields[1:] if ip != "(none)"]
            peers[fields[0]] = {"public_key": fields[0], "allowed_ips": sorted(ips), "handshake_age": None}
    for line in handshakes.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] in peers and fields[1].isdigit() and int(fields[1]) > 0:
            peers[fields[0]]["handshake_age"] = max(0, int(now) - int(fields[1]))
    return [peers[key] for key in sorted(peers)]


def atom_text(value):
    """One side of an nft JSON map element as nft writes it (``tcp . 2000``), or None for a shape not known here."""
    if isinstance(value, dict):
        if "elem" in value:
            return atom_text(value["elem"].get("val"))
        if "concat" in value:
            parts = [atom_text(part) for part in value["concat"]]
            return None if None in parts else " . ".join(parts)
        if "range" in value and len(value["range"]) == 2:
            return "%s-%s" % tuple(value["range"])
        if "prefix" in value:
            return "%s/%s" % (value["prefix"]["addr"], value["prefix"]["len"])
        return None
    if isinstance(value, (list, tuple)) or value is None or isinstance(value, bool):
        return None
    return str(value)


def compact_maps(table):
    """The table with each map element ``[key, value]`` as one string ``key : value``.

    At 10,000 forwards the DNAT map holds 15,500 elements, 120,000 JSON objects as nft prints them: Ansible
    took 4-5 s to carry that result to the controller, against 0.1 s for the same elements as strings
    (benchmarks/README.md, "Scale"). An element of another shape is left as nft printed it."""
    out = []
    for obj in table:
        nft_map = obj.get("map") if isinstance(obj, dict) else None
        if not nft_map or not nft_map.get("elem"):
            out.append(obj)
            continue
        elems = []
        for elem in nft_map["elem"]:
            texts = [atom_text(side) for side in elem] if isinstance(elem, list) and len(elem) == 2 else [None]
            elems.append(elem if None in texts else "%s : %s" % tuple(texts))
        out.append({"map": dict(nft_map, elem=elems)})
    return out


def route_argv(route):
    argv = ["ip", "-%d" % int(route["family"]), "-j", "route", "get", str(route["dst"]), "from", str(route["from"])]
    if route.get("iif"):
        argv += ["iif", str(route["iif"])]
    argv += ["ipproto", str(route["proto"]), "sport", str(route["sport"])]
    if route.get("mark"):
        argv += ["mark", str(route["mark"])]
    return argv


class Reader:
    def __init__(self, module):
        self.module = module

    def run(self, argv):
        """(stdout, None) or (None, error text)."""
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            return None, "%s: %s" % (" ".join(argv), (err or out).strip() or "exit %d" % rc)
        return out, None

    def interface(self, name):
        out, err = self.run(["ip", "-j", "link", "show", "dev", name])
        if err is not None:
            return {"exists": False, "up": False, "public_key": None, "peers": [], "error": err}
        links = json.loads(out or "[]")
        result = {"exists": bool(links), "up": bool(links) and "UP" in links[0].get("flags", []),
                  "public_key": None, "peers": [], "error": None}
        key, err = self.run(["wg", "show", name, "public-key"])
        handshakes, err2 = self.run(["wg", "show", name, "latest-handshakes"])
        allowed, err3 = self.run(["wg", "show", name, "allowed-ips"])
        result["error"] = err or err2 or err3
        if result["error"] is None:
            result["public_key"] = key.strip()
            result["peers"] = parse_wg(handshakes, allowed, time.time())
        return result

    def nft(self, table):
        out, err = self.run(["nft", "-j", "list", "table", "inet", table])
        if err is not None:
            return {"table": None, "error": err}
        return {"table": compact_maps(json.loads(out).get("nftables", [])), "error": None}

    def listening(self):
        found = {"error": None}
        for proto, flag in (("tcp", "-Hltn"), ("udp", "-Hlun")):
            out, err = self.run(["ss", flag])
            found[proto] = parse_listening(out or "")
            found["error"] = found["error"] or err
        return found

    def route(self, route):
        out, err = self.run(route_argv(route))
        answer = dict(route, route=None, error=err)
        if err is None:
            routes = json.loads(out or "[]")
            answer["route"] = routes[0] if routes else None
        return answer


def run_module(module):
    params = module.params
    reader = Reader(module)
    return {
        "changed": False,
        "interfaces": {name: reader.interface(name) for name in params["interfaces"]},
        "nft": reader.nft(params["nft_table"]) if params["nft_table"] else None,
        "listening": reader.listening() if params["listen"] else None,
        "routes": [reader.route(route) for route in params["routes"]],
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "interfaces": {"type": "list", "elements": "str", "default": []},
            "nft_table": {"type": "str"},
            "listen": {"type": "bool", "default": False},
            "routes": {"type": "list", "elements": "dict", "default": []},
        },
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == "__main__":
    main()
