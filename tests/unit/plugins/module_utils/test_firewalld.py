# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's firewalld policies on a fake host (module_utils/apply/firewalld.py)."""

from __future__ import annotations

from fake_firewalld import FakeFirewalld

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewalld import (
    FORWARD, INPUT, POLICY_DIR, policy_path, policy_texts, rich_rules)

SPEC = {"forward": {"4": [{"addr": "10.0.0.3", "proto": "tcp", "port": {"from": 8080, "to": 8080},
                           "iifs": ["eth0"], "dnat": True},
                          {"addr": "10.0.0.3", "proto": "udp", "port": {"from": 5000, "to": 5002},
                           "iifs": ["eth0"], "dnat": True}],
                    "6": [{"addr": "fd00::3", "proto": "tcp", "port": {"from": 8080, "to": 8080},
                           "iifs": ["eth0"], "dnat": True}]},
        "outbound": [], "listen_ports": [51820, 51821]}
RULES = {
    INPUT: ['rule port port="51820" protocol="udp" accept', 'rule port port="51821" protocol="udp" accept'],
    FORWARD: ['rule family="ipv4" destination address="10.0.0.3" port port="8080" protocol="tcp" accept',
              'rule family="ipv4" destination address="10.0.0.3" port port="5000-5002" protocol="udp" accept',
              'rule family="ipv6" destination address="fd00::3" port port="8080" protocol="tcp" accept'],
}
# Someone else's policy: never touched.
OTHER = '<?xml version="1.0" encoding="utf-8"?>\n<policy target="CONTINUE">\n  <ingress-zone name="HOST"/>\n' \
        '  <egress-zone name="ANY"/>\n</policy>\n'


def test_the_rich_rules_name_only_the_forwarded_flows_and_listen_ports():
    assert rich_rules(SPEC) == RULES
    assert rich_rules({"forward": {}, "outbound": [], "listen_ports": [51820]}) == {INPUT: RULES[INPUT][:1]}


def test_running_firewalld_gets_both_policies_by_one_reload_and_the_files_hold_them(tmp_path):
    host = FakeFirewalld(tmp_path)
    done = host.firewalld().apply(SPEC)
    assert done == ["write %s" % policy_path(INPUT), "write %s" % policy_path(FORWARD), "firewall-cmd --reload"]
    assert host.runtime == RULES
    text = host.fs.read(policy_path(FORWARD))
    assert '<ingress-zone name="ANY"/>\n  <egress-zone name="ANY"/>' in text and 'target="CONTINUE"' in text
    assert '<ingress-zone name="ANY"/>\n  <egress-zone name="HOST"/>' in host.fs.read(policy_path(INPUT))
    # A second run changes nothing.
    host.changes = []
    assert host.firewalld().apply(SPEC) == [] and host.changes == []


def test_a_changed_forward_is_applied_rule_by_rule_without_a_reload(tmp_path):
    host = FakeFirewalld(tmp_path)
    host.firewalld().apply(SPEC)
    host.changes = []
    moved = dict(SPEC, forward={"4": [dict(SPEC["forward"]["4"][0], port={"from": 9090, "to": 9090})]})
    done = host.firewalld().apply(moved)
    assert "firewall-cmd --reload" not in done and done[0] == "write %s" % policy_path(FORWARD)
    assert host.runtime[FORWARD] == ['rule family="ipv4" destination address="10.0.0.3" port port="9090" '
                                     'protocol="tcp" accept']
    host.reload()  # what firewalld loads from the file is the same
    assert host.runtime[FORWARD] == rich_rules(moved)[FORWARD]


