# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for wgforward.portforward.apply_plan and module_utils/apply_*.py.

Each decision of the apply step runs against fake_host.FakeHost: a temporary
directory standing for the host's root and a fake command runner that keeps the
units' state and records every command with what the files held at that moment,
so a test can prove for instance that an interface was stopped while its old
config was still in place. What a run finds live that differs from the files
(drift) is test_apply_drift.py's.
"""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError, HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_host import HostApply
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_systemd import Commands
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.units import UNIT_DIR, WG_SYNC
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout
from ansible_collections.wgforward.portforward.plugins.modules import apply_plan
from fake_host import (
    HEAD, KEY, KEY_FILE, NFT_UNIT_FILE, ROUTES_UNIT_FILE, SYSCTLS, apply, converged, nft_file, routes_file, sysctl_file,
    wg_file)


def test_first_run_writes_everything_and_starts_every_unit(host):
    step, fs, dummy = apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()])
    assert step.changed
    for path in (layout.wg_config_path("wg0"), layout.NFT_PATH, layout.SYSCTL_PATH, layout.ROUTES_PATH,
                 NFT_UNIT_FILE, ROUTES_UNIT_FILE, layout.SYNC_SCRIPT):
        assert host.read(path) is not None, path
    assert host.read(layout.SYNC_SCRIPT) == WG_SYNC
    assert (host.root / layout.ROUTES_PATH.lstrip("/")).stat().st_mode & 0o777 == 0o755
    assert (host.root / "etc/wireguard/wg0.conf").stat().st_mode & 0o777 == 0o600
    changes = host.changes()
    assert changes[0] == "systemctl daemon-reload"
    for unit in (layout.NFT_UNIT, layout.ROUTES_UNIT, "wg-quick@wg0"):
        assert "systemctl enable %s" % unit in changes and "systemctl start %s" % unit in changes
    assert "sysctl --quiet --load %s" % layout.SYSCTL_PATH in changes
    assert host.read("/etc/wgpf/wg0.digest") == "digest-1\n"
    assert not any(c.startswith(layout.SYNC_SCRIPT) for c in changes)


def test_second_run_changes_nothing_and_runs_nothing(host):
    files = converged(host)
    step, fs, cmd = apply(host, files)
    assert not step.changed
    assert host.changes() == [] and cmd.actions == [] and fs.diffs == []


def table_of(item):
    """What the fake kernel keeps of a loaded table file (from its table on)."""
    return item["content"][item["content"].index("table inet wgpf {"):]


def test_changed_table_is_loaded_once_before_its_file_replaces_the_old_one(host):
    """Into a running unit: one `nft -f` of the temporary file (no `nft -c` and then a reload: at 10,000
    forwards each parse of the table is a third of a second), and the file is replaced after it took."""
    converged(host)
    new = nft_file("table inet wgpf { chain c {} }\n")
    host.watch = [layout.NFT_PATH]
    step, fs, cmd = apply(host, [wg_file(), new, sysctl_file(), routes_file()])
    assert step.changed
    nft_runs = [(argv, seen) for argv, seen in host.calls if argv[0] == "nft" and "list" not in argv]
    assert [argv[:2] for argv, dummy in nft_runs] == [["nft", "-f"]], nft_runs
    assert nft_runs[0][0][2] != layout.NFT_PATH and nft_runs[0][1][layout.NFT_PATH] != new["content"]
    assert host.nft_seen == [new["content"]] and host.kernel.nft == table_of(new)
    assert cmd.actions == ["nft -f %s" % layout.NFT_PATH] and host.changes() == []
    assert host.read(layout.NFT_PATH) == new["content"]


def test_a_first_table_is_checked_then_started(host):
    """No unit running yet: `nft -c` before the file is written, then the unit's start loads it."""
    new = nft_file("table inet wgpf { chain c {} }\n")
    step, fs, cmd = apply(host, [wg_file(), new, sysctl_file(), routes_file()])
    assert [argv[:3] for argv, dummy in host.calls if argv[:2] in (["nft", "-c"], ["nft", "-f"])] == \
        [["nft", "-c", "-f"]]
    assert "systemctl start %s" % layout.NFT_UNIT in host.changes() and host.kernel.nft == table_of(new)


