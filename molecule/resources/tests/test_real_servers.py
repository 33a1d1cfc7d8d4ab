"""Checks of molecule/real_servers: hosts prepared like real servers (prepare_real_servers.yml).

Skipped unless the scenario's test_expect has ``real_servers``. Each check uses
real traffic from the client or the hosts' real state:

- a 300 kB upload through a forward reaches the sink on the private server in full although the client drops ICMP
  "fragmentation needed" and the tunnel is smaller than the WAN (MSS clamp);
- the client, a neighbour on public1's segment that routes the LAN and tunnel
  prefixes at public1, reaches nothing there, and an unforwarded port is closed;
- the firewall hooks stand once each, in DOCKER-USER, scoped to the forwarded
  flows, and Docker's own rules and FORWARD policy DROP are all still there;
- Docker's own container (a network namespace on docker0) still reaches
  beyond its host;
- after `systemctl restart nftables` on every host, then a restart of (the
  footprint of) Docker, the forward answers again with no Ansible run;
- a UDP flow the client started before converge (its conntrack entry on
  public1 un-NATed) reaches the service after converge;
- public1's reserved local ports are its own plus the forwarded ones, running
  and in the drop-in (after the restart too).
"""

import json
import time

import pytest

from test_forward import answered, probe
from traffic import cases

HOSTS = ["public1", "intermediate1", "private1"]

# Runs in the client: sends N bytes, half-closes, prints what the sink on the private server counted.
UPLOAD = r"""
import socket, sys
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
sock.sendall(b"x" * int(sys.argv[3]))
sock.shutdown(socket.SHUT_WR)
print(sock.recv(64).decode().strip())
"""
BACKENDS = ["iptables-nft", "iptables-legacy"]


@pytest.fixture(scope="module")
def rs(scenario):
    if "real_servers" not in scenario:
        pytest.skip("not a real_servers scenario")
    return scenario["real_servers"]


def answered_cases(scenario):
    return [pair[1] for pair in cases(scenario) if "bind" not in pair[1]]


def wait_for_forwards(client, scenario, seconds=60):
    """Every TCP and UDP case answers with the client's address (retried until ``seconds``)."""
    deadline = time.monotonic() + seconds
    for case in answered_cases(scenario):
        wrong = answered(client, case, max(0, deadline - time.monotonic()))
        assert not wrong, "; ".join(wrong)


def tagged_rules(host):
    out = []
    for binary in BACKENDS:
        # Listing a legacy table that is not loaded would create it: only where it is.
        if binary.endswith("legacy") and "filter" not in host.run("cat /proc/net/ip_tables_names").stdout.split():
            continue
        cmd = host.run("%s -w -S 2>/dev/null" % binary)
        out += [(binary, line) for line in cmd.stdout.splitlines() if "wgpf:" in line]
    return out


def test_large_upload_through_the_forward_completes(client, scenario, rs):
    wait_for_forwards(client, scenario)
    up = rs["upload"]
    port = str(scenario["forwards"][up["forward"]]["port"])
    cmd = client.run("timeout 30 python3 -c %s %s %s %s", UPLOAD, up["connect"], port, str(up["bytes"]))
    assert cmd.rc == 0, "the upload stalled or failed (rc %s): %s" % (cmd.rc, cmd.stdout + cmd.stderr[-400:])
    assert cmd.stdout.strip() == str(up["bytes"]), "the sink counted %r of %d bytes" % (cmd.stdout, up["bytes"])


def test_neighbour_routing_at_the_public_server_reaches_nothing(client, scenario, rs):
    wait_for_forwards(client, scenario)
    for target in rs["unreachable"]:
        addr, port = target.rsplit(":", 1)
        result = probe(client, {"proto": "tcp", "addr": addr, "port": int(port)}, timeout=3)
        # No answer at all: a refusal would mean the packet got there.
        assert "timed out" in result.get("error", ""), "%s answered a neighbour's routed packet: %s" % (target, result)


def test_an_unforwarded_port_stays_closed(client, scenario, rs):
    for proto in ("tcp", "udp"):
        result = probe(client, {"proto": proto, "addr": rs["upload"]["connect"], "port": rs["closed_port"]}, timeout=3)
        assert "error" in result, "%s/%d is not forwarded but answered: %s" % (proto, rs["closed_port"], result)