def test_drift_is_repaired_and_reported_a_deleted_policy_by_a_reload(tmp_path):
    host = FakeFirewalld(tmp_path)
    host.firewalld().apply(SPEC)
    # A rule removed at runtime, one added by hand: fixed rule by rule.
    host.runtime[FORWARD].remove(RULES[FORWARD][0])
    host.runtime[FORWARD].append('rule family="ipv4" destination address="10.0.0.9" port port="22" '
                                 'protocol="tcp" accept')
    found = []
    done = host.firewalld().apply(SPEC, lambda what, live, wanted: found.append((what, live, wanted)))
    assert sorted(host.runtime[FORWARD]) == sorted(RULES[FORWARD]) and "firewall-cmd --reload" not in done
    assert [what for what, live, wanted in found if live != wanted] == ["firewalld policy wgpf-forward (running)"]
    # The policy deleted by hand (firewall-cmd --permanent --delete-policy, then --reload): file and policy back.
    host.fs.remove(policy_path(FORWARD))
    host.reload()
    found = []
    done = host.firewalld().apply(SPEC, lambda what, live, wanted: found.append((what, live, wanted)))
    assert done == ["write %s" % policy_path(FORWARD), "firewall-cmd --reload"] and host.runtime == RULES
    assert found[0][0] == "firewalld policy %s (permanent, %s)" % (FORWARD, policy_path(FORWARD))
    assert found[0][1] == [] and found[0][2] == ["target CONTINUE", "priority -1", "ingress-zone ANY",
                                                 "egress-zone ANY"] + RULES[FORWARD]


def test_a_policy_file_edited_by_hand_is_rewritten_and_reported_by_what_differs(tmp_path):
    host = FakeFirewalld(tmp_path)
    host.firewalld().apply(SPEC)
    text = host.fs.read(policy_path(INPUT)).replace('target="CONTINUE"', 'target="REJECT"')
    host.fs.write(policy_path(INPUT), text.replace('51821', '22'), "0644")
    found = []
    host.firewalld().apply(SPEC, lambda what, live, wanted: found.append((what, live, wanted)))
    what, live, wanted = found[0]
    assert what.startswith("firewalld policy wgpf-input (permanent")
    assert sorted(set(live) ^ set(wanted)) == ['rule port port="22" protocol="udp" accept',
                                               'rule port port="51821" protocol="udp" accept',
                                               "target CONTINUE", "target REJECT"]
    assert host.fs.read(policy_path(INPUT)) == policy_texts(SPEC)[INPUT]


def test_no_firewalld_no_change_and_a_stopped_enabled_one_gets_the_files_only(tmp_path):
    absent = FakeFirewalld(tmp_path / "a", installed=False)
    assert absent.firewalld().apply(SPEC) == [] and not absent.fs.exists(POLICY_DIR)
    assert absent.firewalld().remove() == []
    disabled = FakeFirewalld(tmp_path / "d", state="stopped")
    assert disabled.firewalld().apply(SPEC) == [] and not disabled.fs.exists(POLICY_DIR)
    enabled = FakeFirewalld(tmp_path / "e", state="enabled")
    assert enabled.firewalld().apply(SPEC) == ["write %s" % policy_path(INPUT), "write %s" % policy_path(FORWARD)]
    assert enabled.changes == []  # firewall-cmd talks to a running firewalld only


def test_a_policy_the_plan_no_longer_needs_goes_by_a_reload(tmp_path):
    host = FakeFirewalld(tmp_path)
    host.firewalld().apply(SPEC)
    done = host.firewalld().apply({"forward": {}, "outbound": [], "listen_ports": [51820]})
    assert done == ["write %s" % policy_path(INPUT), "rm %s" % policy_path(FORWARD), "firewall-cmd --reload"]
    assert host.runtime == {INPUT: RULES[INPUT][:1]}


def test_remove_takes_exactly_the_two_policies_and_nothing_else(tmp_path):
    host = FakeFirewalld(tmp_path)
    host.fs.write("%s/other.xml" % POLICY_DIR, OTHER, "0644")
    host.firewalld().apply(SPEC)
    assert set(host.runtime) == {"other", INPUT, FORWARD}
    done = host.firewalld().remove()
    assert done == ["rm %s" % policy_path(INPUT), "rm %s" % policy_path(FORWARD), "firewall-cmd --reload"]
    assert host.fs.listdir(POLICY_DIR) == ["other.xml"] and host.fs.read("%s/other.xml" % POLICY_DIR) == OTHER
    assert host.runtime == {"other": []}
    host.changes = []
    assert host.firewalld().remove() == [] and host.changes == []  # a second removal runs nothing