def test_table_rejected_by_nft_leaves_the_old_one_and_names_the_file(host):
    files = converged(host)
    host.fail[("nft", "-f")] = (1, "Error: syntax error")
    with pytest.raises(ApplyError, match=r"^/etc/wgpf/wgpf.nft: nft rejected .*syntax error"):
        apply(host, [wg_file(), nft_file("broken"), sysctl_file(), routes_file()])
    assert host.read(layout.NFT_PATH) == files[1]["content"] and host.kernel.nft == table_of(files[1])
    assert not list((host.root / "etc/wgpf").glob(".wgpf.nft.*")), "the temporary file was left behind"
    assert "systemctl reload %s" % layout.NFT_UNIT not in host.changes()


def test_first_table_rejected_by_nft_c_is_not_written(host):
    host.fail[("nft", "-c")] = (1, "Error: syntax error")
    with pytest.raises(ApplyError, match=r"^/etc/wgpf/wgpf.nft: nft -c rejected .*syntax error"):
        apply(host, [wg_file(), nft_file("broken"), sysctl_file(), routes_file()])
    assert host.read(layout.NFT_PATH) is None and layout.NFT_UNIT not in host.active


def test_sysctls_are_loaded_only_when_a_running_value_differs(host):
    files = converged(host)
    apply(host, files)
    assert not any(c.startswith("sysctl") for c in host.changes())
    (host.root / "proc/sys/net/ipv4/ip_forward").write_text("0\n")
    step, dummy, dummy2 = apply(host, files)
    assert step.changed and host.changes() == ["sysctl --quiet --load %s" % layout.SYSCTL_PATH]


def test_peer_only_change_is_synced_without_restart(host):
    converged(host)
    peers = "\n[Peer]\n# h2\nPublicKey = pub2\nAllowedIPs = 10.0.0.2/32, 10.9.0.0/24\n"
    step, dummy, dummy2 = apply(host, [wg_file(peers=peers), nft_file(), sysctl_file(), routes_file()])
    assert step.changed
    assert host.changes() == ["%s wg0 %s" % (layout.SYNC_SCRIPT, KEY_FILE)]
    assert "wg-quick@wg0" in host.active


def test_sync_that_changes_nothing_running_still_reports_the_written_config(host):
    converged(host)
    host.sync_out = ""
    step, fs, dummy = apply(host, [wg_file(peers="\n"), nft_file(), sysctl_file(), routes_file()])
    assert step.changed and fs.changed_paths == [layout.wg_config_path("wg0")]


def test_interface_change_stops_with_the_old_config_then_starts(host):
    files = converged(host)
    host.watch = [layout.wg_config_path("wg0")]
    new = wg_file(interface="[Interface]\nAddress = 10.0.0.9/24\n", digest="digest-2")
    apply(host, [new, nft_file(), sysctl_file(), routes_file()])
    changes = host.changes()
    assert changes == ["systemctl stop wg-quick@wg0", "systemctl start wg-quick@wg0"]
    stop = [seen for argv, seen in host.calls if argv == ["systemctl", "stop", "wg-quick@wg0"]][0]
    assert stop[layout.wg_config_path("wg0")] == files[0]["content"], "stopped after the new config was written"
    assert host.read("/etc/wgpf/wg0.digest") == "digest-2\n"


def applied_once(host):
    """What the routes unit's first `up` leaves: its list of what it applied."""
    state = host.root / layout.ROUTES_STATE.lstrip("/")
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("rule -4 from 10.0.0.2 lookup 51900 priority 5100\n")


