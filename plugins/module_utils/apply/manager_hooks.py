# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network managers' own hooks that put the collection's routes and rules back, and
NetworkManager's setting that keeps it off the collection's WireGuard interfaces.

What the managers were measured to do (README "Next to Docker, firewalls and network
managers", row 6): `networkctl reconfigure <link>` (and `netplan apply`, which runs it)
deletes every routing rule networkd did not configure, the collection's too;
NetworkManager's `nmcli connection down/up` of a link deletes the routes through it.
Nothing the collection runs notices that, so each manager's dispatcher asks
``wgpf-routes.service`` to run ``routes.sh up`` again (it only adds what is missing):

- networkd-dispatcher: a script in ``routable.d`` and ``configured.d``, run for each link
  that reaches those states (after a reconfigure, a reload, a networkd restart);
- NetworkManager-dispatcher: a script in ``dispatcher.d`` that acts on ``up``,
  ``reapply``, ``dhcp4-change``, ``dhcp6-change`` and ``connectivity-change`` (``down``:
  what went down cannot carry a route until it is up again, which is an ``up``).

``reload-or-restart`` (not ``reload``): a unit that failed (a link was missing when it
started) is started again by the next link that comes up. ``--no-block``: the
dispatchers run their scripts one at a time and wait for each.

NetworkManager would otherwise pick up a WireGuard interface wg-quick created ("connected
(externally)") and may reconfigure it; ``unmanaged-devices+=`` adds the collection's
interfaces to whatever the host's own configuration leaves unmanaged (``+=`` appends to a
list set by an earlier file instead of replacing it; NetworkManager.conf(5)).

systemd-networkd 256 and later deletes wg-quick's rules when it (re)starts, with no dispatcher event
after it: a drop-in of its unit puts them back (networkd_start.py).

Each file is written only where its manager's configuration directory exists (the
manager is installed; networkd's drop-in where networkd_start.needed()); they are owned state: compared on every run (repaired, reported
as drift when someone changed one), removed when the host no longer needs them.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import networkd_start
from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import HEADER, ROUTES_UNIT, WG_DIR

NETWORKD_DISPATCHER_DIR = "/etc/networkd-dispatcher"
NETWORKD_STATES = ("routable.d", "configured.d")
NM_DIR = "/etc/NetworkManager"
NM_CONF = NM_DIR + "/conf.d/wgpf.conf"
NM_UNIT = "NetworkManager.service"
NETWORKD_DISPATCHER_UNIT = "networkd-dispatcher.service"
# The package ships routable.d but no configured.d: the collection makes it, and removes it again
# when its hook was all it held; likewise systemd-networkd.service.d (networkd_start.py), which no
# package ships.
MADE_DIRS = (NETWORKD_DISPATCHER_DIR + "/configured.d", networkd_start.DROPIN_DIR)
HOOK_NAME = "50-wgpf-routes"
NM_EVENTS = ("up", "reapply", "dhcp4-change", "dhcp6-change", "connectivity-change")

RELOAD = "systemctl --no-block reload-or-restart %s" % ROUTES_UNIT

# wg-quick's own rules of a full-tunnel interface (Table = auto and a peer with a /0: its fwmark
# and table): networkd deletes them with every rule it did not configure, and only wg-quick adds
# them (at up). Added back here as wg-quick adds them, for the collection's interfaces only.
WG_QUICK_RULES = r"""for conf in %(wg_dir)s/*.conf; do
    grep -q '^%(header)s' "$conf" 2>/dev/null || continue
    ifname=${conf##*/}
    ifname=${ifname%%.conf}
    mark=$(wg show "$ifname" fwmark 2>/dev/null) || continue
    case $mark in '' | off) continue ;; esac
    table=$((mark))
    for fam in -4 -6; do
        [ -n "$(ip "$fam" route show table "$table" dev "$ifname" 2>/dev/null)" ] || continue
        ip "$fam" rule show | grep -q "not from all fwmark $mark lookup $table" \
            || ip "$fam" rule add not fwmark "$table" table "$table"
        ip "$fam" rule show | grep -q "from all lookup main suppress_prefixlength 0" \
            || ip "$fam" rule add table main suppress_prefixlength 0
    done
done""" % {"wg_dir": WG_DIR, "header": HEADER}

# The dispatchers run their scripts with a bare environment.
PATH_LINE = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport PATH"

NETWORKD_HOOK = """#!/bin/sh
%(header)s: local changes are overwritten.
# networkd-dispatcher runs this when a link becomes routable or configured: after
# `networkctl reconfigure`, `netplan apply` or a restart of systemd-networkd, which can
# delete the collection's routes and routing rules, and wg-quick's. routes.sh up adds
# back what is missing.
%(path)s
%(rules)s
%(reload)s >/dev/null 2>&1 || true
exit 0
""" % {"header": HEADER, "reload": RELOAD, "rules": WG_QUICK_RULES, "path": PATH_LINE}

NM_HOOK = """#!/bin/sh
%(header)s: local changes are overwritten.
# NetworkManager-dispatcher runs this with the interface and the action: after a
# connection (re)activates, the routes through its link are gone; routes.sh up adds
# back what is missing.
%(path)s
case "$2" in
%(events)s)
    %(rules)s
    %(reload)s >/dev/null 2>&1 || true
    ;;
esac
exit 0
""" % {"header": HEADER, "reload": RELOAD, "events": " | ".join(NM_EVENTS), "path": PATH_LINE,
       "rules": WG_QUICK_RULES.replace("\n", "\n    ")}


