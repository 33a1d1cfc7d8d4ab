"""Every unit of the collection on every managed host is active: after converge, and after the
reboot of every host (side_effect.yml stops every container, then starts them one by one in the
order test_expect.reboot_order names) with no Ansible run. Every scenario runs it.

The units: wg-quick@ of each /etc/wireguard/*.conf the collection wrote, and wgpf-nftables,
wgpf-routes and wgpf-firewall where their unit file is installed. A unit that is active only
after a retry still counts, but none of them may be in the failed state.
"""

import subprocess

import pytest

UNIT_DIR = "/etc/systemd/system"
HELPERS = ["wgpf-nftables.service", "wgpf-routes.service", "wgpf-firewall.service"]
HEADER = "# Managed by wgforward.portforward"


def containers(scenario):
    """The running containers of the scenario (create.yml labels each with its scenario)."""
    out = subprocess.run(["docker", "ps", "--filter", "label=wgpf_scenario=%s" % scenario["name"],
                          "--format", "{{.Names}}"], capture_output=True, text=True, check=True).stdout
    return sorted(out.split())


def units_of(host):
    """The collection's units the host starts at boot (enabled): a peer whose user runs `wg-quick up`
    by hand (default_route's peer1) has none."""
    units = [unit for unit in HELPERS if host.file("%s/%s" % (UNIT_DIR, unit)).exists]
    for conf in host.check_output("ls /etc/wireguard/ 2>/dev/null || true").split():
        if conf.endswith(".conf") and HEADER in host.file("/etc/wireguard/" + conf).content_string:
            units.append("wg-quick@%s.service" % conf[:-len(".conf")])
    return [unit for unit in units if host.run("systemctl is-enabled --quiet %s" % unit).rc == 0]


def test_every_unit_of_the_collection_is_active_and_none_failed(container, scenario):
    seen = 0
    for name in containers(scenario):
        host = container(name)
        units = units_of(host)
        if not units:
            continue
        seen += 1
        states = {unit: host.run("systemctl is-active %s" % unit).stdout.strip() for unit in units}
        bad = {unit: state for unit, state in states.items() if state != "active"}
        assert not bad, "%s: units not active: %s (journal: %s)" % (
            name, bad, host.run("journalctl -b --no-pager -n 20 -u %s" % " -u ".join(bad)).stdout[-1500:])
        failed = host.run("systemctl --failed --plain --no-legend").stdout
        ours = [line for line in failed.splitlines() if "wgpf" in line or "wg-quick@" in line]
        assert not ours, "%s: failed units: %s" % (name, ours)
    if not seen:
        pytest.skip("no host of this scenario runs the collection's units")