def test_changed_routes_script_is_applied_by_a_reload_of_the_new_one(host):
    """No stop: the new script's `up` adds before it deletes (the old script's `down` would drop every rule)."""
    converged(host)
    applied_once(host)
    host.watch = [layout.ROUTES_PATH]
    new = routes_file("up() { ip route replace 10.1.0.0/16 via 10.0.0.2; }\n")
    apply(host, [wg_file(), nft_file(), sysctl_file(), new])
    assert host.changes() == ["systemctl reload %s" % layout.ROUTES_UNIT]
    reload = [seen for argv, seen in host.calls if argv[:2] == ["systemctl", "reload"]][0]
    assert reload[layout.ROUTES_PATH] == new["content"], "reloaded with the new script in place"
    host.active.discard("wg-quick@wg0")
    host.fail[("systemctl", "start", "wg-quick@wg0")] = (1, "Job for wg-quick@wg0.service failed")
    with pytest.raises(ApplyError, match=r"^wg-quick@wg0: `systemctl start wg-quick@wg0` failed \(rc 1\): Job for"):
        apply(host, [wg_file()])


def test_a_routes_script_of_a_release_without_the_list_is_taken_down_by_itself_first(host):
    files = converged(host)
    host.watch = [layout.ROUTES_PATH]
    apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file("up() { ip route replace 10.1.0.0/16 via 10.0.0.2; }\n")])
    assert host.changes() == ["%s down" % layout.ROUTES_PATH, "systemctl reload %s" % layout.ROUTES_UNIT]
    down = [seen for argv, seen in host.calls if argv == [layout.ROUTES_PATH, "down"]][0]
    assert down[layout.ROUTES_PATH] == files[3]["content"]


def test_interfaces_and_kinds_no_longer_planned_are_removed(host):
    converged(host)
    other = host.root / "etc/wireguard/wg9.conf"
    other.write_text("[Interface]\nPrivateKey = %s\n" % KEY)  # not the collection's: stays
    (host.root / "etc/wireguard/wg1.conf").write_text(HEAD + "[Interface]\n")
    (host.root / "etc/wireguard/wgpf/wg1.key").parent.mkdir(parents=True, exist_ok=True)
    (host.root / "etc/wireguard/wgpf/wg1.key").write_text(KEY + "\n")
    host.active.add("wg-quick@wg1")
    host.watch = [layout.ROUTES_PATH]
    step, fs, dummy = apply(host, [wg_file(), nft_file(), sysctl_file()])
    changes = host.changes()
    assert "systemctl disable --now wg-quick@wg1" in changes
    # The unit has no ExecStop: the script's own `down` runs first, while it is still there.
    assert changes.index("%s down" % layout.ROUTES_PATH) < changes.index("systemctl disable --now %s"
                                                                         % layout.ROUTES_UNIT)
    assert changes[-1] == "systemctl daemon-reload"
    down = [seen for argv, seen in host.calls if argv == [layout.ROUTES_PATH, "down"]][0]
    assert down[layout.ROUTES_PATH] is not None, "routes.sh down must run while routes.sh is still there"
    for gone in ("/etc/wireguard/wg1.conf", "/etc/wireguard/wgpf/wg1.key", layout.ROUTES_PATH, ROUTES_UNIT_FILE):
        assert host.read(gone) is None, gone
    assert other.exists() and host.read(layout.wg_config_path("wg0")) is not None
    assert KEY not in json.dumps(fs.diffs)


def test_absent_removes_everything_of_the_collection_and_nothing_else(host):
    converged(host)
    other = host.root / "etc/wireguard/wg9.conf"
    other.write_text("[Interface]\n")
    (host.root / "etc/wireguard/wgpf").mkdir()
    (host.root / "etc/wireguard/wgpf/wg0.key").write_text(KEY + "\n")
    step, fs, dummy = apply(host, [], state="absent")
    assert step.changed
    assert not host.active and not host.enabled
    for gone in ("/etc/wireguard/wg0.conf", "/etc/wireguard/wgpf", "/etc/wgpf", layout.SYSCTL_PATH,
                 NFT_UNIT_FILE, ROUTES_UNIT_FILE, layout.SYNC_SCRIPT):
        assert host.read(gone) is None and not (host.root / gone.lstrip("/")).exists(), gone
    assert other.exists()
    assert KEY not in json.dumps(fs.diffs)
    step, dummy, dummy2 = apply(host, [], state="absent")
    assert not step.changed and host.changes() == []


