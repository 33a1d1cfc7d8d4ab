# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preshared keys (issue 10 item 2) and the planning of a --limit run (item 3).

Which links get a key and which end makes it (the planner), the reference the
rendered config holds and how apply_plan fills it on the host (never in the
rendered text, always masked), and the roles' filters that carry the key and
read the hosts outside a limited run without changing them.
"""

from __future__ import annotations

import importlib
import json

import pytest

from ansible.errors import AnsibleFilterError

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
from ansible_collections.wgforward.portforward.plugins.plugin_utils.keys import peer_keys

F = {}
for each in ("psk_to_generate", "preshared_keys", "psk_unpublished", "psk_to_receive", "outside_play", "contacted",
             "unpublished_peers", "peer_keys"):
    F.update(importlib.import_module("ansible_collections.wgforward.portforward.plugins.filter." + each)
             .FilterModule().filters())
FACT = "internal__preshared_keys"
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


# ------------------------------------------------------------------ the roles' filters


def test_generate_publish_and_receive_carry_one_key_to_the_other_end():
    plans = two_publics(public1=True)
    todo = F["psk_to_generate"](plans["public1"])
    assert todo == [{"path": layout.KEY_DIR + "/wg0.inter1.psk", "peer": "wg0 inter1", "create": True}]
    assert F["psk_to_generate"](plans["inter1"]) == []
    results = [{"item": todo[0], "preshared_key": PSK_A, "changed": True}, {"item": {"path": "x"}, "skipped": True}]
    published = F["preshared_keys"](results)
    assert published == {layout.KEY_DIR + "/wg0.inter1.psk": PSK_A}
    hostvars = {"public1": {FACT: published}, "inter1": {}}
    assert F["psk_unpublished"](plans["inter1"], hostvars, FACT) == []
    assert F["psk_to_receive"](plans["inter1"], hostvars, FACT) == [
        {"path": layout.KEY_DIR + "/wg1.public1.psk", "peer": "wg1 public1", "value": PSK_A}]


def test_a_receiver_whose_generating_end_is_outside_the_play_reads_it_there():
    plans = two_publics(public1=True)
    hostvars = {"public1": {}, "inter1": {}}
    src = layout.KEY_DIR + "/wg0.inter1.psk"
    assert F["psk_unpublished"](plans["inter1"], hostvars, FACT) == [{"host": "public1", "path": src}]
    read = [{"item": {"host": "public1", "path": src}, "preshared_key": PSK_B}]
    assert F["psk_to_receive"](plans["inter1"], hostvars, FACT, read)[0]["value"] == PSK_B
    with pytest.raises(AnsibleFilterError, match="inter1 wg1: no preshared key from public1"):
        F["psk_to_receive"](plans["inter1"], hostvars, FACT, [])
    assert F["psk_to_receive"](plans["inter1"], hostvars, FACT, [], True) == []


def test_under_limit_no_key_is_made_for_or_on_a_host_outside_the_play():
    plans = two_publics(public1=True, private1=True)
    src = layout.KEY_DIR + "/wg0.inter1.psk"
    # inter1 limited: it generates for private1 (outside): only an existing key will do.
    state = {"preshared_key_files": [layout.KEY_DIR + "/wg0.private1.psk"]}
    assert F["psk_to_generate"](plans["inter1"], state, ["inter1"], True) == [
        {"path": layout.KEY_DIR + "/wg0.private1.psk", "peer": "wg0 private1", "create": False}]
    with pytest.raises(AnsibleFilterError, match=r"inter1 wg0: the preshared key of the link to private1 .* does not "
                                                 r"exist yet, and private1 is outside --limit"):
        F["psk_to_generate"](plans["inter1"], {"preshared_key_files": []}, ["inter1"], True)
    # Both ends in the limit: made as in a full run.
    assert F["psk_to_generate"](plans["inter1"], {}, ["inter1", "private1"], True)[0]["create"] is True
    # inter1 receives from public1 (outside): read there only when host_state saw the file.
    read = [{"item": "public1", "preshared_key_files": [src]}]
    assert F["psk_unpublished"](plans["inter1"], {"public1": {}}, FACT, read, True) == [
        {"host": "public1", "path": src}]
    with pytest.raises(AnsibleFilterError, match="no preshared key on public1 .* outside --limit"):
        F["psk_unpublished"](plans["inter1"], {"public1": {}}, FACT, [{"item": "public1"}], True)


def test_an_absent_host_handles_no_key():
    plan = dict(two_publics(inter1=True)["public1"], state="absent")
    assert F["psk_to_generate"](plan) == []
    assert F["psk_to_receive"](dict(two_publics(inter1=True)["inter1"], state="absent"), {}, FACT) == []


# ------------------------------------------------------------------ --limit: the hosts outside the play


GROUPS = {"all": ["client", "public1", "public2", "inter1", "private1"], "ungrouped": ["client"],
          "wireguard_public": ["public1", "public2"], "wireguard_intermediate": ["inter1"],
          "wireguard_private": ["private1"]}


def test_outside_play_lists_the_wireguard_hosts_not_in_the_play_only():
    assert F["outside_play"](GROUPS, ["inter1"]) == ["private1", "public1", "public2"]
    assert F["outside_play"](GROUPS, GROUPS["all"]) == []
    assert F["outside_play"]({"wireguard_public": ["p"]}, []) == ["p"]
    # Hosts planned from the inventory alone are never contacted, not even read.
    hostvars = {"private1": {"wgpf_attachment": "container"}, "public2": {"wgpf_public_key": "x"}}
    assert F["outside_play"](GROUPS, ["inter1"], hostvars) == ["public1"]


@pytest.mark.parametrize("given", [{}, {"wgpf_public_key": None}, {"wgpf_public_key": ""},
                                   {"wgpf_public_key": "x"}, {"wgpf_public_key": False}, {"wgpf_public_key": 0},
                                   {"wgpf_public_key": []}, {"wgpf_attachment": "container"},
                                   {"wgpf_attachment": "lan"}])
def test_outside_play_reads_a_host_exactly_when_a_play_would_contact_it(given):
    # One rule for both (model/unmanaged.contacted): a wgpf_public_key that is set, even to false or 0,
    # makes the host a peer Ansible does not manage, never read; the plan then refuses the key, naming
    # the host and the field, before any host is touched.
    read = F["outside_play"](GROUPS, ["inter1"], {"public2": given})
    assert ("public2" in read) is F["contacted"](given)
    if given.get("wgpf_public_key") is False:
        assert read == ["private1", "public1"]


def test_keys_read_outside_the_play_are_used_and_nothing_is_generated_there():
    plans = plan_inventory(seed_two_publics().data())
    read = [{"item": "public1", "public_keys": {"wg0": "PUB1"}}, {"item": "public2", "public_keys": {"wg0": "PUB2"}},
            {"item": "private1", "public_keys": {"wg0": "PRIV1"}}]
    hostvars = {h: {} for h in plans}
    assert F["unpublished_peers"](plans["inter1"], hostvars, plans, "k", read, True) == []
    assert F["peer_keys"](plans["inter1"], hostvars, "k", [], read) == {
        "public1": {"wg0": "PUB1"}, "public2": {"wg0": "PUB2"}, "private1": {"wg0": "PRIV1"}}


def test_a_peer_key_missing_outside_the_limit_fails_naming_the_peer():
    plans = plan_inventory(seed_two_publics().data())
    read = [{"item": "public1", "public_keys": {"wg0": "PUB1"}}, {"item": "public2", "public_keys": {}}]
    hostvars = {h: {} for h in plans}
    hostvars["private1"] = {"k": {"wg0": "PRIV1"}}
    with pytest.raises(AnsibleFilterError, match=r"inter1: no settled public key on public2 wg0 \(/etc/wireguard/wgpf/"
                                                 r"wg0.key\), outside --limit.*include public2"):
        F["unpublished_peers"](plans["inter1"], hostvars, plans, "k", read, True)
    # A role applied to one group (no --limit) still ensures it on the peer, as before.
    assert F["unpublished_peers"](plans["inter1"], hostvars, plans, "k", read) == [
        {"host": "public2", "interface": "wg0", "key_file": layout.key_path("wg0")}]


def test_the_plan_of_a_limited_host_is_the_full_runs_when_the_others_facts_are_read():
    """The planner sees the same inventory either way: a limited run that read the other hosts'
    facts (delegate_facts puts them in hostvars) renders the limited host's files byte for byte."""
    inv = seed_two_publics()
    for name in inv.hosts:
        inv.hosts[name]["wgpf_preshared_key"] = True
    full = plan_inventory(inv.data())
    keys = {"public1": {"wg0": "PUB1"}, "public2": {"wg0": "PUB2"}, "private1": {"wg0": "PRIV1"}}
    read = [{"item": h, "public_keys": k} for h, k in keys.items()]
    limited_keys = peer_keys(full["inter1"], {h: {} for h in full}, "k", [], read)
    published = peer_keys(full["inter1"], {h: {"k": k} for h, k in keys.items()}, "k")
    assert render_files(full["inter1"], limited_keys) == render_files(full["inter1"], published)


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
    changes = [c for c in calls if c[0] in (layout.SYNC_SCRIPT, "wg")]
    assert changes == [[layout.SYNC_SCRIPT, "wg1", layout.key_path("wg1")],
                       ["wg", "set", "wg1", "peer", "public1-public-key", "preshared-key", "/dev/null"]]
    assert "PresharedKey" not in (tmp_path / "etc/wireguard/wg1.conf").read_text()


def test_dropped_lists_only_peers_still_there_that_lost_their_key():
    keyed = "[Peer]\nPublicKey = a\nPresharedKey = k\n"
    assert preshared.dropped(keyed, "[Peer]\nPublicKey = a\n") == ["a"]
    assert preshared.dropped(keyed, "") == []  # a peer gone is removed by wg syncconf; wg set would add it back
    assert preshared.dropped("[Peer]\nPublicKey = a\n", keyed) == []
    assert preshared.dropped(keyed, keyed) == []
