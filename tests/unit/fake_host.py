# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake managed host for the apply step's tests (test_apply_plan.py, test_apply_drift.py).

A temporary directory stands for the host's root (/etc/wireguard, /etc/wgpf, /proc/sys, ... under
tmp_path); FakeHost runs the apply step's commands against it: it keeps the units' state (active,
enabled), records every command with what the files held at that moment, and keeps what the units
put in the kernel (fake_kernel.FakeKernel), so the apply step's reads see the live state.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_host import HostApply
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_systemd import Commands
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.units import UNIT_DIR
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout
from fake_kernel import FakeKernel

NFT_UNIT_FILE = "%s/%s" % (UNIT_DIR, layout.NFT_UNIT)
ROUTES_UNIT_FILE = "%s/%s" % (UNIT_DIR, layout.ROUTES_UNIT)
KEY = "EEWSeEq3jB8emW9R4TctJK1WkCJuvQw3n4EL0Siaenw="  # test-only, must never show up in a diff
KEY_FILE = layout.key_path("wg0")
HEAD = "%s for host h1: local changes are overwritten.\n" % layout.HEADER


class FakeHost:
    """Commands of the apply step against the tmp root: systemd state, nft, sysctl, the sync script, and
    what the units put in the kernel (fake_kernel.FakeKernel: what `ip`, `nft -s list` and `wg` print)."""

    def __init__(self, root):
        self.root = root
        self.active, self.enabled = set(), set()
        self.calls = []  # (argv, {path: content at the time} for the paths in self.watch)
        self.watch = []
        self.fail = {}  # argv prefix (tuple) -> (rc, stderr)
        self.sync_out = "changed\n"
        self.nft_seen = []
        self.events = []  # (start or wait, argv, how many calls had run) of the queries run beside (start)
        self.kernel = FakeKernel()
        self.networkd_version = None  # what `networkctl --version` prints: "systemd 257 (257.13-1)", say

    def read(self, path):
        real = self.root / path.lstrip("/")
        return real.read_text() if real.exists() else None

    def run(self, argv):
        self.calls.append((list(argv), {p: self.read(p) for p in self.watch}))
        for prefix, (rc, err) in self.fail.items():
            if tuple(argv[:len(prefix)]) == prefix:
                return rc, "", err
        answer = self.kernel.query(argv) or self.kernel.change(argv)
        if answer is not None:
            self.sync_sysctls()
            return answer
        if argv[0] == "systemctl":
            return self.systemctl(argv[1:])
        if argv[:2] == ["networkctl", "--version"]:
            return (0, self.networkd_version, "") if self.networkd_version else (127, "", "networkctl: not found")
        if argv[:3] == ["nft", "-c", "-f"]:
            with open(argv[3]) as handle:
                self.nft_seen.append(handle.read())
            return 0, "", ""
        if argv[:2] == ["nft", "-f"]:
            # The apply step's load of a changed table into a running unit, from its temporary file.
            with open(argv[2]) as handle:
                self.nft_seen.append(handle.read())
            self.kernel.load_nft(self.nft_seen[-1])
            return 0, "", ""
        if argv[:3] == ["sysctl", "--quiet", "--load"]:
            self.load_sysctls(self.read(argv[3]))
            return 0, "", ""
        if argv[0] == layout.SYNC_SCRIPT:
            self.kernel.wg_sync(argv[1], self.read(layout.wg_config_path(argv[1])))
            return 0, self.sync_out, ""
        return 0, "", ""

    def start(self, argv):
        """A query started beside the next steps (apply_systemd.Commands.query_beside): answered as of its
        start, like a process that reads the kernel at once; ``events`` shows when it started and was waited for."""
        answer = self.run(argv)
        self.events.append(("start", " ".join(argv), len(self.calls)))

        def wait():
            self.events.append(("wait", " ".join(argv), len(self.calls)))
            return answer
        return wait

    def systemctl(self, args):
        verb, unit = args[0], args[-1]
        if verb in ("is-active", "is-enabled") and args[1] != "--quiet":
            # Several units at once: a state a line (systemctl prints one for each unit named).
            states = [("active" if name in self.active else "inactive") if verb == "is-active"
                      else ("enabled" if name in self.enabled else "disabled") for name in args[1:]]
            return (0 if {"active", "enabled"} & set(states) else 3), "".join(x + "\n" for x in states), ""
        if verb == "is-active":
            return (0 if unit in self.active else 3), "", ""
        if verb == "is-enabled":
            return (0 if unit in self.enabled else 1), "", ""
        if verb in ("start", "reload", "restart"):
            self.active.add(unit)
            self.unit_runs(unit)
        elif verb in ("stop", "disable"):
            self.active.discard(unit)
            if unit.startswith("wg-quick@"):
                self.kernel.wg_down(unit[len("wg-quick@"):])
        if verb == "enable":
            self.enabled.add(unit)
        elif verb == "disable":
            self.enabled.discard(unit)
        return 0, "", ""

    def unit_runs(self, unit):
        """What a unit's ExecStart (or ExecReload) puts in the kernel."""
        if unit == layout.NFT_UNIT:
            self.kernel.load_nft(self.read(layout.NFT_PATH))
        elif unit == layout.ROUTES_UNIT:
            self.kernel.routes_up(self.read(layout.ROUTES_PATH))
        elif unit.startswith("wg-quick@"):
            name = unit[len("wg-quick@"):]
            self.kernel.wg_up(name, self.read(layout.wg_config_path(name)))
            self.kernel.routes_up(self.read(layout.ROUTES_PATH) or "")  # its PostUp
        self.sync_sysctls()

    def load_sysctls(self, text):
        """What `sysctl --load` does: each `key = value` line into /proc/sys (a slash in a key is a dot)."""
        for line in text.splitlines():
            key, sep, value = line.partition(" = ")
            if sep and not line.startswith("#"):
                path = self.root / "proc/sys" / "/".join(part.replace("/", ".") for part in key.split("."))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(value + "\n")

    def sync_sysctls(self):
        """The interfaces' sysctl folders and the values routes.sh wrote, under the tmp root's /proc/sys."""
        for name in self.kernel.wg:
            (self.root / ("proc/sys/net/ipv4/conf/%s" % name)).mkdir(parents=True, exist_ok=True)
        for key, value in self.kernel.sysctls.items():
            (self.root / ("proc/sys/" + key.replace(".", "/"))).write_text(value + "\n")
        self.kernel.sysctls = {}

    def changes(self):
        """The commands that change the host, as strings."""
        reads = (["systemctl", "is-active"], ["systemctl", "is-enabled"], ["networkctl", "--version"])
        return [" ".join(argv) for argv, dummy in self.calls
                if argv[:2] not in reads and argv[0] != "nft" and self.kernel.query(argv) is None]