def test_check_mode_changes_nothing_and_says_what_would_run(host):
    step, fs, cmd = apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()], check_mode=True)
    assert step.changed
    assert not (host.root / "etc/wgpf").exists() and not (host.root / "etc/wireguard").exists()
    assert host.changes() == [], "check mode ran a command that changes the host"
    assert "systemctl start wg-quick@wg0" in cmd.actions
    assert {d["after_header"] for d in fs.diffs} >= {layout.NFT_PATH, layout.wg_config_path("wg0")}


def test_unit_file_changes_trigger_daemon_reload_only_then(host):
    files = converged(host)
    (host.root / NFT_UNIT_FILE.lstrip("/")).write_text("[Unit]\n")
    apply(host, files)
    assert host.changes() == ["systemctl daemon-reload"]


def test_mode_only_change_is_fixed_without_rewriting(host):
    files = converged(host)
    (host.root / "etc/wireguard/wg0.conf").chmod(0o644)
    step, fs, dummy = apply(host, files)
    assert step.changed and host.changes() == []
    assert (host.root / "etc/wireguard/wg0.conf").stat().st_mode & 0o777 == 0o600


def test_diff_masks_a_stray_secret_line(host):
    converged(host)
    conf = host.root / "etc/wireguard/wg0.conf"
    conf.write_text(conf.read_text() + "PrivateKey = %s\n" % KEY)
    dummy, fs, dummy2 = apply(host, [wg_file(), nft_file(), sysctl_file(), routes_file()])
    assert fs.diffs and KEY not in json.dumps(fs.diffs)
    assert "PrivateKey = (secret, not shown)" in fs.diffs[0]["before"]


def test_malformed_files_fail_before_anything_is_touched(host):
    with pytest.raises(ApplyError, match="not a rendered file"):
        apply(host, [{"path": "/etc/x", "kind": "nftables"}])
    assert host.calls == [] and not (host.root / "etc").exists()


# ------------------------------------------------------------ the module itself


def run_module(monkeypatch, host, args, check_mode=False, diff=True):
    monkeypatch.setattr(apply_plan, "HostFiles", lambda root, check_mode: HostFiles(str(host.root), check_mode, False))
    monkeypatch.setattr(apply_plan.AnsibleModule, "run_command", lambda self, argv: host.run(argv))
    monkeypatch.setattr(apply_plan, "start_query", host.start)
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        apply_plan.main()


def module_result(capsys):
    return json.loads(capsys.readouterr().out)


def test_module_check_mode_reports_the_diff_without_a_key(monkeypatch, capsys, host):
    run_module(monkeypatch, host, {"files": [wg_file(), nft_file()], "key_files": {"wg0": KEY_FILE}}, check_mode=True)
    result = module_result(capsys)
    assert result["changed"] and not result.get("failed")
    assert layout.wg_config_path("wg0") in result["files"]
    assert any("PublicKey = pub2" in d["after"] for d in result["diff"])
    assert not (host.root / "etc").exists()


def test_module_failure_names_the_file(monkeypatch, capsys, host):
    host.fail[("nft", "-c")] = (1, "Error: no such table")
    run_module(monkeypatch, host, {"files": [nft_file()]})
    result = module_result(capsys)
    assert result["failed"] and result["msg"].startswith(layout.NFT_PATH)


def test_module_result_names_the_files_not_their_content(monkeypatch, capsys, host):
    """The arguments are not echoed whole (at 10,000 forwards, 4 MB of them came back in every result): the
    files by path, kind and size, the DNAT rows by number."""
    table = nft_file("table inet wgpf {}\n# %s\n" % ("x" * 5000))
    run_module(monkeypatch, host, {"files": [table], "dnat": "udp 2000-2000\t4 * 10.0.0.3 8080-8080\n"})
    out = capsys.readouterr().out
    result = json.loads(out)
    assert result["invocation"]["module_args"]["files"] == [{"path": layout.NFT_PATH, "kind": "nftables",
                                                            "size": len(table["content"])}]
    assert result["invocation"]["module_args"]["dnat"] == "1 rows"
    assert "x" * 100 not in json.dumps(result["invocation"]) and len(out) < 5000 + len(json.dumps(result["diff"]))


