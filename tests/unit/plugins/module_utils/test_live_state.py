# -*- coding: utf-8 -*-
"""The apply step's readers of the live state against the real tools, in unprivileged network namespaces.

- live_nft.describe: every shipped table (tests/golden) loaded by nft and listed (`nft -s`) compares
  equal after a second load, and deleting one element or adding one rule by hand shows as exactly that;
- live_routes: every rule and route of every shipped routes.sh, added by `ip` the way routes.sh does,
  reads back from `ip -N -j` as exactly the script's lines (nothing missing, nothing extra), and a rule
  deleted by hand is missing, one added in the collection's priority is extra;
- live_wg: the dump's keys never reach what the comparison keeps.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess

import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import live_nft, live_routes, live_wg
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.drift import differences

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "..", "..", "golden")
TABLES = sorted(glob.glob(os.path.join(GOLDEN, "*", "*", "etc", "wgpf", "wgpf.nft")))
SCRIPTS = sorted(glob.glob(os.path.join(GOLDEN, "*", "*", "etc", "wgpf", "routes.sh")))


def netns(script):
    """stdout of a shell script run in a new user and network namespace (split at lines '----')."""
    run = subprocess.run(["unshare", "-rn", "sh", "-ec", script], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr + "\n" + script
    return run.stdout.split("----\n")


def short(path):
    return os.path.relpath(path, GOLDEN)


# ------------------------------------------------------------ nftables


@pytest.mark.parametrize("path", TABLES, ids=[short(p) for p in TABLES])
def test_a_shipped_table_lists_the_same_after_a_reload(path):
    first, second = netns("nft -f %s; nft -s list table inet wgpf; echo ----; nft -f %s; nft -s list table inet wgpf"
                          % (path, path))
    assert not re.search(r"counter packets [0-9]", first)  # stateless: no counter values
    lines = live_nft.describe(first)
    assert lines == live_nft.describe(second)
    assert any(line.startswith("chain ") for line in lines), lines


def test_an_element_deleted_and_a_rule_added_by_hand_are_exactly_what_differs():
    path = os.path.join(GOLDEN, "molecule-policy_routing_lan", "public1", "etc", "wgpf", "wgpf.nft")
    kept, broken = netns("nft -f %s; nft -s list table inet wgpf; echo ----; "
                         "nft delete element inet wgpf dnat4 '{ tcp . 2000 }'; "
                         "nft insert rule inet wgpf forward counter drop; nft -s list table inet wgpf" % path)
    missing, extra = differences(live_nft.describe(broken), live_nft.describe(kept))
    assert missing == ["map dnat4 element tcp . 2000 : 172.31.15.3 . 8080"]
    assert extra == ["chain forward: counter drop"]


def test_the_elements_of_a_set_that_rules_fill_are_state_not_configuration():
    table = ("table inet wgpf {\n set seen { type ipv4_addr; flags dynamic,timeout; timeout 1m; }\n"
             " set fixed { type ipv4_addr; elements = { 10.0.0.2, 10.0.0.1 }; }\n}")
    listed, = netns("nft -f - <<'EOF'\n%s\nEOF\nnft add element inet wgpf seen '{ 192.0.2.1 }'; "
                    "nft -s list table inet wgpf" % table)
    lines = live_nft.describe(listed)
    assert "set fixed element 10.0.0.1" in lines and "set fixed element 10.0.0.2" in lines
    assert not [line for line in lines if "192.0.2.1" in line]


def test_the_order_of_a_set_s_elements_is_not_compared():
    """The kernel lists a hash set in its hash order, which a new load (a new seed) may change."""
    listing = "table inet wgpf {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { %s,\n\t\t\t     %s }\n\t}\n}\n"
    assert live_nft.describe(listing % ("10.0.0.2", "10.0.0.1")) == live_nft.describe(listing % ("10.0.0.1", "10.0.0.2"))


def test_a_table_of_30000_elements_is_described_in_linear_time():
    """The kernel lists a big map over thousands of lines (12,418 elements at 10,000 forwards): joining and
    recounting the braces of the whole list at each of its lines made describe() quadratic, 4.5 s per
    listing at that size, twice in every no-change apply (benchmarks/README.md, "Scale")."""
    import time
    count = 30000
    elements = ",\n\t\t\t     ".join("tcp . %d : 10.0.%d.%d . 8080" % (1024 + i, i // 250, i % 250) for i in range(count))
    listing = ("table inet wgpf {\n\tmap dnat4 {\n\t\ttype inet_proto . inet_service : ipv4_addr . inet_service\n"
               "\t\telements = { %s }\n\t}\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1 }\n\t}\n}\n"
               % elements)
    start = time.process_time()
    lines = live_nft.describe(listing)
    # Linear: about 0.2 s here; the quadratic version took over 20 s at this size.
    assert time.process_time() - start < 3.0
    assert len(lines) == count + 3  # the two type lines and set s's element
    assert lines[0] == "map dnat4: type inet_proto . inet_service : ipv4_addr . inet_service"
    assert "map dnat4 element tcp . 1024 : 10.0.0.0 . 8080" in lines and "set s element 10.0.0.1" in lines


def test_an_element_list_with_quotes_or_braces_is_still_split_at_its_top_level_commas():
    listing = ('table inet wgpf {\n\tmap m {\n\t\ttype ifname : verdict\n\t\telements = { "a,b" : accept,\n'
               '\t\t\t     "c" : jump x }\n\t}\n}\n')
    assert live_nft.describe(listing) == ["map m: type ifname : verdict", 'map m element "a,b" : accept',
                                          'map m element "c" : jump x']


def test_a_listing_is_kept_for_the_content_it_was_loaded_from():
    kept = live_nft.snapshot("file A", "table inet wgpf {\n}\n")
    assert live_nft.loaded_listing(kept, "file A") == "table inet wgpf {\n}\n"
    assert live_nft.loaded_listing(kept, "file B") is None
    assert live_nft.loaded_listing(None, "file A") is None


# ------------------------------------------------------------ rules and routes


def _gateways(want):
    """An address of each gateway's network on eth0, so `ip route replace ... via` is accepted."""
    out = []
    for route in want["routes"]:
        via = route["via"]
        out.append("%s/%d" % (via[:via.rindex(":") + 1] + "fffe" if ":" in via else via.rsplit(".", 1)[0] + ".250",
                              64 if ":" in via else 24))
    return sorted(set(out))


