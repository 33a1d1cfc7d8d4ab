# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wg-quick file of a peer Ansible does not manage, written on the controller.

Complete but for the private key, which never leaves the peer: a marked line
takes it. Without wgpf_peer_hooks the file holds only what the official
WireGuard apps (Windows, macOS, Android, iOS) accept: no PostUp/PreDown,
Table or SaveConfig. With it (a Linux host running wg-quick), the interface's
Table= and rules come as PostUp/PreDown lines, as on a managed host.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.export import sysctl_key
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import peer_section, rule_args

PRIVATE_KEY_LINE = "PrivateKey = <paste this peer's private key here>"


def ip_rule(verb, rule):
    family, rest = rule_args(rule).split(" ", 1)
    return "ip %s rule %s %s" % (family, verb, rest)


def rule_add(rule):
    # No routes.sh on a host the run never contacts: the rules stay with wg-quick there.
    # Delete every copy first so a restart never stacks duplicate rules.
    return "while %s 2>/dev/null; do :; done; %s" % (ip_rule("del", rule), ip_rule("add", rule))


def interface_section(iface, config):
    lines = ["[Interface]", "# The private key never leaves the peer: replace the next line with it.",
             PRIVATE_KEY_LINE]
    lines += ["Address = %s" % a for a in iface["addresses"]]
    if config["listen_port"]:
        lines.append("ListenPort = %d" % iface["listen_port"])
    if iface.get("mtu"):
        lines.append("MTU = %d" % iface["mtu"])
    if config["hooks"]:
        if iface["table"] is not None:
            lines.append("Table = %d" % iface["table"])
        if iface["rp_filter"] is not None:
            lines.append("PostUp = sysctl -q -w %s=%d" % (sysctl_key(4, iface["name"], "rp_filter"),
                                                          iface["rp_filter"]))
        lines += ["PostUp = %s" % rule_add(rule) for rule in iface["rules"]]
        lines += ["PreDown = %s" % ip_rule("del", rule) for rule in iface["rules"]]
    return "\n".join(lines) + "\n"


def peer_config(plan, keys):
    """The peer's wg-quick file (its first interface: a peer Ansible does not manage has one)."""
    config, iface = plan["peer_config"], plan["interfaces"][0]
    head = ("# Written by wgforward.portforward for %s, a WireGuard peer Ansible does not manage;\n"
            "# every run rewrites this copy on the controller.\n"
            "# Copy it to the peer, put the peer's private key on the marked line, then import it into the\n"
            "# WireGuard app, or on Linux: install it as /etc/wireguard/%s.conf and run wg-quick up %s.\n"
            % (plan["host"], iface["name"], iface["name"]))
    return head + interface_section(iface, config) + "".join("\n" + peer_section(p, keys) for p in iface["peers"])
