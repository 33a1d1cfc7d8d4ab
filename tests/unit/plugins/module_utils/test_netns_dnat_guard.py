# -*- coding: utf-8 -*-
"""The public server's rendered table in a network namespace: only its own DNAT decision opens the
tunnel. A forward with ``sources`` answers those sources only; a masqueraded forward reaches its
service from the public server's tunnel address; and a DNAT made by another table (before or after
the collection's, to a forward's own target or elsewhere) does not enter the tunnel, although its
packets carry ``ct status dnat`` and, for a forward's target, that forward's address and port.

client 192.168.240.9 (+ .10) --eth0-- public 192.168.240.2 / wg0 10.0.0.2 --wg0-- private 10.0.0.3
(default via 10.0.0.2). Veths stand in for the tunnel (the rules match interface names).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest
from builders import seed_direct

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

# Each connection is answered with the address the service saw it from.
SERVER = """
import socket, threading
def serve(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(8)
    while True:
        conn, peer = srv.accept()
        conn.sendall(peer[0].encode())
        conn.close()
for port in (8080, 8081, 8082, 8083, 8084):
    threading.Thread(target=serve, args=(port,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""

CLIENT = """
import socket, sys
sock = socket.socket()
sock.settimeout(1.0)
sock.bind((sys.argv[1], 0))
try:
    sock.connect((sys.argv[2], int(sys.argv[3])))
    print("ok", sock.recv(64).decode())
except OSError as exc:
    print("fail", type(exc).__name__)
"""

# Another table's DNATs, before the collection's (9002) and after it (9000, 9001): to a forward's
# target address and port (8080) and to a port no forward has (8083).
FOREIGN = """table ip foreign {
    chain before {
        type nat hook prerouting priority dstnat - 10; policy accept;
        iifname "eth0" tcp dport 9002 dnat to 10.0.0.3:8080
    }
    chain after {
        type nat hook prerouting priority dstnat + 10; policy accept;
        iifname "eth0" tcp dport 9000 dnat to 10.0.0.3:8080
        iifname "eth0" tcp dport 9001 dnat to 10.0.0.3:8083
    }
}
"""

CLIENT_ADDR, OTHER_CLIENT, PUBLIC_WAN = "192.168.240.9", "192.168.240.10", "192.168.240.2"
TIMEOUT, REFUSED = ["fail", "TimeoutError"], ["fail", "ConnectionRefusedError"]
# (client address, public port): what the client gets.
EXPECTED = {
    (CLIENT_ADDR, 2000): ["ok", CLIENT_ADDR],  # open forward, source preserved
    (CLIENT_ADDR, 2100): ["ok", CLIENT_ADDR],  # its sources hold the client
    (OTHER_CLIENT, 2100): REFUSED,  # not its sources: not translated, the public server itself refuses
    (CLIENT_ADDR, 2200): REFUSED,  # another network's forward
    (CLIENT_ADDR, 2300): ["ok", "10.0.0.2"],  # masqueraded: the service sees the public server's tunnel address
    (CLIENT_ADDR, 9000): TIMEOUT,  # another table's DNAT after the collection's, to a forward's target
    (CLIENT_ADDR, 9001): TIMEOUT,  # ... to a port no forward has
    (CLIENT_ADDR, 9002): TIMEOUT,  # ... before the collection's
}


def public_table():
    inv = seed_direct()
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080)
    inv.forward(name="mine", public="public1", port=2100, to="private1", to_port=8081, sources=[CLIENT_ADDR + "/32"])
    inv.forward(name="theirs", public="public1", port=2200, to="private1", to_port=8082, sources=["10.99.0.0/24"])
    inv.forward(name="hidden", public="public1", port=2300, to="private1", to_port=8084, preserve_source=False)
    plan = plan_inventory(inv.data())["public1"]
    return next(f["content"] for f in render_files(plan) if f["kind"] == "nftables")


def sh(*args, **kwargs):
    subprocess.run(list(args), check=True, capture_output=True, text=True, **kwargs)


def build_lab(ns, table):
    client, public, private = ns
    for name in ns:
        sh("ip", "netns", "add", name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
    sh("ip", "-n", client, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", public)
    sh("ip", "-n", public, "link", "add", "wg0", "type", "veth", "peer", "name", "wg0", "netns", private)
    for name, dev, addr in ((client, "eth0", CLIENT_ADDR + "/24"), (client, "eth0", OTHER_CLIENT + "/24"),
                            (public, "eth0", PUBLIC_WAN + "/24"), (public, "wg0", "10.0.0.2/24"),
                            (private, "wg0", "10.0.0.3/24")):
        sh("ip", "-n", name, "addr", "add", addr, "dev", dev)
        sh("ip", "-n", name, "link", "set", dev, "up")
    sh("ip", "netns", "exec", public, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
    # Everything back through the tunnel, so only the public server's table stands between.
    sh("ip", "-n", private, "route", "add", "default", "via", "10.0.0.2")
    sh("ip", "netns", "exec", public, "nft", "-f", "-", input=table)
    sh("ip", "netns", "exec", public, "nft", "-f", "-", input=FOREIGN)


def connect(client, source, port):
    run = subprocess.run(["ip", "netns", "exec", client, sys.executable, "-c", CLIENT, source, PUBLIC_WAN, str(port)],
                         capture_output=True, text=True, check=True, timeout=10)
    return run.stdout.split()


def test_only_the_collections_own_dnat_enters_the_tunnel_and_sources_hold():
    if os.geteuid() != 0:
        pytest.skip("network namespaces with veths need root (ip netns add)")
    if not (shutil.which("ip") and shutil.which("nft") and shutil.which("sysctl")):
        pytest.fail("ip, nft and sysctl are required: run the tests through `make test`")
    tag = uuid.uuid4().hex[:6]
    ns = ("wgpf-gc-%s" % tag, "wgpf-gp-%s" % tag, "wgpf-gs-%s" % tag)
    server = None
    try:
        build_lab(ns, public_table())
        server = subprocess.Popen(["ip", "netns", "exec", ns[2], sys.executable, "-c", SERVER],
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "ready"
        got = {key: connect(ns[0], *key) for key in EXPECTED}
        assert got == EXPECTED
    finally:
        if server:
            server.kill()
            server.wait()
        for name in ns:
            subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)
