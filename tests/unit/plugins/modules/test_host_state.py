# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_state module on this machine: setup's facts, a faked package query and a faked wg."""

from __future__ import annotations

import base64
import json
import os
import sys

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wgforward.portforward.plugins.modules import host_state

FAKE = r'''#!{python}
import os, sys
if os.path.basename(sys.argv[0]) == "wg":
    assert sys.argv[1:] == ["pubkey"]
    sys.stdout.write("P" + sys.stdin.read().strip()[1:] + "\n")
else:
    for name in sys.argv[1:]:
        if name in os.environ["FAKE_INSTALLED"].split():
            print(name + " installed")
    sys.exit(1)
'''
PRIVATE = base64.b64encode(b"\x33" * 32).decode()


@pytest.fixture
def fake_bin(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("wg", "dpkg-query", "rpm"):
        (bindir / name).write_text(FAKE.format(python=sys.executable))
        (bindir / name).chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ.get("PATH", "")))
    monkeypatch.setenv("FAKE_INSTALLED", "wireguard-tools iproute2 iproute")
    return bindir


def run(capsys, key_dir, check=False, **args):
    with patch_module_args(dict(args, _ansible_check_mode=check)):
        module = AnsibleModule(argument_spec=host_state.ARGUMENT_SPEC, supports_check_mode=True)
        with pytest.raises(SystemExit):
            host_state.run_module(module, key_dir=key_dir)
    return json.loads(capsys.readouterr().out)


def test_one_call_reports_facts_packages_and_settled_keys(tmp_path, fake_bin, capsys):
    keys = tmp_path / "wgpf"
    keys.mkdir(mode=0o700)
    keys.chmod(0o700)
    (keys / "wg0.key").write_text(PRIVATE + "\n")
    (keys / "wg0.key").chmod(0o600)
    result = run(capsys, str(keys), check=True)
    assert result["changed"] is False
    facts = result["ansible_facts"]
    # The same facts as setup's network and distribution collectors, nothing of `min` but those.
    assert facts["ansible_os_family"] == result["os_family"]
    assert "ansible_interfaces" in facts and "ansible_default_ipv4" in facts
    assert "ansible_env" not in facts and "ansible_date_time" not in facts
    if result["os_family"] in ("Debian", "RedHat"):
        # conntrack is asked about too (a public server needs it); packages_to_install filters by role.
        assert result["missing_packages"] == ["nftables", "conntrack" if result["os_family"] == "Debian"
                                              else "conntrack-tools"]
    expected = {"wg0": "P" + PRIVATE[1:]} if os.getuid() == 0 else {}
    assert result["public_keys"] == expected
    assert result["wg"] is True
    assert PRIVATE not in json.dumps(result)
    # The ports its processes listen on, and its ephemeral range, as the fact the planner reads.
    ports = facts["ansible_wgpf_ports"]
    assert isinstance(ports["listening"], list) and len(ports["ephemeral"]) == 2


def test_without_wg_no_key_is_settled(tmp_path, fake_bin, capsys, monkeypatch):
    (fake_bin / "wg").unlink()
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    result = run(capsys, str(tmp_path))
    assert result["wg"] is False and result["public_keys"] == {}


def test_the_comparison_with_the_last_apply_runs_unless_told_not_to(tmp_path, fake_bin, capsys, monkeypatch):
    # check.yml's read only plans: at 10,000 forwards the comparison was 0.7 of the read's 1.1 s.
    calls = []
    found = {"in_sync": True, "applied_digest": "d"}
    monkeypatch.setattr(host_state.applied, "in_sync", lambda *a: calls.append(a) or found)
    result = run(capsys, str(tmp_path))
    assert len(calls) == 1 and result["in_sync"] is True and result["applied_digest"] == "d"
    result = run(capsys, str(tmp_path), compare_applied=False)
    assert len(calls) == 1 and "in_sync" not in result and "applied_digest" not in result
