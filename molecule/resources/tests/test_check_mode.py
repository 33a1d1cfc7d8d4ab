"""Check mode and --diff on a converged scenario (test_expect.check_diff: true).

Runs the collection's site playbook with --check --diff and an extra variable
that changes every host's WireGuard config (wgpf_keepalive), then checks that
the run succeeds, that the diff shows the change, that no private key of any
host appears anywhere in the output, and that nothing on the hosts changed.
Needs Molecule's Ansible inventory (the verifier under Molecule).
"""

import os
import subprocess

import pytest
from testinfra.utils.ansible_runner import AnsibleRunner

from lab import molecule_inventory

WIREGUARD_GROUPS = ("wireguard_public", "wireguard_intermediate", "wireguard_private")
KEEPALIVE = 17  # no scenario uses it: every config with a dialing peer must change


def wireguard_state(host):
    """(private keys, wg-quick configs) as they are on the host."""
    keys = host.check_output("cat /etc/wireguard/wgpf/*.key").split()
    confs = host.check_output("cat /etc/wireguard/*.conf")
    return keys, confs


@pytest.fixture(scope="module")
def inventory(pytestconfig, scenario):
    if not scenario.get("check_diff"):
        pytest.skip("test_expect.check_diff is not set for this scenario")
    return molecule_inventory(pytestconfig)


def test_check_diff_shows_the_change_but_no_private_key_and_changes_nothing(container, inventory):
    runner = AnsibleRunner(inventory)
    names = sorted({name for group in WIREGUARD_GROUPS for name in runner.get_hosts(group)})
    assert names, "no WireGuard hosts in %s" % inventory
    before = {name: wireguard_state(container(name)) for name in names}
    for name, (keys, dummy) in before.items():
        assert keys, "%s has no private key file to look for" % name

    run = subprocess.run(
        ["ansible-playbook", "-i", inventory, "--check", "--diff", "-e", "wgpf_keepalive=%d" % KEEPALIVE,
         "wgforward.portforward.site"],
        capture_output=True, text=True, timeout=900, check=False, env=dict(os.environ, ANSIBLE_FORCE_COLOR="0"))
    output = run.stdout + run.stderr
    assert run.returncode == 0, "site.yml --check --diff failed:\n" + output[-4000:]
    assert "+PersistentKeepalive = %d" % KEEPALIVE in output, (
        "--diff did not show the changed keepalive:\n" + output[-4000:])
    for name, (keys, dummy) in before.items():
        for key in keys:
            assert key not in output, "the private key of %s appears in the --check --diff output" % name

    for name, state in before.items():
        assert wireguard_state(container(name)) == state, "check mode changed %s" % name
