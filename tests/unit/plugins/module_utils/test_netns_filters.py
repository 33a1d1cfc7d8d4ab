# -*- coding: utf-8 -*-
"""The public server's rendered table, loaded in a network namespace between a client and a private
server: a DNAT'd connection passes with its MSS clamped both ways, while a WAN neighbour that routes
the tunnel's addresses at the public server reaches neither the private server nor the public
server's own tunnel address. Veths stand in for the tunnel (the rules match interface names)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest
from builders import seed_direct, seed_lan

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

SERVER = """
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 8080))
srv.listen(8)
print("ready", flush=True)
while True:
    conn, _peer = srv.accept()
    conn.sendall(b"%d\\n" % conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
    conn.close()
"""

CLIENT = """
import socket, sys
sock = socket.socket()
sock.settimeout(1.0)
try:
    sock.connect((sys.argv[1], int(sys.argv[2])))
    server_mss = sock.recv(64).decode().strip()
    print("ok", server_mss, sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
except OSError as exc:
    print("fail", type(exc).__name__)
"""


def public_table(mtu, technique):
    inv = seed_direct()
    inv.hosts["public1"]["wgpf_mtu"] = mtu
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080, technique=technique)
    plan = plan_inventory(inv.data())["public1"]
    return next(f["content"] for f in render_files(plan) if f["kind"] == "nftables")


def sh(*args):
    subprocess.run(list(args), check=True, capture_output=True, text=True)


def build_lab(ns, table_path):
    client, public, private = ns
    for name in ns:
        sh("ip", "netns", "add", name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0")
    sh("ip", "-n", client, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", public)
    sh("ip", "-n", public, "link", "add", "wg0", "type", "veth", "peer", "name", "wg0", "netns", private)
    for name, dev, addr in ((client, "eth0", "203.0.113.9/24"), (public, "eth0", "203.0.113.2/24"),
                            (public, "wg0", "10.0.0.2/24"), (private, "wg0", "10.0.0.3/24")):
        sh("ip", "-n", name, "addr", "add", addr, "dev", dev)
        sh("ip", "-n", name, "link", "set", dev, "up")
    sh("ip", "netns", "exec", public, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
    # The private server routes everything back through the tunnel (as default_route or a table would),
    # so without the drop a neighbour's direct connection would succeed.
    sh("ip", "-n", private, "route", "add", "default", "via", "10.0.0.2")
    # The WAN neighbour routes the tunnel's network at the public server.
    sh("ip", "-n", client, "route", "add", "10.0.0.0/24", "via", "203.0.113.2")
    sh("ip", "netns", "exec", public, "nft", "-f", str(table_path))


def connect(client, host, port):
    run = subprocess.run(["ip", "netns", "exec", client, sys.executable, "-c", CLIENT, host, str(port)],
                         capture_output=True, text=True, check=True, timeout=10)
    return run.stdout.split()


@pytest.mark.parametrize("technique", ["masquerade", "default_route"])
def test_public_table_forwards_dnat_clamps_mss_and_drops_routed_packets(technique, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("network namespaces with veths need root (ip netns add)")
    if not (shutil.which("ip") and shutil.which("nft") and shutil.which("sysctl")):
        pytest.fail("ip, nft and sysctl are required: run the tests through `make test`")
    table_path = tmp_path / "wgpf.nft"
    table_path.write_text(public_table(1280, technique))
    tag = uuid.uuid4().hex[:6]
    ns = ("wgpf-c-%s" % tag, "wgpf-p-%s" % tag, "wgpf-s-%s" % tag)
    servers = []
    try:
        build_lab(ns, table_path)
        for name in (ns[2], ns[0]):
            servers.append(subprocess.Popen(["ip", "netns", "exec", name, sys.executable, "-c", SERVER],
                                            stdout=subprocess.PIPE, text=True))
            assert servers[-1].stdout.readline().strip() == "ready"
        # Through the DNAT: passes; the SYN (seen by the server) and the SYN-ACK (seen by the client)
        # carry 1280 - 40 = 1240 at most, against 1460 on these 1500-byte veths.
        result = connect(ns[0], "203.0.113.2", 2000)
        assert result[0] == "ok", result
        assert int(result[1]) <= 1240 and int(result[2]) <= 1240, result
        # Routed straight at the private server's address: dropped, not DNAT'd.
        assert connect(ns[0], "10.0.0.3", 8080) == ["fail", "TimeoutError"]
        # The public server's own tunnel address from the WAN: dropped (unlisted port: no refusal either).
        assert connect(ns[0], "10.0.0.2", 9) == ["fail", "TimeoutError"]
        listed = subprocess.run(["ip", "netns", "exec", ns[1], "nft", "list", "chain", "inet", "wgpf", "forward"],
                                capture_output=True, text=True, check=True).stdout
        assert "counter packets 0 " not in listed.split("ct status dnat")[1].split("\n")[0], listed
        if technique == "default_route":
            # The private server's own connection out through the public server: its replies come back in.
            assert connect(ns[2], "203.0.113.9", 8080)[0] == "ok"
    finally:
        for server in servers:
            server.kill()
            server.wait()
        for name in ns:
            subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)


# ------------------------------------------------------------------ only the service's replies move

ROUTE_GET = """set -e
ip link set lo up
ip link add eth0 type veth peer name lan1; ip link set eth0 up; ip link set lan1 up
ip addr add 172.31.0.1/24 dev eth0
ip link add wg0 type veth peer name wgp; ip link set wg0 up; ip link set wgp up
ip route add default via 172.31.0.254 dev eth0
ip route add default dev wg0 table 51900
sh %s up
for probe in "tcp sport 8080" "tcp sport 40000" "udp sport 40000 dport 53"; do
    ip route get 11.0.0.9 from 172.31.0.3 iif lan1 ipproto $probe | head -1
done
"""


def test_the_gateway_intermediate_sends_only_the_services_replies_into_the_tunnel(tmp_path):
    """The rendered routes.sh of an intermediate that is the private server's gateway, in an unprivileged
    netns: the service's replies take the tunnel's table, the private server's own TCP and DNS do not."""
    if not shutil.which("unshare"):
        pytest.fail("unshare is required: run the tests through `make test`")
    inv = seed_lan(private_vars={"gateway_is_intermediate": True})
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080, technique="policy_routing")
    plan = plan_inventory(inv.data())["inter1"]
    script = tmp_path / "routes.sh"
    script.write_text(next(f["content"] for f in render_files(plan) if f["kind"] == "routes"))
    run = subprocess.run(["unshare", "-rn", "sh", "-c", ROUTE_GET % script], capture_output=True, text=True,
                         check=False, env=dict(os.environ, WGPF_RUN_DIR=str(tmp_path / "run")))
    assert run.returncode == 0, run.stderr
    service, own_tcp, dns = run.stdout.splitlines()
    assert "dev wg0 table 51900" in service, run.stdout
    assert "via 172.31.0.254 dev eth0" in own_tcp and "via 172.31.0.254 dev eth0" in dns, run.stdout


# ------------------------------------------------------------------ rp_filter and strict SAV on the LAN

RECEIVE = """
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
sock.settimeout(float(sys.argv[2]))
try:
    while True:
        data, peer = sock.recvfrom(64)
        print(peer[0], flush=True)
except socket.timeout:
    pass
"""

SEND = """
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], 0))
for _i in range(3):
    sock.sendto(b"x", (sys.argv[2], int(sys.argv[3])))
"""


def in_ns(name, *args):
    return ["ip", "netns", "exec", name] + list(args)


def received(ns_from, source, ns_to, dest, port):
    """The sources ns_to saw of three datagrams ns_from sent from ``source``."""
    receiver = subprocess.Popen(in_ns(ns_to, sys.executable, "-c", RECEIVE, str(port), "0.5"),
                                stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout.readline().strip() == "ready"
        sh(*in_ns(ns_from, sys.executable, "-c", SEND, source, dest, str(port)))
        out, _err = receiver.communicate(timeout=5)
    finally:
        receiver.kill()
        receiver.wait()
    return sorted(set(out.split()))


def strict_inter_files():
    inv = seed_lan(private_vars={"gateway_is_intermediate": True})
    inv.hosts["inter1"].update({"wgpf_sav": "strict", "wgpf_lan_address": "172.31.0.1/24"})
    inv.forward(name="game", public="public1", port=2000, to="private1", to_port=8080, protocols=["udp"],
                technique="policy_routing")
    plan = plan_inventory(inv.data())["inter1"]
    files = {f["kind"]: f["content"] for f in render_files(plan)}
    # routes.sh's if_sysctl line for the tunnel, as the command it runs.
    dummy, dummy2, key, value = next(x.split() for x in files["routes"].splitlines() if "if_sysctl wg0 " in x)
    return files["nftables"], "sysctl -q -w %s=%s" % (key, value)


def build_lan_lab(ns, table_path):
    lan, inter, pub = ns
    for name in ns:
        sh("ip", "netns", "add", name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
    sh("ip", "-n", lan, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", inter)
    sh("ip", "-n", inter, "link", "add", "wg0", "type", "veth", "peer", "name", "wg0", "netns", pub)
    for name, dev, addr in ((lan, "eth0", "172.31.0.3/24"), (lan, "eth0", "11.0.0.7/32"),
                            (inter, "eth0", "172.31.0.1/24"), (inter, "wg0", "10.0.0.1/24"),
                            (pub, "wg0", "10.0.0.2/24"), (pub, "wg0", "11.0.0.9/32")):
        sh("ip", "-n", name, "addr", "add", addr, "dev", dev)
        sh("ip", "-n", name, "link", "set", dev, "up")
    sh("ip", "-n", lan, "route", "add", "default", "via", "172.31.0.1")
    sh("ip", "-n", pub, "route", "add", "172.31.0.0/24", "via", "10.0.0.1")
    # 11.0.0.x stand for Internet addresses (documentation ranges are bogons, which strict SAV drops on
    # the tunnel). The intermediate's own default route is on the LAN, as on a home server: Internet sources
    # arriving from the tunnel fail strict rp_filter unless the tunnel is loosened.
    sh("ip", "-n", inter, "route", "add", "default", "via", "172.31.0.254")
    for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.eth0.rp_filter=0",
                "net.ipv4.conf.wg0.rp_filter=0"):
        sh(*in_ns(inter, "sysctl", "-q", "-w", key))
    sh(*in_ns(inter, "nft", "-f", str(table_path)))
    # Resolve the neighbours first: strict rp_filter also refuses an ARP request whose sender is an
    # Internet address, which would hide what it does to the forwarded datagrams.
    sh(*in_ns(pub, sys.executable, "-c", SEND, "10.0.0.2", "10.0.0.1", "9"))
    sh(*in_ns(inter, sys.executable, "-c", SEND, "172.31.0.1", "172.31.0.3", "9"))


def rp_filter_drops(name):
    run = subprocess.run(in_ns(name, "nstat", "-az", "TcpExtIPReversePathFilter"), capture_output=True,
                         text=True, check=True)
    return int(run.stdout.split("TcpExtIPReversePathFilter")[1].split()[0])


def test_intermediate_loose_tunnel_under_strict_all_public_link_guard_and_strict_lan_sav(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("network namespaces with veths need root (ip netns add)")
    if not (shutil.which("ip") and shutil.which("nft") and shutil.which("sysctl")):
        pytest.fail("ip, nft and sysctl are required: run the tests through `make test`")
    table, postup = strict_inter_files()
    table_path = tmp_path / "wgpf.nft"
    table_path.write_text(table)
    tag = uuid.uuid4().hex[:6]
    ns = ("wgpf-l-%s" % tag, "wgpf-i-%s" % tag, "wgpf-u-%s" % tag)
    try:
        build_lan_lab(ns, table_path)
        lan, inter, pub = ns
        # all.rp_filter=1 and the tunnel at 0: the effective value is the larger, 1 (strict), which
        # drops an Internet client's forwarded datagram; routes.sh's 2 makes the larger 2 (loose).
        assert received(pub, "11.0.0.9", lan, "172.31.0.3", 8080) == []
        assert rp_filter_drops(inter) == 3
        sh(*in_ns(inter, "sh", "-c", postup))
        assert received(pub, "11.0.0.9", lan, "172.31.0.3", 8080) == ["11.0.0.9"]
        # The public link brings only the forwarded destination: another port of the same host is dropped.
        assert received(pub, "11.0.0.9", lan, "172.31.0.3", 9999) == []
        # The private server's own LAN address passes; a source outside the LAN is dropped (strict SAV),
        # although rp_filter alone would pass it (the intermediate's default route is on that LAN).
        assert received(lan, "172.31.0.3", pub, "10.0.0.2", 9999) == ["172.31.0.3"]
        assert received(lan, "11.0.0.7", pub, "10.0.0.2", 9999) == []
    finally:
        for name in ns:
            subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)
