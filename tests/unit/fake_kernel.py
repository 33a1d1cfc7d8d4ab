# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake host's kernel for the apply step's tests: what its units put there, and what `ip`, `nft -s list`
and `wg show all dump` print of it.

Written from what the real tools print (iproute2 6.1 `ip -N -j rule/route/address show`, wireguard-tools
1.0.20210914 `wg show all dump`, as captured in the test image), independently of the code under test:

- the routes unit (start or reload) does what routes.sh `up` does with its wanted() lines: each rule
  added unless the very same is there, each route replaced, each interface sysctl written;
- the nftables unit loads the file: the "listing" is the table's text from the file (tests that need
  the kernel's own listing use real nft in a network namespace);
- wg-quick@IF start (and the sync script) bring the interface up with the config's addresses, peers
  and the routes of their allowed IPs in the config's Table (main for auto, but /0); stop removes it;
- `ip rule del`, `ip route del` and `wg set ... preshared-key /dev/null` change it like the real tools.
"""

from __future__ import annotations

import ipaddress
import json

# What a WireGuard private key looks like in the dump: it must never come out of the apply step.
PRIVATE = "2DmqLMHUxuEVcnxQ/7bvxQmSzRGsG2VPJK/6Ub1BpHA="
PSK = "HmJ9klzdR8f6jV9Wk+2pXpSzPMCHZqmzMwvmu0d1jdA="
TABLES = {"main": "254", None: "254"}


def _addr(text):
    """ip's way of printing a host address: no /32 or /128."""
    net = ipaddress.ip_network(text, strict=False)
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def rule_entry(words):
    """`ip -N -j rule show`'s entry of `ip rule add WORDS`."""
    entry = {"priority": None, "src": "all"}
    pairs = iter(words)
    for word in pairs:
        value = next(pairs)
        if word in ("from", "to"):
            net = ipaddress.ip_network(value, strict=False)
            key = "src" if word == "from" else "dst"
            entry[key] = str(net.network_address)
            if net.prefixlen != net.max_prefixlen:
                entry[key + "len"] = net.prefixlen
        elif word == "ipproto":
            entry["ipproto"] = "ipproto-%s" % value
        elif word in ("sport", "dport"):
            lo, _sep, hi = value.partition("-")
            if hi:
                entry[word + "_start"], entry[word + "_end"] = int(lo), int(hi)
            else:
                entry[word] = int(lo)
        elif word == "fwmark":
            mark, _sep, mask = value.partition("/")
            entry["fwmark"] = hex(int(mark, 0))
            if mask and int(mask, 0) != 0xFFFFFFFF:
                entry["fwmask"] = hex(int(mask, 0))
        elif word == "iif":
            entry["iif"] = value
        elif word == "lookup":
            entry["table"] = value
        elif word == "priority":
            entry["priority"] = int(value)
    return entry


def route_entry(words):
    """`ip -N -j route show table all`'s entry of `ip route replace WORDS`."""
    entry = {"dst": "default" if words[0] == "default" else _addr(words[0]), "flags": []}
    pairs = iter(words[1:])
    for word in pairs:
        value = next(pairs)
        if word == "via":
            entry["gateway"] = value
        elif word == "dev":
            entry["dev"] = value
        elif word == "table" and value not in ("main", "254"):
            entry["table"] = value
    return entry


def wanted_lines(script):
    lines, inside = [], False
    for line in script.splitlines():
        if line.startswith("wanted() {"):
            inside = True
        elif inside and line.strip() == "}":
            break
        elif inside and line.strip():
            lines.append(line.split())
    return lines


def parse_conf(text):
    conf = {"addresses": [], "listen_port": "0", "table": "auto", "peers": []}
    peer = None
    for line in text.splitlines():
        key, sep, value = (part.strip() for part in line.partition("="))
        if line.startswith("[Peer]"):
            peer = {"key": None, "psk": False, "endpoint": "(none)", "allowed": [], "keepalive": "off"}
            conf["peers"].append(peer)
        elif not sep or line.startswith("#"):
            continue
        elif peer is None:
            if key == "Address":
                conf["addresses"] += [a.strip() for a in value.split(",")]
            elif key == "ListenPort":
                conf["listen_port"] = value
            elif key == "Table":
                conf["table"] = value
        elif key == "PublicKey":
            peer["key"] = value
        elif key == "PresharedKey":
            peer["psk"] = True
        elif key == "Endpoint":
            peer["endpoint"] = value
        elif key == "AllowedIPs":
            peer["allowed"] += [a.strip() for a in value.split(",")]
        elif key == "PersistentKeepalive":
            peer["keepalive"] = value
    return conf


