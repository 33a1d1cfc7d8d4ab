# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preshared keys (issue 10 item 2) and the planning of a --limit run (item 3).

Which links get a key and which end makes it (the planner), the reference the
rendered config holds and how apply_plan fills it on the host (never in the
rendered text, always masked). The roles' steps that carry the key, and read the
hosts outside a limited run without changing them, are tested in
tests/unit/plugins/plugin_utils/test_key_pipeline.py.
"""

from __future__ import annotations

import json

import pytest


from builders import seed_direct, seed_two_publics

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import preshared
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError, HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_host import HostApply
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_systemd import Commands
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.core.psk_reference import REFERENCE
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files
PSK_A = "oaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaE="  # test-only
PSK_B = "srKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrI="


def psk_peers(plans):
    """{(host, interface, peer): preshared_key entry} of every peer that has one."""
    return {(name, iface["name"], peer["host"]): peer["preshared_key"] for name, plan in plans.items()
            for iface in plan["interfaces"] for peer in iface["peers"] if peer["preshared_key"]}


def two_publics(**flags):
    inv = seed_two_publics()
    for host, value in flags.items():
        inv.hosts[host]["wgpf_preshared_key"] = value
    return plan_inventory(inv.data())


# ------------------------------------------------------------------ planning: which links, which end


def test_no_link_has_a_key_unless_an_end_asks():
    assert psk_peers(two_publics()) == {}
    assert psk_peers(two_publics(public2=False)) == {}


def test_a_host_that_asks_puts_a_key_on_each_of_its_links_and_only_those():
    peers = psk_peers(two_publics(public1=True))
    assert sorted(peers) == [("inter1", "wg1", "public1"), ("public1", "wg0", "inter1")]
    peers = psk_peers(two_publics(inter1=True))
    assert sorted(peers) == [("inter1", "wg0", "private1"), ("inter1", "wg1", "public1"), ("inter1", "wg2", "public2"),
                             ("private1", "wg0", "inter1"), ("public1", "wg0", "inter1"), ("public2", "wg0", "inter1")]


def test_the_public_server_generates_and_the_hub_generates_for_its_spokes():
    peers = psk_peers(two_publics(public1=True, private1=True))
    # public1 <-> inter1: public1 generates; inter1 keeps its copy of the same key.
    assert peers[("public1", "wg0", "inter1")] == {
        "path": layout.KEY_DIR + "/wg0.inter1.psk", "generate": True, "source_path": layout.KEY_DIR + "/wg0.inter1.psk"}
    assert peers[("inter1", "wg1", "public1")] == {
        "path": layout.KEY_DIR + "/wg1.public1.psk", "generate": False,
        "source_path": layout.KEY_DIR + "/wg0.inter1.psk"}
    # hub <-> spoke: the hub generates.
    assert peers[("inter1", "wg0", "private1")]["generate"] is True
    assert peers[("private1", "wg0", "inter1")]["generate"] is False
    assert peers[("private1", "wg0", "inter1")]["source_path"] == peers[("inter1", "wg0", "private1")]["path"]


def test_a_direct_peer_gets_the_public_servers_key():
    inv = seed_direct().forward(name="web", public="public1", port=2000, to="private1")
    inv.hosts["private1"]["wgpf_preshared_key"] = True
    peers = psk_peers(plan_inventory(inv.data()))
    assert peers[("public1", "wg0", "private1")]["generate"] is True
    assert peers[("private1", "wg0", "public1")]["generate"] is False


def test_a_non_boolean_is_refused_naming_the_host_and_field():
    inv = seed_two_publics()
    inv.hosts["public2"]["wgpf_preshared_key"] = "yes"
    with pytest.raises(PlanError, match=r"public2.*wgpf_preshared_key.*must be true or false"):
        plan_inventory(inv.data())


# ------------------------------------------------------------------ rendering and the host side


PUBLIC_KEYS = {h: "%s-public-key" % h for h in ("public1", "public2", "inter1", "private1")}


def rendered_conf(plans, host):
    return [f for f in render_files(plans[host], PUBLIC_KEYS) if f["kind"] == "wireguard"]


def test_the_rendered_peer_holds_a_reference_never_a_key_and_the_interface_digest_is_unchanged():
    plain = {f["path"]: f for f in rendered_conf(two_publics(), "public1")}
    keyed = {f["path"]: f for f in rendered_conf(two_publics(public1=True), "public1")}
    conf = keyed["/etc/wireguard/wg0.conf"]
    assert "PresharedKey = <the key in %s/wg0.inter1.psk>\n" % layout.KEY_DIR in conf["content"]
    assert conf["content"].index("PresharedKey") > conf["content"].index("[Peer]")
    # A key added or rotated is a peer change (wg syncconf), never an interface restart.
    assert conf["interface_digest"] == plain["/etc/wireguard/wg0.conf"]["interface_digest"]
    assert "PresharedKey" not in plain["/etc/wireguard/wg0.conf"]["content"]


def test_fill_puts_the_key_in_and_fails_naming_a_missing_file():
    text = "[Peer]\nPublicKey = x\n" + REFERENCE % "/k/a.psk" + "\n"
    files = {"/k/a.psk": PSK_A + "\n"}
    out, keys = preshared.fill(text, files.get)
    assert out == "[Peer]\nPublicKey = x\nPresharedKey = %s\n" % PSK_A and keys == [PSK_A]
    with pytest.raises(ApplyError, match="/k/a.psk: no valid preshared key"):
        preshared.fill(text, {}.get)
    with pytest.raises(ApplyError, match="/k/a.psk"):
        preshared.fill(text, {"/k/a.psk": "junk"}.get)
    out, keys = preshared.fill(text, {}.get, check_mode=True)
    assert "PresharedKey = %s" % preshared.NOT_YET in out and keys == []


class Runs:
    def __init__(self):
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        if argv[:2] == ["systemctl", "is-active"] or argv[:2] == ["systemctl", "is-enabled"]:
            return 3, "", ""
        return 0, "changed\n", ""


def wg_item(plans, host):
    return rendered_conf(plans, host)[0]


def test_apply_writes_the_key_into_the_config_and_masks_it_in_every_diff(tmp_path):
    plans = two_publics(public1=True)
    item = wg_item(plans, "public1")
    key_file = tmp_path / layout.KEY_DIR.lstrip("/") / "wg0.inter1.psk"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(PSK_A + "\n")
    fs = HostFiles(root=str(tmp_path), chown=False)
    step = HostApply(fs, Commands(Runs()))
    step.present([item], {"wg0": layout.key_path("wg0")}, {})
    conf = (tmp_path / "etc/wireguard/wg0.conf").read_text()
    assert "PresharedKey = %s\n" % PSK_A in conf and "<the key in" not in conf
    assert step.secrets == {PSK_A}
    assert fs.diffs and PSK_A not in json.dumps(fs.diffs)
    # Rotation: a new key in the file is a new config, synced, and the diff still masks both.
    key_file.write_text(PSK_B + "\n")
    fs2 = HostFiles(root=str(tmp_path), chown=False)
    runs = Runs()
    HostApply(fs2, Commands(runs)).present([item], {"wg0": layout.key_path("wg0")}, {})
    assert "PresharedKey = %s\n" % PSK_B in (tmp_path / "etc/wireguard/wg0.conf").read_text()
    dumped = json.dumps(fs2.diffs)
    assert PSK_A not in dumped and PSK_B not in dumped and "PresharedKey = (secret, not shown)" in dumped


def test_apply_fails_before_touching_anything_when_the_key_file_is_missing(tmp_path):
    item = wg_item(two_publics(public1=True), "public1")
    runs = Runs()
    with pytest.raises(ApplyError, match="wg0.inter1.psk: no valid preshared key"):
        HostApply(HostFiles(root=str(tmp_path), chown=False), Commands(runs)).present(
            [item], {"wg0": layout.key_path("wg0")}, {})
    assert runs.calls == [] and not (tmp_path / "etc").exists()


def test_a_diff_where_only_the_masked_key_changed_says_so(tmp_path):
    fs = HostFiles(root=str(tmp_path), chown=False)
    fs.write("/etc/wireguard/wg0.conf", "[Peer]\nPresharedKey = %s\n" % PSK_A, "0600")
    fs.write("/etc/wireguard/wg0.conf", "[Peer]\nPresharedKey = %s\n" % PSK_B, "0600")
    last = fs.diffs[-1]
    assert last["before"] == last["after"] and PSK_B not in json.dumps(fs.diffs)
    assert last["after_header"] == "/etc/wireguard/wg0.conf (a secret line changed, not shown)"


def recording(calls):
    """A command runner that records each call into ``calls``; every unit is running."""
    def running(argv):
        calls.append(list(argv))
        return 0, "changed\n", ""
    return running


def test_a_preshared_key_taken_off_is_cleared_from_the_running_interface_after_syncconf(tmp_path):
    """wg syncconf keeps a preshared key the config no longer has (seen in the lab with wireguard-go):
    the apply step clears it after the sync, for the peers still there only."""
    (tmp_path / layout.KEY_DIR.lstrip("/")).mkdir(parents=True)
    (tmp_path / layout.KEY_DIR.lstrip("/") / "wg1.public1.psk").write_text(PSK_A + "\n")
    for plans in (two_publics(public1=True), two_publics()):
        items = rendered_conf(plans, "inter1")
        calls = []
        HostApply(HostFiles(root=str(tmp_path), chown=False), Commands(recording(calls))).present(
            items, {f["interface"]: layout.key_path(f["interface"]) for f in items}, {})
    changes = [c for c in calls if c[0] in (layout.SYNC_SCRIPT, "wg") and c[:2] != ["wg", "show"]]
    assert changes == [[layout.SYNC_SCRIPT, "wg1", layout.key_path("wg1")],
                       ["wg", "set", "wg1", "peer", "public1-public-key", "preshared-key", "/dev/null"]]
    assert "PresharedKey" not in (tmp_path / "etc/wireguard/wg1.conf").read_text()


def test_dropped_lists_only_peers_still_there_that_lost_their_key():
    keyed = "[Peer]\nPublicKey = a\nPresharedKey = k\n"
    assert preshared.dropped(keyed, "[Peer]\nPublicKey = a\n") == ["a"]
    assert preshared.dropped(keyed, "") == []  # a peer gone is removed by wg syncconf; wg set would add it back
    assert preshared.dropped("[Peer]\nPublicKey = a\n", keyed) == []
    assert preshared.dropped(keyed, keyed) == []
