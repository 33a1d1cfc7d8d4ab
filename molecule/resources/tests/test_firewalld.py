"""Checks of molecule/policy_routing_hub with firewalld on the public and intermediate servers.

Skipped unless the scenario's test_expect has ``firewalld`` (the hosts that run
it, prepared by prepare_firewalld.yml: nftables backend, default zone public
holding the Ethernet interfaces, nothing opened). Real traffic from the client
and firewalld's own view:

- firewalld runs its nftables table with default zone public, and the
  collection's table ``inet wgpf`` stands beside it;
- what the collection added to firewalld is exactly its two policies, with
  exactly the rich rules test_expect lists (running and permanent), and every
  other zone and policy is as prepare wrote it down before converge;
- (first verify only; the second, after every container restarted, sees the
  forwards through firewalld in test_forward.py) the forwards answer with the
  client's address, and again (no Ansible run) after `firewall-cmd --reload`, `systemctl restart firewalld`, the WAN
  interface moved to another zone, the default zone changed to ``drop``, and
  both back; the table ``inet wgpf`` survives the reload and restart;
- a service of public1's own (a port nobody forwards) stays closed to the client;
- (first verify only) with wgpf-forward deleted by hand on the hub, the forwards get no answer;
  site.yml reports it as drift and puts it back, and they answer again.
"""

import json
import os
import subprocess

import pytest

from lab import first_verify_only, molecule_inventory
from test_forward import answered
from test_real_servers import answered_cases, wait_for_forwards

BEFORE = "/var/lib/test-firewalld.before"
OURS = ("wgpf-input", "wgpf-forward")
MARKER = "wgpf-firewalld-done"
LISTING = ("firewall-cmd --list-all-zones; firewall-cmd --list-all-policies; "
           "firewall-cmd --permanent --list-all-zones; firewall-cmd --permanent --list-all-policies")


@pytest.fixture(scope="module")
def fwd(scenario):
    if "firewalld" not in scenario:
        pytest.skip("no firewalld in this scenario")
    return scenario["firewalld"]


def run(host, command):
    cmd = host.run(command)
    assert cmd.rc == 0, "`%s` failed: %s" % (command, cmd.stdout + cmd.stderr)
    return cmd.stdout


def without_ours(listing):
    """firewall-cmd's --list-all-* output without the blocks of the collection's policies."""
    out, skip = [], False
    for line in listing.splitlines():
        if line and not line[0].isspace():
            skip = line.split()[0] in OURS
        if not skip:
            out.append(line)
    return out


def test_firewalld_runs_its_nftables_table_beside_the_collections(container, fwd):
    for name in fwd["hosts"]:
        host = container(name)
        assert run(host, "firewall-cmd --state").strip() == "running", name
        assert run(host, "firewall-cmd --get-default-zone").strip() == "public", name
        run(host, "nft list table inet firewalld >/dev/null && nft list table inet wgpf >/dev/null")


# One exec per host (each firewall-cmd costs a Python start): the collection's policies as firewalld holds them,
# running and permanent ("## name", its rich rules, its target and zones), then every zone and policy and what
# prepare wrote down before converge, each part after a "#### " line.
OURS_SCRIPT = ("for p in $(firewall-cmd %(s)s --get-policies); do case $p in wgpf*) echo \"## $p\"; "
               "firewall-cmd %(s)s --policy=$p --list-rich-rules; "
               "firewall-cmd %(s)s --info-policy=$p | grep -E '^  (target|ingress-zones|egress-zones):';; esac; done")
STATE_SCRIPT = "; ".join(["echo '#### running'", OURS_SCRIPT % {"s": ""}, "echo '#### permanent'",
                          OURS_SCRIPT % {"s": "--permanent"}, "echo '#### all'", LISTING,
                          "echo '#### before'", "cat " + BEFORE])


def parse_ours(text):
    """{policy: (rich rules, {target, ingress-zones, egress-zones})} from OURS_SCRIPT's output."""
    out, name = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            name = line[3:]
            out[name] = ([], {})
        elif line.startswith("  ") and ":" in line:
            key, dummy, value = line.strip().partition(":")
            out[name][1][key] = value.strip()
        elif line:
            out[name][0].append(line)
    return out


