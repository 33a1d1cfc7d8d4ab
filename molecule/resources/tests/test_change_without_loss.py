"""Checks of molecule/policy_routing_hub (issue 9 items 6 and 9): change without loss, and restarts.

Skipped unless the scenario's test_expect has ``change_without_loss``. Real traffic only:

- while the client opens a new TCP connection through an existing forward every
  50 ms (each must get its echo, with the client's address), site.yml runs with a
  second spoke added to wireguard_private (an extra inventory source) and a
  forward to it (extra vars): no connection fails, no WireGuard interface was
  recreated (ifindex) and no existing peer's handshake went back, and the new
  forward answers with the client's address; then site.yml runs with the
  scenario's own inventory again (the spoke gone, the spoke's own files removed
  with apply_plan state=absent), again without a single failed connection;
- after `systemctl restart systemd-networkd` on every WireGuard host (systemd 252
  deletes no foreign rule there, as measured; later ones may), the forwards answer
  again and every rule is back, with no Ansible run; likewise after
  `systemctl restart wg-quick@wg0` on every host. The reboot is the
  scenario's side_effect (every container restarts), after which all of this
  runs again.
"""

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest
import yaml

from lab import molecule_inventory
from test_forward import answered, probe
from traffic import problems

WG_HOSTS = ["public1", "intermediate1", "private1"]

# Runs in the client: a new TCP connection every 50 ms until stdin closes; a summary on stdout.
LOOP = r"""
import json, socket, sys, threading, time
addr, port = sys.argv[1], int(sys.argv[2])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
total, failed = 0, []
print("ready", flush=True)
while not stop.is_set():
    began = time.monotonic()
    total += 1
    try:
        with socket.create_connection((addr, port), timeout=2) as sock:
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            reply = json.loads(data.decode())
            if reply.get("src") != sock.getsockname()[0]:
                raise ValueError("the service saw %r" % reply)
    except Exception as exc:
        failed.append("%.3f %s: %s" % (time.time(), type(exc).__name__, exc))
    time.sleep(max(0.0, 0.05 - (time.monotonic() - began)))
print(json.dumps({"total": total, "failed": failed}), flush=True)
"""


@pytest.fixture(scope="module")
def cwl(scenario):
    if "change_without_loss" not in scenario:
        pytest.skip("no change_without_loss in this scenario's test_expect")
    return scenario["change_without_loss"]


@pytest.fixture(scope="module")
def ansible(pytestconfig, scenario, cwl):
    """run(extra_inventory=None, extra_vars=None, playbook=site.yml): ansible-playbook over Molecule's inventory."""
    inventory = molecule_inventory(pytestconfig, folder=True)
    project = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.getcwd())
    work = pathlib.Path(tempfile.mkdtemp(prefix="wgpf-cwl-"))

    def run(*args, extra_inventory=None, extra_vars=None, command="ansible-playbook"):
        argv = [shutil.which(command) or command, "-i", inventory]
        if extra_inventory:
            path = work / "extra_inventory.yml"
            path.write_text(yaml.safe_dump(extra_inventory))
            argv += ["-i", str(path)]
        if extra_vars:
            path = work / "extra_vars.json"
            path.write_text(json.dumps(extra_vars))
            argv += ["-e", "@%s" % path]
        argv += list(args)
        env = dict(os.environ)
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(project, ".collections"))
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=project, env=env)
        assert done.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(argv), done.stdout[-6000:], done.stderr[-3000:])
        return done.stdout

    run.site = os.path.join(project, "playbooks", "site.yml")
    yield run
    shutil.rmtree(work, ignore_errors=True)


