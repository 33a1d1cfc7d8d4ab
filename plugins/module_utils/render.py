# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host plan -> the files it owns (path, mode, content).

One source of truth: the roles write exactly these files, and
playbooks/render.yml writes them to a local folder.
"""

from __future__ import annotations

import hashlib

from ansible_collections.wgforward.portforward.plugins.module_utils.export import sysctl_key
from ansible_collections.wgforward.portforward.plugins.module_utils.firewall_spec import firewall_file
from ansible_collections.wgforward.portforward.plugins.module_utils.layout import (
    FIREWALL_PATH, HEADER, NFT_PATH, ROUTES_PATH, SYSCTL_PATH, wg_config_path)
from ansible_collections.wgforward.portforward.plugins.module_utils.nftables import describe
from ansible_collections.wgforward.portforward.plugins.module_utils.psk import reference_line

# The ip(8) option of each address family.
IP_FAMILY = {4: "-4", 6: "-6"}


def header(plan):
    return "%s for host %s: local changes are overwritten.\n" % (HEADER, plan["host"])


def key_placeholder(host):
    return "<public key of %s, not known yet>" % host


# ------------------------------------------------------------------ WireGuard


def rule_cmd(rule, verb):
    return "ip %s rule %s %s lookup %d priority %d" % (
        IP_FAMILY[rule["family"]], verb, rule["selector"], rule["table"], rule["priority"])


def rule_add(rule):
    # Delete every copy first so a restart never stacks duplicate rules.
    return "while %s 2>/dev/null; do :; done; %s" % (rule_cmd(rule, "del"), rule_cmd(rule, "add"))


def rule_del(rule):
    return "while %s 2>/dev/null; do :; done" % rule_cmd(rule, "del")


def interface_section(plan, iface):
    lines = ["[Interface]"]
    lines += ["Address = %s" % a for a in iface["addresses"]]
    lines.append("ListenPort = %d" % iface["listen_port"])
    if iface.get("mtu"):
        lines.append("MTU = %d" % iface["mtu"])
    if iface["table"] is not None:
        lines.append("Table = %d" % iface["table"])
    lines.append("# The private key never leaves this host: it is loaded from its own file.")
    lines.append("PostUp = wg set %%i private-key %s" % iface["key_file"])
    if iface["rp_filter"] is not None:
        # Not %i: it expands to the dotted name (wg0.1), which sysctl reads as two more levels.
        lines.append("PostUp = sysctl -q -w %s=%d" % (sysctl_key(4, iface["name"], "rp_filter"), iface["rp_filter"]))
    for rule in iface["rules"]:
        lines.append("PostUp = %s" % rule_add(rule))
    for rule in iface["rules"]:
        lines.append("PreDown = %s" % rule_del(rule))
    return "\n".join(lines) + "\n"


def peer_key(peer, keys):
    """keys maps a host to its public key, or to {interface: public key} for hosts with several."""
    key = keys.get(peer["host"])
    if isinstance(key, dict):
        key = key.get(peer["interface"])
    return key or None


def peer_section(peer, keys):
    key = peer_key(peer, keys) or key_placeholder(peer["host"])
    lines = ["[Peer]", "# %s" % peer["host"], "PublicKey = %s" % key]
    if peer.get("preshared_key"):
        # A reference: apply_plan puts the key in on the host, where wg-quick and wg syncconf read it.
        lines.append(reference_line(peer))
    if peer["endpoint"]:
        lines.append("Endpoint = %s" % peer["endpoint"])
    lines.append("AllowedIPs = %s" % ", ".join(peer["allowed_ips"]))
    if peer["endpoint"] and peer["keepalive"]:
        lines.append("PersistentKeepalive = %d" % peer["keepalive"])
    return "\n".join(lines) + "\n"


def wireguard_config(plan, iface, keys):
    interface = interface_section(plan, iface)
    body = header(plan) + interface + "".join("\n" + peer_section(p, keys) for p in iface["peers"])
    return body, hashlib.sha256(interface.encode()).hexdigest()


# ------------------------------------------------------------------ nftables


def _elements(items):
    return "{ " + ",\n\t\t\t     ".join(items) + " }"


def _set_text(nft_set):
    if nft_set.value:
        kind, type_ = "map", "%s : %s" % (nft_set.key, nft_set.value)
    else:
        kind, type_ = "set", nft_set.key
    flags = "\t\tflags interval\n" if nft_set.interval else ""
    return ("\t%s %s {\n\t\ttype %s\n%s\t\telements = %s\n\t}\n"
            % (kind, nft_set.name, type_, flags, _elements(nft_set.elements)))


def _chain_text(chain):
    body = "".join("\t\t%s\n" % r for r in chain.rules)
    return "\tchain %s {\n\t\t%s\n%s\t}\n" % (chain.name, chain.hook, body)


def nftables_table(plan):
    """The collection's own table, replaced atomically; None when the host needs none."""
    table = describe(plan["nftables"])
    if table is None:
        return None
    body = [_set_text(s) for s in table.sets] + [_chain_text(c) for c in table.chains]
    return ("#!/usr/sbin/nft -f\n" + header(plan)
            + "# Declaring, deleting and re-adding the table replaces it in one transaction;\n"
            + "# no other table is touched.\n"
            + "table inet %s\ndelete table inet %s\n" % (table.name, table.name)
            + "table inet %s {\n%s}\n" % (table.name, "\n".join(body)))