class FakeKernel:
    def __init__(self):
        self.rules = {4: [], 6: []}
        self.routes = {4: [], 6: []}
        self.nft = None  # the loaded table's listing
        self.wg = {}  # name -> {"conf": parse_conf, "up": bool, "peers": [...]}
        self.sysctls = {}  # written by routes.sh's if_sysctl: the test host's /proc/sys holds them

    # ------------------------------------------------------------ what the units do

    def load_nft(self, text):
        self.nft = text[text.index("table inet wgpf {"):] if "table inet wgpf {" in text else text

    def routes_up(self, script):
        for words in wanted_lines(script):
            fam = 6 if words[1] == "-6" else 4
            if words[0] == "rule":
                entry = rule_entry(words[2:])
                if entry not in self.rules[fam]:
                    self.rules[fam].append(entry)
            elif words[0] == "route":
                self.replace_route(fam, route_entry(words[2:]))
            elif words[0] == "if_sysctl" and words[1] in self.wg:
                self.sysctls[words[2]] = words[3]

    def replace_route(self, fam, entry):
        same = [r for r in self.routes[fam] if r["dst"] == entry["dst"] and r.get("table") == entry.get("table")]
        for old in same:
            self.routes[fam].remove(old)
        self.routes[fam].append(entry)

    def wg_up(self, name, text):
        conf = parse_conf(text)
        self.wg[name] = {"conf": conf, "up": True, "peers": [dict(p) for p in conf["peers"]]}
        self.wg_routes(name)

    def wg_sync(self, name, text):
        conf = parse_conf(text)
        self.wg[name].update(conf=conf, peers=[dict(p) for p in conf["peers"]])
        self.wg_routes(name)

    def wg_routes(self, name):
        table = self.wg[name]["conf"]["table"]
        for peer in self.wg[name]["peers"]:
            for net in peer["allowed"]:
                fam = 6 if ":" in net else 4
                if table == "auto" and (net.endswith("/0") or self.covered(fam, net, name)):
                    continue
                entry = {"dst": "default" if net.endswith("/0") else _addr(net), "dev": name, "flags": []}
                if table != "auto":
                    entry["table"] = table
                self.replace_route(fam, entry)

    def covered(self, fam, net, name):
        for route in self.routes[fam]:
            if route.get("dev") == name and "table" not in route and route["dst"] != "default" \
                    and ipaddress.ip_network(net).subnet_of(ipaddress.ip_network(route["dst"])):
                return True
        return False

    def wg_down(self, name):
        self.wg.pop(name, None)
        for fam in (4, 6):
            self.routes[fam] = [r for r in self.routes[fam] if r.get("dev") != name]

    # ------------------------------------------------------------ what the tools print

    def query(self, argv):
        """(rc, out, err) of a reading command, or None when it is not one of these."""
        if argv[:2] == ["nft", "-s"]:
            return (0, self.nft, "") if self.nft is not None else (1, "", "Error: No such file or directory")
        if argv[0] == "ip" and "-j" in argv and argv[-2:] == ["rule", "show"]:
            return 0, json.dumps(self.rules[6 if "-6" in argv else 4]), ""
        if argv[0] == "ip" and "-j" in argv and "route" in argv and argv[-1] == "all":
            return 0, json.dumps(self.routes[6 if "-6" in argv else 4]), ""
        if argv == ["ip", "-j", "address", "show"]:
            return 0, json.dumps(self.addresses()), ""
        if argv == ["wg", "show", "all", "dump"]:
            return 0, self.dump(), ""
        return None

    def addresses(self):
        out = []
        for name, wg in sorted(self.wg.items()):
            info = [{"family": "inet6" if ":" in a else "inet", "local": a.split("/")[0],
                     "prefixlen": int(a.split("/")[1]), "scope": "global"} for a in wg["conf"]["addresses"]]
            info.append({"family": "inet6", "local": "fe80::1", "prefixlen": 64, "scope": "link"})
            flags = ["POINTOPOINT", "NOARP"] + (["UP", "LOWER_UP"] if wg["up"] else [])
            out.append({"ifname": name, "flags": flags, "addr_info": info})
        return out

    def dump(self):
        lines = []
        for name, wg in sorted(self.wg.items()):
            lines.append("\t".join([name, PRIVATE, "PUB-%s" % name, wg["conf"]["listen_port"], "off"]))
            for peer in wg["peers"]:
                lines.append("\t".join([name, peer["key"], PSK if peer["psk"] else "(none)", peer["endpoint"],
                                        ",".join(peer["allowed"]) or "(none)", "0", "0", "0", peer["keepalive"]]))
        return "".join(line + "\n" for line in lines)

    # ------------------------------------------------------------ what changes it besides the units

    def change(self, argv):
        """(rc, out, err) of `ip rule del`, `ip route del`, `wg set`, or None."""
        if argv[0] == "ip" and argv[2:4] == ["rule", "del"]:
            entry = rule_entry(argv[4:])
            fam = 6 if argv[1] == "-6" else 4
            entry = {k: v for k, v in entry.items() if v is not None}
            found = [r for r in self.rules[fam] if all(r.get(k) == v for k, v in entry.items())]
            if not found:
                return 2, "", "RTNETLINK answers: No such file or directory"
            self.rules[fam].remove(found[0])
            return 0, "", ""
        if argv[0] == "ip" and argv[2:4] == ["route", "del"]:
            fam = 6 if argv[1] == "-6" else 4
            entry = route_entry(argv[4:])
            found = [r for r in self.routes[fam] if r["dst"] == entry["dst"] and r.get("table") == entry.get("table")
                     and all(r.get(k) == entry[k] for k in ("gateway", "dev") if k in entry)]
            if not found:
                return 2, "", "RTNETLINK answers: No such process"
            self.routes[fam].remove(found[0])
            return 0, "", ""
        if argv[:2] == ["wg", "set"] and argv[-2:] == ["preshared-key", "/dev/null"]:
            for peer in self.wg[argv[2]]["peers"]:
                if peer["key"] == argv[4]:
                    peer["psk"] = False
            return 0, "", ""
        return None
