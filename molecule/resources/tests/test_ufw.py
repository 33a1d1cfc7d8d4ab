"""Checks of molecule/policy_routing_lan with ufw enabled on the public and intermediate servers.

Skipped unless the scenario's test_expect has ``ufw`` (the hosts that run it,
prepared by prepare_ufw.yml with incoming and routed traffic denied). Real
traffic from the client:

- ufw is active with its deny policies (INPUT and FORWARD policy DROP) and the
  collection changed none of its settings;
- the forwards answer with the client's address through it (test_forward.py
  checks the same cases; here they are asserted again after each step);
- after `ufw reload`, then `systemctl restart ufw`, on every such host, the
  forwards answer again with no Ansible run.
"""

import pytest

from test_real_servers import wait_for_forwards

# What prepare_ufw.yml set; `ufw status verbose` prints it on one line.
DEFAULTS = "Default: deny (incoming), allow (outgoing), deny (routed)"


@pytest.fixture(scope="module")
def ufw_hosts(scenario):
    if "ufw" not in scenario:
        pytest.skip("no ufw in this scenario")
    return scenario["ufw"]


def test_ufw_is_active_with_its_deny_policies(container, ufw_hosts):
    for name in ufw_hosts:
        host = container(name)
        status = host.run("ufw status verbose").stdout
        assert "Status: active" in status and DEFAULTS in status, "%s: %s" % (name, status)
        policies = host.run("iptables -w -S").stdout.splitlines()
        assert "-P FORWARD DROP" in policies and "-P INPUT DROP" in policies, "%s: %s" % (name, policies[:3])


def test_forwards_pass_ufw_and_come_back_after_it_reloads_and_restarts(client, container, scenario, ufw_hosts):
    wait_for_forwards(client, scenario)
    for step in ("ufw reload", "systemctl restart ufw.service"):
        for name in ufw_hosts:
            cmd = container(name).run(step)
            assert cmd.rc == 0, "%s: %s failed: %s" % (name, step, cmd.stdout + cmd.stderr)
        wait_for_forwards(client, scenario, seconds=20)
