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
- the forwards answer with the client's address, and again (no Ansible run)
  after `firewall-cmd --reload`, `systemctl restart firewalld`, the WAN
  interface moved to another zone, the default zone changed to ``drop``, and
  both back; the table ``inet wgpf`` survives the reload and restart;
- a service of public1's own (a port nobody forwards) stays closed to the client.
"""

import pytest

from test_forward import probe
from test_real_servers import wait_for_forwards

BEFORE = "/var/lib/test-firewalld.before"
OURS = ("wgpf-input", "wgpf-forward")
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


def test_the_collection_added_exactly_its_two_policies(container, fwd):
    for name, want in fwd["hosts"].items():  # {host: {policy: [rich rule]}}
        host = container(name)
        for scope in ("", "--permanent "):
            assert sorted(p for p in run(host, "firewall-cmd %s--get-policies" % scope).split() if p.startswith("wgpf")) \
                == sorted(want), "%s %s" % (name, scope)
            for policy, rules in want.items():
                live = run(host, "firewall-cmd %s--policy=%s --list-rich-rules" % (scope, policy)).splitlines()
                assert sorted(live) == sorted(rules), "%s %s%s: %s" % (name, scope, policy, live)
                info = run(host, "firewall-cmd %s--info-policy=%s" % (scope, policy))
                assert "target: CONTINUE" in info and "ingress-zones: ANY" in info, info
        # Every zone and every other policy, running and permanent, as before converge.
        assert without_ours(run(host, LISTING)) == without_ours(run(host, "cat " + BEFORE)), name


def test_forwards_pass_firewalld_after_reload_restart_and_changed_zones(client, container, scenario, fwd):
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
