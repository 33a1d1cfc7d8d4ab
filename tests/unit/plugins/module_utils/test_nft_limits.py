# -*- coding: utf-8 -*-
"""Valid inventories render files the hosts accept: every set element once, dotted interface
names in sysctl's slash form, and a 10,000-port forward whose table really loads."""

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


def files_of(inv):
    return {(host, f["path"]): f["content"] for host, plan in plan_inventory(inv.data()).items()
            for f in render_files(plan)}


def set_body(table, name):
    return re.search(r"set %s \{.*?elements = \{(.*?)\}" % name, table, re.S).group(1)


# ------------------------------------------------------------------ forwards meeting on one service


def overlapping_forwards(technique="connmark_private"):
    inv = seed_lan()
    for name, port, to_port in (("web", "2000-2010", "8000-8010"), ("alias", "3000-3005", "8005-8010"),
                                ("next", "4000", "8011")):
        inv.forward(name=name, public="public1", port=port, to="private1", to_port=to_port,
                    protocols=["tcp", "udp"], technique=technique)
    return inv


@pytest.mark.parametrize("technique", ["masquerade", "connmark_private", "policy_routing"])
def test_forwards_meeting_on_one_private_port_range_render_tables_nft_accepts(technique, nft_check, tmp_path):
    files = files_of(overlapping_forwards(technique))
    for (host, path), content in sorted(files.items()):
        if path.endswith(".nft"):
            nft_check(content, tmp_path)
    inter = files[("inter1", "/etc/wgpf/wgpf.nft")]
    # 8000-8010, 8005-8010 and 8011: exact keys (a hash set), every port of each protocol once.
    elements = re.sub(r"\s+", " ", set_body(inter, "fwd4")).strip().split(", ")
    assert elements == ["%d . %s . 172.31.0.3" % (port, proto) for proto in ("tcp", "udp")
                        for port in range(8000, 8012)]
    # The public server looks up no flow set: its DNAT marks the connections.
    assert "set fwd4" not in files[("public1", "/etc/wgpf/wgpf.nft")]


def test_connection_marks_on_the_private_server_merge_overlapping_ports(nft_check, tmp_path):
    table = files_of(overlapping_forwards())[("private1", "/etc/wgpf/wgpf.nft")]
    keys = ", ".join("%d . %s . 172.31.0.3" % (port, proto) for proto in ("tcp", "udp") for port in range(8000, 8012))
    assert "ip daddr { %s }" % keys in table
    nft_check(table, tmp_path)


# ------------------------------------------------------------------ dotted interface names


def test_dotted_interface_names_use_sysctls_slash_form_in_routes_sh_and_sysctl_d():
    inv = seed_hub(inter_vars={"interface": "wg0.7"})
    inv.hosts["private1"]["wgpf_interface"] = "wg1.5"
    inv.forward(name="web", public="public1", port=2000, to="private1", technique="policy_routing")
    files = files_of(inv)
    hub = files[("inter1", "/etc/wgpf/routes.sh")]
    spoke = files[("private1", "/etc/wgpf/routes.sh")]
    # The /proc directory has the dotted name, the sysctl key the slash form.
    assert "    if_sysctl wg0.7 net.ipv4.conf.wg0/7.rp_filter 2\n" in hub
    assert "    if_sysctl wg1.5 net.ipv4.conf.wg1/5.rp_filter 2\n" in spoke
    assert "wg0.7.rp_filter" not in hub and "wg1.5.rp_filter" not in spoke


def test_dotted_lan_interface_in_sysctl_d():
    inv = seed_lan(private_vars={"lan_interface": "eth0.100"})
    inv.hosts["inter1"]["wgpf_lan_interface"] = "br0.2"
    inv.forward(name="web", public="public1", port=2000, to="private1", technique="connmark_private")
    files = files_of(inv)
    assert "net.ipv4.conf.eth0/100.rp_filter = 2\n" in files[("private1", "/etc/sysctl.d/90-wgpf.conf")]
    assert "net.ipv4.conf.br0/2.rp_filter = 2\n" in files[("inter1", "/etc/sysctl.d/90-wgpf.conf")]


def test_routes_sh_sets_the_rp_filter_of_a_dotted_interface(tmp_path):
    """routes.sh sets wg0.7's rp_filter through sysctl's slash form (an unprivileged netns)."""
    if not (shutil.which("unshare") and shutil.which("sysctl") and shutil.which("flock")):
        pytest.fail("unshare, sysctl and flock are required: run the tests through `make test`")
    inv = seed_hub(inter_vars={"interface": "wg0.7"})
    inv.forward(name="web", public="public1", port=2000, to="private1", technique="policy_routing")
    routes = tmp_path / "routes.sh"
    routes.write_text(files_of(inv)[("inter1", "/etc/wgpf/routes.sh")])
    script = ("ip link add wg0.7 type veth peer name wgpf-peer && WGPF_RUN_DIR=%s sh %s up && "
              "cat /proc/sys/net/ipv4/conf/wg0.7/rp_filter" % (tmp_path / "run", routes))
    run = subprocess.run(["unshare", "-rn", "sh", "-c", script], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.split() == ["2"], run.stdout + run.stderr


# ------------------------------------------------------------------ a 10,000-port range


def ten_thousand_ports():
    inv = seed_lan()
    inv.forward(name="range", public="public1", port="20000-29999", to="private1", to_port="40000-49999",
                protocols=["tcp", "udp"], technique="connmark_private")
    return files_of(inv)


def test_a_10000_port_forward_renders_a_table_that_loads_in_a_network_namespace(tmp_path):
    """A real load (not nft -c) as root in a named netns: unshare -rn cannot raise the netlink buffer."""
    if os.geteuid() != 0:
        pytest.skip("loading a table this size needs root (ip netns add; an unprivileged netns cannot raise "
                    "the netlink buffer nft needs)")
    if not (shutil.which("ip") and shutil.which("nft")):
        pytest.fail("ip and nft are required: run the tests through `make test`")
    table = ten_thousand_ports()[("public1", "/etc/wgpf/wgpf.nft")]
    path = tmp_path / "wgpf.nft"
    path.write_text(table)
    netns = "wgpf-test-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        run = subprocess.run(["ip", "netns", "exec", netns, "nft", "-f", str(path)], capture_output=True,
                             text=True, check=False)
        assert run.returncode == 0, run.stderr[-2000:]
        listed = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "table", "inet", "wgpf"],
                                capture_output=True, text=True, check=True).stdout
        assert "20000" in listed and "29999" in listed
    finally:
        subprocess.run(["ip", "netns", "delete", netns], check=False)
