# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply one host's rendered plan: write what differs, then run exactly what the change needs.

Every step is decided from the host's state (file content, running sysctl
values, unit state, the recorded ``[Interface]`` digest, and for a file that
did not change, what runs: apply_live.py), not from what an earlier run did,
so a run that fails halfway is completed by the next one, and one that finds
the live state changed under it repairs that.
Order: helpers and daemon-reload, the network managers' hooks (manager_hooks.py), nftables table (then the stale conntrack
entries of new or changed UDP forwards), sysctls, routes (every rule, so a new
peer's rules are in place before the peer itself), the firewall hooks,
WireGuard interfaces, then removal of what the plan no longer holds. What the
host had before the collection changed it (sysctl values, reserved ports) is
recorded on the host first (host_record.py) and given back when the plan no
longer needs it.
"""

from __future__ import annotations

import shutil

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import live_wg, preshared
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_live import LiveSteps
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_record import RecordSteps
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.drift import Drift
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewall_hooks import Firewall, load_spec
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewalld import Firewalld
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.manager_hooks import ManagerSteps
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.units import helpers, unit_questions
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout

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


class HostApply(RecordSteps, LiveSteps, ManagerSteps):
    """One host's apply step over ``fs`` (apply_fs.HostFiles) and ``cmd`` (apply_systemd.Commands)."""

    def __init__(self, fs, cmd, which=shutil.which):
        self.fs = fs
        self.cmd = cmd
        self.changed = False
        self.drift = Drift(fs.diffs)  # what was found live that differs from files that did not change
        self.secrets = set()  # the preshared keys put into configs: the module masks them in all it returns
        # The host's iptables, read through the same runner and root as everything else.
        self.firewall = Firewall(cmd.query, lambda argv: cmd.change(argv, layout.FIREWALL_UNIT), which, fs.read)
        # firewalld (its nftables table, which the iptables hooks cannot reach): policies of the collection's own.
        self.firewalld = Firewalld(cmd.query, lambda argv: cmd.change(argv, "firewalld"), fs, which)

    def track_change(self, changed):
        self.changed = self.changed or bool(changed)
        return changed

    # ------------------------------------------------------------ present

    def present(self, files, key_files, sysctls, check_mode=False, dnat=None):
        by_kind = check_files(self.fill_preshared_keys(files, check_mode))
        self.check_wireguard_files(by_kind["wireguard"], key_files, check_mode)
        self.track_change(self.fs.ensure_dir(layout.WG_DIR, "0700"))
        self.track_change(self.fs.ensure_dir(layout.ETC_DIR, "0755"))
        kinds = [kind for kind in KINDS if by_kind[kind]]
        self.install_helpers(kinds)
        # One question of each kind for the units the steps below ask about (a change drops the answers).
        self.cmd.ask_units(*unit_questions(by_kind, self.firewalld.which("firewall-cmd")))
        names = [item["interface"] for item in by_kind["wireguard"]]
        # Before any WireGuard interface starts: NetworkManager must never pick one up.
        self.apply_manager_hooks(names, bool(by_kind["routes"]))
        self.apply_nftables(by_kind["nftables"])  # listed beside the steps below (keep_pending)
        self.clear_stale_conntrack(dnat or {})
        self.apply_sysctls(by_kind["sysctl"], sysctls)
        self.apply_routes(by_kind["routes"], names)
        self.apply_firewall(by_kind["firewall"], names)
        for item in by_kind["wireguard"]:
            self.apply_interface(item, key_files[item["interface"]])
        self.remove_stale(names, kinds)

    def fill_preshared_keys(self, files, check_mode):
        """The files with each config's preshared key references filled in from the key files here."""
        out = []
        for item in files:
            if isinstance(item, dict) and item.get("kind") == "wireguard" and "content" in item:
                content, keys = preshared.fill(item["content"], self.fs.read, check_mode)
                self.secrets.update(keys)
                item = dict(item, content=content)
            out.append(item)
        return out

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
            if helper["kind"] not in kinds:
                continue
            if self.track_change(self.fs.write(helper["path"], helper["content"], helper["mode"])):
                reload_needed = reload_needed or helper["unit"] is not None
        if reload_needed:
            self.cmd.daemon_reload()

    def apply_nftables(self, items):
        if not items:
            return
        item = items[0]
        new_table = self.fs.read(item["path"]) != item["content"]
        if new_table and self.cmd.is_active(layout.NFT_UNIT):
            self.replace_running_table(item)
            return
        self.track_change(self.fs.write(item["path"], item["content"], item["mode"],
                                        validate=lambda temp: self.cmd.nft_check(temp, item["path"])))
        drift = not new_table and self.cmd.is_active(layout.NFT_UNIT) and self.nft_drift(item["content"])
        # The file declares, deletes and re-adds the table: a reload replaces only it, in one transaction.
        if self.track_change(self.cmd.ensure_started(layout.NFT_UNIT, reload_when_running=new_table or drift)):
            self.keep_nft_listing(item["content"])

    def replace_running_table(self, item):
        """The running unit's reload is `nft -f` of its file: the new file is loaded from its temporary copy
        before that replaces the old one, one nft run where a check and then a reload took two (a large
        table's parse is most of the step); rejected, neither the file nor the running table changes."""
        self.track_change(self.fs.write(item["path"], item["content"], item["mode"],
                                        validate=lambda temp: self.cmd.nft_load(temp, item["path"])))
        if self.fs.check_mode:
            self.cmd.actions.append("nft -f %s" % item["path"])
        self.track_change(self.cmd.ensure_enabled(layout.NFT_UNIT))
        self.keep_nft_listing(item["content"])

    def apply_routes(self, items, wg_names):
        """A changed script is applied by a reload: its `up` adds the new routes and rules before it
        removes the stale ones (listed by the last `up`), so no connection loses its rule meanwhile.
        An unchanged one is compared with the kernel: what is missing is added by the same reload,
        what sits in the collection's priorities and tables beyond the script is deleted."""
        if not items:
            return
        item = items[0]
        old = self.fs.read(item["path"])
        changed = old is not None and old != item["content"]
        active = self.cmd.is_active(layout.ROUTES_UNIT)
        if changed and active and not self.fs.exists(layout.ROUTES_STATE):
            # Written by a release whose script kept no list of what it applied: its own `down`
            # takes its routes and rules away before it is replaced.
            self.cmd.change([item["path"], "down"], item["path"])
            self.track_change(True)
        self.track_change(self.fs.write(item["path"], item["content"], item["mode"]))
        missing, extra = self.routes_drift(item["content"], wg_names) if old == item["content"] and active \
            else (False, [])
        for argv in extra:
            # Deleted first: a route whose gateway was changed is then added back as planned. Gone
            # already (something else deleted it meanwhile) is no error.
            self.cmd.change(argv, item["path"], ok_rcs=(0, 2))
            self.track_change(True)
        if self.track_change(self.cmd.ensure_started(layout.ROUTES_UNIT, reload_when_running=changed or missing)) \
                or extra:
            self.forget_live()

    def apply_firewall(self, items, interfaces):
        """The accepts the host's firewall needs now (its unit applies them again after it restarts); where firewalld
        runs or is enabled, its own policies and the WireGuard ``interfaces`` in a zone, permanent (firewalld.py)."""
        if not items:
            return
        item = items[0]
        unchanged = self.fs.read(item["path"]) == item["content"]
        self.track_change(self.fs.write(item["path"], item["content"], item["mode"]))
        spec = load_spec(item["content"])
        done = self.firewall.apply(spec)
        if done and unchanged:
            self.report_firewall(done)
        self.track_change(done)
        self.track_change(self.firewalld.apply(spec, self.drift.add if unchanged else None, interfaces))
        self.track_change(self.cmd.ensure_started(layout.FIREWALL_UNIT))

    def apply_interface(self, item, key_file):
        """[Interface] changed (digest): restart; peers only: wg syncconf through the sync script."""
        name = item["interface"]
        unit = "wg-quick@%s" % name
        digest_path = "%s/%s.digest" % (layout.ETC_DIR, name)
        restart = (self.fs.read(digest_path) or "").strip() != item["interface_digest"]
        running = self.cmd.is_active(unit)
        old_content = self.fs.read(item["path"])
        new_peers = old_content != item["content"]
        drift, clear = self.wg_drift(item) if running and not (restart or new_peers) else (set(), [])
        if (restart or live_wg.RESTART in drift) and running:
            # Stopped with the old config in place, so its PreDown undoes its own PostUp.
            self.cmd.systemctl("stop", unit)
            running = False
            self.track_change(True)
        self.track_change(self.fs.write(item["path"], item["content"], item["mode"]))
        self.track_change(self.cmd.ensure_enabled(unit))
        if not running:
            self.cmd.systemctl("start", unit)
            self.track_change(True)
        elif new_peers or drift & {live_wg.SYNC, live_wg.ROUTE}:
            out = self.cmd.change([layout.SYNC_SCRIPT, name, key_file], unit)
            # The script says whether the running interface changed; check mode assumes it would.
            self.track_change(self.cmd.check_mode or "changed" in out.splitlines() or bool(drift))
        if running:
            # wg syncconf keeps a preshared key the config no longer has: clear it (a zero key is none),
            # or this end keeps it until a restart while the other end, restarted, has none.
            for public_key in preshared.dropped(old_content, item["content"]) + clear:
                self.cmd.change(["wg", "set", name, "peer", public_key, "preshared-key", "/dev/null"], unit)
                self.track_change(True)
        if drift or not running:
            self.forget_live()
        # Recorded last: an interrupted run restarts the interface next time.
        self.track_change(self.fs.write(digest_path, item["interface_digest"] + "\n", "0644", show=False))

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
            self.track_change(self.cmd.ensure_gone("wg-quick@%s" % name))
            self.track_change(self.fs.remove(layout.wg_config_path(name)))
            self.track_change(self.fs.remove(layout.key_path(name), secret=True))
            self.track_change(self.fs.remove("%s/%s.digest" % (layout.ETC_DIR, name)))
        if "firewall" not in keep_kinds and self.fs.exists(layout.FIREWALL_PATH):
            # Before the spec and unit go: only the rules tagged wgpf are deleted.
            self.track_change(self.firewall.remove())
        if "firewall" not in keep_kinds:
            # Only the files of wgpf-input and wgpf-forward, wherever they are left (no command when none is).
            self.track_change(self.firewalld.remove())
        reload_needed = False
        for helper in helpers():
            if helper["kind"] in keep_kinds:
                continue
            if helper["down"] and helper["file"] and self.fs.exists(helper["file"]):
                # Before its unit and script go: the unit has no ExecStop (see units.py).
                self.cmd.change(helper["down"], helper["file"])
                self.track_change(True)
            if helper["unit"] and self.fs.exists(helper["path"]):
                self.track_change(self.cmd.ensure_gone(helper["unit"]))
                reload_needed = True
            if helper["file"]:
                self.track_change(self.fs.remove(helper["file"]))
            self.track_change(self.fs.remove(helper["path"]))
        if "nftables" not in keep_kinds:
            self.track_change(self.fs.remove(layout.NFT_LISTING))
        if "sysctl" not in keep_kinds:
            # The running values go back to the host's own (apply_sysctls, from the record).
            self.track_change(self.fs.remove(layout.SYSCTL_PATH))
        if reload_needed:
            self.cmd.daemon_reload()

    def absent(self):
        """wgpf_state: absent: everything the collection put on the host, and nothing else."""
        # The managers' hooks first: none of them restarts a unit that is being removed.
        self.apply_manager_hooks([], False)
        self.remove_stale([], [])
        self.apply_sysctls([], {})
        # Before the record: its folder goes when nothing is left in it.
        self.track_change(self.fs.remove(layout.APPLIED_PATH))
        self.write_record({})
        self.track_change(self.fs.remove_tree(layout.KEY_DIR))
        self.track_change(self.fs.remove_tree(layout.ETC_DIR))
        self.track_change(self.fs.remove_tree(layout.RUN_DIR))
