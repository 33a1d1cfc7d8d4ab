# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The helper units and script the apply step installs beside the plan's files.

Their texts live here (not in a role's files/) so the apply module carries
them to the host itself: one module call writes the plan's files and the
helpers they need, and the unit tests see the same texts.
"""

from __future__ import annotations

import inspect

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import firewall_hooks
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewalld import UNIT as FIREWALLD_UNIT
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.networkd_start import UNIT as NETWORKD_UNIT
from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import (
    FIREWALL_PATH, FIREWALL_SCRIPT, FIREWALL_UNIT, HEADER, KEY_DIR, NFT_PATH, NFT_TABLE, NFT_UNIT, ROUTES_PATH,
    ROUTES_UNIT, SYNC_SCRIPT, WG_DIR)

UNIT_DIR = "/etc/systemd/system"

NFT_SERVICE = """%(header)s: local changes are overwritten.
# Loads the collection's own nftables table (inet %(table)s) at boot, and again after
# the distribution's nftables.service (whose config flushes the ruleset) starts
# or restarts. Reload replaces the table atomically; stop deletes only it.
[Unit]
Description=wgforward.portforward nftables table (inet %(table)s)
Documentation=https://github.com/wgforward/portforward
ConditionPathExists=%(nft_path)s
Wants=network-pre.target
Before=network-pre.target
After=nftables.service
PartOf=nftables.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f %(nft_path)s
ExecReload=/usr/sbin/nft -f %(nft_path)s
ExecStop=-/usr/sbin/nft delete table inet %(table)s

[Install]
WantedBy=multi-user.target nftables.service
""" % {"header": HEADER, "nft_path": NFT_PATH, "table": NFT_TABLE}

ROUTES_SERVICE = """%(header)s: local changes are overwritten.
# Applies the routes and ip rules of %(routes_path)s (those of the WireGuard
# interfaces too) at boot, and again after systemd-networkd (re)starts, since
# networkd removes routes and rules it does not manage; a change is applied by a
# reload (add what is missing, then remove what went away: nothing is flushed).
# No ExecStop: stopping this unit, or a restart of networkd that stops it, must not
# take the forwards down; the apply step runs `routes.sh down` itself before it
# removes the script. Each WireGuard interface's PostUp runs `routes.sh up` too.
[Unit]
Description=wgforward.portforward routes and ip rules
Documentation=https://github.com/wgforward/portforward
ConditionPathExists=%(routes_path)s
Wants=network-online.target
After=network-online.target systemd-networkd.service
PartOf=systemd-networkd.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=%(routes_path)s up
ExecReload=%(routes_path)s up

[Install]
WantedBy=multi-user.target systemd-networkd.service
""" % {"header": HEADER, "routes_path": ROUTES_PATH}

# The firewalls whose (re)start resets iptables' chains: the hooks are applied again after each
# (PartOf carries their restart and stop here, WantedBy their start); a missing one is no error.
FIREWALL_AFTER = "docker.service ufw.service netfilter-persistent.service nftables.service"

FIREWALL_SERVICE = """%(header)s: local changes are overwritten.
# Inserts accepts for the forwarded flows and the WireGuard listen ports into the
# host's iptables firewall where it would drop them (Docker's DOCKER-USER, FORWARD
# or INPUT policy DROP), at boot and again after the firewalls (re)start. Only
# rules tagged "wgpf:..." are ever added or deleted; running it twice adds nothing.
[Unit]
Description=wgforward.portforward accepts in the host's iptables firewall
Documentation=https://github.com/wgforward/portforward
ConditionPathExists=%(spec)s
After=network-pre.target %(after)s
PartOf=%(after)s

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/python3 %(script)s apply %(spec)s

[Install]
WantedBy=multi-user.target %(after)s
""" % {"header": HEADER, "spec": FIREWALL_PATH, "script": FIREWALL_SCRIPT, "after": FIREWALL_AFTER}


def firewall_script():
    """firewall_hooks.py itself, as the script the unit runs: one text for the module and the host."""
    return ("#!/usr/bin/python3\n%s: local changes are overwritten.\n" % HEADER) + inspect.getsource(firewall_hooks)


# Reads the private key itself (awk, from its file) so that nothing else ever does.
WG_SYNC = r"""#!/usr/bin/env bash
# Managed by wgforward.portforward: local changes are overwritten.
#
# wgpf-wg-sync IFACE [KEYFILE]
#
# Applies a changed /etc/wireguard/IFACE.conf to the running interface without
# taking it down: `wg syncconf` is fed the `wg-quick strip`ped config with the
# private key read from KEYFILE (default /etc/wireguard/wgpf/IFACE.key) added
# after [Interface]. The key is read by awk from its file and passed on a pipe:
# it is never on a command line, in the environment or printed. syncconf is
# never fed an empty or keyless config: the script stops first.
#
# Then, like `wg-quick up` does, routes of the peers' AllowedIPs are added (in
# the config's Table), and routes of AllowedIPs that went away are deleted.
# A default route (/0) appearing or disappearing on a Table=auto interface
# needs wg-quick's fwmark rules: the interface is restarted then.
#
# Prints "changed" when the running interface or its routes changed.
set -euo pipefail
umask 077
export LC_ALL=C

die() { echo "wgpf-wg-sync: $*" >&2; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then die "usage: wgpf-wg-sync IFACE [KEYFILE]"; fi
IF=$1
[[ $IF =~ ^[a-zA-Z0-9_=+.-]{1,15}$ ]] || die "invalid interface name '$IF'"
KEY=${2:-@KEY_DIR@/$IF.key}
CONF=@WG_DIR@/$IF.conf

[ -r "$CONF" ] || die "$CONF is missing"
[ -r "$KEY" ] || die "$KEY is missing"
# A WireGuard private key: base64 of 32 bytes (44 characters, the last one '=').
grep -qxE '[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=' "$KEY" || die "$KEY does not hold a WireGuard private key"
wg show "$IF" >/dev/null 2>&1 || die "$IF is not up: start wg-quick@$IF instead"

state() {
    # Hash of the running config (with its key: hashed here, never printed) and of its routes.
    { wg showconf "$IF"; ip -4 route show table all dev "$IF"; ip -6 route show table all dev "$IF"; } 2>/dev/null \
        | sha256sum
}
before=$(state)

stripped=$(wg-quick strip "$CONF") || die "wg-quick strip $CONF failed"
[ -n "${stripped//[[:space:]]/}" ] || die "wg-quick strip $CONF printed nothing: refusing to sync an empty config"
grep -qx '\[Interface\]' <<<"$stripped" || die "$CONF has no [Interface] section: refusing to sync"

# Insert the key after [Interface]; drop any PrivateKey line already there.
# Everything stays in this shell's memory (command substitution); only a
# complete config with exactly one PrivateKey line is handed to wg.
full=$(awk -v keyfile="$KEY" '
    BEGIN { if ((getline key < keyfile) <= 0 || key == "") exit 3; close(keyfile) }
    /^[ \t]*[Pp][Rr][Ii][Vv][Aa][Tt][Ee][Kk][Ee][Yy][ \t]*=/ { next }
    { print }
    /^\[Interface\][ \t]*$/ && !done { print "PrivateKey = " key; done = 1 }
    END { if (!done) exit 4 }
' <<<"$stripped") || die "could not add the private key to the config: refusing to sync"
[ "$(grep -c '^PrivateKey = ' <<<"$full")" = 1 ] || die "the config to sync has no private key: refusing to sync"

# printf is a shell builtin: the config (and key) go down a pipe, not into argv.
printf '%s\n' "$full" | wg syncconf "$IF" /dev/stdin
unset full

# ---------------------------------------------------------------- routes
# The Table of the [Interface] section, as wg-quick reads it (default auto).
table=$(awk '
    /^\[/ { section = $0; next }
    section == "[Interface]" {
        line = $0; sub(/#.*/, "", line)
        if (match(line, /^[ \t]*[Tt][Aa][Bb][Ll][Ee][ \t]*=/)) {
            value = substr(line, RLENGTH + 1); gsub(/[ \t]/, "", value); print value
        }
    }' "$CONF" | tail -n1)
table=${table:-auto}
table_lc=${table,,}

if [ "$table_lc" != off ]; then
    mapfile -t allowed < <(wg show "$IF" allowed-ips | tr -s ' \t' '\n' | grep -E '^[0-9a-fA-F:.]+/[0-9]+$' \
        | sort -u | sort -t / -k 2 -nr)

    if [ "$table_lc" = auto ]; then
        # wg-quick turns a /0 into fwmark policy routing at up; only a restart redoes that.
        has_default=no
        for net in "${allowed[@]}"; do [[ $net == */0 ]] && has_default=yes; done
        fwmark=$(wg show "$IF" fwmark 2>/dev/null || echo off)
        if { [ "$has_default" = yes ] && [ "$fwmark" = off ]; } || { [ "$has_default" = no ] && [ "$fwmark" != off ]; }; then
            systemctl restart "wg-quick@$IF"
            echo changed
            exit 0
        fi
    fi

    want=()
    for net in "${allowed[@]}"; do
        fam=-4
        [[ $net == *:* ]] && fam=-6
        if [ "$table_lc" != auto ]; then
            ip "$fam" route replace "$net" dev "$IF" table "$table"
            want+=("$net")
        elif [[ $net != */0 ]]; then
            if [ -z "$(ip "$fam" route show dev "$IF" match "$net" 2>/dev/null)" ]; then
                ip "$fam" route add "$net" dev "$IF"
            fi
            want+=("$net")
        fi
    done

    # Routes through this interface that no peer's AllowedIPs carry any more
    # (the kernel's own routes for the interface addresses are left alone).
    rt_table=$table
    [ "$table_lc" = auto ] && rt_table=main
    for fam in -4 -6; do
        while read -r dst _; do
            [ -n "$dst" ] || continue
            norm=$dst
            if [ "$dst" = default ]; then
                norm=$([ "$fam" = -4 ] && echo 0.0.0.0/0 || echo ::/0)
            elif [[ $dst != */* ]]; then
                norm=$dst/$([ "$fam" = -4 ] && echo 32 || echo 128)
            fi
            keep=no
            for net in "${want[@]}"; do [ "$net" = "$norm" ] && keep=yes; done
            if [ "$keep" = no ]; then
                ip "$fam" route del "$dst" dev "$IF" table "$rt_table" 2>/dev/null || true
            fi
        done < <(ip "$fam" route show table "$rt_table" dev "$IF" 2>/dev/null | grep -v -e 'proto kernel' -e '^fe80::/64' -e '^multicast ' || true)
    done
fi

after=$(state)
if [ "$before" != "$after" ]; then
    echo changed
fi
""".replace("@KEY_DIR@", KEY_DIR).replace("@WG_DIR@", WG_DIR)


def helpers():
    """What each kind of planned file needs on the host: [{kind, path, mode, content, unit, file}].

    ``unit`` is the systemd unit a kind's file is applied by, ``file`` the
    plan's file that unit reads (stopped before it is removed), ``down`` the
    command that takes the file's effect away before it is removed.
    """
    return [
        {"kind": "wireguard", "path": SYNC_SCRIPT, "mode": "0755", "content": WG_SYNC, "unit": None, "file": None,
         "down": None},
        {"kind": "nftables", "path": "%s/%s" % (UNIT_DIR, NFT_UNIT), "mode": "0644", "content": NFT_SERVICE,
         "unit": NFT_UNIT, "file": NFT_PATH, "down": None},
        {"kind": "routes", "path": "%s/%s" % (UNIT_DIR, ROUTES_UNIT), "mode": "0644", "content": ROUTES_SERVICE,
         "unit": ROUTES_UNIT, "file": ROUTES_PATH, "down": [ROUTES_PATH, "down"]},
        {"kind": "firewall", "path": FIREWALL_SCRIPT, "mode": "0755", "content": firewall_script(), "unit": None,
         "file": None, "down": None},
        {"kind": "firewall", "path": "%s/%s" % (UNIT_DIR, FIREWALL_UNIT), "mode": "0644", "content": FIREWALL_SERVICE,
         "unit": FIREWALL_UNIT, "file": FIREWALL_PATH, "down": None},
    ]


def unit_questions(by_kind, firewalld_installed):
    """(units to ask is-active, units to ask is-enabled) of a run whose planned files are ``by_kind``: each
    kind's unit, each interface's wg-quick@, and firewalld where it is installed (the firewall step asks it
    whether it runs), and systemd-networkd where there are interfaces (the manager hooks ask whether it runs:
    networkd_start). apply_systemd.Commands.ask_units asks them at once."""
    units = [unit for kind, unit in (("nftables", NFT_UNIT), ("routes", ROUTES_UNIT), ("firewall", FIREWALL_UNIT))
             if by_kind.get(kind)]
    units += ["wg-quick@%s" % item["interface"] for item in by_kind.get("wireguard", [])]
    if by_kind.get("firewall") and firewalld_installed:
        units.append(FIREWALLD_UNIT)
    if by_kind.get("wireguard"):
        units.append(NETWORKD_UNIT)
    return units, units
