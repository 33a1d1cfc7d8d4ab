"""Checks of the network managers next to the collection (issue 18 item 1), with real traffic.

Skipped unless the scenario's test_expect has ``managers``: the stack its hosts run
(prepared by the scenario's prepare.yml) and those hosts:

- ``networkd`` (default_route: netplan + systemd-networkd + networkd-dispatcher, Ubuntu's
  stack): after `netplan apply`, `networkctl reload`, `networkctl reconfigure <each
  Ethernet link>` and a restart of systemd-networkd on every such host, the forwards
  answer again (TCP and UDP, the client's address) within LOSS_LIMIT seconds, with no
  Ansible run: networkd deletes the collection's rules and routes (and wg-quick's), the
  networkd-dispatcher hook puts them back;
- ``NetworkManager`` (connmark_private: NetworkManager with keyfile profiles on the
  Ethernet interfaces, RHEL's stack): the WireGuard interfaces are unmanaged (`nmcli -t
  device`), and after `nmcli connection down`/`up` of each profile, `nmcli connection
  reload`, `nmcli networking off`/`on` and a NetworkManager restart the forwards answer
  again within LOSS_LIMIT seconds.

The seconds each step took to answer again are printed and kept in
/tmp/wgpf-managers-<scenario>.json. Runs once per `molecule test` (the first verify;
the one after the reboot skips the steps, see MARKER).
"""

import json
import pathlib
import time

import pytest

from lab import first_verify_only
from test_real_servers import wait_for_forwards

MARKER = "wgpf-managers-done"
# "A few seconds": a forward may be lost this long after a manager's action, no longer.
LOSS_LIMIT = 20


def links(host):
    """The host's Ethernet interfaces (Docker names them eth0, eth1, ...)."""
    out = host.check_output("ls /sys/class/net")
    return sorted(name for name in out.split() if name.startswith("eth"))


def nm_profiles(host):
    """The NetworkManager profiles the prepare step wrote (test-eth0, ...)."""
    out = host.check_output("nmcli -t -f NAME connection show")
    return sorted(name for name in out.splitlines() if name.startswith("test-"))


NETWORKD_STEPS = [
    ("netplan apply", lambda host: ["netplan apply"]),
    ("networkctl reload", lambda host: ["networkctl reload"]),
    ("networkctl reconfigure", lambda host: ["networkctl reconfigure %s" % " ".join(links(host))]),
    ("systemd-networkd restart", lambda host: ["systemctl restart systemd-networkd.service"]),
]
NM_STEPS = [
    ("nmcli connection down/up",
     lambda host: ["nmcli connection down %s && nmcli connection up %s" % (p, p) for p in nm_profiles(host)]),
    ("nmcli connection reload", lambda host: ["nmcli connection reload"]),
    ("nmcli networking off/on", lambda host: ["nmcli networking off && sleep 1 && nmcli networking on"]),
    ("NetworkManager restart", lambda host: ["systemctl restart NetworkManager.service"]),
]
STEPS = {"networkd": NETWORKD_STEPS, "NetworkManager": NM_STEPS}


@pytest.fixture(scope="module")
def managers(scenario):
    if "managers" not in scenario:
        pytest.skip("test_expect.managers is not set for this scenario")
    return scenario["managers"]


@pytest.fixture(scope="module")
def first_verify():
    first_verify_only(MARKER)


def test_network_manager_leaves_the_wireguard_interfaces_unmanaged(container, managers):
    if managers["stack"] != "NetworkManager":
        pytest.skip("not a NetworkManager scenario")
    seen = []
    for name in managers["hosts"]:
        host = container(name)
        states = dict(line.split(":", 1) for line in host.check_output("nmcli -t -f DEVICE,STATE device").splitlines())
        # The host's WireGuard interfaces (a LAN host such as private1 has none).
        wg = host.check_output("ls /sys/class/net").split()
        wg = [dev for dev in wg if host.file("/etc/wireguard/%s.conf" % dev).exists]
        seen += wg
        for dev in wg:
            assert dev in states, "%s: nmcli device does not list %s: %s" % (name, dev, states)
            assert states[dev] == "unmanaged", "%s: NetworkManager has %s %s" % (name, dev, states[dev])
        eths = [dev for dev in states if dev.startswith("eth")]
        assert eths and all(states[dev] == "connected" for dev in eths), "%s: %s" % (name, states)
    assert seen, "no WireGuard interface on %s" % ", ".join(managers["hosts"])


def test_forwards_answer_again_after_each_action_of_the_manager(client, container, scenario, managers, first_verify):
    wait_for_forwards(client, scenario)
    measured = {}
    for step, commands in STEPS[managers["stack"]]:
        started = time.monotonic()
        for name in managers["hosts"]:
            host = container(name)
            for command in commands(host):
                cmd = host.run(command)
                assert cmd.rc == 0, "%s: `%s` failed: %s" % (name, command, cmd.stdout + cmd.stderr)
        done = time.monotonic()
        try:
            wait_for_forwards(client, scenario, seconds=LOSS_LIMIT)
        except AssertionError as exc:
            raise AssertionError("after %s on %s, not every forward answers within %d s: %s"
                                 % (step, ", ".join(managers["hosts"]), LOSS_LIMIT, exc)) from exc
        measured[step] = {"action_s": round(done - started, 1), "answers_after_s": round(time.monotonic() - done, 1)}
        print("%s: the action took %.1f s, every forward answered %.1f s after it"
              % (step, done - started, time.monotonic() - done))
        time.sleep(2)  # what the step may still break shortly after (a late event, a handshake)
    wait_for_forwards(client, scenario, seconds=LOSS_LIMIT)
    pathlib.Path("/tmp/wgpf-managers-%s.json" % scenario["name"]).write_text(json.dumps(measured, indent=1))