def test_firewall_hooks_stand_once_scoped_and_docker_keeps_its_rules(container, scenario, rs):
    flows = sum(len(f.get("protocols", ["tcp"])) for f in scenario["forwards"].values())
    for name in rs["firewall_hosts"]:
        host = container(name)
        rules = tagged_rules(host)
        lines = [line for _binary, line in rules]
        assert len(lines) == len(set(lines)), "%s: a hook rule stands twice: %s" % (name, lines)
        # In and reply per forwarded flow; the listen port only where INPUT drops (not here).
        assert len(lines) == 2 * flows, "%s: %d hook rules for %d flows: %s" % (name, len(lines), flows, lines)
        for line in lines:
            assert line.startswith("-A DOCKER-USER "), "%s: hook outside DOCKER-USER: %s" % (name, line)
            assert " -i " in line or " -o " in line, "%s: hook not scoped to an interface: %s" % (name, line)
            assert "-d 172.31.19.3/32" in line or "-s 172.31.19.3/32" in line, "%s: hook not scoped: %s" % (name, line)
        binary = rules[0][0]
        forward = host.run("%s -w -S FORWARD", binary).stdout.splitlines()
        assert forward[0] == "-P FORWARD DROP" and forward[1] == "-A FORWARD -j DOCKER-USER", forward
        assert "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT" in forward, "%s: Docker's own rules are gone" % name
        assert "-A DOCKER-USER -j RETURN" in host.run("%s -w -S DOCKER-USER", binary).stdout


def test_dockers_own_containers_keep_their_internet_access(container, rs):
    for name, target in sorted(rs["docker_container_reaches"].items()):
        ping = container(name).run("ip netns exec test-ct ping -c 2 -W 2 %s", target)
        assert ping.rc == 0, "%s: Docker's container cannot reach %s: %s" % (name, target, ping.stdout + ping.stderr)


def test_forwards_come_back_after_nftables_and_docker_restart(client, container, scenario, rs):
    wait_for_forwards(client, scenario)
    for name in HOSTS:
        assert container(name).run("systemctl restart nftables.service").rc == 0
    wait_for_forwards(client, scenario, seconds=20)
    for name in rs["firewall_hosts"]:
        assert container(name).run("systemctl restart docker.service").rc == 0
        # Its restart follows docker's (PartOf, After=): queued, so it may still be running.
        active = container(name).run("timeout 15 sh -c 'until systemctl is-active -q wgpf-firewall; do sleep 0.2; done'")
        assert active.rc == 0, "%s: wgpf-firewall.service did not come back after docker.service" % name
    wait_for_forwards(client, scenario, seconds=20)
    for name in rs["firewall_hosts"]:
        assert len(tagged_rules(container(name))) == len(set(tagged_rules(container(name))))


def test_a_udp_flow_from_before_the_dnat_reaches_the_service(client, rs):
    flow = rs["stale_flow"]
    if not client.file("/run/test-udp-flow/started").exists:
        pytest.skip("the flow prepare started ended with side_effect's restart")
    deadline = time.monotonic() + 10
    seen = {}
    while time.monotonic() < deadline:
        cat = client.run("cat /run/test-udp-flow/seen.json 2>/dev/null; echo; date +%s.%N")
        lines = cat.stdout.strip().splitlines()
        seen = json.loads(lines[0]) if len(lines) == 2 else {}
        if seen and float(lines[1]) - seen["time"] < 2:
            break
        time.sleep(0.5)
    assert seen, "the service never answered the flow that started before the DNAT (stale conntrack entry)"
    assert float(lines[1]) - seen["time"] < 2, "the flow's last answer is %.0f s old: %r" % (
        float(lines[1]) - seen["time"], seen)
    reply = json.loads(seen["reply"])
    assert (reply["host"], reply["src"], reply["sport"]) == (flow["to"], flow["bind"], flow["sport"]), reply


def test_reserved_ports_are_the_hosts_own_plus_the_forwarded(container, rs):
    public = container(rs["public"])
    running = public.check_output("cat /proc/sys/net/ipv4/ip_local_reserved_ports")
    assert running == rs["reserved_with_forwards"], "running: %r (host's own: %s)" % (running, rs["host_reserved"])
    dropin = public.check_output("cat /etc/sysctl.d/90-wgpf.conf")
    assert "net.ipv4.ip_local_reserved_ports = %s\n" % rs["reserved_with_forwards"] in dropin + "\n", dropin
