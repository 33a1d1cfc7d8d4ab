# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wg-quick's rules of a full tunnel, put back after systemd-networkd (re)starts (networkd 256 and later).

Measured in ``default_route`` on Debian 13 (systemd 257.13, networkd-dispatcher 2.2.4): ``systemctl
restart systemd-networkd`` deletes wg-quick's two rules of a full-tunnel interface (``not fwmark T
lookup T``, ``lookup main suppress_prefixlength 0``) before ``systemctl start`` returns, and the links
come back already ``configured``: networkd-dispatcher sees no state change and runs no hook, so nothing
adds them back and every forward through that interface is lost until ``wg-quick up``. systemd 252
(Debian 12) deleted none on a restart. The forwarding sysctls stayed 1 on every link (IPv4 and IPv6,
``all`` and per interface): networkd 256's ``IPv4Forwarding=`` changes were measured to play no part.

So where networkd 256 or later manages the host's links (its unit enabled or active) and the host has
WireGuard interfaces of the collection's, a drop-in of ``systemd-networkd.service`` runs, after each
start of networkd (``ExecStartPost=``, after it deleted them), a script that adds back the rules of the
collection's full-tunnel interfaces that are missing (the same lines as the networkd-dispatcher hook,
manager_hooks.WG_QUICK_RULES). ``-``: its failure never fails networkd. ``+``: the script runs with full
privileges, not as networkd's ``User=systemd-network`` in its sandbox, where ``wg`` and ``ip rule add``
fail (measured: without ``+`` no rule came back). Measured on Debian 13 with ``ip monitor rule``: networkd
deletes the two rules as it starts, before it reports ready, and the script adds them back about 60 ms
later; 9 restarts of 9 left both rules in place. The collection's own rules
and routes are ``routes.sh``'s, which ``wgpf-routes.service`` applies again after every networkd
restart (``PartOf=``, units.py).

Not chosen: ``ManageForeignRoutingPolicyRules=no`` in a networkd.conf.d drop-in (measured to keep the
rules too, from the next start of networkd) changes how networkd cleans up every foreign rule of the
host, everybody's; README "Network managers" keeps that choice.
"""

from __future__ import annotations

import re

from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import ETC_DIR, HEADER

# The first systemd whose networkd restart was measured to delete wg-quick's rules is 257; the
# restart's foreign-rule cleanup came with 256's rework, and 253 to 255 were not measured: 256 is the
# floor (on 252 the drop-in is not written, and nothing changes there).
MIN_VERSION = 256
UNIT = "systemd-networkd.service"
SCRIPT = ETC_DIR + "/networkd-started"
DROPIN_DIR = "/etc/systemd/system/%s.d" % UNIT
DROPIN = DROPIN_DIR + "/50-wgpf.conf"


def parse_version(text):
    """networkd's major version from ``networkctl --version`` ("systemd 257 (257.13-1~deb13u1)"), or None."""
    match = re.match(r"\s*systemd\s+(\d+)", text or "")
    return int(match.group(1)) if match else None


def needed(version, wg_names):
    """True where networkd (``version``: None when it does not manage the host) deletes the rules on a restart
    and the host has WireGuard interfaces of the collection's, whose rules the script puts back."""
    return bool(wg_names) and version is not None and version >= MIN_VERSION


def script(rules, path_line):
    return """#!/bin/sh
%(header)s: local changes are overwritten.
# systemd-networkd.service runs this after each start (ExecStartPost=, the drop-in
# %(dropin)s): networkd 256 and later deletes wg-quick's rules of a full
# tunnel when it starts, and no dispatcher event follows. Adds back the missing ones.
%(path)s
%(rules)s
exit 0
""" % {"header": HEADER, "dropin": DROPIN, "path": path_line, "rules": rules}


DROPIN_TEXT = """%(header)s: local changes are overwritten.
# After each start of systemd-networkd (256 and later deletes wg-quick's rules of a
# full tunnel then): add back those of the collection's interfaces. "-": a failure
# never fails networkd; "+": run as root, outside networkd's User= and sandbox.
[Service]
ExecStartPost=-+/bin/sh %(script)s
""" % {"header": HEADER, "script": SCRIPT}
