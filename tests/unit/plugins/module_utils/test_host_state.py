# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_state's decisions: which keys are settled, which packages are missing, what the roles do with it."""

from __future__ import annotations

import base64
import os

import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import host_state as H
from ansible_collections.wgforward.portforward.plugins.plugin_utils import host_fact, key_steps

KEY = base64.b64encode(b"\x11" * 32).decode()
OTHER = base64.b64encode(b"\x22" * 32).decode()
UID, GID = os.getuid(), os.getgid()


def fake_pubkey(private):
    return "P" + private[1:] if H.is_valid_key(private) else None


def key_dir(tmp_path, keys, mode=0o700):
    path = tmp_path / "wgpf"
    path.mkdir()
    for name, (text, file_mode) in keys.items():
        (path / name).write_text(text)
        (path / name).chmod(file_mode)
    path.chmod(mode)
    return str(path)


def settled(path, **kwargs):
    return H.settled_keys(path, fake_pubkey, uid=kwargs.get("uid", UID), gid=kwargs.get("gid", GID))


def test_a_key_as_wireguard_key_leaves_it_is_settled(tmp_path):
    path = key_dir(tmp_path, {"wg0.key": (KEY + "\n", 0o600), "wg1.key": (OTHER, 0o600)})
    assert settled(path) == {"wg0": fake_pubkey(KEY), "wg1": fake_pubkey(OTHER)}


@pytest.mark.parametrize("files, dir_mode", [
    ({"wg0.key": (KEY, 0o644)}, 0o700),              # wireguard_key would chmod it
    ({"wg0.key": (KEY, 0o600)}, 0o755),              # a directory wireguard_key did not create
    ({"wg0.key": ("not a key", 0o600)}, 0o700),      # ... or refuse it
    ({"wg0.key": ("", 0o600)}, 0o700),
    ({"wg0.key": (KEY + " " * 5000, 0o600)}, 0o700),  # bigger than wireguard_key reads
    ({".wg0.key.123.tmp": (KEY, 0o600)}, 0o700),     # an interrupted write, not a key
    ({"wg0.conf": (KEY, 0o600)}, 0o700),
])
def test_anything_wireguard_key_would_touch_is_not_settled(tmp_path, files, dir_mode):
    assert settled(key_dir(tmp_path, files, dir_mode)) == {}


def test_another_owner_or_a_symlink_or_no_directory_is_not_settled(tmp_path):
    path = key_dir(tmp_path, {"wg0.key": (KEY, 0o600)})
    assert settled(path, uid=UID + 1) == {}
    assert settled(path, gid=GID + 1) == {}
    os.symlink(os.path.join(path, "wg0.key"), os.path.join(path, "wg1.key"))
    assert settled(path) == {"wg0": fake_pubkey(KEY)}
    assert settled(str(tmp_path / "absent")) == {}


def test_a_directory_named_like_a_key_is_not_read(tmp_path):
    path = key_dir(tmp_path, {"wg0.key": (KEY, 0o600)})
    os.mkdir(os.path.join(path, "wg2.key"), 0o600)
    os.chmod(os.path.join(path, "wg2.key"), 0o600)
    assert settled(path) == {"wg0": fake_pubkey(KEY)}


def test_a_key_wg_cannot_derive_is_not_settled(tmp_path):
    path = key_dir(tmp_path, {"wg0.key": (KEY, 0o600), "wg1.key": ("x" * 44, 0o600)})
    assert H.settled_keys(path, lambda private: None, uid=UID, gid=GID) == {}
    assert H.settled_keys(path, lambda private: "junk", uid=UID, gid=GID) == {}
    # Only a valid private key is handed to wg at all.
    assert H.settled_keys(path, lambda private: OTHER, uid=UID, gid=GID) == {"wg0": OTHER}


def test_missing_packages_from_the_query_output():
    asked = []

    def run(argv):
        asked.append(argv)
        return "wireguard-tools installed\nnftables not-installed\n"
    assert H.missing_packages("Debian", run) == ["nftables", "iproute2", "conntrack"]
    assert asked[0][0] == "dpkg-query" and asked[0][-4:] == ["wireguard-tools", "nftables", "iproute2", "conntrack"]
    assert H.missing_packages("Archlinux", run) is None
    assert len(asked) == 1


STATE = {"os_family": "Debian", "missing_packages": ["nftables"], "key_dir": "/etc/wireguard/wgpf",
         "public_keys": {"wg0": "PUB0", "stale": "PUBX"}, "wg": True, "preshared_key_files": [],
         "preshared_key_digests": {}}


def test_the_read_files_what_the_steps_need_as_the_fact_of_this_run():
    fact = host_fact.from_state(dict(STATE, changed=False, ansible_facts={"x": 1}), "ansible-local-9")
    assert fact == {"run": "ansible-local-9", "os_family": "Debian", "missing_packages": ["nftables"],
                    "key_dir": "/etc/wireguard/wgpf", "public_keys": {"wg0": "PUB0", "stale": "PUBX"}, "wg": True,
                    "preshared_key_files": [], "preshared_key_digests": {}, "applied_digest": None, "in_sync": False}
    # The read's verdict on the last apply's arguments (apply/applied.py), when the host keeps them.
    fact = host_fact.from_state(dict(STATE, applied_digest="d1", in_sync=True), "ansible-local-9")
    assert fact["applied_digest"] == "d1" and fact["in_sync"] is True


