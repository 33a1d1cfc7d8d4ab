# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network managers' hooks of the apply step (module_utils/apply/manager_hooks.py) on fake_host.FakeHost:
written where the manager is installed, compared on every run (drift repaired and reported), removed
when the plan no longer needs them and by ``absent``; the hooks' texts themselves."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import manager_hooks as mh
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout
from fake_host import apply, converged, nft_file, routes_file, sysctl_file, wg_file

NETWORKD_HOOKS = ["/etc/networkd-dispatcher/routable.d/50-wgpf-routes",
                  "/etc/networkd-dispatcher/configured.d/50-wgpf-routes"]
NM_HOOK = "/etc/NetworkManager/dispatcher.d/50-wgpf-routes"
NM_CONF = "/etc/NetworkManager/conf.d/wgpf.conf"


def managers(host, *dirs):
    for name in dirs or (mh.NETWORKD_DISPATCHER_DIR, mh.NM_DIR):
        (host.root / name.lstrip("/")).mkdir(parents=True, exist_ok=True)


def mode(host, path):
    return (host.root / path.lstrip("/")).stat().st_mode & 0o777


def test_hooks_and_drop_in_are_written_where_the_managers_are_installed(host):
    managers(host)
    host.active.add(mh.NM_UNIT)
    step, dummy, dummy2 = apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()])
    for path in NETWORKD_HOOKS + [NM_HOOK]:
        assert host.read(path).startswith("#!/bin/sh\n" + layout.HEADER), path
        assert mode(host, path) == 0o755, path
    assert host.read(NM_CONF).endswith("[keyfile]\nunmanaged-devices+=interface-name:wg0\n")
    assert mode(host, NM_CONF) == 0o644
    changes = host.changes()
    # NetworkManager reads the drop-in before wg-quick creates the interface.
    assert changes.index("systemctl reload NetworkManager.service") < changes.index("systemctl start wg-quick@wg0")
    assert step.drift.lines == []


def test_nothing_is_written_for_a_manager_that_is_not_installed(host):
    step, fs, dummy = apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()])
    assert not (host.root / "etc/networkd-dispatcher").exists() and not (host.root / "etc/NetworkManager").exists()
    managers(host, mh.NETWORKD_DISPATCHER_DIR)
    apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()])
    assert all(host.read(path) for path in NETWORKD_HOOKS)
    assert not (host.root / "etc/NetworkManager").exists()
    assert "systemctl reload NetworkManager.service" not in host.changes()


def test_an_enabled_dispatcher_that_had_no_script_is_started_once(host):
    managers(host)
    host.enabled.add(mh.NETWORKD_DISPATCHER_UNIT)
    files = converged(host)
    assert "systemctl start networkd-dispatcher.service" in host.changes()
    step = apply(host, files)[0]
    assert not step.changed and host.changes() == []


def test_a_second_run_changes_nothing_and_nm_is_not_reloaded_when_it_is_stopped(host):
    managers(host)
    files = converged(host)
    assert "systemctl reload NetworkManager.service" not in host.changes()
    step, fs, cmd = apply(host, files)
    assert not step.changed and host.changes() == [] and fs.diffs == []


def test_an_edited_or_removed_hook_is_written_again_and_reported_as_drift(host):
    managers(host)
    files = converged(host)
    (host.root / NETWORKD_HOOKS[0].lstrip("/")).write_text("#!/bin/sh\nexit 0\n")
    (host.root / NM_HOOK.lstrip("/")).chmod(0o644)
    (host.root / NM_CONF.lstrip("/")).unlink()
    host.active.add(mh.NM_UNIT)
    step, dummy, dummy2 = apply(host, files)
    assert step.changed
    assert host.read(NETWORKD_HOOKS[0]) == mh.NETWORKD_HOOK and mode(host, NM_HOOK) == 0o755
    assert host.read(NM_CONF) == mh.nm_conf(["wg0"])
    assert step.drift.lines == ["networkd-dispatcher hook %s: changed on the host, written again" % NETWORKD_HOOKS[0],
                                "NetworkManager hook %s: changed on the host, written again" % NM_HOOK]
    assert host.changes() == ["systemctl reload NetworkManager.service"]


def test_a_new_interface_changes_the_drop_in_without_drift(host):
    managers(host)
    converged(host)
    two = mh.nm_conf(["wg1", "wg0"])
    assert two.endswith("unmanaged-devices+=interface-name:wg0;interface-name:wg1\n")
    # The plan's interfaces are the apply step's input; wg0 is the one the host had.
    step = apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()])[0]
    assert step.drift.lines == []
    assert mh.wanted(["wg0", "wg1"], True, lambda path: True)[-1]["content"] == two