def test_the_collection_added_exactly_its_two_policies(container, fwd):
    for name, want in fwd["hosts"].items():  # {host: {policy: [rich rule]}}
        parts = dict(part.split("\n", 1) for part in run(container(name), STATE_SCRIPT).split("#### ")[1:])
        for scope in ("running", "permanent"):
            found = parse_ours(parts[scope])
            assert sorted(found) == sorted(want), "%s %s: %s" % (name, scope, sorted(found))
            for policy, (rules, info) in found.items():
                assert sorted(rules) == sorted(want[policy]), "%s %s %s: %s" % (name, scope, policy, rules)
                egress = "HOST" if policy == "wgpf-input" else "ANY"
                assert info == {"target": "CONTINUE", "ingress-zones": "ANY", "egress-zones": egress}, info
        # Every zone and every other policy, running and permanent, as before converge.
        assert without_ours(parts["all"]) == without_ours(parts["before"]), name


def test_forwards_pass_firewalld_after_reload_restart_and_changed_zones(client, container, scenario, fwd):
    first_verify_only(MARKER + "-zones")
    hosts = {name: container(name) for name in fwd["hosts"]}
    wait_for_forwards(client, scenario)
    wan = {name: run(host, "ip -o -4 addr show to %s | awk '{print $2}'" % fwd["wan"][name]).strip()
           for name, host in hosts.items()}
    steps = [
        "firewall-cmd --reload",
        "systemctl restart firewalld.service",
        # The WAN interface into another zone (runtime, as NetworkManager's zone= of a connection does).
        "firewall-cmd --zone=%(zone)s --change-interface=%(wan)s",
        # Every interface no zone names (the WireGuard ones) into the zone that drops everything.
        "firewall-cmd --set-default-zone=drop",
        "firewall-cmd --set-default-zone=public && firewall-cmd --zone=public --change-interface=%(wan)s",
    ]
    for step in steps:
        for name, host in hosts.items():
            run(host, step % {"zone": fwd["zone"][name], "wan": wan[name]})
        wait_for_forwards(client, scenario, seconds=20)
        for name, host in hosts.items():
            run(host, "nft list table inet wgpf >/dev/null")  # firewalld flushes only its own table


# Runs in the client: "open" when a TCP connection to ADDR PORT is accepted.
CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 3); print('open')"
# Runs on the host: a listener on PORT for 30 s, as any service of the host's own.
LISTEN = ("import socket, time; s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, "
          "socket.SO_REUSEADDR, 1); s.bind(('::', %d)); s.listen(); time.sleep(30)")


def test_a_port_of_the_host_nobody_forwards_stays_closed(client, container, fwd):
    """The policies open the listen ports and forwarded flows only: a service of the host's own stays closed."""
    closed = fwd["closed"]
    host = container(closed["host"])
    run(host, "(timeout 40 python3 -c \"%s\" >/dev/null 2>&1 &) ; sleep 1; ss -Htln 'sport = :%d' | grep -q ."
        % (LISTEN % closed["port"], closed["port"]))
    assert "open" in run(host, "python3 -c \"%s\" ::1 %d" % (CONNECT, closed["port"]))  # it listens
    cmd = client.run("python3 -c %s %s %s", CONNECT, closed["addr"], str(closed["port"]))
    assert "open" not in cmd.stdout, "%s:%d answered the client through firewalld" % (closed["addr"], closed["port"])


def site_drift(inventory, host):
    """The drift lines the apply step of ``host`` reported in one site.yml run (the JSON callback)."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0")
    done = subprocess.run(["ansible-playbook", "-i", inventory, "wgforward.portforward.site"], capture_output=True,
                          text=True, timeout=600, check=False, env=env)
    assert done.returncode == 0, "site.yml failed: %s" % (done.stdout[-3000:] + done.stderr[-2000:])
    out = json.loads(done.stdout[done.stdout.index("{"):])
    return [line for play in out["plays"] for task in play["tasks"] for name, result in task["hosts"].items()
            if name == host for line in result.get("drift") or []]


def test_site_repairs_and_reports_the_forward_policy_deleted_by_hand(pytestconfig, client, container, scenario, fwd):
    """Without wgpf-forward the hub rejects the forwards; site.yml puts it back and says so. First verify only."""
    inventory = molecule_inventory(pytestconfig)
    first_verify_only(MARKER + "-drift")
    name = fwd["drift_host"]
    run(container(name), "firewall-cmd --permanent --delete-policy=wgpf-forward && firewall-cmd --reload")
    case = answered_cases(scenario)[0]
    assert answered(client, case, 3), "the forward still answers without wgpf-forward on %s" % name
    lines = site_drift(inventory, name)
    want = 'firewalld policy wgpf-forward (permanent, /etc/firewalld/policies/wgpf-forward.xml): missing rule ' \
        'family="ipv4" destination address="10.201.4.3" port port="8080" protocol="tcp" accept'
    assert want in lines, "%s: site.yml did not report the deleted policy: %s" % (name, lines)
    wait_for_forwards(client, scenario, seconds=30)