NETWORKD_STARTED = networkd_start.script(WG_QUICK_RULES, PATH_LINE)


def nm_conf(wg_names):
    """The conf.d drop-in that leaves the collection's WireGuard interfaces to wg-quick."""
    return ("%s: local changes are overwritten.\n"
            "# NetworkManager leaves these WireGuard interfaces alone: wg-quick@ brings them up.\n"
            "[keyfile]\nunmanaged-devices+=%s\n"
            % (HEADER, ";".join("interface-name:%s" % name for name in sorted(wg_names))))


def networkd_paths():
    return ["%s/%s/%s" % (NETWORKD_DISPATCHER_DIR, state, HOOK_NAME) for state in NETWORKD_STATES]


NM_HOOK_PATH = "%s/dispatcher.d/%s" % (NM_DIR, HOOK_NAME)


def wanted(wg_names, routes, exists, networkd=None):
    """[{path, mode, content, manager}] the host needs: hooks where it has routes.sh or WireGuard
    interfaces, the drop-in where it has WireGuard interfaces, each only where ``exists(manager's
    directory)``; networkd's start script and unit drop-in where networkd_start.needed(``networkd``, its
    version where it manages the host)."""
    out = []
    hooks = routes or bool(wg_names)
    if networkd_start.needed(networkd, wg_names):
        out += [{"path": networkd_start.SCRIPT, "mode": "0755", "content": NETWORKD_STARTED,
                 "manager": "systemd-networkd"},
                {"path": networkd_start.DROPIN, "mode": "0644", "content": networkd_start.DROPIN_TEXT,
                 "manager": "systemd-networkd"}]
    if hooks and exists(NETWORKD_DISPATCHER_DIR):
        out += [{"path": path, "mode": "0755", "content": NETWORKD_HOOK, "manager": "networkd-dispatcher"}
                for path in networkd_paths()]
    if exists(NM_DIR):
        if hooks:
            out.append({"path": NM_HOOK_PATH, "mode": "0755", "content": NM_HOOK, "manager": "NetworkManager"})
        if wg_names:
            out.append({"path": NM_CONF, "mode": "0644", "content": nm_conf(wg_names), "manager": "NetworkManager"})
    return out


def all_paths():
    """Every path this module may have written: what removal looks at."""
    return networkd_paths() + [NM_HOOK_PATH, NM_CONF, networkd_start.SCRIPT, networkd_start.DROPIN]


class ManagerSteps:
    """A mixin of HostApply (apply_host.py): ``fs``, ``cmd``, ``drift``, ``track_change``, ``managed_interfaces``."""

    def networkd_version(self, wg_names):
        """networkd's version where it manages the host (its unit enabled or active) and it matters, else None."""
        if not wg_names or not (self.cmd.is_enabled(networkd_start.UNIT) or self.cmd.is_active(networkd_start.UNIT)):
            return None
        rc, out, dummy = self.cmd.query(["networkctl", "--version"])
        return networkd_start.parse_version(out) if rc == 0 else None

    def apply_manager_hooks(self, wg_names, routes):
        """Write the hooks and drop-ins the host needs, remove those it no longer needs; NetworkManager
        reads a changed drop-in at once (a reload: its connections stay up), systemd a changed unit
        drop-in at a daemon-reload (networkd itself is not restarted: the drop-in acts at its next start)."""
        want = wanted(wg_names, routes, self.fs.exists, self.networkd_version(wg_names))
        before_names = self.managed_interfaces()
        nm_changed = False
        unit_changed = False
        for item in want:
            old = self.fs.read(item["path"])
            # What the last run would have written: the same hook, the drop-in of the interfaces it had.
            last = nm_conf(before_names) if item["path"] == NM_CONF else item["content"]
            edited = old is not None and (old not in (last, item["content"]) or self.fs.mode(item["path"]) != item["mode"])
            if item["path"] == networkd_start.DROPIN:
                self.track_change(self.fs.ensure_dir(networkd_start.DROPIN_DIR, "0755"))
            if self.track_change(self.fs.write(item["path"], item["content"], item["mode"])):
                nm_changed = nm_changed or item["path"] == NM_CONF
                unit_changed = unit_changed or item["path"] == networkd_start.DROPIN
                if edited:
                    self.drift.lines.append("%s hook %s: changed on the host, written again"
                                            % (item["manager"], item["path"]))
        keep = [item["path"] for item in want]
        for path in all_paths():
            if path not in keep and self.track_change(self.fs.remove(path)):
                nm_changed = nm_changed or path == NM_CONF
                unit_changed = unit_changed or path == networkd_start.DROPIN
        for path in MADE_DIRS:
            if self.fs.exists(path) and not self.fs.listdir(path):
                self.track_change(self.fs.remove_tree(path))
        if nm_changed and self.cmd.is_active(NM_UNIT):
            self.cmd.systemctl("reload", NM_UNIT)
        if unit_changed:
            self.cmd.daemon_reload()
        # Its unit starts only where a script exists (ConditionPathExistsGlob): an enabled dispatcher
        # that had none is started now that it has the collection's.
        if any(item["manager"] == "networkd-dispatcher" for item in want) \
                and self.cmd.is_enabled(NETWORKD_DISPATCHER_UNIT) and not self.cmd.is_active(NETWORKD_DISPATCHER_UNIT):
            self.track_change(self.cmd.systemctl("start", NETWORKD_DISPATCHER_UNIT) or True)
