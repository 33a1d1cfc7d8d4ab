# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host plan -> the files it owns (path, mode, content).

One source of truth: the roles write exactly these files, and
playbooks/render.yml writes them to a local folder.
"""

from __future__ import annotations

import hashlib

from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import (
    FIREWALL_PATH, HEADER, NFT_PATH, ROUTES_PATH, RUN_DIR, SYSCTL_PATH, wg_config_path)
from ansible_collections.wgforward.portforward.plugins.module_utils.core.psk_reference import REFERENCE
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.export import sysctl_key
from ansible_collections.wgforward.portforward.plugins.module_utils.render.firewall_spec import firewall_file
from ansible_collections.wgforward.portforward.plugins.module_utils.render.nftables import describe
from ansible_collections.wgforward.portforward.plugins.module_utils.render.routes_sh import ROUTES_MAIN, ROUTES_PREAMBLE

# The ip(8) option of each address family.
IP_FAMILY = {4: "-4", 6: "-6"}


def header(plan):
    return "%s for host %s: local changes are overwritten.\n" % (HEADER, plan["host"])


def key_placeholder(host):
    return "<public key of %s, not known yet>" % host


# ------------------------------------------------------------------ WireGuard


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
    # The interface's rules and rp_filter follow its peers and forwards: they live in routes.sh, so a
    # change to them never touches this section (and never restarts the interface). The same line on
    # every interface: an interface that comes up (again) gets them back from that script.
    lines.append("PostUp = [ ! -x %s ] || %s up" % (ROUTES_PATH, ROUTES_PATH))
    return "\n".join(lines) + "\n"


def peer_key(peer, keys):
    """keys maps a host to its public key, or to {interface: public key} for hosts with several."""
    key = keys.get(peer["host"])
    if isinstance(key, dict):
        key = key.get(peer["interface"])
    # A peer Ansible does not manage: its key is in the inventory.
    return key or peer.get("public_key") or None


def peer_section(peer, keys):
    key = peer_key(peer, keys) or key_placeholder(peer["host"])
    lines = ["[Peer]", "# %s" % peer["host"], "PublicKey = %s" % key]
    if peer.get("preshared_key"):
        # A reference: apply_plan puts the key in on the host, where wg-quick and wg syncconf read it.
        lines.append(REFERENCE % peer["preshared_key"]["path"])
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
    hook = "\t\t%s\n" % chain.hook if chain.hook else ""
    body = "".join("\t\t%s\n" % r for r in chain.rules)
    return "\tchain %s {\n%s%s\t}\n" % (chain.name, hook, body)


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


def rule_args(rule):
    return "%s %s lookup %d priority %d" % (IP_FAMILY[rule["family"]], rule["selector"], rule["table"],
                                            rule["priority"])


def route_args(route):
    dev = " dev %s" % route["dev"] if route["dev"] else ""
    table = " table %d" % route["table"] if route["table"] is not None else ""
    return "%s %s via %s%s%s" % (IP_FAMILY[route["family"]], route["to"], route["via"], dev, table)


def routes_lines(plan):
    """The script's wanted state, one shell call a line: routes, rules (of every interface), rp_filter."""
    rules = list(plan["rules"]) + [r for iface in plan["interfaces"] for r in iface["rules"]]
    lines = ["    route %s" % route_args(r) for r in plan["routes"]]
    lines += ["    rule %s" % rule_args(r) for r in sorted(rules, key=lambda r: r["priority"])]
    # Not the dotted name in the key: sysctl reads wg0.1 as two more levels (sysctl_key writes wg0/1).
    lines += ["    if_sysctl %s %s %d" % (iface["name"], sysctl_key(4, iface["name"], "rp_filter"), iface["rp_filter"])
              for iface in plan["interfaces"] if iface["rp_filter"] is not None]
    return lines


def routes_script(plan):
    lines = routes_lines(plan)
    if not lines:
        return None
    return ("#!/bin/sh\n" + header(plan) + ROUTES_PREAMBLE % {"run": RUN_DIR}
            + "wanted() {\n%s\n}\n\n" % "\n".join(lines) + ROUTES_MAIN)


def render_files(plan, keys=None):
    """[{path, mode, kind, content, ...}] for a present host; [] for an absent one or one never contacted
    (an unmanaged peer's own file is peer_config.py's, written on the controller by plugin_utils/peer_files.py)."""
    keys = keys or {}
    if plan["state"] == "absent" or plan.get("contacted") is False:
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