class Loop:
    """The client's connection loop through a forward, in the background of one ansible run."""

    def __init__(self, client_name, addr, port):
        self.proc = subprocess.Popen(["docker", "exec", "-i", client_name, "python3", "-c", LOOP, addr, str(port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def stop(self):
        self.proc.stdin.close()
        out = self.proc.stdout.read()
        self.proc.wait(timeout=30)
        return json.loads(out.strip().splitlines()[-1])


def ifindexes(container):
    return {h: container(h).check_output("cat /sys/class/net/wg0/ifindex") for h in WG_HOSTS}


def handshakes(container, keep):
    """{(host, peer): that host's latest handshake with that peer (epoch seconds)}."""
    out = {}
    for host, peer in keep:
        key = container(peer).check_output("wg show wg0 public-key")
        lines = dict(line.split("\t") for line in container(host).check_output("wg show wg0 latest-handshakes")
                     .splitlines())
        out[(host, peer)] = int(lines[key])
    return out


def loop_case(scenario, cwl):
    fwd = scenario["forwards"][cwl["loop"]["forward"]]
    return {"forward": fwd["name"], "to": fwd["to"], "proto": "tcp", "addr": cwl["loop"]["addr"],
            "port": int(fwd["port"]), "to_port": int(fwd.get("to_port", fwd["port"])), "seen": "client"}


def changed_without_loss(client, container, scenario, cwl, run):
    """Run ``run()`` while the client loops; what the loop saw, and the interfaces' state before and after."""
    assert not answered(client, loop_case(scenario, cwl), 60)
    before_if, before_hs = ifindexes(container), handshakes(container, cwl["keep"])
    assert all(before_hs.values()), "every kept peer has a handshake before the change: %s" % before_hs
    loop = Loop(scenario.get("client", "client"), cwl["loop"]["addr"], loop_case(scenario, cwl)["port"])
    try:
        output = run()
        time.sleep(2)  # what the change may still break shortly after (a handshake, a late restart)
    finally:
        seen = loop.stop()
    # The run takes a few seconds: at 50 ms a connection, dozens of them cross the whole change.
    assert seen["total"] >= 40, "the loop ran %d connections only" % seen["total"]
    assert not seen["failed"], "%d of %d connections failed during the change: %s" % (
        len(seen["failed"]), seen["total"], seen["failed"][:10])
    assert ifindexes(container) == before_if, "a WireGuard interface was recreated"
    after_hs = handshakes(container, cwl["keep"])
    for pair, stamp in before_hs.items():
        assert after_hs[pair] >= stamp > 0, "%s: the handshake with %s went back: %d -> %d" % (
            pair[0], pair[1], stamp, after_hs[pair])
    if os.environ.get("WGPF_CWL_LOG"):
        with open(os.environ["WGPF_CWL_LOG"], "a") as log:
            log.write("%d connections, %d failed\n" % (seen["total"], len(seen["failed"])))
    return output


def test_a_new_spoke_and_forward_then_their_removal_lose_no_connection(client, container, scenario, cwl, ansible):
    spoke = cwl["spoke"]
    forwards = list(scenario["forwards"].values())
    extra = {"all": {"children": {"wireguard_private": {"hosts": {spoke: cwl["spoke_vars"]}}}}}
    changed_without_loss(client, container, scenario, cwl,
                         lambda: ansible(ansible.site, extra_inventory=extra,
                                         extra_vars={"wgpf_forwards": forwards + [cwl["forward"]]}))
    fwd = cwl["forward"]
    case = {"forward": fwd["name"], "to": spoke, "proto": "tcp", "addr": cwl["connect"], "port": int(fwd["port"]),
            "to_port": int(fwd["to_port"]), "seen": "client"}
    wrong = answered(client, case, 60)
    assert not wrong, "the new forward: %s" % "; ".join(wrong)
    # The spoke leaves the inventory again.
    changed_without_loss(client, container, scenario, cwl, lambda: ansible(ansible.site))
    ansible(spoke, "-m", "wgforward.portforward.apply_plan", "-a", "state=absent", command="ansible")
    assert container(spoke).run("ip link show wg0").rc != 0, "the spoke's interface is gone"
    assert problems(case, probe(client, case, timeout=2)), "the removed forward must no longer answer"


def rules(container):
    return {h: container(h).check_output("ip -4 rule show; ip -6 rule show") for h in WG_HOSTS}


def restart_everywhere(container, unit):
    for host in WG_HOSTS:
        container(host).check_output("systemctl restart %s" % unit)


@pytest.mark.parametrize("unit", ["systemd-networkd", "wg-quick@wg0"])
def test_every_forward_answers_again_after_a_restart(client, container, scenario, cwl, unit):
    """No Ansible run: the forwards answer again and every rule is back. (systemd 252's networkd, as
    measured in this lab, deletes no foreign rule or route when it restarts; wgpf-routes.service
    follows it, PartOf=, for the versions that do.)"""
    before = rules(container)
    assert any("lookup 519" in text for text in before.values()), "the collection's rules are in place"
    indexes = ifindexes(container)
    restart_everywhere(container, unit)
    if unit.startswith("wg-quick@"):
        assert all(ifindexes(container)[h] != indexes[h] for h in WG_HOSTS), "the interfaces were recreated"
    case = loop_case(scenario, cwl)
    wrong = answered(client, case, 60)
    assert not wrong, "after systemctl restart %s: %s" % (unit, "; ".join(wrong))
    assert rules(container) == before, "every rule is back after systemctl restart %s" % unit
