# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accepts for the forwarded flows in the host's iptables firewall, where it would drop them.

An ``accept`` in the collection's nftables table cannot override a ``drop`` in
another table: Docker (FORWARD policy DROP, its ``DOCKER-USER`` hook), ufw (its
routed and incoming policies) or a plain ``iptables -P FORWARD DROP`` drop the
forwarded flows and WireGuard's handshakes. Decided from the host's state every
time it runs, for each iptables backend (nft, legacy) and family whose filter
table is in use:

- forwarded flows: at the top of ``DOCKER-USER`` where that chain exists, else
  at the top of ``FORWARD`` when its policy is DROP, else nothing;
- WireGuard listen ports: at the top of ``INPUT`` when its policy is DROP.

Rules are only inserted or deleted one by one (chains are never flushed or
replaced, so Docker's own rules stay), each tagged with the comment
``wgpf:<digest of chain and rule>``: what is there already is left, stale and
duplicate copies are deleted, ``remove`` deletes every tagged rule.

Standard library only: the apply step runs it in-process, and writes this very
file to the host as the script ``wgpf-firewall.service`` runs after the
firewalls (re)start (``wgpf-firewall apply|remove SPEC``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys

TAG = "wgpf"
# iptables front ends by backend and family; plain `iptables` is the fallback (RHEL has no -nft name).
BINARIES = {("nft", 4): "iptables-nft", ("nft", 6): "ip6tables-nft",
            ("legacy", 4): "iptables-legacy", ("legacy", 6): "ip6tables-legacy"}
PLAIN = {4: "iptables", 6: "ip6tables"}
# The legacy kernel tables list their names here once loaded; reading it loads nothing.
LEGACY_NAMES = {4: "/proc/net/ip_tables_names", 6: "/proc/net/ip6_tables_names"}
NFT_FAMILY = {4: "ip", 6: "ip6"}


def tag_for(chain, args):
    digest = hashlib.sha256((chain + " " + " ".join(args)).encode()).hexdigest()[:12]
    return "%s:%s" % (TAG, digest)


def _ports(span):
    return str(span["from"]) if span["from"] == span["to"] else "%d:%d" % (span["from"], span["to"])


def forward_rules(spec, version):
    """The forwarded flows of one family: in (DNAT'd on a public server) and their replies, and outbound links."""
    rules = []
    for flow in spec.get("forward", {}).get(str(version), []):
        match = ["-p", flow["proto"], "-m", flow["proto"]]
        ports = _ports(flow["port"])
        # DNAT is a virtual conntrack state (original destination != reply source), not a --ctstatus.
        dnat = ["-m", "conntrack", "--ctstate", "DNAT"] if flow.get("dnat") else []
        for iif in flow["iifs"]:
            rules.append(["-i", iif, "-d", flow["addr"]] + match + ["--dport", ports] + dnat + ["-j", "ACCEPT"])
            rules.append(["-o", iif, "-s", flow["addr"]] + match + ["--sport", ports]
                         + ["-m", "conntrack", "--ctstate", "ESTABLISHED"] + dnat + ["-j", "ACCEPT"])
    # default_route: what the inner servers send to the Internet, and its replies.
    for link in spec.get("outbound", []):
        rules.append(["-i", link["iif"], "-o", link["oif"], "-j", "ACCEPT"])
        rules.append(["-i", link["oif"], "-o", link["iif"], "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                      "-j", "ACCEPT"])
    return rules


def input_rules(spec):
    return [["-p", "udp", "-m", "udp", "--dport", str(p), "-j", "ACCEPT"] for p in spec.get("listen_ports", [])]


class Table:
    """One backend's filter table of one family, as ``iptables -S`` shows it."""

    def __init__(self, binary, text):
        self.binary = binary
        self.chains, self.policies, self.tagged = set(), {}, []
        for line in text.splitlines():
            try:
                words = shlex.split(line)
            except ValueError:  # another tool's rule with an odd comment: not ours
                continue
            if len(words) >= 2 and words[0] == "-N":
                self.chains.add(words[1])
            elif len(words) >= 3 and words[0] == "-P":
                self.chains.add(words[1])
                self.policies[words[1]] = words[2]
            elif len(words) >= 2 and words[0] == "-A" and "--comment" in words:
                comment = words[words.index("--comment") + 1]
                if comment.startswith(TAG + ":"):
                    self.tagged.append((comment, words[1], words[2:]))

    def forward_hook(self):
        if "DOCKER-USER" in self.chains:
            return "DOCKER-USER"
        return "FORWARD" if self.policies.get("FORWARD") == "DROP" else None

    def input_hook(self):
        return "INPUT" if self.policies.get("INPUT") == "DROP" else None


def wanted(table, spec, version):
    """[(tag, chain, args)] this table needs for ``spec``, in the order they should stand."""
    out = []
    for chain, rules in ((table.forward_hook(), forward_rules(spec, version)), (table.input_hook(), input_rules(spec))):
        if chain:
            out += [(tag_for(chain, args), chain, args) for args in rules]
    return out


def plan_changes(table, want):
    """The iptables argument lists that make ``table`` hold exactly ``want`` among its tagged rules."""
    keep = {tag for tag, _chain, _args in want}
    seen, changes = set(), []
    for tag, chain, args in table.tagged:
        if tag in keep and tag not in seen:
            seen.add(tag)
            continue
        # Stale, or a second copy: deleted by its own words, as -S printed them.
        changes.append(["-D", chain] + args)
    # Inserted at the top in reverse, so they stand in ``want``'s order ahead of the chain's own rules.
    for tag, chain, args in reversed(want):
        if tag not in seen:
            # The comment before the target, where iptables -S prints it.
            changes.append(["-I", chain, "1"] + args[:-2] + ["-m", "comment", "--comment", tag] + args[-2:])
    return changes


class Firewall:
    """The host's iptables filter tables: ``query(argv)`` -> (rc, out, err), ``change(argv)`` runs or records.

    ``which(name)`` finds a binary and ``read(path)`` a file (None when missing): injected so that the unit
    tests describe a host with a fake runner.
    """

    def __init__(self, query, change, which=shutil.which, read=None):
        self.query, self.change, self.which = query, change, which
        self.read = read or _read

    def binary(self, backend, version):
        name = BINARIES[(backend, version)]
        if self.which(name):
            return name
        plain = PLAIN[version]
        if self.which(plain):
            rc, out, err = self.query([plain, "--version"])
            if rc == 0 and (("nf_tables" in out + err) == (backend == "nft")):
                return plain
        return None

    def in_use(self, backend, version):
        """Is this backend's filter table there? Asked without creating it (listing could)."""
        if backend == "legacy":
            return "filter" in (self.read(LEGACY_NAMES[version]) or "").split()
        if not self.which("nft"):
            return True
        return self.query(["nft", "list", "table", NFT_FAMILY[version], "filter"])[0] == 0

    def tables(self):
        out = []
        for backend in ("nft", "legacy"):
            for version in (4, 6):
                binary = self.binary(backend, version)
                if binary and self.in_use(backend, version):
                    rc, text, err = self.query([binary, "-w", "-t", "filter", "-S"])
                    if rc == 0:
                        out.append((version, Table(binary, text)))
        return out

    def apply(self, spec):
        """Make every filter table in use hold exactly the accepts ``spec`` needs; the commands run."""
        done = []
        for version, table in self.tables():
            for args in plan_changes(table, wanted(table, spec, version)):
                argv = [table.binary, "-w", "-t", "filter"] + args
                self.change(argv)
                done.append(" ".join(argv))
        return done

    def remove(self):
        return self.apply({})


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def _run(argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def _change(argv):
    rc, out, err = _run(argv)
    if rc != 0:
        raise RuntimeError("`%s` failed (rc %d): %s" % (" ".join(argv), rc, (err or out).strip()))
    return out


def load_spec(text):
    """The spec file: comment lines (its header), then JSON."""
    return json.loads("".join(line for line in text.splitlines(True) if not line.lstrip().startswith("#")))


def main(argv):
    if len(argv) != 2 or argv[0] not in ("apply", "remove"):
        sys.stderr.write("usage: wgpf-firewall apply|remove SPEC\n")
        return 2
    firewall = Firewall(_run, _change)
    if argv[0] == "remove" or not os.path.exists(argv[1]):
        done = firewall.remove()
    else:
        with open(argv[1]) as handle:
            done = firewall.apply(load_spec(handle.read()))
    # What changed, for the journal (nothing when the firewall already held the rules).
    sys.stdout.write("".join(line + "\n" for line in done))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
