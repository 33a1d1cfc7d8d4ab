"""wgpf_state: absent on molecule/real_servers gives every host back its state from before converge.

Runs in the scenario's last verify (after side_effect's restart, the last step that needs
the lab): site.yml with wgpf_state: absent, then each WireGuard host's state
(test-host-state: every other nftables table, iptables-legacy, ip rules and routes of
all tables, links and addresses, sysctls, unit files and active units, files under
/etc, /usr/local and /var/lib) must equal what prepare wrote down before converge;
a second absent run changes nothing. Skipped unless test_expect.real_servers.removal.
"""

import difflib
import os
import re
import subprocess

import pytest
from testinfra.utils.ansible_runner import AnsibleRunner

from lab import molecule_inventory

WIREGUARD_GROUPS = ("wireguard_public", "wireguard_intermediate", "wireguard_private")
ABSENT = '{"wgpf_state": "absent", "wgpf_forwards": []}'
RECAP = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


@pytest.fixture(scope="module")
def hosts(pytestconfig, scenario, container):
    if not scenario.get("real_servers", {}).get("removal"):
        pytest.skip("test_expect.real_servers.removal is not set for this scenario")
    inventory = molecule_inventory(pytestconfig)
    names = sorted({n for g in WIREGUARD_GROUPS for n in AnsibleRunner(inventory).get_hosts(g)})
    if container(names[0]).file("/run/wgpf-test-prepare-boot").exists:
        pytest.skip("runs after side_effect's restart: the later steps of this boot need the lab")
    return inventory, names


def site_absent(inventory):
    run = subprocess.run(["ansible-playbook", "-i", inventory, "-e", ABSENT, "wgforward.portforward.site"],
                         capture_output=True, text=True, timeout=600, check=False,
                         env=dict(os.environ, ANSIBLE_FORCE_COLOR="0"))
    output = run.stdout + run.stderr
    assert run.returncode == 0, "site.yml with wgpf_state: absent failed:\n" + output[-4000:]
    return {name: int(changed) for name, changed, dummy, dummy2 in RECAP.findall(output)}, output


def test_absent_gives_back_the_state_from_before_converge_and_again_changes_nothing(hosts, container):
    inventory, names = hosts
    changed, output = site_absent(inventory)
    assert all(changed.get(name) for name in names), "absent changed nothing on some host: %s" % changed
    wrong = []
    for name in names:
        host = container(name)
        before = host.check_output("cat /var/lib/wgpf-test/before.txt").splitlines()
        after = host.check_output("test-host-state").splitlines()
        if after != before:
            diff = difflib.unified_diff(before, after, "before converge", "after absent", lineterm="", n=1)
            wrong.append("%s:\n%s" % (name, "\n".join(diff)))
    assert not wrong, "absent did not give back the state from before converge:\n" + "\n".join(wrong)
    changed, output = site_absent(inventory)
    assert changed and set(changed.values()) == {0}, "a second absent run changed something: %s\n%s" % (
        changed, output[-3000:])
