"""A WireGuard peer Ansible does not manage (molecule/default_route, test_expect.unmanaged_peer).

The run never contacts the peer (its inventory connection cannot work) and writes
its wg-quick file on the controller, beside Molecule's inventory folder (the
default wgpf_peer_config_dir). As its user would, the test copies only that file into the
peer's container, pastes the peer's private key on the marked line and brings the
tunnel up with wg-quick (as the systemd unit wg-quick@, so it comes back after a
restart); then a client on the Internet side reaches the peer's echo service
through the public server, which must see the client's own address, TCP and UDP.
Before that, the preview `render` writes offline (before any server has a key) must be
the same file but for its marked lines: the "NOT READY" header and a placeholder for
each server's public key, the lines site.yml's copy fills in.
Skipped unless the scenario's test_expect has ``unmanaged_peer``.
"""

import json
import os
import re
import stat
import subprocess
import tempfile

import pytest
import yaml

from test_forward import answered

MARKED_LINE = "PrivateKey = <paste this peer's private key here>"
OFFLINE_NEEDS = re.compile(r"^  - host '([^']+)': (wgpf_[a-z_]+):", re.M)
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


def interfaces(host):
    """(default route's interface, {interface: 'address/prefix'} of the other IPv4 interfaces but WireGuard's)."""
    route = json.loads(docker("exec", host, "ip", "-j", "route", "show", "default"))
    default = route[0]["dev"] if route else None
    addrs = {}
    for link in json.loads(docker("exec", host, "ip", "-j", "-4", "addr", "show")):
        for addr in link.get("addr_info", []):
            if link["ifname"] != "lo" and not link["ifname"].startswith("wg"):
                addrs.setdefault(link["ifname"], "%s/%d" % (addr["local"], addr["prefixlen"]))
    return default, addrs


def offline_value(host, field):
    """What a user writes into the inventory for a value render cannot learn offline: read off the host."""
    default, addrs = interfaces(host)
    lan = default if default in addrs and len(addrs) == 1 else next(i for i in sorted(addrs) if i != default)
    return {"wgpf_wan_interface": default, "wgpf_lan_interface": lan, "wgpf_lan_address": addrs[lan]}[field]


def render_offline(folder):
    """render.yml on Molecule's inventory plus what it says it cannot infer without facts (one retry)."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    extra = os.path.join(folder, "offline.yml")
    hosts = {}
    for attempt in (1, 2):  # the second with the values the first asked for
        cmd = ["ansible-playbook", "-i", inventory] + (["-i", extra] if hosts else []) + \
            ["wgforward.portforward.render", "-e", "wgpf_render_dir=%s" % os.path.join(folder, "rendered")]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                              env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1"))
        if done.returncode == 0:
            return os.path.join(folder, "rendered")
        needs = OFFLINE_NEEDS.findall(done.stdout + done.stderr)
        assert needs and attempt == 1, "render failed:\n%s\n%s" % (done.stdout[-3000:], done.stderr[-3000:])
        for host, field in needs:
            hosts.setdefault(host, {})[field] = offline_value(host, field)
        with open(extra, "w", encoding="utf-8") as out:
            yaml.safe_dump({"all": {"hosts": hosts}}, out)
    raise AssertionError("unreachable")


def test_the_offline_preview_is_the_written_file_but_for_its_marked_lines(peer, written):
    if not os.environ.get("MOLECULE_INVENTORY_FILE"):
        pytest.skip("needs Molecule's inventory (MOLECULE_INVENTORY_FILE)")
    with tempfile.TemporaryDirectory(prefix="wgpf-render-") as folder:
        preview_path = os.path.join(render_offline(folder), peer["host"], peer["host"] + ".conf")
        with open(preview_path, encoding="utf-8") as handle:
            preview = handle.read().splitlines()
    with open(written, encoding="utf-8") as handle:
        final = handle.read().splitlines()
    assert preview[0].startswith("# NOT READY"), "the preview is not marked: %s" % preview[:3]
    assert not any("NOT READY" in line or "not known yet" in line for line in final)
    # The marks: the NOT READY header (two lines), and before each placeholder key its "Not known yet" comment.
    marked = [line for line in preview if line.startswith("# NOT READY") or "not known yet" in line.lower()
              or line.startswith("# file (into wgpf_peer_config_dir)")]
    rest = [line for line in preview if line not in marked]
    filled = [line for line in final if line not in rest]
    assert [line for line in rest if line not in final] == [], "preview lines the written file lacks"
    keys = [line for line in marked if line.startswith("PublicKey = ")]
    assert keys and len(filled) == len(keys) and all(line.startswith("PublicKey = ") for line in filled), \
        "the written file differs in more than the placeholders: %s / %s" % (marked, filled)
