# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wg-quick file of a peer Ansible does not manage, written on the controller.

Complete but for the private key, which never leaves the peer: a marked line
takes it. Without wgpf_peer_hooks the file holds only what the official
WireGuard apps (Windows, macOS, Android, iOS) accept: no PostUp/PreDown,
Table or SaveConfig. With it (a Linux host running wg-quick), the interface's
Table= and rules come as PostUp/PreDown lines, as on a managed host.

It is written from the plan alone too (``render``, offline): a server whose
public key is not known yet gets a marked placeholder that wg-quick and the
apps refuse (not base64, so no half file can be loaded by mistake), and the
file says at its top that site.yml writes the complete one.

The plan says how the full tunnel is spelled (``default_route``: ``whole`` as
0.0.0.0/0 and ::/0, or ``halves`` as 0.0.0.0/1, 128.0.0.0/1, ::/1, 8000::/1):
the same routes either way, but WireGuard for Windows turns its kill-switch on
only for a single peer with a /0, and wg-quick routes its own packets outside
the tunnel only for a /0 (see the README, "Peers Ansible does not manage").
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.addresses import ANY, HALVES
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.export import sysctl_key
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import (
    key_placeholder, peer_key, peer_section, rule_args)

PRIVATE_KEY_LINE = "PrivateKey = <paste this peer's private key here>"
# The first line of a file written before every server's public key is known (render, offline).
NOT_READY = "# NOT READY"
HALVES_BY_ANY = {ANY[v]: HALVES[v] for v in ANY}


def ip_rule(verb, rule):
    family, rest = rule_args(rule).split(" ", 1)
    return "ip %s rule %s %s" % (family, verb, rest)


def rule_add(rule):
    # No routes.sh on a host the run never contacts: the rules stay with wg-quick there.
    # Delete every copy first so a restart never stacks duplicate rules.
    return "while %s 2>/dev/null; do :; done; %s" % (ip_rule("del", rule), ip_rule("add", rule))


def unknown_keys(plan, keys):
    """The hosts among the peer's peers whose public key is not known yet (sorted): site.yml learns them."""
    return sorted(p["host"] for p in plan["interfaces"][0]["peers"] if not peer_key(p, keys))


def allowed_ips(peer, config):
    """The peer's AllowedIPs as the file spells them: each /0 as its two halves when the plan says so."""
    if config.get("default_route") != "halves":
        return list(peer["allowed_ips"])
    return [half for net in peer["allowed_ips"] for half in HALVES_BY_ANY.get(net, (net,))]


def full_tunnel_peer(iface):
    """The host the peer's default route goes to (its AllowedIPs take a /0), or None."""
    if iface["table"] is not None:
        return None  # a /0 in a table of its own (wgpf_peer_hooks): only the rules send traffic there
    return next((p["host"] for p in iface["peers"] if set(p["allowed_ips"]) & set(ANY.values())), None)


def interface_section(iface, config):
    lines = ["[Interface]", "# The private key never leaves the peer: replace the next line with it.",
             PRIVATE_KEY_LINE]
    lines += ["Address = %s" % a for a in iface["addresses"]]
    if config.get("dns"):
        lines.append("DNS = %s" % ", ".join(config["dns"]))
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


def peer_part(peer, keys, config):
    """One [Peer] section, as on a managed host but for the AllowedIPs' spelling and a key not known yet."""
    text = peer_section(dict(peer, allowed_ips=allowed_ips(peer, config)), keys)
    if peer_key(peer, keys):
        return text
    placeholder = "PublicKey = %s" % key_placeholder(peer["host"])
    return text.replace(placeholder, "# Not known yet: site.yml writes it. Not a key, so nothing loads this file.\n"
                        + placeholder)


def not_ready(hosts):
    return ("%s: written offline; the public key of %s is not known yet. site.yml writes the complete\n"
            "# file (into wgpf_peer_config_dir); until then a placeholder keeps wg-quick and the apps from loading it.\n"
            % (NOT_READY, " and ".join(hosts)))


def how_to(plan, iface, config):
    """The header: what the file is, how to import it on each kind of device, what its full tunnel does."""
    host, name, via = plan["host"], iface["name"], full_tunnel_peer(iface)
    halves = via is not None and config.get("default_route") == "halves"
    lines = ["# wgforward.portforward: the WireGuard file of %s, a peer Ansible does not manage." % host,
             "# Every run rewrites this copy on the controller: re-import it after a change.",
             "# Put %s's private key on the PrivateKey line (it never leaves %s), then:" % (host, host),
             "#   Windows, macOS: WireGuard app, Import tunnel(s) from file, then Activate.",
             "#   Android, iOS: WireGuard app, +, import from file (or scan `qrencode -t ansiutf8 < %s.conf`)." % host]
    if halves:
        lines += ["#   Linux: not with halves (below): wg-quick would route the tunnel's own packets into the tunnel;",
                  "#   give %s wgpf_peer_default_route: whole for wg-quick." % host]
    else:
        lines.append("#   Linux: save it as /etc/wireguard/%s.conf (mode 0600), then systemctl enable --now "
                     "wg-quick@%s." % (name, name))
        if config.get("dns"):
            lines.append("#   (wg-quick sets the DNS line through resolvconf: openresolv, or systemd-resolved's.)")
    if halves:
        lines += ["# Full tunnel through %s as two halves per family (wgpf_peer_default_route: halves): the same "
                  "routes" % via,
                  "# as /0, without the kill-switch WireGuard for Windows turns on for a /0 (the LAN stays reachable)."]
    elif via is not None:
        lines += ["# Full tunnel: all of %s's traffic goes through %s (AllowedIPs /0). WireGuard for Windows then "
                  "blocks" % (host, via),
                  "# everything else (its kill-switch: the LAN, a printer, the router's DNS): untick \"Block "
                  "untunneled",
                  "# traffic (kill-switch)\" in Edit, or give %s wgpf_peer_default_route: halves (not for wg-quick)."
                  % host]
    return "\n".join(lines) + "\n"


def peer_config(plan, keys):
    """The peer's wg-quick file (its first interface: a peer Ansible does not manage has one).

    ``keys`` maps a server to its public key (render.py's peer_key); a server missing from it gets a
    marked placeholder and the file says it is not ready (see ``unknown_keys``).
    """
    config, iface = plan["peer_config"], plan["interfaces"][0]
    missing = unknown_keys(plan, keys)
    head = (not_ready(missing) if missing else "") + how_to(plan, iface, config)
    peers = "".join("\n" + peer_part(p, keys, config) for p in iface["peers"])
    return head + interface_section(iface, config) + peers
