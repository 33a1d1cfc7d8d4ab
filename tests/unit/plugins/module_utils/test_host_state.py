# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_state's decisions: which keys are settled, which packages are missing, what the roles do with it."""

from __future__ import annotations

import base64
import importlib
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import host_state as H

F = {}
for each in ("packages_to_install", "keys_to_ensure", "host_keys"):
    F.update(importlib.import_module("ansible_collections.wgforward.portforward.plugins.filter." + each)
             .FilterModule().filters())

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
         "public_keys": {"wg0": "PUB0", "stale": "PUBX"}, "wg": True}


def test_packages_to_install_follows_the_install_switch():
    assert F["packages_to_install"](STATE, None, {}, "public") == ["nftables"]
    assert F["packages_to_install"](STATE, False, {"wireguard_public_install_packages": True}, "public") == []
    assert F["packages_to_install"](STATE, None, {"wireguard_public_install_packages": "no"}, "public") == []
    assert F["packages_to_install"](STATE, None, {"wireguard_private_install_packages": False}, "public") == \
        ["nftables"]
    # conntrack only where it is used: the public server clears stale entries of new UDP forwards.
    more = dict(STATE, missing_packages=["nftables", "conntrack"])
    assert F["packages_to_install"](more, None, {}, "public") == ["nftables", "conntrack"]
    assert F["packages_to_install"](more, None, {}, "intermediate") == ["nftables"]
    assert F["packages_to_install"](more, None, {}, "private") == ["nftables"]
    odd = dict(STATE, os_family="Archlinux", missing_packages=None)
    assert F["packages_to_install"](odd, None, {"wireguard_public_install_packages": False}, "public") == []
    with pytest.raises(AnsibleFilterError, match="installing packages on the Archlinux family is not supported"):
        F["packages_to_install"](odd, None, {}, "public")


def plan(*names, key_dir="/etc/wireguard/wgpf"):
    return {"interfaces": [{"name": n, "key_file": "%s/%s.key" % (key_dir, n), "peers": []} for n in names]}


def test_keys_to_ensure_are_the_plan_keys_not_settled():
    assert F["keys_to_ensure"](plan("wg0"), STATE) == []
    assert F["keys_to_ensure"](plan("wg0", "wg1"), STATE) == [{"name": "wg1", "key_file": "/etc/wireguard/wgpf/wg1.key"}]
    # A key kept elsewhere was not looked at: wireguard_key decides.
    assert F["keys_to_ensure"](plan("wg0", key_dir="/k"), STATE) == [{"name": "wg0", "key_file": "/k/wg0.key"}]
    # A skipped host_state (an earlier play prepared the host) settles nothing.
    assert F["keys_to_ensure"](plan("wg0"), {"skipped": True}) == [{"name": "wg0", "key_file": "/etc/wireguard/wgpf/wg0.key"}]


def test_check_mode_without_wg_ensures_no_key():
    assert F["keys_to_ensure"](plan("wg1"), dict(STATE, wg=False), True) == []
    assert F["keys_to_ensure"](plan("wg1"), dict(STATE, wg=False), False) == \
        [{"name": "wg1", "key_file": "/etc/wireguard/wgpf/wg1.key"}]
    assert len(F["keys_to_ensure"](plan("wg1"), STATE, True)) == 1


def test_host_keys_publishes_the_plan_keys_only():
    ensured = [{"item": {"name": "wg1"}, "public_key": "PUB1"}, {"item": {"name": "wg2"}, "skipped": True}]
    assert F["host_keys"](plan("wg0", "wg1", "wg2"), STATE, ensured) == {"wg0": "PUB0", "wg1": "PUB1"}
    assert F["host_keys"](plan("wg0", key_dir="/k"), STATE, []) == {}
    assert F["host_keys"](plan(), STATE) == {}


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
