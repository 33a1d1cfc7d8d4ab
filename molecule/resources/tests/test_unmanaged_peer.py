"""A WireGuard peer Ansible does not manage (molecule/default_route, test_expect.unmanaged_peer).

The run never contacts the peer (its inventory connection cannot work) and writes
its wg-quick file on the controller, beside Molecule's inventory folder (the
default wgpf_peer_config_dir). As its user would, the test copies only that file into the
peer's container, pastes the peer's private key on the marked line and brings the
tunnel up with wg-quick (as the systemd unit wg-quick@, so it comes back after a
restart); then a client on the Internet side reaches the peer's echo service
through the public server, which must see the client's own address, TCP and UDP.
Skipped unless the scenario's test_expect has ``unmanaged_peer``.
"""

import os
import stat
import subprocess

import pytest

from test_forward import answered

MARKED_LINE = "PrivateKey = <paste this peer's private key here>"
APP_REFUSES = ("PostUp", "PreDown", "PostDown", "PreUp", "Table", "SaveConfig")


@pytest.fixture(scope="module")
def peer(scenario):
    if "unmanaged_peer" not in scenario:
        pytest.skip("no unmanaged peer in this scenario")
    return scenario["unmanaged_peer"]


@pytest.fixture(scope="module")
def written(peer):
    """The file the run wrote on the controller: wgpf-peers/<host>.conf beside Molecule's inventory folder."""
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory:
        pytest.skip("needs Molecule's inventory (MOLECULE_INVENTORY_FILE)")
    return os.path.join(os.path.dirname(os.path.dirname(inventory)), "wgpf-peers", peer["host"] + ".conf")


def docker(*args, stdin=None):
    done = subprocess.run(["docker"] + list(args), input=stdin, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, "docker %s: %s" % (" ".join(args[:3]), done.stderr)
    return done.stdout


def test_the_peer_file_is_written_for_the_wireguard_apps(peer, written):
    assert os.path.isfile(written), "the run wrote no file for %s at %s" % (peer["host"], written)
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(written)).st_mode) == 0o700
    with open(written, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert lines.count(MARKED_LINE) == 1
    refused = [line for line in lines if line.split("=")[0].strip() in APP_REFUSES]
    assert not refused, "lines the official WireGuard apps refuse: %s" % refused
    assert "AllowedIPs = 0.0.0.0/0" in lines, "no full tunnel (default_route) towards the public server"


def test_the_forward_answers_through_the_pasted_file(client, scenario, peer, written):
    host = peer["host"]
    # The key pair the inventory describes: the pasted private key's public key is wgpf_public_key.
    public = docker("exec", "-i", host, "wg", "pubkey", stdin=peer["private_key"] + "\n").strip()
    with open(written, encoding="utf-8") as handle:
        config = handle.read().replace(MARKED_LINE, "PrivateKey = " + peer["private_key"])
    docker("exec", "-i", host, "sh", "-c", "umask 077 && cat > /etc/wireguard/wg0.conf", stdin=config)
    docker("exec", host, "systemctl", "enable", "wg-quick@wg0")
    docker("exec", host, "systemctl", "restart", "wg-quick@wg0")
    assert public in docker("exec", host, "wg", "show", "wg0", "public-key")

    fwd = scenario["forwards"][peer["forward"]]
    wrong = []
    for proto in fwd.get("protocols", ["tcp"]):
        case = {"forward": fwd["name"], "to": host, "proto": proto, "addr": peer["connect"], "port": int(fwd["port"]),
                "to_port": int(fwd.get("to_port", fwd["port"])), "seen": "client"}
        wrong = answered(client, case, 30)  # the first handshake
        assert not wrong, "; ".join(wrong)
