# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The forward_probe module: its parsers of ss and wg output, the ip route get it asks, and a real
`ip -j route get` in a network namespace (as root: unshare -rn)."""

from __future__ import annotations

import json
import subprocess

from ansible_collections.wgforward.portforward.plugins.modules import forward_probe as M

SS_TCP = """LISTEN 0      128          0.0.0.0:22        0.0.0.0:*
LISTEN 0      5        172.31.17.3:8080      0.0.0.0:*
LISTEN 0      4096            [::]:9000         [::]:*
LISTEN 0      4096   [fe80::1%eth0]:9001         [::]:*
LISTEN 0      4096               *:9002            *:*
"""


def test_listening_sockets_are_address_and_port_with_wildcards_as_star():
    assert M.parse_listening(SS_TCP) == [["*", 22], ["172.31.17.3", 8080], ["*", 9000], ["fe80::1", 9001],
                                         ["*", 9002]]
    assert M.parse_listening("UNCONN 0 0 10.201.7.4:8081 0.0.0.0:*\n\ngarbage\n") == [["10.201.7.4", 8081]]


def test_wg_peers_with_handshake_age_and_never_as_none():
    allowed = "KEYA=\t10.201.7.1/32 172.31.17.3/32\nKEYB=\t(none)\n"
    handshakes = "KEYA=\t1000\nKEYB=\t0\n"
    assert M.parse_wg(handshakes, allowed, 1312.7) == [
        {"public_key": "KEYA=", "allowed_ips": ["10.201.7.1/32", "172.31.17.3/32"], "handshake_age": 312},
        {"public_key": "KEYB=", "allowed_ips": [], "handshake_age": None}]


def test_route_argv_has_iif_and_mark_only_when_given():
    route = {"family": 4, "proto": "tcp", "dst": "198.18.0.1", "from": "172.31.17.3", "sport": 8080}
    assert M.route_argv(route) == ["ip", "-4", "-j", "route", "get", "198.18.0.1", "from", "172.31.17.3",
                                   "ipproto", "tcp", "sport", "8080"]
    assert M.route_argv(dict(route, iif="eth0", mark="0x1000000"))[8:] == [
        "iif", "eth0", "ipproto", "tcp", "sport", "8080", "mark", "0x1000000"]


def test_the_kernel_answers_the_route_the_module_asks_for():
    """The argv of route_argv against a real routing table: the mark picks table 51900, no mark the main one."""
    mark = M.route_argv({"family": 4, "proto": "tcp", "dst": "198.18.0.1", "from": "172.31.17.3", "sport": 8080,
                         "mark": "0x1000000"})
    plain = M.route_argv({"family": 4, "proto": "tcp", "dst": "198.18.0.1", "from": "172.31.17.3", "sport": 8080})
    script = """set -e
ip link add a0 type veth peer name a1; ip link set a0 up; ip link set a1 up
ip addr add 172.31.17.3/24 dev a0; ip route add default via 172.31.17.254
ip route add default via 172.31.17.2 dev a0 table 51900
ip rule add fwmark 0x1000000/0xf000000 table 51900 pref 5100
%s; echo; %s""" % (" ".join(mark), " ".join(plain))
    run = subprocess.run(["unshare", "-rn", "sh", "-c", script], capture_output=True, text=True, check=True)
    marked, unmarked = [json.loads(line)[0] for line in run.stdout.split()]
    assert (marked["dev"], marked["gateway"], marked["table"]) == ("a0", "172.31.17.2", "51900")
    assert (unmarked["gateway"], unmarked.get("table")) == ("172.31.17.254", None)


class _Listing:
    """A module whose only command prints ``text`` (forward_probe.Reader runs `nft -j list table`)."""

    def __init__(self, text):
        self.text = text

    def run_command(self, argv):
        return 0, self.text, ""


def test_the_table_s_map_elements_come_back_as_one_string_each(tmp_path):
    """15,500 map elements as nft -j prints them are 120,000 JSON objects, which Ansible took 4-5 s to carry to
    the controller (benchmarks/README.md, "Scale"); the same elements as strings, 0.1 s. The verdicts read both."""
    from check_lab import listed_table
    import shipped_inventories as S
    from ansible_collections.wgforward.portforward.plugins.module_utils.check.probe_index import _elements
    listing = listed_table(S.scenario("masquerade"), "public1", tmp_path)
    got = M.Reader(_Listing(json.dumps({"nftables": listing}))).nft("wgpf")
    elems = [e for obj in got["table"] if "map" in obj for e in obj["map"]["elem"]]
    assert elems and all(isinstance(e, str) for e in elems), elems
    assert list(_elements(got["table"])) == list(_elements(listing))
    # Everything but the maps' elements is left as nft printed it (the counters are read from the rules).
    assert [obj for obj in got["table"] if "map" not in obj] == [obj for obj in listing if "map" not in obj]


def test_an_element_of_a_shape_not_known_is_left_as_printed():
    odd = [{"concat": ["tcp", {"set": [1, 2]}]}, "10.0.0.2"]
    table = [{"map": {"name": "m", "elem": [odd, [{"range": [2000, 2002]}, {"prefix": {"addr": "10.0.0.0", "len": 24}}]]}}]
    assert M.compact_maps(table)[0]["map"]["elem"] == [odd, "2000-2002 : 10.0.0.0/24"]