# ------------------------------------------------------------------ sysctl and routes


def sysctl_conf(plan):
    if not plan["sysctls"]:
        return None
    return header(plan) + "".join("%s = %s\n" % kv for kv in sorted(plan["sysctls"].items()))


def route_cmd(route, verb):
    dev = " dev %s" % route["dev"] if route["dev"] else ""
    table = " table %d" % route["table"] if route["table"] is not None else ""
    return "ip %s route %s %s via %s%s%s" % (IP_FAMILY[route["family"]], verb, route["to"], route["via"], dev, table)


def routes_script(plan):
    if not plan["routes"] and not plan["rules"]:
        return None
    up = ["\t%s" % route_cmd(r, "replace") for r in plan["routes"]]
    up += ["\t%s" % rule_add(r) for r in plan["rules"]]
    down = ["\t%s" % rule_del(r) for r in plan["rules"]]
    down += ["\t%s 2>/dev/null || true" % route_cmd(r, "del") for r in plan["routes"]]
    return ("#!/bin/sh\n" + header(plan)
            + "# Routes and rules of non-WireGuard interfaces, applied by wgpf-routes.service at boot\n"
            + "# and whenever systemd-networkd restarts. Safe to run again: nothing is added twice.\n"
            + "set -eu\n\nup() {\n%s\n}\n\ndown() {\n%s\n}\n\n" % ("\n".join(up), "\n".join(down) or "\t:")
            + 'case "${1:-up}" in\nup) up ;;\ndown) down ;;\n*) echo "usage: $0 up|down" >&2; exit 2 ;;\nesac\n')


def render_files(plan, keys=None):
    """[{path, mode, kind, content, ...}] for a present host; [] for an absent one."""
    keys = keys or {}
    if plan["state"] == "absent":
        return []
    files = []
    for iface in plan["interfaces"]:
        content, digest = wireguard_config(plan, iface, keys)
        files.append({"path": wg_config_path(iface["name"]), "mode": "0600", "kind": "wireguard",
                      "interface": iface["name"], "interface_digest": digest, "content": content,
                      "missing_keys": sorted(p["host"] for p in iface["peers"] if not peer_key(p, keys))})
    for path, kind, mode, content in ((NFT_PATH, "nftables", "0644", nftables_table(plan)),
                                      (SYSCTL_PATH, "sysctl", "0644", sysctl_conf(plan)),
                                      (ROUTES_PATH, "routes", "0755", routes_script(plan)),
                                      (FIREWALL_PATH, "firewall", "0644", firewall_file(plan, header(plan)))):
        if content is not None:
            files.append({"path": path, "mode": mode, "kind": kind, "content": content})
    return files
