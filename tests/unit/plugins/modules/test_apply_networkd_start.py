# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""networkd 256+'s start script and unit drop-in of the apply step (module_utils/apply/networkd_start.py,
written by manager_hooks.py) on fake_host.FakeHost: written only where networkd 256 or later manages the
host and it has the collection's WireGuard interfaces, compared on every run (drift repaired and
reported), removed when no longer needed and by ``absent``; systemd reloads a changed drop-in, networkd
is never restarted by the run."""

from __future__ import annotations

import subprocess

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import manager_hooks as mh
from ansible_collections.wgforward.portforward.plugins.module_utils.apply import networkd_start as ns
from fake_host import apply, converged, nft_file, routes_file, sysctl_file, wg_file

DEB13 = "systemd 257 (257.13-1~deb13u1)\n+PAM +AUDIT\n"
DEB12 = "systemd 252 (252.39-1~deb12u1)\n+PAM +AUDIT\n"


def networkd(host, version=DEB13, enabled=True):
    host.networkd_version = version
    (host.enabled if enabled else host.active).add(ns.UNIT)


def test_the_version_is_read_from_networkctl():
    assert ns.parse_version(DEB13) == 257
    assert ns.parse_version(DEB12) == 252
    assert ns.parse_version("") is None and ns.parse_version("networkctl: not found") is None


def test_needed_only_from_256_and_only_with_wireguard_interfaces():
    assert ns.needed(256, ["wg0"]) and ns.needed(257, ["wg0"])
    assert not ns.needed(255, ["wg0"]) and not ns.needed(252, ["wg0"])
    assert not ns.needed(None, ["wg0"]) and not ns.needed(257, [])


def test_written_where_networkd_257_manages_the_host_and_systemd_reloaded(host):
    networkd(host)
    step = apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()])[0]
    assert host.read(ns.DROPIN) == ns.DROPIN_TEXT
    # "+": outside networkd's User=systemd-network and sandbox, where `ip rule add` fails (measured).
    assert "ExecStartPost=-+/bin/sh %s\n" % ns.SCRIPT in host.read(ns.DROPIN)
    assert host.read(ns.SCRIPT) == mh.NETWORKD_STARTED
    assert "systemctl daemon-reload" in host.changes()
    # networkd itself is left running as it is: the drop-in acts at its next start.
    assert not [c for c in host.changes() if "systemd-networkd" in c]
    assert step.drift.lines == []


def test_an_active_networkd_counts_as_managing_the_host(host):
    networkd(host, enabled=False)
    apply(host, [wg_file(), nft_file(), sysctl_file()])
    assert host.read(ns.DROPIN) == ns.DROPIN_TEXT


def test_nothing_where_networkd_is_older_not_in_use_or_no_interface(host):
    networkd(host, DEB12)
    apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()])
    assert host.read(ns.DROPIN) is None and host.read(ns.SCRIPT) is None
    host.networkd_version = DEB13
    host.enabled.discard(ns.UNIT)
    apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()])
    assert host.read(ns.DROPIN) is None and host.read(ns.SCRIPT) is None
    networkd(host)
    apply(host, [nft_file(), sysctl_file(), routes_file()])
    assert host.read(ns.DROPIN) is None and host.read(ns.SCRIPT) is None


def test_a_second_run_changes_nothing(host):
    networkd(host)
    files = converged(host)
    step, fs, dummy = apply(host, files)
    assert not step.changed and host.changes() == [] and fs.diffs == []


def test_an_edited_or_removed_drop_in_is_written_again_and_reported_as_drift(host):
    networkd(host)
    files = converged(host)
    (host.root / ns.DROPIN.lstrip("/")).write_text("[Service]\n")
    (host.root / ns.SCRIPT.lstrip("/")).unlink()
    step = apply(host, files)[0]
    assert host.read(ns.DROPIN) == ns.DROPIN_TEXT and host.read(ns.SCRIPT) == mh.NETWORKD_STARTED
    assert step.drift.lines == ["systemd-networkd hook %s: changed on the host, written again" % ns.DROPIN]
    assert host.changes() == ["systemctl daemon-reload"]


def test_removed_when_no_longer_needed_and_by_absent_with_only_its_own_folder(host):
    networkd(host)
    converged(host)
    host.networkd_version = DEB12  # the host went back to an older networkd: not needed any more
    apply(host, [wg_file(), nft_file(), sysctl_file()])
    assert host.read(ns.DROPIN) is None and host.read(ns.SCRIPT) is None
    assert not (host.root / ns.DROPIN_DIR.lstrip("/")).exists()
    assert "systemctl daemon-reload" in host.changes()
    host.networkd_version = DEB13
    converged(host)
    other = host.root / ns.DROPIN_DIR.lstrip("/") / "10-host.conf"
    other.write_text("[Service]\nNice=1\n")
    apply(host, [], state="absent")
    assert host.read(ns.DROPIN) is None and host.read(ns.SCRIPT) is None
    assert other.read_text() == "[Service]\nNice=1\n"
    assert "systemctl daemon-reload" in host.changes()


def test_the_script_never_fails_and_calls_no_unit(tmp_path):
    """networkd's start must never fail by it: run with no WireGuard config, `wg` and `ip` absent."""
    script = tmp_path / "script"
    script.write_text(mh.NETWORKD_STARTED.replace(mh.PATH_LINE, "PATH=/nonexistent")
                      .replace(mh.WG_DIR + "/", "%s/none/" % tmp_path))
    result = subprocess.run(["/bin/sh", str(script)], env={"PATH": "/nonexistent"}, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "systemctl" not in mh.NETWORKD_STARTED
    assert mh.WG_QUICK_RULES in mh.NETWORKD_STARTED
