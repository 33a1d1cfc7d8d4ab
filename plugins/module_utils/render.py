# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host plan -> the files it owns (path, mode, content).

One source of truth: the roles write exactly these files, and
playbooks/render.yml writes them to a local folder.
"""

from __future__ import annotations

import hashlib

from ansible_collections.wgforward.portforward.plugins.module_utils.layout import (
    NFT_PATH, NFT_TABLE as TABLE, ROUTES_PATH, SYSCTL_PATH, wg_config_path)

FAMILY = {4: ("ip", "ipv4_addr", "-4"), 6: ("ip6", "ipv6_addr", "-6")}


def header(plan, comment="#"):
    return "%s Managed by wgforward.portforward for host %s: local changes are overwritten.\n" % (
        comment, plan["host"])


def key_placeholder(host):
    return "<public key of %s, not known yet>" % host


# ------------------------------------------------------------------ WireGuard


def rule_cmd(rule, verb):
    return "ip %s rule %s %s lookup %d priority %d" % (
        FAMILY[rule["family"]][2], verb, rule["selector"], rule["table"], rule["priority"])


def rule_add(rule):
    # Delete every copy first so a restart never stacks duplicate rules.
    return "while %s 2>/dev/null; do :; done; %s" % (rule_cmd(rule, "del"), rule_cmd(rule, "add"))


def rule_del(rule):
    return "while %s 2>/dev/null; do :; done" % rule_cmd(rule, "del")


def interface_section(plan, iface):
    lines = ["[Interface]"]
    lines += ["Address = %s" % a for a in iface["addresses"]]
    lines.append("ListenPort = %d" % iface["listen_port"])
    if iface["table"] is not None:
        lines.append("Table = %d" % iface["table"])
    lines.append("# The private key never leaves this host: it is loaded from its own file.")
    lines.append("PostUp = wg set %%i private-key %s" % iface["key_file"])
    if iface["rp_filter"] is not None:
        lines.append("PostUp = sysctl -q -w net.ipv4.conf.%%i.rp_filter=%d" % iface["rp_filter"])
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


def _port(span):
    return str(span["from"]) if span["from"] == span["to"] else "%d-%d" % (span["from"], span["to"])


def _flow(flow):
    return "%s . %s . %s" % (flow["addr"], flow["proto"], _port(flow["port"]))


def _elements(items):
    return "{ " + ",\n\t\t\t     ".join(items) + " }"


def _dnat_elements(rows):
    out = []
    for row in rows:
        lo, hi, dlo = row["port"]["from"], row["port"]["to"], row["dport"]["from"]
        for offset in range(hi - lo + 1):
            out.append("%s . %s . %d : %s . %d" % (
                row["saddr"], row["proto"], lo + offset, row["daddr"], dlo + offset))
    return out


def _set(name, key_type, elements, value_type=None):
    kind, type_ = ("map", "%s : %s" % (key_type, value_type)) if value_type else ("set", key_type)
    return ("\t%s %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = %s\n\t}\n"
            % (kind, name, type_, _elements(elements)))


def _chain(name, hook, rules):
    body = "".join("\t\t%s\n" % r for r in rules)
    return "\tchain %s {\n\t\t%s\n%s\t}\n" % (name, hook, body)


def _flow_key(version):
    return "%s . inet_proto . inet_service" % FAMILY[version][1]


def _set_mark(what, mark):
    keep = ~mark["mask"] & 0xFFFFFFFF
    return "%s set %s & %#010x | %#010x" % (what, what, keep, mark["value"])


def _has_mark(what, mark):
    return "%s & %#010x == %#010x" % (what, mark["mask"], mark["value"])


def nftables_table(plan):
    """The collection's own table, replaced atomically; None when the host needs none."""
    nft = plan["nftables"]
    sets, chains = [], []
    dnat_rules = []
    for v in (4, 6):
        rows = nft["dnat"].get(str(v)) or []
        if rows:
            ip, addr = FAMILY[v][:2]
            sets.append(_set("dnat%d" % v, "%s . inet_proto . inet_service" % addr, _dnat_elements(rows),
                             "%s . inet_service" % addr))
            dnat_rules.append('iifname "%s" meta l4proto { tcp, udp } dnat %s to %s saddr . meta l4proto . '
                              'th dport map @dnat%d' % (nft["wan_interface"], ip, ip, v))
    if dnat_rules:
        chains.append(_chain("prerouting_nat", "type nat hook prerouting priority dstnat; policy accept;",
                             dnat_rules))
    post = []
    for i, masq in enumerate(nft["masquerade"]):
        v = masq["family"]
        name = "masq%d_%d" % (v, i)
        sets.append(_set(name, _flow_key(v), [_flow(f) for f in masq["flows"]]))
        post.append('oifname "%s"%s %s daddr . meta l4proto . th dport @%s masquerade'
                    % (masq["oif"], " ct status dnat" if masq["dnat_only"] else "", FAMILY[v][0], name))
    for out in nft["masquerade_out"]:
        post.append('iifname "%s" oifname "%s" masquerade' % (out["iif"], out["oif"]))
    if post:
        chains.append(_chain("postrouting_nat", "type nat hook postrouting priority srcnat; policy accept;", post))
    accept = []
    iifs = ", ".join('"%s"' % i for i in nft["accept_iifs"])
    for v in (4, 6):
        flows = nft["accept"].get(str(v)) or []
        if flows:
            ip = FAMILY[v][0]
            sets.append(_set("fwd%d" % v, _flow_key(v), [_flow(f) for f in flows]))
            accept.append("iifname { %s } %s daddr . meta l4proto . th dport @fwd%d counter accept" % (iifs, ip, v))
            accept.append("%s saddr . meta l4proto . th sport @fwd%d counter accept" % (ip, v))
    if accept:
        # Counts and passes the forwarded flows; the policy stays accept so other traffic is not this table's call.
        chains.append(_chain("forward", "type filter hook forward priority filter; policy accept;", accept))
    mangle = []
    for entry in nft["marks_in"]:
        mark = entry["mark"]
        mangle.append('iifname "%s" ct state new %s' % (entry["iif"], _set_mark("ct mark", mark)))
        mangle.append('iifname != "%s" %s %s' % (entry["iif"], _has_mark("ct mark", mark),
                                                 _set_mark("meta mark", mark)))
    for entry in nft["marks_private"]:
        mac = " ether saddr %s" % entry["mac"] if entry["mac"] else ""
        for v in (4, 6):
            flows = entry["flows"].get(str(v)) or []
            if flows:
                mangle.append('iifname "%s"%s ct state new %s daddr . meta l4proto . th dport { %s } %s'
                              % (entry["iif"], mac, FAMILY[v][0], ", ".join(_flow(f) for f in flows),
                                 _set_mark("ct mark", entry["mark"])))
    if mangle:
        chains.append(_chain("prerouting_mangle", "type filter hook prerouting priority mangle; policy accept;",
                             mangle))
    if nft["restore_output"]:
        mark = nft["restore_output"]
        chains.append(_chain("output_mangle", "type route hook output priority mangle; policy accept;",
                             ["%s %s" % (_has_mark("ct mark", mark), _set_mark("meta mark", mark))]))
    raw = []
    for entry in nft["sav"]:
        for v in (4, 6):
            ip = FAMILY[v][0]
            peers = entry["peers"].get(str(v)) or []
            allow = " %s saddr != { %s }" % (ip, ", ".join(peers)) if peers else ""
            raw.append('iifname "%s"%s %s saddr { %s } counter drop'
                       % (entry["iif"], allow, ip, ", ".join(entry["bogons"][str(v)])))
    if raw:
        chains.append(_chain("prerouting_sav", "type filter hook prerouting priority raw; policy accept;", raw))
    if not chains:
        return None
    return ("#!/usr/sbin/nft -f\n" + header(plan)
            + "# Declaring, deleting and re-adding the table replaces it in one transaction;\n"
            + "# no other table is touched.\n"
            + "table inet %s\ndelete table inet %s\n" % (TABLE, TABLE)
            + "table inet %s {\n%s}\n" % (TABLE, "\n".join(sets + chains)))


# ------------------------------------------------------------------ sysctl and routes


def sysctl_conf(plan):
    if not plan["sysctls"]:
        return None
    return header(plan) + "".join("%s = %s\n" % kv for kv in sorted(plan["sysctls"].items()))


def route_cmd(route, verb):
    dev = " dev %s" % route["dev"] if route["dev"] else ""
    table = " table %d" % route["table"] if route["table"] is not None else ""
    return "ip %s route %s %s via %s%s%s" % (FAMILY[route["family"]][2], verb, route["to"], route["via"], dev, table)


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
                                      (ROUTES_PATH, "routes", "0755", routes_script(plan))):
        if content is not None:
            files.append({"path": path, "mode": mode, "kind": kind, "content": content})
    return files
