# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The arguments apply_plan keeps after a run, and the read's comparison against them (module_utils/apply/applied.py).

apply_plan keeps what it applied with its digest; the read (host_state) runs the same apply in check mode
against it and says ``in_sync`` only when nothing would change. The controller's side (when the apply step
calls no module) is tests/unit/plugins/plugin_utils/test_verified.py.
"""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import applied
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_systemd import Commands
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout
from ansible_collections.wgforward.portforward.plugins.module_utils.core.psk_reference import REFERENCE
from ansible_collections.wgforward.portforward.plugins.modules import apply_plan, host_state
from fake_host import KEY_FILE, SYSCTLS, nft_file, routes_file, sysctl_file, wg_file

PSK = "Q" * 43 + "="  # test-only
PSK_PATH = layout.KEY_DIR + "/wg0.h2.psk"
DNAT = {"4": [{"proto": "udp", "port": {"from": 2000, "to": 2000}, "daddr": "10.0.0.2",
               "dport": {"from": 8080, "to": 8080}}]}


def controller_args(**changes):
    """The arguments as the action wgforward.portforward.apply builds them (every option given)."""
    args = {"state": "present", "files": [wg_file(), nft_file(), sysctl_file(), routes_file()],
            "key_files": {"wg0": KEY_FILE}, "sysctls": dict(SYSCTLS), "dnat": DNAT, "preshared_keys": []}
    args.update(changes)
    return args


def run_module(monkeypatch, capsys, host, args, check_mode=False):
    monkeypatch.setattr(apply_plan, "HostFiles", lambda root, check_mode: HostFiles(str(host.root), check_mode, False))
    monkeypatch.setattr(apply_plan.AnsibleModule, "run_command", lambda self, argv: host.run(argv))
    monkeypatch.setattr(apply_plan, "start_query", host.start)
    with patch_module_args(dict(args, _ansible_check_mode=check_mode)), pytest.raises(SystemExit):
        apply_plan.main()
    result = json.loads(capsys.readouterr().out)
    assert not result.get("failed"), result
    # What the kernel does on its own after a first run: the forwarding sysctl took its value.
    (host.root / "proc/sys/net/ipv4/ip_forward").write_text("1\n")
    return result


def read(host, keys=("wg0",)):
    """The read's verdict (host_state's part), and the commands it ran that would change the host."""
    host.calls = []
    out = applied.in_sync(HostFiles(str(host.root), check_mode=True, chown=False), Commands(host.run, check_mode=True),
                          {name: "pub" for name in keys})
    return out, host.changes()


def converged(monkeypatch, capsys, host, args=None):
    args = args or controller_args()
    run_module(monkeypatch, capsys, host, args)
    return args


def test_every_option_of_apply_plan_is_covered_by_the_digest():
    assert set(applied.DEFAULTS) == set(apply_plan.ARGUMENT_SPEC)
    for name, spec in apply_plan.ARGUMENT_SPEC.items():
        assert applied.DEFAULTS[name] == spec.get("default"), name
    with pytest.raises(ValueError, match="not an option of apply_plan: extra"):
        applied.digest(dict(controller_args(), extra=1))


def test_the_module_keeps_what_it_applied_with_the_digest_the_controller_computes(monkeypatch, capsys, host):
    args = converged(monkeypatch, capsys, host)
    kept = applied.load(host.read(layout.APPLIED_PATH))
    assert kept is not None and kept[1] == applied.digest(args)
    assert (host.root / layout.APPLIED_PATH.lstrip("/")).stat().st_mode & 0o777 == 0o600
    assert (host.root / layout.RECORD_DIR.lstrip("/")).stat().st_mode & 0o777 == 0o700
    # Defaults filled in by the module are the controller's too: a call naming fewer options has the same digest.
    assert applied.digest({"files": args["files"], "key_files": args["key_files"], "sysctls": args["sysctls"],
                           "dnat": args["dnat"]}) == kept[1]


def test_the_kept_arguments_leave_the_received_preshared_keys_out(monkeypatch, capsys, host):
    peers = "\n[Peer]\n# h2\nPublicKey = pub2\n" + REFERENCE % PSK_PATH + "\nAllowedIPs = 10.0.0.2/32\n"
    args = controller_args(files=[wg_file(peers=peers), nft_file(), sysctl_file(), routes_file()],
                           preshared_keys=[{"path": PSK_PATH, "value": PSK}])
    run_module(monkeypatch, capsys, host, args)
    text = host.read(layout.APPLIED_PATH)
    assert PSK not in text
    # This run (a key to copy) has another digest; the next one, settled, carries none and has the kept one.
    assert applied.load(text)[1] == applied.digest(dict(args, preshared_keys=[])) != applied.digest(args)
    assert read(host) == ({"applied_digest": applied.digest(dict(args, preshared_keys=[])), "in_sync": True}, [])


def test_check_mode_keeps_nothing_and_absent_removes_it(monkeypatch, capsys, host):
    run_module(monkeypatch, capsys, host, controller_args(), check_mode=True)
    assert host.read(layout.APPLIED_PATH) is None
    converged(monkeypatch, capsys, host)
    assert host.read(layout.APPLIED_PATH) is not None
    result = run_module(monkeypatch, capsys, host, {"state": "absent"})
    assert result["changed"] and layout.APPLIED_PATH in result["files"]
    assert not (host.root / layout.RECORD_DIR.lstrip("/")).exists()


def test_a_converged_host_is_in_sync_and_the_read_changes_nothing(monkeypatch, capsys, host):
    args = converged(monkeypatch, capsys, host)
    assert read(host) == ({"applied_digest": applied.digest(args), "in_sync": True}, [])


def test_no_kept_arguments_no_verdict(monkeypatch, capsys, host):
    assert read(host) == ({}, [])
    converged(monkeypatch, capsys, host)
    path = host.root / layout.APPLIED_PATH.lstrip("/")
    data = json.loads(path.read_text())
    data["args"]["sysctls"] = {}  # changed by hand: its digest is not its arguments' any more
    path.write_text(json.dumps(data))
    assert read(host) == ({}, [])
    path.write_text("{not json")
    assert read(host) == ({}, [])


def break_sysctl(host):
    (host.root / "proc/sys/net/ipv4/ip_forward").write_text("0\n")


def break_file(host):
    (host.root / layout.NFT_PATH.lstrip("/")).write_text("edited by hand\n")


def break_interface(host):
    host.kernel.wg_down("wg0")


def break_unit(host):
    host.active.discard(layout.ROUTES_UNIT)


@pytest.mark.parametrize("breaks", [break_sysctl, break_file, break_interface, break_unit])
def test_anything_apply_plan_would_repair_is_not_in_sync(monkeypatch, capsys, host, breaks):
    """The read's verdict is apply_plan's own check mode: not in sync exactly where it would change something."""
    args = converged(monkeypatch, capsys, host)
    breaks(host)
    verdict, changes = read(host)
    assert verdict == {"applied_digest": applied.digest(args), "in_sync": False} and changes == []
    check = run_module(monkeypatch, capsys, host, args, check_mode=True)
    assert check["changed"], "apply_plan --check sees nothing either: the break is not one"


def test_a_key_to_make_or_a_failed_read_is_not_in_sync(monkeypatch, capsys, host):
    converged(monkeypatch, capsys, host)
    assert read(host, keys=())[0]["in_sync"] is False
    host.fail[("ip",)] = (1, "ip: not found")
    assert read(host)[0]["in_sync"] is False


def test_host_state_returns_the_verdict(monkeypatch, capsys, host):
    args = converged(monkeypatch, capsys, host)

    class Module:
        @staticmethod
        def run_command(argv, handle_exceptions=True):
            assert handle_exceptions is False
            return host.run(argv)

    assert host_state._applied(Module, str(host.root), {"wg0": "pub"}) == {
        "applied_digest": applied.digest(args), "in_sync": True}