def firewall_file(spec='{"forward": {"4": [{"addr": "10.0.0.3", "proto": "tcp", "port": {"from": 8080, "to": 8080}, '
                       '"iifs": ["eth0"], "dnat": true}]}, "listen_ports": [51820], "outbound": []}\n'):
    return {"path": layout.FIREWALL_PATH, "mode": "0644", "kind": "firewall", "content": HEAD + spec}


def with_iptables(host, table_text):
    """The fake host, its iptables answered by test_firewall_hooks' FakeIptables (Docker's table)."""
    from fake_iptables import FakeIptables
    ipt = FakeIptables({"iptables-nft": table_text})
    plain_run = host.run

    def run(argv):
        if argv[0].startswith("iptables") or argv[:2] == ["nft", "list"]:
            host.calls.append((list(argv), {}))
            if argv[0].startswith("iptables") and argv[4] in ("-I", "-D"):
                return 0, ipt.change(argv), ""
            return ipt.query(argv)
        return plain_run(argv)
    host.run = run
    return ipt


def apply_fw(host, ipt, files, state="present"):
    fs = HostFiles(root=str(host.root), chown=False)
    step = HostApply(fs, Commands(host.run), which=ipt.which)
    if state == "absent":
        step.absent()
    else:
        step.present(files, {"wg0": KEY_FILE}, SYSCTLS)
    return step


def test_firewall_hooks_are_applied_enabled_kept_once_and_removed_by_absent(host):
    from fake_iptables import DOCKER
    ipt = with_iptables(host, DOCKER)
    step = apply_fw(host, ipt, [firewall_file()])
    assert step.changed and len(ipt.tagged()) == 2
    assert host.read(layout.FIREWALL_SCRIPT).startswith("#!/usr/bin/python3\n")
    assert layout.FIREWALL_UNIT in host.enabled and layout.FIREWALL_UNIT in host.active
    assert "docker.service" in host.read("%s/%s" % (UNIT_DIR, layout.FIREWALL_UNIT))
    step = apply_fw(host, ipt, [firewall_file()])
    assert not step.changed and len(ipt.tagged()) == 2
    apply_fw(host, ipt, [], state="absent")
    assert ipt.tables["iptables-nft"] == DOCKER.splitlines()
    assert host.read(layout.FIREWALL_PATH) is None and layout.FIREWALL_UNIT not in host.enabled


def test_firewalld_gets_the_policies_and_wg0_bound_by_the_apply_step_drift_repaired_and_absent_takes_only_them(host):
    """firewalld running (module_utils/apply/firewalld.py, firewalld_zones.py): its policies beside the iptables
    hooks, and the WireGuard interface in the default zone."""
    from fake_firewalld import FakeFirewalld
    from fake_iptables import CLEAN
    from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewalld import (
        FORWARD, INPUT, policy_path)
    ipt = with_iptables(host, CLEAN)
    fwd = FakeFirewalld(host.root)
    fwd.bound["permanent"]["eth0"] = "public"  # the user's
    fwd.reload()
    host.active.add("firewalld.service")  # systemd's answer, asked with the other units'
    host.enabled.add("firewalld.service")
    run = host.run
    host.run = lambda argv: fwd.run(argv) if argv[0].startswith("firewall-") else run(argv)
    ipt.which = lambda name, old=ipt.which: fwd.which(name) or old(name)
    files = [wg_file(), firewall_file()]
    step = apply_fw(host, ipt, files)
    assert step.changed and sorted(fwd.runtime) == [FORWARD, INPUT]
    assert fwd.changes == ["firewall-cmd --reload", "firewall-cmd --zone=public --add-interface=wg0",
                           "firewall-cmd --permanent --zone=public --add-interface=wg0"]
    assert fwd.runtime[FORWARD] == ['rule family="ipv4" destination address="10.0.0.3" port port="8080" '
                                    'protocol="tcp" accept']
    step = apply_fw(host, ipt, files)
    assert not step.changed and not step.drift.lines
    # The rule and the binding removed at runtime by hand: repaired, reported.
    fwd.runtime[FORWARD] = []
    del fwd.bound["running"]["wg0"]
    step = apply_fw(host, ipt, files)
    assert step.changed and fwd.runtime[FORWARD] and any("wgpf-forward (running): missing" in line
                                                         for line in step.drift.lines)
    assert fwd.bound["running"] == {"eth0": "public", "wg0": "public"}
    assert "firewalld zone public (running): missing interface wg0" in step.drift.lines
    apply_fw(host, ipt, [], state="absent")
    assert host.read(policy_path(FORWARD)) is None and host.read(policy_path(INPUT)) is None and fwd.runtime == {}
    assert fwd.bound == {"running": {"eth0": "public"}, "permanent": {"eth0": "public"}}


