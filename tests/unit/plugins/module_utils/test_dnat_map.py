# -*- coding: utf-8 -*-
"""The public server's DNAT map stays flat in the number of forwards and keeps `sources` exact; the
DNAT decision marks what it translates (the forward chain, clamp and masquerade key on the mark).

Forwards open to anyone: a plain hash map keyed protocol . port (`dnatN`). Source-restricted
forwards: an interval map keyed port first (port . protocol . source network, `dnatN_sources`),
looked up only when the first misses. The source-first interval map of earlier versions fell to
0.17 of the 1-forward connection rate at 10,000 forwards (benchmarks/wire_bench.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid

import pytest
from builders import seed_hub, seed_lan

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

SOURCES = ["198.51.100.87/32", "192.0.2.144/30"]


def public_table(inv):
    plan = plan_inventory(inv.data())["public1"]
    return next(f["content"] for f in render_files(plan) if f["kind"] == "nftables")


def dnat_map(table, version=4, name="dnat%d"):
    return re.search(r"map %s \{\n(.*?)\n\t\}" % (name % version), table, re.S).group(1)


def sources_map(table, version=4):
    return dnat_map(table, version, "dnat%d_sources")


def mixed():
    """'web' answers anyone on 2000; 'hooks' answers only SOURCES on 2001."""
    inv = seed_lan()
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080, protocols=["tcp", "udp"])
    inv.forward(name="hooks", public="public1", port=2001, to="private1", to_port=8081, sources=SOURCES)
    return inv


def test_without_sources_the_map_is_a_plain_hash_keyed_protocol_then_port(nft_check, tmp_path):
    inv = seed_lan()
    inv.forward(name="web", public="public1", port="2000-2001", to="private1", to_port="8080-8081",
                protocols=["tcp", "udp"])
    table = public_table(inv)
    body = dnat_map(table)
    assert "type inet_proto . inet_service : ipv4_addr . inet_service\n" in body
    assert "flags interval" not in body
    assert "tcp . 2001 : 172.31.0.3 . 8081" in body and "udp . 2000 : 172.31.0.3 . 8080" in body
    assert "dnat ip to meta l4proto . th dport map @dnat4" in table
    nft_check(table, tmp_path)


def test_with_sources_a_second_map_keyed_port_first_lists_only_the_sources(nft_check, tmp_path):
    table = public_table(mixed())
    assert set(re.findall(r"(\w+ \. \d+) :", dnat_map(table))) == {"tcp . 2000", "udp . 2000"}
    body = sources_map(table)
    assert "type inet_service . inet_proto . ipv4_addr : ipv4_addr . inet_service\n\t\tflags interval" in body
    elements = set(re.findall(r"(\d+ \. \w+ \. [\d./]+) :", body))
    assert elements == {"2001 . tcp . 198.51.100.87/32", "2001 . tcp . 192.0.2.144/30"}
    # The hash map first: open forwards never pay for the interval lookup.
    assert table.index("map @dnat4\n") < table.index("dnat ip to th dport . meta l4proto . ip saddr map @dnat4_sources")
    nft_check(table, tmp_path)


def test_only_restricted_forwards_make_only_the_sources_map(nft_check, tmp_path):
    inv = seed_lan()
    inv.forward(name="hooks", public="public1", port=2001, to="private1", sources=["10.8.0.0/16", "10.8.4.0/24"])
    table = public_table(inv)
    assert "map dnat4 {" not in table
    # Overlapping sources of one forward are one element.
    assert re.findall(r"2001 \. tcp \. ([\d./]+) :", sources_map(table)) == ["10.8.0.0/16"]
    nft_check(table, tmp_path)


def test_ipv6_families_choose_their_maps_on_their_own(nft_check, tmp_path):
    inv = seed_hub(private_vars={"address": ["10.0.0.3/24", "fd00::3/64"]})
    inv.hosts["public1"]["wgpf_address"] = ["10.0.0.2/24", "fd00::2/64"]
    inv.hosts["inter1"]["wgpf_address"] = ["10.0.0.1/24", "fd00::1/64"]
    inv.forward(name="web", public="public1", port=2000, to="private1")
    inv.forward(name="hooks", public="public1", port=2001, to="private1", sources=["2001:db8::/32"])
    table = public_table(inv)
    assert "type inet_proto . inet_service : ipv4_addr . inet_service\n" in dnat_map(table, 4)
    assert "map dnat4_sources" not in table
    assert "tcp . 2000 : fd00::3 . 2000" in dnat_map(table, 6)
    assert "2001 . tcp . 2001:db8::/32 : fd00::3 . 2001" in sources_map(table, 6)
    assert "dnat ip6 to th dport . meta l4proto . ip6 saddr map @dnat6_sources" in table
    nft_check(table, tmp_path)


def test_each_dnat_rule_is_its_familys_and_marks_before_its_map_then_a_miss_is_cleared(nft_check, tmp_path):
    inv = seed_hub(private_vars={"address": ["10.0.0.3/24", "fd00::3/64"]})
    inv.hosts["public1"]["wgpf_address"] = ["10.0.0.2/24", "fd00::2/64"]
    inv.hosts["inter1"]["wgpf_address"] = ["10.0.0.1/24", "fd00::1/64"]
    inv.hosts["public1"].update({"wgpf_mark": 0x20, "wgpf_mark_mask": 0xF0})
    inv.forward(name="web", public="public1", port=2000, to="private1")
    inv.forward(name="hooks", public="public1", port=2001, to="private1", sources=["192.0.2.0/24", "2001:db8::/32"])
    table = public_table(inv)
    rules = re.search(r"chain prerouting_nat \{\n\t\ttype [^\n]*\n(.*?)\t\}", table, re.S).group(1).splitlines()
    mark = "ct mark set ct mark & 0xffffff0f | 0x00000020"
    # The open maps' keys hold no address: without the family test, an IPv6 packet would be looked up
    # in dnat4 as well. A nat statement ends its rule, so the mark comes before the map.
    assert [r.strip() for r in rules] == [
        'iifname "eth0" meta nfproto ipv4 meta l4proto { tcp, udp } %s dnat ip to meta l4proto . th dport '
        'map @dnat4' % mark,
        'iifname "eth0" meta nfproto ipv4 meta l4proto { tcp, udp } %s dnat ip to th dport . meta l4proto . '
        'ip saddr map @dnat4_sources' % mark,
        'iifname "eth0" meta nfproto ipv6 meta l4proto { tcp, udp } %s dnat ip6 to meta l4proto . th dport '
        'map @dnat6' % mark,
        'iifname "eth0" meta nfproto ipv6 meta l4proto { tcp, udp } %s dnat ip6 to th dport . meta l4proto . '
        'ip6 saddr map @dnat6_sources' % mark,
        'iifname "eth0" ct mark set ct mark & 0xffffff0f']
    nft_check(table, tmp_path)


def test_the_loaded_map_answers_a_restricted_port_only_from_its_sources(tmp_path):
    """The kernel's own lookup (nft get element) on the table loaded in a named netns."""
    if os.geteuid() != 0:
        pytest.skip("loading a table and querying its map needs root (ip netns add)")
    if not (shutil.which("ip") and shutil.which("nft")):
        pytest.fail("ip and nft are required: run the tests through `make test`")
    path = tmp_path / "wgpf.nft"
    path.write_text(public_table(mixed()))
    netns = "wgpf-test-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", netns], check=True)

    def get(name, element):
        run = subprocess.run(["ip", "netns", "exec", netns, "nft", "get", "element", "inet", "wgpf", name,
                              "{ %s }" % element], capture_output=True, text=True, check=False)
        found = re.search(r": ([\d.]+ \. \d+)", run.stdout)
        return found.group(1) if run.returncode == 0 and found else None

    def lookup(port, proto, saddr):
        # What the two rules do: the hash map first, the sources map on a miss.
        return get("dnat4", "%s . %d" % (proto, port)) or get("dnat4_sources", "%d . %s . %s" % (port, proto, saddr))

    try:
        subprocess.run(["ip", "netns", "exec", netns, "nft", "-f", str(path)], check=True, capture_output=True)
        assert lookup(2001, "tcp", "198.51.100.87") == "172.31.0.3 . 8081"
        assert lookup(2001, "tcp", "192.0.2.147") == "172.31.0.3 . 8081"
        assert lookup(2001, "tcp", "198.51.100.88") is None
        assert lookup(2001, "udp", "198.51.100.87") is None
        assert lookup(2000, "tcp", "203.0.113.9") == "172.31.0.3 . 8080"
        assert lookup(2000, "udp", "198.51.100.87") == "172.31.0.3 . 8080"
    finally:
        subprocess.run(["ip", "netns", "delete", netns], check=False)