def _setup(want, script):
    lines = ["ip link add eth0 type veth peer name eth9", "ip link set eth0 up", "ip link set eth9 up"]
    lines += ["ip addr add %s dev eth0 nodad" % a if ":" in a else "ip addr add %s dev eth0" % a for a in _gateways(want)]
    for words in (line.split() for line in script.split("wanted() {", 1)[1].split("\n}", 1)[0].splitlines()):
        if words and words[0] == "rule":
            lines.append("ip %s rule add %s" % (words[1], " ".join(words[2:])))
        elif words and words[0] == "route":
            lines.append("ip %s route replace %s" % (words[1], " ".join(words[2:])))
    return "\n".join(lines)


def _read(text):
    reads = ["ip -N -%d -j %s" % (f, what) for what in ("rule show", "route show table all") for f in (4, 6)]
    outs = netns(text + "\n" + "; echo ----; ".join(reads))
    rules4, rules6, routes4, routes6 = (json.loads(out) for out in outs)
    rules = [live_routes.rule_from_json(e, 4) for e in rules4] + [live_routes.rule_from_json(e, 6) for e in rules6]
    routes = [live_routes.route_from_json(e, 4) for e in routes4] + [live_routes.route_from_json(e, 6) for e in routes6]
    return rules, [r for r in routes if r is not None]


@pytest.mark.parametrize("path", SCRIPTS, ids=[short(p) for p in SCRIPTS])
def test_what_a_shipped_routes_script_adds_reads_back_as_its_own_lines(path):
    with open(path) as handle:
        script = handle.read()
    want = live_routes.wanted(script)
    assert want["rules"] or want["routes"] or want["sysctls"]
    rules, routes = _read(_setup(want, script))
    live, wanted, dummy = live_routes.compared(want, rules, routes)
    assert live == wanted


def test_a_rule_deleted_by_hand_is_missing_and_one_added_in_a_priority_of_ours_is_extra():
    path = os.path.join(GOLDEN, "molecule-policy_routing_lan", "intermediate1", "etc", "wgpf", "routes.sh")
    with open(path) as handle:
        script = handle.read()
    want = live_routes.wanted(script)
    rules, routes = _read(_setup(want, script) + "\nip rule del priority 5100\n"
                          "ip rule add from 10.9.9.9 lookup 100 priority 5101")
    live, wanted, deletes = live_routes.compared(want, rules, routes)
    missing, extra = differences(live, wanted)
    assert missing == ["-4 priority 5100 from 172.31.15.3/32 ipproto 6 sport 8080 lookup 51900"]
    assert extra == ["-4 priority 5101 from 10.9.9.9/32 lookup 100"]
    assert deletes[extra[0]] == "ip -4 rule del priority 5101 from 10.9.9.9/32 lookup 100".split()


# ------------------------------------------------------------ WireGuard


def test_the_dump_keeps_no_key():
    private, public, psk = "2DmqLMHUxuEVcnxQ/7bvxQmSzRGsG2VPJK/6Ub1BpHA=", "Iv0NoZ7GfGis0qUgDD4ONU9ve0l5HqoZq3KDd+ap2Xo=", \
        "HmJ9klzdR8f6jV9Wk+2pXpSzPMCHZqmzMwvmu0d1jdA="
    dump = ("wg0\t%s\tPUB0\t51821\toff\n" % private
            + "wg0\t%s\t%s\t192.0.2.1:51822\t0.0.0.0/0,::/0\t0\t0\t0\t25\n" % (public, psk))
    parsed = live_wg.parse_dump(dump)
    assert parsed["wg0"]["peers"][public] == {"allowed": {"0.0.0.0/0", "::/0"}, "endpoint": "192.0.2.1:51822",
                                              "keepalive": "25", "psk": True}
    text = json.dumps(parsed, default=sorted)
    assert private not in text and psk not in text
