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

from ansible_collections.wgforward.portforward.plugins.module_utils.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render import render_files

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


def public_table(mtu):
    inv = seed_direct()
    inv.hosts["public1"]["wgpf_mtu"] = mtu
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080, technique="masquerade")
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


def test_public_table_forwards_dnat_clamps_mss_and_drops_routed_packets(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("network namespaces with veths need root (ip netns add)")
    if not (shutil.which("ip") and shutil.which("nft") and shutil.which("sysctl")):
        pytest.fail("ip, nft and sysctl are required: run the tests through `make test`")
    table_path = tmp_path / "wgpf.nft"
    table_path.write_text(public_table(1280))
    tag = uuid.uuid4().hex[:6]
    ns = ("wgpf-c-%s" % tag, "wgpf-p-%s" % tag, "wgpf-s-%s" % tag)
    server = None
    try:
        build_lab(ns, table_path)
        server = subprocess.Popen(["ip", "netns", "exec", ns[2], sys.executable, "-c", SERVER],
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "ready"
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
    finally:
        if server is not None:
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
    ip route get 198.51.100.9 from 172.31.0.3 iif lan1 ipproto $probe | head -1
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
                         check=False)
    assert run.returncode == 0, run.stderr
    service, own_tcp, dns = run.stdout.splitlines()
    assert "dev wg0 table 51900" in service, run.stdout
    assert "via 172.31.0.254 dev eth0" in own_tcp and "via 172.31.0.254 dev eth0" in dns, run.stdout
