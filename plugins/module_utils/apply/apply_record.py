# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apply steps that keep the record of what was the host's (host_record.py): sysctls and conntrack.

A mixin of HostApply (apply_host.py), which gives it ``fs``, ``cmd``, ``firewall`` and ``track_change``:
the sysctl values and reserved ports the host had before the collection, written down before they
change and given back when the plan no longer sets them, and the DNAT rows last applied, whose
changes say which UDP ports' stale conntrack entries to delete.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import host_record
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout


def sysctl_path(key):
    # sysctl's notation: dots separate levels, a slash stands for a dot inside a name (eth0.100).
    return "/proc/sys/" + "".join("/" if c == "." else "." if c == "/" else c for c in key)


class RecordSteps:
    """Sysctls and stale conntrack entries, with the host's record."""

    def read_record(self):
        try:
            return host_record.load(self.fs.read(layout.RECORD_PATH), layout.RECORD_PATH)
        except host_record.RecordError as exc:
            raise ApplyError(str(exc))

    def write_record(self, record):
        text = host_record.dump(record)
        if text is None:
            self.track_change(self.fs.remove(layout.RECORD_PATH))
            if self.fs.exists(layout.RECORD_DIR) and not self.fs.listdir(layout.RECORD_DIR):
                self.track_change(self.fs.remove_tree(layout.RECORD_DIR))
            return
        self.track_change(self.fs.ensure_dir(layout.RECORD_DIR, "0700"))
        self.track_change(self.fs.write(layout.RECORD_PATH, text, "0600"))

    def running_sysctl(self, key):
        return self.fs.read(sysctl_path(key))

    def apply_sysctls(self, items, sysctls):
        """The drop-in and the running values (reserved ports merged with the host's own); what the
        plan no longer sets goes back to the host's value from before the collection."""
        values, restores, record = host_record.settle(sysctls if items else {}, self.running_sysctl,
                                                      self.read_record())
        for key, value in restores:
            self.cmd.change(["sysctl", "--quiet", "--write", "%s=%s" % (key, value)], key)
            self.track_change(True)
        # Recorded before the values change: an interrupted run still knows the host's own.
        self.write_record(record)
        if not items:
            return
        item = items[0]
        # The drop-in holds the merged values, so a reboot loads what runs now.
        self.track_change(self.fs.write(item["path"], host_record.dropin(item["content"], values), item["mode"]))
        differ = sorted(key for key, value in values.items()
                        if host_record.normalize(self.running_sysctl(key) or "") != host_record.normalize(value))
        if differ:
            self.cmd.change(["sysctl", "--quiet", "--load", item["path"]], item["path"])
            self.track_change(True)

    def clear_stale_conntrack(self, dnat):
        """Delete the conntrack entries of UDP ports whose DNAT is new or changed (only those, never a flush):
        a flow that started before its DNAT keeps its un-NATed entry, and so its old path, until they go."""
        record = self.read_record()
        rows = host_record.dnat_rows(dnat)
        ports = host_record.changed_ports(rows, record.get("dnat") or {}, "udp")
        conntrack = self.firewall.which("conntrack") if ports else None
        for family in ("ipv4", "ipv6") if conntrack else ():
            rc, out, dummy = self.cmd.query([conntrack, "-L", "-f", family, "-p", "udp"])
            for port in sorted(host_record.conntrack_ports(out if rc == 0 else "", ports)):
                self.cmd.change([conntrack, "-D", "-f", family, "-p", "udp", "--orig-port-dst", str(port)],
                                "conntrack entries of udp/%d" % port, ok_rcs=(0, 1))
                self.track_change(True)
        record["dnat"] = rows
        self.write_record(record)
