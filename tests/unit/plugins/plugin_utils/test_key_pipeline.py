# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' key pipeline and checks (plugin_utils/key_steps.py, preflight_checks.py), on real plans.

seed_two_publics: inter1 is a hub (wg0 spoke private1, wg1 to public1, wg2 to public2). With
wgpf_preshared_key, public1 makes the key of its link to inter1 and inter1 the one to private1.
"""

from __future__ import annotations

import pytest

from builders import seed_two_publics

from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout
from ansible_collections.wgforward.portforward.plugins.module_utils.core.keys import key_digest
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.plugin_utils import key_steps as K
from ansible_collections.wgforward.portforward.plugins.plugin_utils import preflight_checks as C
from ansible_collections.wgforward.portforward.plugins.plugin_utils.planning import summary

PSK_A = "oaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaE="  # test-only
PSK_B = "srKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrI="
GEN = layout.KEY_DIR + "/wg0.inter1.psk"  # on public1, for its link to inter1
COPY = layout.KEY_DIR + "/wg1.public1.psk"  # inter1's copy of it
EVERY_KEY = {"public1": {"wg0": "PUB1"}, "public2": {"wg0": "PUB2"}, "inter1": {"wg0": "I0", "wg1": "I1", "wg2": "I2"},
             "private1": {"wg0": "PRIV1"}}


def summaries_of(**flags):
    inv = seed_two_publics()
    for host, value in flags.items():
        inv.hosts[host]["wgpf_preshared_key"] = value
    return {name: summary(plan) for name, plan in plan_inventory(inv.data()).items()}


def facts(keys=None, digests=None):
    """fact(host) as run_view.RunView.fact gives it: every host read, with these keys and psk digests."""
    keys = EVERY_KEY if keys is None else keys
    digests = digests or {}

    def fact(host):
        return {"public_keys": keys.get(host, {}), "wg": True, "preshared_key_digests": digests.get(host, {}),
                "preshared_key_files": sorted(digests.get(host, {}))}
    return fact


def nobody(host):
    return False


def nothing(host, path):
    return False


# ------------------------------------------------------------------ public keys


def test_a_host_needs_the_key_step_of_each_peer_outside_this_step_that_has_no_settled_key():
    summaries = summaries_of()
    every = facts()
    assert K.key_hosts("inter1", summaries, every, nobody, nothing) == ["inter1"]
    missing = facts({h: k for h, k in EVERY_KEY.items() if h != "public2"})
    assert K.key_hosts("inter1", summaries, missing, nobody, nothing) == ["inter1", "public2"]
    # public2 runs its own key step in this very step (same batch of a linear play): nothing to delegate.
    assert K.key_hosts("inter1", summaries, missing, lambda h: h == "public2", nothing) == ["inter1"]


def test_an_absent_host_makes_and_needs_no_key():
    inv = seed_two_publics()
    inv.hosts["public2"]["wgpf_state"] = "absent"
    inv.forwards = [f for f in inv.forwards if f["public"] != "public2"]
    summaries = {name: summary(plan) for name, plan in plan_inventory(inv.data()).items()}
    assert K.keys_to_make(summaries, "public2", None) == []
    assert "public2" not in K.key_hosts("inter1", summaries, facts({}), nobody, nothing)


# ------------------------------------------------------------------ preshared keys


def test_a_preshared_key_is_carried_only_when_the_two_ends_hold_different_keys():
    summaries = summaries_of(public1=True)
    assert K.generated_links(summaries, "public1") == {GEN: ("wg0", "inter1", COPY)}
    assert K.generated_links(summaries, "inter1") == {}
    same = facts(digests={"public1": {GEN: key_digest(PSK_A)}, "inter1": {COPY: key_digest(PSK_A)}})
    assert K.psks_to_carry(summaries, "public1", same) == []
    assert K.key_hosts("inter1", summaries, same, nobody, nothing) == ["inter1"]
    rotated = facts(digests={"public1": {GEN: key_digest(PSK_B)}, "inter1": {COPY: key_digest(PSK_A)}})
    assert K.psks_to_carry(summaries, "public1", rotated) == [GEN]
    assert K.key_hosts("inter1", summaries, rotated, nobody, nothing) == ["inter1", "public1"]
    # Carried already (an earlier play or batch registered it): not read again.
    assert K.key_hosts("inter1", summaries, rotated, nobody, lambda h, p: (h, p) == ("public1", GEN)) == ["inter1"]
    new = facts()
    assert K.psks_to_carry(summaries, "public1", new) == [GEN]


def test_the_receiving_end_writes_the_carried_key_and_fails_naming_a_key_that_reached_nothing():
    summaries = summaries_of(public1=True)
    new = facts()
    assert K.copies("inter1", summaries, new, {("public1", GEN): PSK_A}) == ([{"path": COPY, "value": PSK_A}], [])
    held = facts(digests={"public1": {GEN: key_digest(PSK_A)}, "inter1": {COPY: key_digest(PSK_A)}})
    assert K.copies("inter1", summaries, held, {}) == ([], [])
    assert K.copies("inter1", summaries, held, {("public1", GEN): PSK_A}) == ([], [])
    copies, problems = K.copies("inter1", summaries, new, {})
    assert copies == [] and problems == [
        "host 'inter1': wg1: the preshared key of the link to public1 (%s there) reached no step of this run: "
        "run the roles on public1 too" % GEN]
    assert K.copies("inter1", summaries, new, {}, check_mode=True) == ([], [])


def test_carried_keys_come_from_the_registered_results_of_a_loop_or_of_one_step():
    loop = {"results": [{"preshared_keys": [{"host": "public1", "path": GEN, "value": PSK_A}]},
                        {"skipped": True}, {"preshared_keys": []}]}
    one = {"preshared_keys": [{"host": "inter1", "path": "/k/x.psk", "value": PSK_B}]}
    assert K.carried_values([loop, one, None, "junk"]) == {("public1", GEN): PSK_A, ("inter1", "/k/x.psk"): PSK_B}


# ------------------------------------------------------------------ what refuses the run


def test_a_host_in_no_group_or_in_another_roles_group_is_refused_naming_it():
    summaries = summaries_of()
    assert C.group_problems(["inter1", "public1"], summaries, None, lambda h: True) == []
    assert C.group_problems(["inter1", "stranger"], summaries, "intermediate", lambda h: True) == [
        "host 'stranger': is in none of the groups wireguard_public, wireguard_intermediate, wireguard_private, so "
        "the collection has nothing to plan for it"]
    assert C.group_problems(["inter1"], summaries, "public", lambda h: True) == [
        "host 'inter1': is planned as a intermediate server, but the role wgforward.portforward.wireguard_public is "
        "applied to it: put it in the group wireguard_public or apply wgforward.portforward.wireguard_intermediate"]
    assert C.group_problems(["stranger"], summaries, None, lambda h: False) == []


def test_under_limit_a_key_a_host_outside_would_have_to_make_refuses_the_run():
    summaries = summaries_of(public1=True, private1=True)
    inside = {"inter1"}
    everything = facts(digests={"public1": {GEN: "d"}, "inter1": {layout.KEY_DIR + "/wg0.private1.psk": "e"}})
    assert C.limit_problems(["inter1"], summaries, everything, inside.__contains__) == []
    no_key = facts({h: k for h, k in EVERY_KEY.items() if h != "public2"},
                   {"public1": {GEN: "d"}, "inter1": {layout.KEY_DIR + "/wg0.private1.psk": "e"}})
    assert C.limit_problems(["inter1"], summaries, no_key, inside.__contains__) == [
        "host 'inter1': wg2: needs the public key of public2 wg0, which has no settled key file there (missing, or "
        "one wireguard_key would still fix), and public2 is outside --limit, where a limited run changes nothing: "
        "run without --limit, or include public2"]
    none_made = facts()
    problems = C.limit_problems(["inter1"], summaries, none_made, inside.__contains__)
    assert problems == [
        "host 'inter1': wg0: the preshared key of the link to private1 (%s/wg0.private1.psk) does not exist yet, "
        "so private1 would not get it, and private1 is outside --limit, where a limited run changes nothing: run "
        "without --limit, or include private1" % layout.KEY_DIR,
        "host 'inter1': wg1: no preshared key on public1 (%s) for this link, and public1 is outside --limit, where "
        "a limited run changes nothing: run without --limit, or include public1" % GEN]
    # Both ends in the limit: made as in a full run.
    assert C.limit_problems(["inter1"], summaries, none_made, {"inter1", "private1", "public1"}.__contains__) == []


def test_the_hosts_prepared_are_the_plays_and_the_peers_it_needs_and_one_without_wg_is_refused():
    summaries = summaries_of()
    keys = {h: k for h, k in EVERY_KEY.items() if h != "public1"}

    def fact(host):
        return dict(facts(keys)(host), wg=host != "public1", missing_packages=[], os_family="Debian")
    prepared = C.prepared_hosts(["inter1"], summaries, fact, nobody, nothing)
    assert prepared == ["inter1", "public1"]
    assert C.package_problems(prepared, summaries, fact, lambda h: True, lambda h: True) == []
    assert C.package_problems(prepared, summaries, fact, lambda h: False, lambda h: True) == [
        "host 'public1': wireguard-tools: not installed (no wg), and this run installs no package there "
        "(wireguard_public_install_packages is false, or --skip-tags wgpf_packages): install it, or let the run "
        "install it"]


@pytest.mark.parametrize("read", [["inter1"], []])
def test_a_host_no_read_of_this_run_reached_is_named(read):
    summaries = summaries_of()

    def fact(host):
        return {"public_keys": {}} if host in read else None
    assert C.unread_problems(["inter1", "public1"], summaries, fact, lambda h: True) == [
        "host '%s': was not read in this run (unreachable, or its read failed), so the plan has none of its facts" % h
        for h in ("inter1", "public1") if h not in read]
