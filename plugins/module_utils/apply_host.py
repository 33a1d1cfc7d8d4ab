# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply one host's rendered plan: write what differs, then run exactly what the change needs.

Every step is decided from the host's state (file content, running sysctl
values, unit state, the recorded ``[Interface]`` digest), not from what an
earlier run did, so a run that fails halfway is completed by the next one.
Order: helpers and daemon-reload, nftables table (then the stale conntrack
entries of new or changed UDP forwards), sysctls, routes, the firewall hooks,
WireGuard interfaces, then removal of what the plan no longer holds. What the
host had before the collection changed it (sysctl values, reserved ports) is
recorded on the host first (host_record.py) and given back when the plan no
longer needs it.
"""

from __future__ import annotations

import shutil

from ansible_collections.wgforward.portforward.plugins.module_utils import host_record, layout
from ansible_collections.wgforward.portforward.plugins.module_utils.apply_fs import ApplyError
from ansible_collections.wgforward.portforward.plugins.module_utils.firewall_hooks import Firewall, load_spec
from ansible_collections.wgforward.portforward.plugins.module_utils.units import helpers

KINDS = ("wireguard", "nftables", "sysctl", "routes", "firewall")
REQUIRED = ("path", "mode", "kind", "content")


def check_files(files):
    """The rendered files, by kind; a malformed list fails before anything is touched."""
    by_kind = {kind: [] for kind in KINDS}
    for item in files:
        missing = [k for k in REQUIRED if k not in item]
        if missing or item["kind"] not in by_kind:
            raise ApplyError("%s: not a rendered file of wgforward.portforward.render_files (missing %s, kind %r)"
                             % (item.get("path", "?"), ", ".join(missing) or "nothing", item.get("kind")))
        if item["kind"] == "wireguard" and not item.get("interface"):
            raise ApplyError("%s: a WireGuard config needs its interface name" % item["path"])
        by_kind[item["kind"]].append(item)
    for kind in KINDS[1:]:
        if len(by_kind[kind]) > 1:
            raise ApplyError("%s: more than one %s file in the plan" % (by_kind[kind][1]["path"], kind))
    return by_kind


def is_managed(text):
    """Written by the collection: a line starts with its header (the first line, as rendered)."""
    return text is not None and any(line.startswith(layout.HEADER) for line in text.splitlines())


def sysctl_path(key):
    # sysctl's notation: dots separate levels, a slash stands for a dot inside a name (eth0.100).
    return "/proc/sys/" + "".join("/" if c == "." else "." if c == "/" else c for c in key)


def normalize(value):
    return " ".join(str(value).split())


class HostApply:
    """One host's apply step over ``fs`` (apply_fs.HostFiles) and ``cmd`` (apply_systemd.Commands)."""

    def __init__(self, fs, cmd, which=shutil.which):
        self.fs = fs
        self.cmd = cmd
        self.changed = False
        # The host's iptables, read through the same runner and root as everything else.
        self.firewall = Firewall(cmd.query, lambda argv: cmd.change(argv, layout.FIREWALL_UNIT), which, fs.read)

    def mark(self, changed):
        self.changed = self.changed or bool(changed)
        return changed

    # ------------------------------------------------------------ present

    def present(self, files, key_files, sysctls, check_mode=False, dnat=None):
        by_kind = check_files(files)
        self.check_wireguard_files(by_kind["wireguard"], key_files, check_mode)
        self.mark(self.fs.ensure_dir(layout.WG_DIR, "0700"))
        self.mark(self.fs.ensure_dir(layout.ETC_DIR, "0755"))
        kinds = [kind for kind in KINDS if by_kind[kind]]
        self.install_helpers(kinds)
        self.apply_nftables(by_kind["nftables"])
        self.clear_stale_conntrack(dnat or {})
        self.apply_sysctls(by_kind["sysctl"], sysctls)
        self.apply_routes(by_kind["routes"])
        self.apply_firewall(by_kind["firewall"])
        for item in by_kind["wireguard"]:
            self.apply_interface(item, key_files[item["interface"]])
        self.remove_stale([item["interface"] for item in by_kind["wireguard"]], kinds)

    def check_wireguard_files(self, confs, key_files, check_mode):
        for item in confs:
            if item["interface"] not in key_files:
                raise ApplyError("%s: no key file given for interface %s" % (item["path"], item["interface"]))
            # Check mode renders placeholders for keys that a real run generates first.
            if item.get("missing_keys") and not check_mode:
                raise ApplyError("%s: no public key for %s: run the roles on those hosts first (playbooks/site.yml "
                                 "orders this), or make sure they are reachable"
                                 % (item["path"], ", ".join(item["missing_keys"])))
            current = self.fs.read(item["path"])
            if current is not None and not is_managed(current):
                raise ApplyError("%s exists and was not written by wgforward.portforward: move it away or set "
                                 "wgpf_interface to another name" % item["path"])

    def install_helpers(self, kinds):
        reload_needed = False
        for helper in helpers():
            if helper["kind"] in kinds and self.mark(self.fs.write(helper["path"], helper["content"], helper["mode"])):
                reload_needed = reload_needed or helper["unit"] is not None
        if reload_needed:
            self.cmd.daemon_reload()

    def apply_nftables(self, items):
        if not items:
            return
        item = items[0]
        new_table = self.fs.read(item["path"]) != item["content"]
        self.mark(self.fs.write(item["path"], item["content"], item["mode"],
                                validate=lambda temp: self.cmd.nft_check(temp, item["path"])))
        # The file declares, deletes and re-adds the table: a reload replaces only it, in one transaction.
        self.mark(self.cmd.ensure_started(layout.NFT_UNIT, reload_when_running=new_table))

    # ------------------------------------------------------------ the record of what was the host's

    def read_record(self):
        try:
            return host_record.load(self.fs.read(layout.RECORD_PATH), layout.RECORD_PATH)
        except host_record.RecordError as exc:
            raise ApplyError(str(exc))

    def write_record(self, record):
        text = host_record.dump(record)
        if text is None:
            self.mark(self.fs.remove(layout.RECORD_PATH))
            if self.fs.exists(layout.RECORD_DIR) and not self.fs.listdir(layout.RECORD_DIR):
                self.mark(self.fs.remove_tree(layout.RECORD_DIR))
            return
        self.mark(self.fs.ensure_dir(layout.RECORD_DIR, "0700"))
        self.mark(self.fs.write(layout.RECORD_PATH, text, "0600"))

    def running_sysctl(self, key):
        return self.fs.read(sysctl_path(key))

    def apply_sysctls(self, items, sysctls):
        """The drop-in and the running values (reserved ports merged with the host's own); what the
        plan no longer sets goes back to the host's value from before the collection."""
        values, restores, record = host_record.settle(sysctls if items else {}, self.running_sysctl,
                                                      self.read_record())
        for key, value in restores:
            self.cmd.change(["sysctl", "--quiet", "--write", "%s=%s" % (key, value)], key)
            self.mark(True)
        # Recorded before the values change: an interrupted run still knows the host's own.
        self.write_record(record)
        if not items:
            return
        item = items[0]
        # The drop-in holds the merged values, so a reboot loads what runs now.
        self.mark(self.fs.write(item["path"], host_record.dropin(item["content"], values), item["mode"]))
        differ = sorted(key for key, value in values.items()
                        if normalize(self.running_sysctl(key) or "") != normalize(value))
        if differ:
            self.cmd.change(["sysctl", "--quiet", "--load", item["path"]], item["path"])
            self.mark(True)

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
                self.mark(True)
        record["dnat"] = rows
        self.write_record(record)

    def apply_routes(self, items):
        if not items:
            return
        item = items[0]
        old = self.fs.read(item["path"])
        if old is not None and old != item["content"] and self.cmd.is_active(layout.ROUTES_UNIT):
            # The old script's `down` takes its own routes and rules away before it is replaced.
            self.cmd.systemctl("stop", layout.ROUTES_UNIT)
            self.mark(True)
        self.mark(self.fs.write(item["path"], item["content"], item["mode"]))
        self.mark(self.cmd.ensure_started(layout.ROUTES_UNIT))

    def apply_firewall(self, items):
        """The accepts the host's firewall needs now; the unit applies them again after it (re)starts."""
        if not items:
            return
        item = items[0]
        self.mark(self.fs.write(item["path"], item["content"], item["mode"]))
        self.mark(self.firewall.apply(load_spec(item["content"])))
        self.mark(self.cmd.ensure_started(layout.FIREWALL_UNIT))

    def apply_interface(self, item, key_file):
        """[Interface] changed (digest): restart; peers only: wg syncconf through the sync script."""
        name = item["interface"]
        unit = "wg-quick@%s" % name
        digest_path = "%s/%s.digest" % (layout.ETC_DIR, name)
        restart = (self.fs.read(digest_path) or "").strip() != item["interface_digest"]
        running = self.cmd.is_active(unit)
        if restart and running:
            # Stopped with the old config in place, so its PreDown undoes its own PostUp.
            self.cmd.systemctl("stop", unit)
            running = False
            self.mark(True)
        new_peers = self.fs.read(item["path"]) != item["content"]
        self.mark(self.fs.write(item["path"], item["content"], item["mode"]))
        self.mark(self.cmd.ensure_enabled(unit))
        if not running:
            self.cmd.systemctl("start", unit)
            self.mark(True)
        elif new_peers:
            out = self.cmd.change([layout.SYNC_SCRIPT, name, key_file], unit)
            # The script says whether the running interface changed; check mode assumes it would.
            self.mark(self.cmd.check_mode or "changed" in out.splitlines())
        # Recorded last: an interrupted run restarts the interface next time.
        self.mark(self.fs.write(digest_path, item["interface_digest"] + "\n", "0644", show=False))

    # ------------------------------------------------------------ removal

    def managed_interfaces(self):
        names = []
        for entry in self.fs.listdir(layout.WG_DIR):
            path = "%s/%s" % (layout.WG_DIR, entry)
            if entry.endswith(".conf") and is_managed(self.fs.read(path)):
                names.append(entry[:-len(".conf")])
        return names

    def remove_stale(self, keep_interfaces, keep_kinds):
        """Remove what the collection put on the host and the plan no longer holds."""
        for name in self.managed_interfaces():
            if name in keep_interfaces:
                continue
            self.mark(self.cmd.ensure_gone("wg-quick@%s" % name))
            self.mark(self.fs.remove(layout.wg_config_path(name)))
            self.mark(self.fs.remove(layout.key_path(name), secret=True))
            self.mark(self.fs.remove("%s/%s.digest" % (layout.ETC_DIR, name)))
        if "firewall" not in keep_kinds and self.fs.exists(layout.FIREWALL_PATH):
            # Before the spec and unit go: only the rules tagged wgpf are deleted.
            self.mark(self.firewall.remove())
        reload_needed = False
        for helper in helpers():
            if helper["kind"] in keep_kinds:
                continue
            if helper["unit"] and self.fs.exists(helper["path"]):
                self.mark(self.cmd.ensure_gone(helper["unit"]))
                reload_needed = True
            if helper["file"]:
                self.mark(self.fs.remove(helper["file"]))
            self.mark(self.fs.remove(helper["path"]))
        if "sysctl" not in keep_kinds:
            # The running values go back to the host's own (apply_sysctls, from the record).
            self.mark(self.fs.remove(layout.SYSCTL_PATH))
        if reload_needed:
            self.cmd.daemon_reload()

    def absent(self):
        """wgpf_state: absent: everything the collection put on the host, and nothing else."""
        self.remove_stale([], [])
        self.apply_sysctls([], {})
        self.write_record({})
        self.mark(self.fs.remove_tree(layout.KEY_DIR))
        self.mark(self.fs.remove_tree(layout.ETC_DIR))
