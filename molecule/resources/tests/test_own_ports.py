"""The public server's own ports are never a forward's (issue 16 item 1; molecule/static_routes).

Skipped unless the scenario's test_expect has ``own_ports``. public1's sshd listens on
2222 (its inventory's ansible_port) and a web server of its own on its WAN address
(the scenario's prepare.yml); the forward of public1:22 answers with the client's
address (test_forward.py, a check of test_expect). Here, site.yml runs with two more
forwards, of 2222 and of the web server's port: it must fail naming each forward,
port and what holds it (Ansible's port, the processes), before any change: every
file the collection wrote on every WireGuard host keeps its modification time, and
each host's table is what it was. Then SSH on 2222 still answers the client (its
banner) and so does the forward of 22. Real traffic only.
"""

import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

from lab import molecule_inventory
from test_forward import answered

WG_HOSTS = ["public1", "intermediate1", "private1"]
# What the collection writes on a host, and its table (absent on a host that needs none).
STATE = ("stat -c '%n %Y' /etc/wireguard/*.conf /etc/wgpf/* /etc/sysctl.d/90-wgpf.conf 2>/dev/null; "
         "nft list table inet wgpf 2>/dev/null || true")
BANNER = r"""
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as sock:
    print(sock.recv(256).decode(errors="replace").splitlines()[0])
"""


@pytest.fixture(scope="module")
def own(scenario):
    if "own_ports" not in scenario:
        pytest.skip("no own_ports in this scenario's test_expect")
    return scenario["own_ports"]


@pytest.fixture(scope="module")
def site(pytestconfig, own):
    """site(extra_vars) -> (rc, output): site.yml over Molecule's inventory, with extra vars."""
    inventory = molecule_inventory(pytestconfig, folder=True)
    project = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.getcwd())
    work = pathlib.Path(tempfile.mkdtemp(prefix="wgpf-own-"))

    def run(extra_vars):
        path = work / "extra_vars.json"
        path.write_text(json.dumps(extra_vars))
        argv = [shutil.which("ansible-playbook") or "ansible-playbook", "-i", inventory, "-e", "@%s" % path,
                os.path.join(project, "playbooks", "site.yml")]
        env = dict(os.environ)
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(project, ".collections"))
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=project, env=env)
        return done.returncode, done.stdout + done.stderr

    yield run
    shutil.rmtree(work, ignore_errors=True)


def state(container):
    return {host: container(host).check_output(STATE) for host in WG_HOSTS}


def banner(client, own):
    cmd = client.run("python3 -c %s %s %s", BANNER, own["connect"], str(own["ssh_port"]))
    return cmd.stdout.strip() if cmd.rc == 0 else "no banner: %s" % cmd.stderr.strip()


def test_forwards_of_the_public_server_s_own_ports_are_refused_before_any_change(
        client, container, scenario, own, site):
    assert banner(client, own).startswith("SSH-2.0-"), "sshd answers on %s before the run" % own["ssh_port"]
    before = state(container)
    assert before["public1"].strip(), "the collection's files are on public1"
    rc, output = site({"wgpf_forwards": list(scenario["forwards"].values()) + own["forwards"]})
    assert rc != 0, "site.yml must refuse the forwards of public1's own ports:\n" + output[-4000:]
    for problem in own["problems"]:
        assert problem in output, "%r not in the run's output:\n%s" % (problem, output[-6000:])
    assert state(container) == before, "a file or a table changed although the run was refused"
    # Converging never cut SSH, and the forward of 22 (free since SSH moved) still works.
    assert banner(client, own).startswith("SSH-2.0-"), "sshd still answers on %s" % own["ssh_port"]
    fwd = scenario["forwards"]["ssh22"]
    case = {"forward": fwd["name"], "to": fwd["to"], "proto": "tcp", "addr": own["connect"], "port": int(fwd["port"]),
            "to_port": int(fwd["to_port"]), "seen": "client"}
    wrong = answered(client, case, 30)
    assert not wrong, "the forward of 22: %s" % "; ".join(wrong)
