# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's firewalld policies on a fake host (module_utils/apply/firewalld.py)."""

from __future__ import annotations

import json

import pytest

from fake_firewalld import FakeFirewalld

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewalld import (
    FORWARD, INPUT, POLICY_DIR, Firewalld, policy_path, policy_texts, rich_rules)
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewalld_zones import ZONES_PATH

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


# ------------------------------------------------------------ the WireGuard interfaces' zone (firewalld_zones.py)

BIND = ["firewall-cmd --zone=%(z)s --add-interface=%(i)s", "firewall-cmd --permanent --zone=%(z)s --add-interface=%(i)s"]
UNBIND = ["firewall-cmd --zone=%(z)s --remove-interface=%(i)s",
          "firewall-cmd --permanent --zone=%(z)s --remove-interface=%(i)s"]


def both(commands, zone, name):
    return [command % {"z": zone, "i": name} for command in commands]


def test_an_interface_in_no_zone_is_bound_to_the_default_zone_once_running_and_permanent(tmp_path):
    host = FakeFirewalld(tmp_path)
    host.default_zone = "internal"  # the default zone, whichever it is
    done = host.firewalld().apply(SPEC, interfaces=["wg0"])
    assert done[-3:] == ["write %s" % ZONES_PATH] + both(BIND, "internal", "wg0")
    assert host.bound == {"running": {"wg0": "internal"}, "permanent": {"wg0": "internal"}}
    assert json.loads(host.fs.read(ZONES_PATH)) == {"wg0": "internal"}
    host.changes = []
    assert host.firewalld().apply(SPEC, interfaces=["wg0"]) == [] and host.changes == []
    host.reload()  # firewalld loads it from its permanent configuration
    host.default_zone = "drop"  # a changed default zone moves no bound interface: nothing to do
    assert host.firewalld().apply(SPEC, interfaces=["wg0"]) == [] and host.bound["running"] == {"wg0": "internal"}


def test_an_interface_bound_by_anyone_else_is_left_where_it_is(tmp_path):
    host = FakeFirewalld(tmp_path)
    host.firewalld().apply(SPEC)
    host.bound["running"]["wg0"] = "trusted"  # NetworkManager's connection.zone: runtime only
    host.bound["permanent"]["wg1"] = "internal"  # the user's, permanent (not loaded yet)
    host.changes = []
    assert host.firewalld().apply(SPEC, interfaces=["wg0", "wg1"]) == [] and host.changes == []
    assert host.bound == {"running": {"wg0": "trusted"}, "permanent": {"wg1": "internal"}}
    assert not host.fs.exists(ZONES_PATH)
    # Ours, then moved by hand at runtime: left there; the record keeps the permanent binding, still ours.
    host.bound = {"running": {}, "permanent": {}}
    host.firewalld().apply(SPEC, interfaces=["wg0"])
    host.bound["running"]["wg0"] = "trusted"
    host.changes = []
    assert host.firewalld().apply(SPEC, interfaces=["wg0"]) == [] and host.changes == []
    assert host.firewalld().apply(SPEC) == ["firewall-cmd --permanent --zone=public --remove-interface=wg0",
                                            "rm %s" % ZONES_PATH]
    assert host.bound == {"running": {"wg0": "trusted"}, "permanent": {}}


def test_a_binding_of_ours_removed_by_hand_is_put_back_and_reported_as_drift(tmp_path):
    host = FakeFirewalld(tmp_path)
    host.firewalld().apply(SPEC, interfaces=["wg0"])
    del host.bound["running"]["wg0"]  # firewall-cmd --zone=public --remove-interface=wg0
    found = []
    done = host.firewalld().apply(SPEC, lambda what, live, wanted: found.append((what, live, wanted)), ["wg0"])
    assert done == both(BIND, "public", "wg0")[:1] and host.bound["running"] == {"wg0": "public"}
    assert [item for item in found if item[1] != item[2]] == [("firewalld zone public (running)", [],
                                                               ["interface wg0"])]
    # Both removed (--permanent too, then --reload): both back, both reported.
    host.bound = {"running": {}, "permanent": {}}
    found = []
    done = host.firewalld().apply(SPEC, lambda what, live, wanted: found.append((what, live, wanted)), ["wg0"])
    assert done == both(BIND, "public", "wg0")
    assert [what for what, live, wanted in found if live != wanted] == ["firewalld zone public (running)",
                                                                        "firewalld zone public (permanent)"]