def test_a_host_without_routes_keeps_the_hooks_for_its_interfaces_and_without_either_loses_them(host):
    managers(host)
    converged(host)
    apply(host, [wg_file(), nft_file(), sysctl_file()])
    assert all(host.read(path) == mh.NETWORKD_HOOK for path in NETWORKD_HOOKS) and host.read(NM_HOOK) == mh.NM_HOOK
    assert host.read(NM_CONF) is not None
    assert mh.wanted([], False, lambda path: True) == []
    assert [item["path"] for item in mh.wanted([], True, lambda path: True)] == NETWORKD_HOOKS + [NM_HOOK]


def test_absent_removes_every_hook_and_the_drop_in_and_nothing_else(host):
    managers(host)
    converged(host)
    other = host.root / "etc/NetworkManager/conf.d/00-host.conf"
    other.write_text("[main]\n")
    host.active.add(mh.NM_UNIT)
    apply(host, [], state="absent")
    assert all(host.read(path) is None for path in NETWORKD_HOOKS + [NM_HOOK, NM_CONF])
    assert other.read_text() == "[main]\n"
    # The package's own folder stays; configured.d, which only the collection made, goes.
    assert (host.root / "etc/networkd-dispatcher/routable.d").is_dir()
    assert not (host.root / "etc/networkd-dispatcher/configured.d").exists()
    assert "systemctl reload NetworkManager.service" in host.changes()


def test_check_mode_reports_and_writes_nothing(host):
    managers(host)
    step, fs, dummy = apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()], check_mode=True)
    assert step.changed and all(host.read(path) is None for path in NETWORKD_HOOKS + [NM_HOOK, NM_CONF])
    assert NM_CONF in fs.changed_paths


def run_hook(tmp_path, text, *args):
    """The hook under /bin/sh with a fake systemctl first on PATH: the systemctl calls it makes."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "calls"
    (bin_dir / "systemctl").write_text("#!/bin/sh\necho \"$*\" >>%s\nexit 5\n" % log)
    (bin_dir / "systemctl").chmod(0o755)
    hook = tmp_path / "hook"
    # The hooks set the dispatchers' PATH themselves: here the fake systemctl must come first.
    hook.write_text(text.replace(mh.PATH_LINE, ""))
    result = subprocess.run(["/bin/sh", str(hook)] + list(args), env={"PATH": "%s:/usr/bin:/bin" % bin_dir},
                            capture_output=True, text=True, check=False)
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return result.returncode, calls


def test_the_hooks_reload_the_routes_unit_on_the_right_events_and_never_fail(tmp_path):
    want = ["--no-block reload-or-restart %s" % layout.ROUTES_UNIT]
    # systemctl fails here (exit 5): a dispatcher must still see the hook succeed.
    assert run_hook(tmp_path, mh.NETWORKD_HOOK) == (0, want)
    for event in ("up", "reapply", "dhcp4-change", "dhcp6-change", "connectivity-change"):
        assert run_hook(tmp_path, mh.NM_HOOK, "eth0", event) == (0, want), event
    for event in ("down", "pre-up", "hostname", "vpn-down"):
        assert run_hook(tmp_path, mh.NM_HOOK, "eth0", event) == (0, []), event


WG_QUICK_LAB = """set -e
ip link set lo up
ip link add wg0 type veth peer name wgp
ip link set wgp up
ip link set wg0 up
ip route add 0.0.0.0/0 dev wg0 table 51820
sh %(hook)s
echo ---
sh %(hook)s
ip -4 rule show
"""


def test_the_networkd_hook_adds_back_wg_quicks_rules_of_a_full_tunnel_once(tmp_path):
    """networkd deleted wg-quick's two rules of wg0 (fwmark 0xca6c, table 51820): the hook adds them as
    wg-quick does, a second run adds nothing; run for real in a network namespace, `wg` faked."""
    if not shutil.which("unshare"):
        pytest.fail("unshare is required: run the tests through `make test`")
    (tmp_path / "wireguard").mkdir()
    (tmp_path / "wireguard/wg0.conf").write_text(layout.HEADER + " for host h: local changes are overwritten.\n")
    (tmp_path / "wireguard/other.conf").write_text("[Interface]\n")  # not the collection's: left alone
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "wg").write_text("#!/bin/sh\n[ \"$2\" = wg0 ] && echo 0xca6c || echo off\n")
    (bin_dir / "wg").chmod(0o755)
    (bin_dir / "systemctl").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "systemctl").chmod(0o755)
    hook = tmp_path / "hook"
    hook.write_text(mh.NETWORKD_HOOK.replace(mh.PATH_LINE, "PATH=%s:$PATH" % bin_dir)
                    .replace(mh.WG_DIR + "/", "%s/wireguard/" % tmp_path))
    run = subprocess.run(["unshare", "-rn", "sh", "-c", WG_QUICK_LAB % {"hook": hook}], capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stderr
    rules = run.stdout.split("---\n")[1]
    assert rules.count("not from all fwmark 0xca6c lookup 51820") == 1, rules
    assert rules.count("from all lookup main suppress_prefixlength 0") == 1, rules
