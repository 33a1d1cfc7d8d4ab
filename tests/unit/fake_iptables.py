# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake host's iptables for the firewall hook tests (module_utils/firewall_hooks.py, the apply step)."""

from __future__ import annotations

import shlex

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewall_hooks import Firewall

# Docker 20.10.24's filter table (iptables -S on this machine's own engine).
DOCKER = """-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-ISOLATION-STAGE-1
-N DOCKER-ISOLATION-STAGE-2
-N DOCKER-USER
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
"""
CLEAN = "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"
DROP_ALL = "-P INPUT DROP\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n"


class FakeIptables:
    """Filter tables per (binary): -S prints them, -I/-D change them like iptables would."""

    def __init__(self, tables, binaries=("iptables-nft", "ip6tables-nft", "nft"), legacy_names=""):
        self.tables = {b: text.splitlines() for b, text in tables.items()}
        self.binaries = set(binaries) | set(tables)
        self.legacy_names = legacy_names
        self.changes = []

    def which(self, name):
        return "/usr/sbin/" + name if name in self.binaries else None

    def read(self, path):
        return self.legacy_names if path.startswith("/proc/net/ip") else None

    def query(self, argv):
        if argv[0] == "nft":  # nft list table ip|ip6 filter
            binary = "iptables-nft" if argv[3] == "ip" else "ip6tables-nft"
            return (0 if binary in self.tables else 1), "", ""
        if argv[-1] == "-S":
            return 0, "\n".join(self.tables.get(argv[0], [])) + "\n", ""
        return 0, "iptables v1.8.9 (nf_tables)", ""

    def change(self, argv):
        self.changes.append(argv)
        args = argv[4:]
        lines = self.tables[argv[0]]
        if args[0] == "-I":
            rule = " ".join(shlex.quote(w) for w in ["-A", args[1]] + args[3:])
            first = next(i for i, line in enumerate(lines) if line.startswith("-A %s " % args[1])) \
                if any(line.startswith("-A %s " % args[1]) for line in lines) else len(lines)
            lines.insert(first, rule)
        elif args[0] == "-D":
            lines.remove(" ".join(shlex.quote(w) for w in ["-A"] + args[1:]))
        return ""

    def firewall(self):
        return Firewall(self.query, self.change, self.which, self.read)

    def tagged(self, binary="iptables-nft"):
        return [line for line in self.tables[binary] if "wgpf:" in line]
