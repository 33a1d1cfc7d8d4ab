# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TCP and UDP ports the host's own processes listen on, and its ephemeral port range (module host_state).

Read with ``ss -Hlntup`` (iproute2), which also tells a socket bound to one
interface (``0.0.0.0%lo:53``); where ss is missing or fails, from
/proc/net/{tcp,tcp6,udp,udp6} with the process names from /proc/<pid>/fd,
which cannot tell that binding (such a socket then counts as bound to every
interface: the safe side). Every listener is reported, loopback ones
included; which of them face the WAN is the planner's call
(model/own_ports.py), which knows the WAN interface and its addresses.

A listener is ``{protocol, address, interface, port, processes}``: ``address``
``0.0.0.0``, ``::`` or ``*`` (IPv6 and IPv4) for every address; ``interface``
None unless the socket is bound to one; ``processes`` the names of the
processes that hold it (none for a kernel socket, as WireGuard's own).
"""

from __future__ import annotations

import os
import re
import socket
import struct

SS_ARGS = ["-Hlntup"]
# The local column of ss: "0.0.0.0:22", "[::]:22", "*:123", "0.0.0.0%lo:2205", "[fe80::1]%eth0:546".
SS_LOCAL_RE = re.compile(r"(?P<addr>\[[^\]]*\]|[^%\s]*?)(?:%(?P<dev>[^\s]+?))?:(?P<port>\d+)")
SS_USER_RE = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=\d+')
# /proc/net: TCP_LISTEN, and for UDP TCP_CLOSE (bound, not connected: a connected UDP socket takes
# datagrams from its one peer only, so it is no listener).
PROC_FILES = (("tcp", socket.AF_INET, "tcp", "0A"), ("tcp", socket.AF_INET6, "tcp6", "0A"),
              ("udp", socket.AF_INET, "udp", "07"), ("udp", socket.AF_INET6, "udp6", "07"))
# Linux's default net.ipv4.ip_local_port_range, for a host that does not say.
DEFAULT_EPHEMERAL = (32768, 60999)


def from_ss(text):
    """Listeners from the output of ``ss -Hlntup``; None when it does not look like that output."""
    out = []
    for line in text.splitlines():
        fields = line.split(None, 6)
        if not fields:
            continue
        if len(fields) < 6 or fields[0] not in ("tcp", "udp"):
            return None
        match = SS_LOCAL_RE.fullmatch(fields[4])
        if match is None:
            return None
        users = SS_USER_RE.findall(fields[6]) if len(fields) > 6 else []
        out.append(_listener(fields[0], match.group("addr").strip("[]"), match.group("dev"),
                             int(match.group("port")), users))
    return out


def _listener(protocol, address, interface, port, processes):
    return {"protocol": protocol, "address": address, "interface": interface, "port": port,
            "processes": sorted(set(processes))}


def _proc_address(family, text):
    """An address of /proc/net/*: 32-bit words in the host's byte order."""
    raw = b"".join(struct.pack("=I", int(text[i:i + 8], 16)) for i in range(0, len(text), 8))
    return socket.inet_ntop(family, raw)


def socket_owners(proc="/proc"):
    """{socket inode: {process names}} of every process this module may look into."""
    owners = {}
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        base = os.path.join(proc, pid)
        try:
            with open(os.path.join(base, "comm"), encoding="utf-8", errors="replace") as handle:
                comm = handle.read().rstrip("\n")
            fds = os.listdir(os.path.join(base, "fd"))
        except OSError:
            continue  # gone, or not ours to read
        for fd in fds:
            try:
                link = os.readlink(os.path.join(base, "fd", fd))
            except OSError:
                continue
            if link.startswith("socket:[") and link.endswith("]"):
                owners.setdefault(link[8:-1], set()).add(comm)
    return owners


def from_proc(proc="/proc"):
    """Listeners from /proc/net; None when none of its tables can be read."""
    rows, read_any = [], False
    for protocol, family, name, state in PROC_FILES:
        try:
            with open(os.path.join(proc, "net", name), encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        read_any = True
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != state:
                continue
            local, remote = fields[1].split(":"), fields[2].split(":")
            if protocol == "udp" and int(remote[1], 16) != 0:
                continue
            rows.append((protocol, _proc_address(family, local[0]), int(local[1], 16), fields[9]))
    if not read_any:
        return None
    owners = socket_owners(proc) if rows else {}
    return [_listener(p, a, None, port, owners.get(inode, ())) for p, a, port, inode in rows]


def listening(run_ss, proc="/proc"):
    """Every listener of the host (sorted, without duplicates), or None when neither ss nor /proc tells.

    ``run_ss(args) -> stdout`` runs ss with ``args``, or returns None when ss is missing or fails.
    """
    text = run_ss(SS_ARGS)
    found = from_ss(text) if text is not None else None
    if found is None:
        found = from_proc(proc)
    if found is None:
        return None
    unique = {(item["protocol"], item["port"], item["address"], item["interface"] or ""): item for item in found}
    return [unique[key] for key in sorted(unique)]


def ephemeral_range(proc="/proc"):
    """[low, high] of net.ipv4.ip_local_port_range (it covers IPv6 too); Linux's default when unreadable."""
    try:
        with open(os.path.join(proc, "sys", "net", "ipv4", "ip_local_port_range"), encoding="ascii") as handle:
            low, high = (int(v) for v in handle.read().split())
    except (OSError, ValueError):
        return list(DEFAULT_EPHEMERAL)
    return [low, high]


def wgpf_ports(run_ss, proc="/proc"):
    """The fact host_state returns as ``wgpf_ports``: {listening, ephemeral}."""
    return {"listening": listening(run_ss, proc), "ephemeral": ephemeral_range(proc)}