def wg_file(peers="\n[Peer]\n# h2\nPublicKey = pub2\nAllowedIPs = 10.0.0.2/32\n", interface="[Interface]\nAddress = 10.0.0.1/24\n",
            digest="digest-1", missing=()):
    return {"path": layout.wg_config_path("wg0"), "mode": "0600", "kind": "wireguard", "interface": "wg0",
            "interface_digest": digest, "content": HEAD + interface + peers, "missing_keys": list(missing)}


def nft_file(body="table inet wgpf {}\n"):
    return {"path": layout.NFT_PATH, "mode": "0644", "kind": "nftables", "content": "#!/usr/sbin/nft -f\n" + HEAD + body}


def sysctl_file():
    return {"path": layout.SYSCTL_PATH, "mode": "0644", "kind": "sysctl", "content": HEAD + "net.ipv4.ip_forward = 1\n"}


def routes_file(body="up() { :; }\n"):
    return {"path": layout.ROUTES_PATH, "mode": "0755", "kind": "routes", "content": "#!/bin/sh\n" + HEAD + body}


SYSCTLS = {"net.ipv4.ip_forward": "1"}


def new_host(tmp_path):
    """A fake host whose root is ``tmp_path`` (the fixture ``host`` of tests/unit/plugins/modules/conftest.py)."""
    fake = FakeHost(tmp_path)
    (tmp_path / "proc/sys/net/ipv4").mkdir(parents=True)
    (tmp_path / "proc/sys/net/ipv4/ip_forward").write_text("0\n")
    return fake


def apply(host, files, check_mode=False, sysctls=None, state="present"):
    fs = HostFiles(root=str(host.root), check_mode=check_mode, chown=False)
    cmd = Commands(host.run, check_mode=check_mode, start=host.start)
    step = HostApply(fs, cmd)
    host.calls, host.nft_seen, host.events = [], [], []
    if state == "absent":
        step.absent()
    else:
        step.present(files, {"wg0": KEY_FILE}, SYSCTLS if sysctls is None else sysctls, check_mode=check_mode)
        step.keep_pending()  # as applied.run does after the step
    return step, fs, cmd


def converged(host, files=None):
    """A host after a first run, with the kernel having taken the sysctl."""
    files = files or [wg_file(), nft_file(), sysctl_file(), routes_file()]
    apply(host, files)
    (host.root / "proc/sys/net/ipv4/ip_forward").write_text("1\n")
    return files
