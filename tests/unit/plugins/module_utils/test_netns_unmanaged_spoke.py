# -*- coding: utf-8 -*-
"""A spoke Ansible does not manage takes the full tunnel to its hub; the hub keeps its own route (issue 16 item 3).

Such a spoke's file holds AllowedIPs only, so the planner gives it default_route in
place of the tree's technique. Its hub used to take the full tunnel too (AllowedIPs
0.0.0.0/0 towards the public server in its main table): the hub's own Internet then
went through the public server, which nobody asked for (Q3 unanswered). Now the
hub's link to the public server has its own table, and only what comes from that
spoke is sent there; the main table is asked first without its default route, so
the spoke still reaches the hub's LAN. Proven on the rendered routes.sh in an
unprivileged network namespace, with `ip route get` for each kind of packet.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from builders import seed_hub

from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import explain_inventory, plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files

PEER_KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

# The hub: uplink eth0 (its default route), LAN eth1, wg0 (veths stand in for each, WireGuard's too). The public link's
# table gets the route wg-quick's Table= would add for the public server's AllowedIPs 0.0.0.0/0.
LAB = """set -e
ip link set lo up
ip link add wg0 type veth peer name wgp
ip link add eth0 type veth peer name eth0p
ip link add eth1 type veth peer name eth1p
for dev in wg0 wgp eth0 eth0p eth1 eth1p; do ip link set "$dev" up; done
ip addr add 10.0.0.1/24 dev wg0
ip addr add 192.0.2.1/24 dev eth0
ip addr add 172.31.0.1/24 dev eth1
ip route add default via 192.0.2.254 dev eth0
ip route add default dev wg0 table %(table)d
sysctl -q -w net.ipv4.ip_forward=1
WGPF_RUN_DIR=%(run)s sh %(script)s up
for case in "8.8.8.8 from 10.0.0.3 iif wg0" "172.31.0.3 from 10.0.0.3 iif wg0" "8.8.8.8" \
            "8.8.8.8 from 10.0.0.9 iif wg0"; do
    echo "$case => $(ip -4 route get $case | head -n 1)"
done
"""


def hub_with_unmanaged_spoke(**spoke):
    inv = seed_hub(private_vars=dict({"public_key": PEER_KEY}, **spoke),
                   inter_vars={"lan_interface": "eth1", "lan_address": "172.31.0.1/24"})
    inv.forward(name="game", public="public1", port=2000, to="private1", to_port=8080)
    return inv


def test_the_hub_s_public_link_gets_its_own_table_and_rules_for_the_spoke_only():
    inv = hub_with_unmanaged_spoke()
    (wg0,) = plan_inventory(inv.data())["inter1"]["interfaces"]
    assert wg0["table"] == 51900
    assert [(r["selector"], r["table"]) for r in wg0["rules"]] == [
        ("from 10.0.0.3 iif wg0 suppress_prefixlength 0", 254), ("from 10.0.0.3 iif wg0", 51900)]
    (dec,) = explain_inventory(inv.data())
    assert dec["technique"] == "default_route"
    assert "which sends what comes from it, and only that, through public1 (the hub keeps its own Internet " \
        "access)" in dec["notes"][0]


def test_beside_the_hub_s_other_forwards_it_needs_no_forced_technique():
    """The hub's LAN server takes policy_routing on the same public link: both use the link's own table (the
    substitute used to move the hub's default route there, and the two were refused together)."""
    inv = hub_with_unmanaged_spoke()
    inv.host("private2", "private", intermediate="inter1", attachment="lan", lan_interface="eth0",
             lan_address="172.31.0.3", gateway_is_intermediate=False)
    inv.forward(name="web", public="public1", port=2001, to="private2", to_port=8080)
    plans = plan_inventory(inv.data())
    assert [(d["forward"], d["technique"]) for d in plans["inter1"]["forwards"]] == [
        ("game", "default_route"), ("web", "policy_routing")]
    assert plans["inter1"]["interfaces"][0]["table"] == 51900


def test_a_spoke_that_asks_for_internet_via_public_moves_the_hub_s_default_route_as_q3_says():
    (wg0,) = plan_inventory(hub_with_unmanaged_spoke(internet_via_public=True).data())["inter1"]["interfaces"]
    assert wg0["table"] is None and wg0["rules"] == []
    assert next(p for p in wg0["peers"] if p["host"] == "public1")["allowed_ips"] == ["0.0.0.0/0"]


def test_the_hub_routes_only_the_spoke_s_traffic_to_the_public_server(tmp_path):
    for tool in ("unshare", "ip", "flock", "sysctl"):
        if not shutil.which(tool):
            pytest.fail("%s is required: run the tests through `make test`" % tool)
    plan = plan_inventory(hub_with_unmanaged_spoke().data())["inter1"]
    script = tmp_path / "routes.sh"
    script.write_text(next(f["content"] for f in render_files(plan) if f["kind"] == "routes"))
    run = tmp_path / "run"
    lab = LAB % {"table": plan["interfaces"][0]["table"] or 51900, "run": run, "script": script}
    done = subprocess.run(["unshare", "-rn", "sh", "-c", lab], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    got = dict(line.split(" => ") for line in done.stdout.splitlines())
    # The spoke's Internet traffic (its replies and the rest): into the public link's table.
    assert "dev wg0 table 51900" in got["8.8.8.8 from 10.0.0.3 iif wg0"]
    # The spoke to the hub's LAN: the main table, as before.
    assert "dev eth1" in got["172.31.0.3 from 10.0.0.3 iif wg0"]
    # The hub's own traffic, and another peer's: the hub's own uplink.
    assert "via 192.0.2.254 dev eth0" in got["8.8.8.8"]
    assert "via 192.0.2.254 dev eth0" in got["8.8.8.8 from 10.0.0.9 iif wg0"]
