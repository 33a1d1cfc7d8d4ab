# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/host_record.py (what is merged, reserved, restored, cleared) and the
planner's accept_ra rule (export.py, facts.ipv6_uplinks)."""

from __future__ import annotations

import pytest
from builders import seed_hub

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import host_record as R
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory

RES = R.RESERVED


def running_of(values):
    return values.get


# ------------------------------------------------------------ ports


@pytest.mark.parametrize("text, ports", [
    ("", set()), ("\n", set()), ("2000", {2000}), ("2000,3000-3002\n", {2000, 3000, 3001, 3002}),
])
def test_port_lists_parse_and_format_in_the_kernels_form(text, ports):
    assert R.parse_ports(text) == ports
    assert R.format_ports(ports) == text.strip()


def test_a_malformed_port_list_is_refused():
    with pytest.raises(ValueError, match="not a port range"):
        R.parse_ports("3000-2000")


# ------------------------------------------------------------ reserved ports


def test_forwarded_ports_are_added_to_the_hosts_own_reservations():
    values, restores, record = R.settle({RES: "2000,2001"}, running_of({RES: "1000,2001-2003\n"}), {})
    assert values[RES] == "1000,2000-2003"
    # 2001 was the host's already: not the collection's to give back.
    assert record["reserved_added"] == "2000" and restores == []


def test_a_second_run_changes_nothing():
    values, dummy, record = R.settle({RES: "2000,2001"}, running_of({RES: "1000,2001-2003"}), {})
    again, restores, record2 = R.settle({RES: "2000,2001"}, running_of({RES: values[RES]}), record)
    assert again == values and record2 == record and restores == []
    assert R.dump(record2) == R.dump(record)


def test_a_removed_forward_gives_back_only_its_port():
    dummy, dummy2, record = R.settle({RES: "2000,5000"}, running_of({RES: "1000"}), {})
    values, restores, record = R.settle({RES: "5000"}, running_of({RES: "1000,2000,5000"}), record)
    assert values[RES] == "1000,5000" and record["reserved_added"] == "5000" and restores == []


def test_absent_gives_back_exactly_the_added_ports_even_where_they_overlap():
    dummy, dummy2, record = R.settle({RES: "2000-2010"}, running_of({RES: "2005,9000"}), {})
    # Later the host reserves 7000 itself: it stays as well.
    values, restores, record = R.settle({}, running_of({RES: "2000-2010,7000,9000"}), record)
    assert values == {} and restores == [(RES, "2005,7000,9000")]
    assert R.dump(record) is None


def test_reservations_of_a_host_that_had_none_go_back_to_empty():
    dummy, dummy2, record = R.settle({RES: "2000"}, running_of({RES: ""}), {})
    assert R.settle({}, running_of({RES: "2000"}), record)[1] == [(RES, "")]


# ------------------------------------------------------------ other sysctls


def test_the_hosts_value_is_recorded_before_the_first_change_and_restored():
    dummy, dummy2, record = R.settle({"net.ipv4.ip_forward": "1"}, running_of({"net.ipv4.ip_forward": "0\n"}), {})
    assert record["sysctls"] == {"net.ipv4.ip_forward": {"before": "0", "set": "1"}}
    # The running value is the collection's now: a later run keeps the first value seen.
    dummy, dummy2, record = R.settle({"net.ipv4.ip_forward": "1"}, running_of({"net.ipv4.ip_forward": "1"}), record)
    assert record["sysctls"]["net.ipv4.ip_forward"]["before"] == "0"
    values, restores, record = R.settle({}, running_of({"net.ipv4.ip_forward": "1"}), record)
    assert restores == [("net.ipv4.ip_forward", "0")] and R.dump(record) is None


def test_a_value_someone_else_changed_since_is_left_alone():
    key = "net.ipv4.conf.eth1.rp_filter"
    dummy, dummy2, record = R.settle({key: "2"}, running_of({key: "1"}), {})
    assert R.settle({}, running_of({key: "0"}), record)[1] == []


def test_a_value_the_host_already_had_needs_no_restore():
    dummy, dummy2, record = R.settle({"net.ipv4.ip_forward": "1"}, running_of({"net.ipv4.ip_forward": "1"}), {})
    assert R.settle({}, running_of({"net.ipv4.ip_forward": "1"}), record)[1] == []


def test_a_sysctl_no_longer_planned_is_restored_while_the_others_stay():
    run = running_of({"net.ipv4.ip_forward": "0", "net.ipv4.conf.eth1.rp_filter": "1"})
    dummy, dummy2, record = R.settle({"net.ipv4.ip_forward": "1", "net.ipv4.conf.eth1.rp_filter": "2"}, run, {})
    run = running_of({"net.ipv4.ip_forward": "1", "net.ipv4.conf.eth1.rp_filter": "2"})
    values, restores, record = R.settle({"net.ipv4.ip_forward": "1"}, run, record)
    assert values == {"net.ipv4.ip_forward": "1"} and restores == [("net.ipv4.conf.eth1.rp_filter", "1")]
    assert list(record["sysctls"]) == ["net.ipv4.ip_forward"]


