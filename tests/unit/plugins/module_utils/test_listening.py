# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_state's read of the host's listening ports (issue 16 item 1): ss, /proc, and this machine's own sockets."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import listening as L

# ss -Hlntup as iproute2 6.1 prints it (seen in the test image), with a kernel socket (WireGuard's) and
# a process name with a space.
SS = """\
udp UNCONN 0      0         0.0.0.0:2207 0.0.0.0:* users:(("python3",pid=8,fd=8))
udp UNCONN 0      0               *:2208       *:* users:(("python3",pid=8,fd=9))
udp UNCONN 0      0            *%lo:2209       *:* users:(("python3",pid=8,fd=10))
udp UNCONN 0      0         0.0.0.0:51820 0.0.0.0:*
tcp LISTEN 0      128    0.0.0.0%lo:2205 0.0.0.0:* users:(("python3",pid=8,fd=7))
tcp LISTEN 0      128       0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=600,fd=3),("sshd",pid=700,fd=3))
tcp LISTEN 0      128     127.0.0.1:2204 0.0.0.0:* users:(("my server",pid=9,fd=6))
tcp LISTEN 0      128             *:2203       *:* users:(("python3",pid=8,fd=5))
tcp LISTEN 0      128          [::]:2202    [::]:* users:(("python3",pid=8,fd=4))
tcp LISTEN 0      128 [fe80::1]%eth0:546    [::]:* users:(("dhcp",pid=10,fd=4))
"""


def by_port(found):
    return {(item["protocol"], item["port"]): item for item in found}


def test_ss_output_gives_address_interface_port_and_processes():
    found = by_port(L.from_ss(SS))
    assert found[("tcp", 22)] == {"protocol": "tcp", "address": "0.0.0.0", "interface": None, "port": 22,
                                  "processes": ["sshd"]}
    assert found[("tcp", 2205)]["address"] == "0.0.0.0" and found[("tcp", 2205)]["interface"] == "lo"
    assert found[("udp", 2209)]["address"] == "*" and found[("udp", 2209)]["interface"] == "lo"
    assert found[("tcp", 2202)]["address"] == "::" and found[("tcp", 2203)]["address"] == "*"
    assert found[("tcp", 546)]["address"] == "fe80::1" and found[("tcp", 546)]["interface"] == "eth0"
    assert found[("tcp", 2204)]["processes"] == ["my server"]
    assert found[("udp", 51820)]["processes"] == []  # a kernel socket: no process holds it
    assert len(found) == len(SS.splitlines())


@pytest.mark.parametrize("text", ["Usage: ss [ OPTIONS ]", "tcp LISTEN 0 128 nonsense 0.0.0.0:*"])
def test_output_that_is_not_ss_s_falls_back(text):
    assert L.from_ss(text) is None


def fake_proc(tmp_path, tables, sockets):
    """A /proc with net/<table> files and processes {pid: (comm, [inodes])}."""
    (tmp_path / "net").mkdir()
    head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    for name, rows in tables.items():
        (tmp_path / "net" / name).write_text(head + "".join(
            "%4d: %s %s %s 00000000:00000000 00:00000000 00000000     0        0 %s 1 0000000000000000\n"
            % ((i,) + row) for i, row in enumerate(rows)))
    for pid, (comm, inodes) in sockets.items():
        (tmp_path / str(pid) / "fd").mkdir(parents=True)
        (tmp_path / str(pid) / "comm").write_text(comm + "\n")
        for fd, inode in enumerate(inodes):
            os.symlink("socket:[%s]" % inode, str(tmp_path / str(pid) / "fd" / str(fd)))
    return str(tmp_path)


def hex_v4(address, port):
    """/proc/net's spelling on this host: the 32-bit word in host byte order, then the port."""
    word = int.from_bytes(socket.inet_aton(address), sys.byteorder)
    return "%08X:%04X" % (word, port)


def test_proc_tables_give_listeners_and_their_processes(tmp_path):
    proc = fake_proc(tmp_path, {
        "tcp": [(hex_v4("0.0.0.0", 22), hex_v4("0.0.0.0", 0), "0A", "101"),
                (hex_v4("127.0.0.1", 631), hex_v4("0.0.0.0", 0), "0A", "102"),
                (hex_v4("10.0.0.2", 40000), hex_v4("10.0.0.9", 443), "01", "103")],  # an established one
        "udp": [(hex_v4("0.0.0.0", 51820), hex_v4("0.0.0.0", 0), "07", "0"),
                (hex_v4("0.0.0.0", 5353), hex_v4("10.0.0.9", 53), "07", "104")],  # connected: no listener
        "tcp6": [("00000000000000000000000000000000:0050", "00000000000000000000000000000000:0000", "0A", "105")],
    }, {600: ("sshd", [101]), 601: ("cupsd", [102]), 602: ("nginx", [105]), 603: ("nginx", [105])})
    found = by_port(L.from_proc(proc))
    assert set(found) == {("tcp", 22), ("tcp", 631), ("udp", 51820), ("tcp", 80)}
    assert found[("tcp", 22)] == {"protocol": "tcp", "address": "0.0.0.0", "interface": None, "port": 22,
                                  "processes": ["sshd"]}
    assert found[("tcp", 631)]["address"] == "127.0.0.1"
    assert found[("tcp", 80)]["address"] == "::" and found[("tcp", 80)]["processes"] == ["nginx"]
    assert found[("udp", 51820)]["processes"] == []


def test_without_ss_the_proc_tables_answer_and_without_both_nothing_is_claimed(tmp_path):
    proc = fake_proc(tmp_path, {"tcp": [(hex_v4("0.0.0.0", 22), hex_v4("0.0.0.0", 0), "0A", "7")]}, {})
    assert [(i["protocol"], i["port"]) for i in L.listening(lambda args: None, proc)] == [("tcp", 22)]
    assert L.listening(lambda args: None, str(tmp_path / "none")) is None
    assert L.listening(lambda args: SS, str(tmp_path / "none"))[0]["port"] == 22  # ss wins when it answers


def test_ephemeral_range_read_or_linux_default(tmp_path):
    assert L.ephemeral_range(str(tmp_path)) == [32768, 60999]
    (tmp_path / "sys" / "net" / "ipv4").mkdir(parents=True)
    (tmp_path / "sys" / "net" / "ipv4" / "ip_local_port_range").write_text("1024\t65000\n")
    assert L.ephemeral_range(str(tmp_path)) == [1024, 65000]


def run_ss(args):
    found = shutil.which("ss")
    if not found:
        pytest.fail("ss (iproute2) is required: run the tests through `make test`")
    done = subprocess.run([found] + args, capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


@pytest.mark.parametrize("source", ["ss", "proc"])
def test_this_machine_s_own_listener_is_found(source):
    """A real socket of this test process: bound, listening, found with its port and our process name."""
    with socket.socket() as tcp, socket.socket(type=socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        found = L.listening(run_ss if source == "ss" else (lambda args: None))
        with open("/proc/self/comm", encoding="utf-8") as handle:
            comm = handle.read().strip()
        mine = by_port(found)
        for proto, sock in (("tcp", tcp), ("udp", udp)):
            item = mine[(proto, sock.getsockname()[1])]
            assert item["address"] == "127.0.0.1" and comm in item["processes"], item