# ------------------------------------------------------------ a hub's plan changes (rendered, not hand-written)

def hub_plan_files(spokes=1, listen_port=51821):
    """inter1's rendered files: a hub with ``spokes`` spokes, a policy_routing forward to each."""
    from builders import seed_hub

    from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
    from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

    inv = seed_hub()
    inv.hosts["inter1"]["wgpf_listen_port"] = listen_port
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080, technique="policy_routing")
    for index in range(2, spokes + 1):
        name = "private%d" % index
        inv.host(name, "private", intermediate="inter1", attachment="wireguard", address="10.0.0.%d/24" % (index + 2),
                 listen_port=51822 + index)
        inv.forward(name="web%d" % index, public="public1", port=2000 + index, to=name, to_port=8080,
                    technique="policy_routing")
    keys = {host: "K%s=" % host for host in inv.hosts}
    return render_files(plan_inventory(inv.data())["inter1"], keys)


def test_a_new_spoke_and_forward_are_a_sync_and_a_routes_reload_never_an_interface_restart(host):
    converged(host, hub_plan_files(spokes=1))
    applied_once(host)
    files = hub_plan_files(spokes=2)
    step, dummy, dummy2 = apply(host, files)
    changes = host.changes()
    assert step.changed
    assert "systemctl reload %s" % layout.ROUTES_UNIT in changes
    assert "%s wg0 %s" % (layout.SYNC_SCRIPT, KEY_FILE) in changes
    assert not [c for c in changes if "wg-quick@wg0" in c], changes
    # The routes (with the new spoke's rules) are in place before the peer is synced.
    assert changes.index("systemctl reload %s" % layout.ROUTES_UNIT) < changes.index(
        "%s wg0 %s" % (layout.SYNC_SCRIPT, KEY_FILE))
    # Removing the spoke again is the same: no restart.
    apply(host, hub_plan_files(spokes=1))
    assert not [c for c in host.changes() if "wg-quick@wg0" in c], host.changes()


def test_an_interface_change_restarts_the_interface(host):
    converged(host, hub_plan_files(spokes=1))
    applied_once(host)
    apply(host, hub_plan_files(spokes=1, listen_port=51999))
    changes = host.changes()
    assert changes.index("systemctl stop wg-quick@wg0") < changes.index("systemctl start wg-quick@wg0")
    assert not [c for c in changes if "routes" in c], "the routes did not change: %s" % changes


def test_module_writes_the_received_preshared_key_then_fills_it_in_masked(monkeypatch, capsys, host):
    """The copy of a key the other end made is written by apply_plan itself (0600), then put into the config;
    the key appears nowhere in what the module returns."""
    from ansible_collections.wgforward.portforward.plugins.module_utils.core.psk_reference import REFERENCE
    psk = "Q" * 43 + "="
    path = layout.KEY_DIR + "/wg0.h2.psk"
    peers = "\n[Peer]\n# h2\nPublicKey = pub2\n" + REFERENCE % path + "\nAllowedIPs = 10.0.0.2/32\n"
    args = {"files": [wg_file(peers=peers)], "key_files": {"wg0": KEY_FILE},
            "preshared_keys": [{"path": path, "value": psk}]}
    run_module(monkeypatch, host, args)
    out = capsys.readouterr().out
    result = json.loads(out)
    assert result["changed"] and not result.get("failed"), result
    assert host.read(path) == psk + "\n" and (host.root / path.lstrip("/")).stat().st_mode & 0o777 == 0o600
    assert "PresharedKey = %s\n" % psk in host.read(layout.wg_config_path("wg0"))
    assert psk not in out and path in result["files"]
    run_module(monkeypatch, host, args)
    assert path not in module_result(capsys)["files"]