def test_packages_to_install_follow_the_role_and_the_install_switch():
    assert host_fact.to_install(STATE, "public") == ["nftables"]
    assert host_fact.install_wanted(None, {}, "public") is True
    assert host_fact.install_wanted(False, {"wireguard_public_install_packages": True}, "public") is False
    assert host_fact.install_wanted(None, {"wireguard_public_install_packages": "no"}, "public") is False
    assert host_fact.install_wanted(None, {"wireguard_private_install_packages": False}, "public") is True
    # conntrack only where it is used: the public server clears stale entries of new UDP forwards.
    more = dict(STATE, missing_packages=["nftables", "conntrack"])
    assert host_fact.to_install(more, "public") == ["nftables", "conntrack"]
    assert host_fact.to_install(more, "intermediate") == ["nftables"]
    assert host_fact.to_install(more, "private") == ["nftables"]
    odd = dict(STATE, os_family="Archlinux", missing_packages=None)
    assert host_fact.to_install(odd, "public") == []


def test_a_host_without_wg_that_gets_no_package_is_refused_naming_it():
    assert host_fact.package_problem("h1", "public", STATE, False) is None  # wg is there
    off = host_fact.package_problem("h1", "public", dict(STATE, wg=False), False)
    assert off.startswith("host 'h1': wireguard-tools: not installed (no wg), and this run installs no package there")
    odd = dict(STATE, wg=False, os_family="Archlinux", missing_packages=None)
    assert "installing packages on the Archlinux family is not supported" in \
        host_fact.package_problem("h1", "public", odd, True)
    assert host_fact.package_problem("h1", "public", dict(STATE, wg=False), True) is None


@pytest.mark.parametrize("task_tags,run_tags,skip_tags,runs", [
    ([], ["all"], [], True),
    ([], ["all"], ["wgpf_packages"], False),
    ([], ["wgpf_apply"], [], False),
    ([], ["wgpf_packages"], [], True),
    (["always", "vpn"], ["vpn"], [], True),   # the role applied with tags: vpn, run with --tags vpn
    (["always", "vpn"], ["nginx"], [], False),
    (["always"], ["all"], ["tagged"], False),
])
def test_the_packages_step_runs_as_ansible_decides_for_its_tags(task_tags, run_tags, skip_tags, runs):
    assert host_fact.packages_step_runs(task_tags, run_tags, skip_tags) is runs


def summaries(*names, state="present"):
    return {"h": {"role": "public", "state": state, "contacted": True, "peer_config": None,
                  "interfaces": [{"name": n, "key_file": "/etc/wireguard/wgpf/%s.key" % n, "peers": []}
                                 for n in names]}}


def test_the_keys_to_make_are_the_plan_keys_the_read_did_not_find_settled():
    assert key_steps.keys_to_make(summaries("wg0"), "h", STATE) == []
    assert key_steps.keys_to_make(summaries("wg0", "wg1"), "h", STATE) == ["wg1"]
    assert key_steps.keys_to_make(summaries("wg0"), "h", None) == ["wg0"]
    assert key_steps.keys_to_make(summaries("wg0", state="absent"), "h", None) == []


def test_the_fact_gets_the_keys_made_and_keeps_the_others():
    fact = key_steps.with_keys(STATE, {"wg1": "PUB1"}, {"/etc/wireguard/wgpf/wg0.x.psk": "d"})
    assert fact["public_keys"] == {"wg0": "PUB0", "stale": "PUBX", "wg1": "PUB1"}
    assert fact["preshared_key_files"] == ["/etc/wireguard/wgpf/wg0.x.psk"]
    assert STATE["public_keys"] == {"wg0": "PUB0", "stale": "PUBX"}


def test_preshared_key_files_are_listed_by_path_never_their_keys_and_never_as_interfaces(tmp_path):
    path = key_dir(tmp_path, {"wg0.key": (KEY, 0o600), "wg0.public1.psk": (OTHER + "\n", 0o600),
                              "wg1.x.psk": ("junk", 0o600), ".wg0.y.psk.1.tmp": (OTHER, 0o600)})
    assert H.preshared_files(path) == [os.path.join(path, "wg0.public1.psk")]
    assert settled(path) == {"wg0": fake_pubkey(KEY)}
    assert H.preshared_files(str(tmp_path / "missing")) == []


def test_preshared_key_digests_tell_equal_keys_apart_without_holding_them(tmp_path):
    import hashlib
    path = key_dir(tmp_path, {"wg0.public1.psk": (OTHER + "\n", 0o600), "wg1.x.psk": ("junk", 0o600)})
    digests = H.preshared_digests(path)
    assert digests == {os.path.join(path, "wg0.public1.psk"): hashlib.sha256(OTHER.encode()).hexdigest()}
    assert OTHER not in repr(digests)
    assert H.preshared_digests(str(tmp_path / "missing")) == {}


def test_package_query_and_missing_packages():
    # The functions host_state runs on the host (module_utils/apply/packages.py).
    from ansible_collections.wgforward.portforward.plugins.module_utils.apply import packages as P
    assert P.package_query("Debian")[0] == "dpkg-query"
    assert P.package_query("RedHat")[-2:] == ["iproute", "conntrack-tools"]
    assert P.needed_packages("Debian", "private") == ["wireguard-tools", "nftables", "iproute2"]
    assert P.needed_packages("Debian", "public") == ["wireguard-tools", "nftables", "iproute2", "conntrack"]
    with pytest.raises(ValueError, match="Archlinux family is not supported"):
        P.package_query("Archlinux")
    lines = ["wireguard-tools installed", "nftables not-installed", "dpkg-query: no packages found matching iproute2"]
    assert P.not_installed(lines, "Debian") == ["nftables", "iproute2", "conntrack"]
    assert P.not_installed(["wireguard-tools installed", "nftables installed", "iproute2 installed",
                            "conntrack installed"], "Debian") == []
