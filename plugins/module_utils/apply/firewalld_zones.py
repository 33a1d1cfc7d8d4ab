# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's WireGuard interfaces in firewalld's default zone, where firewalld 2.x has them in no zone.

firewalld 2.x applies policies (the collection's ``wgpf-input`` and
``wgpf-forward``, firewalld.py, ingress ANY) only to interfaces and sources
bound to a zone: an interface in none gets the default zone's rules by
fallback, but no policy, so a hub's flows from wg0 back into wg0 were rejected
(measured on Debian 13, firewalld 2.3.1). So where firewalld is 2.0 or later,
each WireGuard interface of the plan that firewalld has in no zone is bound to
the default zone, running and permanent (``firewall-cmd [--permanent]
--zone=Z --add-interface=IF``, no reload: connections and other runtime state
stay). The default zone's rules are what applied to it by fallback already;
what the binding adds is that zone's intra-zone forwarding (``<forward/>``, on
in firewalld's own zones since 1.0) for flows from the interface back into it.
firewalld 1.x applies the policies to an interface in no zone too, and without
the binding rejects those flows between peers (measured on Debian 12, firewalld
1.3): there nothing is bound. An interface bound to a zone by anyone else (the
user, NetworkManager's connection.zone), running or permanent, is left as it is.

What the collection bound is recorded in ZONES_PATH (``{interface: zone}``):
an interface the plan no longer holds, and ``wgpf_state: absent``, remove
exactly those bindings, where they still are; a binding of the record found
missing is put back and reported as drift. Where firewalld is enabled but
stopped, firewall-offline-cmd binds in its permanent configuration, which
firewalld loads when it starts. Nothing else of firewalld's is written.
"""

from __future__ import annotations

import json

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError

ZONES_PATH = "/etc/wgpf/firewalld-zones.json"
OFFLINE = "firewall-offline-cmd"


def scopes(state, which):
    """[(scope, command prefix)] that reach firewalld's bindings in ``state`` (firewalld.Firewalld.state)."""
    if state == "running":
        return [("running", ["firewall-cmd"]), ("permanent", ["firewall-cmd", "--permanent"])]
    # Stopped: its permanent configuration only, and never while it runs (firewall-offline-cmd's own rule).
    return [("permanent", [OFFLINE])] if which(OFFLINE) else []


class Zones:
    """``query``, ``change``, ``fs`` and ``which`` as firewalld.Firewalld has them."""

    def __init__(self, query, change, fs, which):
        self.query, self.change, self.fs, self.which = query, change, fs, which

    def binds(self, tool):
        """firewalld 2.0 or later (``--version``: the daemon's, or the offline tool's, which is the package's)."""
        rc, out, err = self.query([tool[0], "--version"])
        major = out.strip().split(".")[0]
        if rc != 0 or not major.isdigit():
            raise ApplyError("firewalld: `%s --version` failed (rc %d): %s" % (tool[0], rc, (err or out).strip()))
        return int(major) >= 2

    def recorded(self):
        text = self.fs.read(ZONES_PATH)
        try:
            return json.loads(text) if text else {}
        except ValueError as exc:
            raise ApplyError("%s: not the collection's record of firewalld zones: remove it" % ZONES_PATH) from exc

    def keep(self, record):
        """Write the record (none left: remove it); [what was done to it]."""
        if not record:
            return ["rm %s" % ZONES_PATH] if self.fs.remove(ZONES_PATH) else []
        text = json.dumps(record, sort_keys=True) + "\n"
        return ["write %s" % ZONES_PATH] if self.fs.write(ZONES_PATH, text, "0644", show=False) else []

    def zone_of(self, tool, name):
        """The zone ``name`` is bound to, or None (firewall-cmd says "no zone", exit status 2)."""
        rc, out, err = self.query(tool + ["--get-zone-of-interface=%s" % name])
        if rc == 0:
            return out.strip()
        if rc == 2:
            return None
        raise ApplyError("firewalld: `%s --get-zone-of-interface=%s` failed (rc %d): %s"
                         % (" ".join(tool), name, rc, (err or out).strip()))

    def default_zone(self, tool):
        rc, out, err = self.query([tool[0], "--get-default-zone"])
        if rc != 0 or not out.strip():
            raise ApplyError("firewalld: `%s --get-default-zone` failed (rc %d): %s" % (tool[0], rc, err.strip()))
        return out.strip()

    def bind(self, tool, verb, zone, name):
        argv = tool + ["--zone=%s" % zone, "--%s-interface=%s" % (verb, name)]
        self.change(argv)
        return " ".join(argv)

    def wanted(self, mine, live, tool):
        """(zone, [(scope, tool)] to bind there) of one interface: ``mine`` its zone in the record, ``live``
        [(scope, tool, zone or None)] as firewalld has it. Bound anywhere by anyone else: (mine where it is
        still there, else None; nothing to bind)."""
        if any(zone not in (None, mine) for dummy, dummy2, zone in live):
            # The user's or NetworkManager's (or ours moved by hand): theirs, left as it is.
            return (mine if any(zone == mine for dummy, dummy2, zone in live) else None), []
        return mine or self.default_zone(tool), [(scope, tool) for scope, tool, zone in live if zone is None]

    def apply(self, state, names, report=None):
        """Bind each of ``names`` that firewalld has in no zone; unbind what the record holds beyond them.
        ``report(what, live, wanted)`` gets a binding of the record found missing. Returns what was done."""
        reach = scopes(state, self.which)
        if not reach:
            return []
        record, kept, todo = self.recorded(), {}, []
        if any(name not in record for name in names) and not self.binds(reach[0][1]):
            # firewalld 1.x: the policies apply without a binding; only bindings of the record are kept.
            names = [name for name in names if name in record]
        for name in names:
            live = [(scope, tool, self.zone_of(tool, name)) for scope, tool in reach]
            zone, missing = self.wanted(record.get(name), live, reach[0][1])
            if zone:
                kept[name] = zone
            for scope, tool in missing:
                if name in record and report:
                    report("firewalld zone %s (%s)" % (zone, scope), [], ["interface %s" % name])
                todo.append((tool, zone, name))
        stale = {name: zone for name, zone in record.items() if name not in names}
        # Recorded before a binding is made and forgotten after it is removed: a run that stops halfway
        # leaves no binding of the collection's unrecorded.
        done = self.keep(dict(stale, **kept))
        done += [self.bind(tool, "add", zone, name) for tool, zone, name in todo]
        return done + self.unbind(reach, stale) + self.keep(kept)

    def unbind(self, reach, bindings):
        """Remove each of ``bindings`` ({interface: zone}) where firewalld still has it there."""
        done = []
        for name, zone in sorted(bindings.items()):
            for dummy, tool in reach:
                if self.zone_of(tool, name) == zone:
                    done.append(self.bind(tool, "remove", zone, name))
        return done

    def remove(self, state):
        """Every binding of the record, where it still is, then the record (no record: nothing is asked)."""
        record = self.recorded()
        done = self.unbind(scopes(state, self.which), record) if record else []
        return done + self.keep({})
