"""Test service of the Molecule scenarios: tells each client the address it saw.

    python3 wgpf_echo.py [--pktinfo] PROTO:PORT[-PORT] ...      e.g. ... tcp:8000-8002 udp:8000-8002

Listens on every given TCP and UDP port, on IPv6 and IPv4 (one dual-stack
socket, or IPv4 only where IPv6 is off). Each TCP connection and each UDP
datagram gets one line of JSON back:

    {"host": "private1", "proto": "tcp", "port": 8000, "src": "198.51.100.2", "sport": 40312}

host is this server's hostname (or $WGPF_ECHO_HOST: a service in a network
namespace of another host answers as the inventory host it stands for), port the local port that took the packet,
src/sport the peer address and port as this host saw them (IPv4-mapped
IPv6 addresses are shown as plain IPv4).

UDP answers leave like those of most UDP services: from a wildcard socket,
with the source address the kernel's routing picks. --pktinfo answers from
the address each datagram was sent to instead (IPV6_PKTINFO), like services
that bind each address or track it. Started by wgpf-echo.service
(Type=notify: systemd reports it started once every socket is bound).
"""

import json
import os
import selectors
import socket
import sys

HOST = os.environ.get("WGPF_ECHO_HOST")


def spans(args):
    for arg in args:
        proto, ports = (arg.split(":", 1) + [""])[:2]
        if proto not in ("tcp", "udp") or not ports:
            sys.exit("usage: wgpf_echo.py tcp|udp:PORT[-PORT] ...")
        bounds = ports.split("-")
        for port in range(int(bounds[0]), int(bounds[-1]) + 1):
            yield proto, port


def ipv6(sock):
    return sock.family == socket.AF_INET6


def bind(proto, port, pktinfo):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    try:
        sock = socket.socket(socket.AF_INET6, kind)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("::", port))
    except OSError:  # IPv6 disabled on this host
        sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", port))
    if proto == "tcp":
        sock.listen(64)
    elif pktinfo and ipv6(sock):
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    sock.setblocking(False)
    return sock


def answer(proto, port, peer):
    src = peer[0]
    if src.startswith("::ffff:") and "." in src:
        src = src[len("::ffff:"):]
    return (json.dumps({"host": HOST or socket.gethostname(), "proto": proto, "port": port,
                        "src": src, "sport": peer[1]}) + "\n").encode()


def notify_ready():
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"READY=1", path)


def udp_reply(sock, proto, port, pktinfo):
    if not (pktinfo and ipv6(sock)):
        peer = sock.recvfrom(2048)[1]
        sock.sendto(answer(proto, port, peer), peer)
        return
    received = sock.recvmsg(2048, socket.CMSG_SPACE(20))
    ancdata, peer = received[1], received[3]
    # Answer from the address the datagram was sent to (any interface: index 0).
    anc = [(level, kind, data[:16] + bytes(4)) for level, kind, data in ancdata
           if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO]
    sock.sendmsg([answer(proto, port, peer)], anc, 0, peer)


def main():
    args = sys.argv[1:]
    pktinfo = "--pktinfo" in args
    sel = selectors.DefaultSelector()
    for proto, port in spans(a for a in args if a != "--pktinfo"):
        sel.register(bind(proto, port, pktinfo), selectors.EVENT_READ, (proto, port))
    notify_ready()
    while True:
        for key, _events in sel.select():
            proto, port = key.data
            try:
                if proto == "udp":
                    udp_reply(key.fileobj, proto, port, pktinfo)
                else:
                    conn, peer = key.fileobj.accept()
                    with conn:
                        # The client may send a line first; answer right away either way.
                        conn.settimeout(5)
                        conn.sendall(answer(proto, port, peer))
            except OSError as exc:
                print("wgpf-echo: %s/%d: %s" % (proto, port, exc), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