def test_accept_ra_is_raised_only_where_the_host_accepts_router_advertisements():
    wanted = {"net.ipv6.conf.eth0.accept_ra": "2", "net.ipv6.conf.eth1.accept_ra": "2"}
    run = running_of({"net.ipv6.conf.eth0.accept_ra": "1", "net.ipv6.conf.eth1.accept_ra": "0"})
    values, dummy, record = R.settle(wanted, run, {})
    assert values == {"net.ipv6.conf.eth0.accept_ra": "2"}
    assert record["sysctls"] == {"net.ipv6.conf.eth0.accept_ra": {"before": "1", "set": "2"}}
    # Its own value is 2 now; the record still says it was 1, so it stays in the plan.
    run = running_of({"net.ipv6.conf.eth0.accept_ra": "2", "net.ipv6.conf.eth1.accept_ra": "0"})
    assert R.settle(wanted, run, record)[0] == values
    assert R.settle({}, run, record)[1] == [("net.ipv6.conf.eth0.accept_ra", "1")]


def test_the_drop_in_holds_the_values_set():
    content = "# Managed by wgforward.portforward\nnet.ipv4.ip_local_reserved_ports = 2000\n" \
              "net.ipv6.conf.eth1.accept_ra = 2\n"
    assert R.dropin(content, {RES: "1000,2000"}) == \
        "# Managed by wgforward.portforward\nnet.ipv4.ip_local_reserved_ports = 1000,2000\n"


def test_a_corrupt_record_fails_naming_it():
    with pytest.raises(R.RecordError, match="^/var/lib/wgpf/record.json: not the record"):
        R.load("{", "/var/lib/wgpf/record.json")
    assert R.load(None, "x") == {}


# ------------------------------------------------------------ DNAT rows and conntrack

DNAT = {"4": [{"saddr": None, "proto": "udp", "port": {"from": 2000, "to": 2000}, "daddr": "10.0.0.3",
               "dport": {"from": 8080, "to": 8080}},
              {"saddr": None, "proto": "tcp", "port": {"from": 2000, "to": 2000}, "daddr": "10.0.0.3",
               "dport": {"from": 8080, "to": 8080}},
              {"saddr": None, "proto": "udp", "port": {"from": 3000, "to": 3001}, "daddr": "10.0.0.4",
               "dport": {"from": 3000, "to": 3001}}]}


def test_conntrack_is_cleared_for_new_and_changed_udp_forwards_only():
    rows = R.dnat_rows(DNAT)
    assert R.changed_ports(rows, {}, "udp") == {2000, 3000, 3001}
    assert R.changed_ports(rows, rows, "udp") == set()
    moved = {"4": [dict(DNAT["4"][0], daddr="10.0.0.9")] + DNAT["4"][1:]}
    assert R.changed_ports(R.dnat_rows(moved), rows, "udp") == {2000}


def test_the_rows_sent_as_one_string_read_back_as_the_plan_s_rows():
    """The apply action sends the rows as text (12,000 rows as dicts cost the module seconds): the same rows,
    so a host's record from before compares equal and its conntrack entries are not cleared again."""
    text = R.rows_text(DNAT)
    assert isinstance(text, str) and len(text.splitlines()) == 3
    assert R.dnat_rows(text) == R.dnat_rows(DNAT)
    assert R.dnat_rows("") == {} and R.rows_text({}) == ""


def test_conntrack_listing_is_matched_on_the_original_destination_port():
    listing = ("udp      17 29 src=192.0.2.2 dst=192.0.2.3 sport=40000 dport=2000 [UNREPLIED] "
               "src=192.0.2.3 dst=192.0.2.2 sport=2000 dport=40000 mark=0 use=1\n"
               "udp      17 20 src=192.0.2.3 dst=192.0.2.9 sport=2000 dport=53 src=192.0.2.9 dst=192.0.2.3 "
               "sport=53 dport=2000 mark=0 use=1\n")
    assert R.conntrack_ports(listing, {2000, 3000}) == {2000}


# ------------------------------------------------------------ planner: accept_ra where forwarding turns on


def dual_stack(ipv6_default=None):
    inv = seed_hub(private_vars={"address": ["10.0.0.3/24", "fd00::3/64"]})
    inv.hosts["public1"]["wgpf_address"] = ["10.0.0.2/24", "fd00::2/64"]
    inv.hosts["inter1"]["wgpf_address"] = ["10.0.0.1/24", "fd00::1/64"]
    if ipv6_default:
        inv.hosts["inter1"]["ansible_default_ipv6"] = {"interface": ipv6_default, "gateway": "fe80::1"}
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080, protocols=["tcp", "udp"])
    return inv.data()


def test_accept_ra_is_planned_on_the_ipv6_uplink_of_every_host_that_forwards_ipv6():
    plans = plan_inventory(dual_stack(ipv6_default="ens3"))
    assert plans["public1"]["sysctls"]["net.ipv6.conf.eth0.accept_ra"] == "2"
    assert plans["inter1"]["sysctls"]["net.ipv6.conf.ens3.accept_ra"] == "2"
    # No IPv6 default route in its facts: nothing to keep.
    assert not [k for k in plan_inventory(dual_stack())["inter1"]["sysctls"] if k.endswith("accept_ra")]


def test_no_accept_ra_without_ipv6_forwarding():
    inv = seed_hub()
    inv.hosts["public1"]["ansible_default_ipv6"] = {"interface": "eth0"}
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080)
    assert not [k for k in plan_inventory(inv.data())["public1"]["sysctls"] if "ipv6" in k]