def test_an_interface_the_plan_drops_and_remove_unbind_only_the_collections_bindings(tmp_path):
    host = FakeFirewalld(tmp_path)
    for scope in ("running", "permanent"):
        host.bound[scope].update(eth0="public", wg2="trusted")  # the user's
    host.firewalld().apply(SPEC, interfaces=["wg0", "wg1", "wg2"])
    assert json.loads(host.fs.read(ZONES_PATH)) == {"wg0": "public", "wg1": "public"}
    done = host.firewalld().apply(SPEC, interfaces=["wg0"])
    assert done == both(UNBIND, "public", "wg1") + ["write %s" % ZONES_PATH]
    assert host.bound["running"] == host.bound["permanent"] == {"eth0": "public", "wg0": "public", "wg2": "trusted"}
    done = host.firewalld().remove()
    assert done[-3:] == both(UNBIND, "public", "wg0") + ["rm %s" % ZONES_PATH]
    assert host.bound["running"] == host.bound["permanent"] == {"eth0": "public", "wg2": "trusted"}
    host.changes = []
    assert host.firewalld().remove() == [] and host.changes == []


def test_no_firewalld_no_binding_and_a_stopped_enabled_one_gets_the_permanent_binding_offline(tmp_path):
    for name, host in (("a", FakeFirewalld(tmp_path / "a", installed=False)),
                       ("d", FakeFirewalld(tmp_path / "d", state="stopped"))):
        assert host.firewalld().apply(SPEC, interfaces=["wg0"]) == [], name
        assert host.changes == [] and not host.fs.exists(ZONES_PATH), name
    host = FakeFirewalld(tmp_path / "e", state="enabled")
    done = host.firewalld().apply(SPEC, interfaces=["wg0"])
    assert done[-1] == "firewall-offline-cmd --zone=public --add-interface=wg0"
    assert host.bound == {"running": {}, "permanent": {"wg0": "public"}}
    host.state = "running"
    host.reload()  # firewalld starts: its permanent configuration is loaded
    host.changes = []
    assert host.firewalld().apply(SPEC, interfaces=["wg0"]) == [] and host.changes == []
    assert host.bound["running"] == {"wg0": "public"}


def test_a_binding_is_recorded_before_it_is_made_so_a_run_stopped_halfway_leaves_none_unrecorded(tmp_path):
    host = FakeFirewalld(tmp_path)

    def change(argv):
        if "--permanent" in argv:
            raise ApplyError("firewalld: `%s` failed" % " ".join(argv))
        return host.run(argv)
    with pytest.raises(ApplyError):
        Firewalld(host.run, change, host.fs, host.which).apply(SPEC, interfaces=["wg0"])
    assert host.bound["running"] == {"wg0": "public"} and json.loads(host.fs.read(ZONES_PATH)) == {"wg0": "public"}
    host.firewalld().remove()
    assert host.bound["running"] == {} and not host.fs.exists(ZONES_PATH)


def test_firewalld_1_binds_nothing_and_asks_its_version_once_a_run(tmp_path):
    """firewalld 1.x applies the policies to an interface in no zone; a binding would only add its zone's
    intra-zone forwarding (measured on Debian 12: the hub forwarded wg0 to wg0 without wgpf-forward)."""
    host = FakeFirewalld(tmp_path)
    host.version = "1.3.0"
    host.firewalld().apply(SPEC)
    asked = []
    run = host.run
    host.run = lambda argv: asked.append(" ".join(argv)) or run(argv)
    assert host.firewalld().apply(SPEC, interfaces=["wg0"]) == [] and host.bound["running"] == {}
    assert [line for line in asked if "--policy" not in line and "systemctl" not in line] == ["firewall-cmd --version"]
    assert not host.fs.exists(ZONES_PATH)
    # A binding of the record (made under 2.x, firewalld since downgraded) is still the collection's.
    host.fs.write(ZONES_PATH, '{"wg0": "public"}\n', "0644")
    assert host.firewalld().apply(SPEC, interfaces=["wg0"]) == both(BIND, "public", "wg0")
