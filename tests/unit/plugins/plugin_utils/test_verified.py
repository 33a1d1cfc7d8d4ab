# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When the apply step takes the read's verdict and calls no module (plugin_utils/verified.py).

A wrong skip would leave drift unrepaired: the module is called on any difference in any argument, when the
read did not find the host in sync, when the host keeps no arguments, for state absent, and after a step of
the run changed the host (packages, keys) or the host was applied once already in this run.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import applied
from ansible_collections.wgforward.portforward.plugins.plugin_utils import key_steps, verified

ARGS = {"state": "present",
        "files": [{"path": "/etc/wireguard/wg0.conf", "mode": "0600", "kind": "wireguard", "interface": "wg0",
                   "interface_digest": "d", "missing_keys": [],
                   "content": "[Interface]\nAddress = 10.0.0.1/24\n\n[Peer]\nPublicKey = PUB2\n"}],
        "key_files": {"wg0": "/etc/wireguard/wgpf/wg0.key"}, "sysctls": {"net.ipv4.ip_forward": "1"},
        "dnat": {"4": [{"proto": "tcp", "port": {"from": 2000, "to": 2000}, "daddr": "10.0.0.2",
                        "dport": {"from": 8080, "to": 8080}}]},
        "preshared_keys": []}


def fact(args=None, in_sync=True):
    return {"run": "r1", "public_keys": {"wg0": "PUB1"}, "in_sync": in_sync,
            "applied_digest": applied.digest(ARGS if args is None else args)}


def test_the_read_in_sync_and_the_same_arguments_skip_the_module():
    result = verified.settled_result(fact(), copy.deepcopy(ARGS))
    assert result["verified_by"] == "read_state"
    # The shape of a no-change apply_plan result.
    assert result["changed"] is False and result["actions"] == [] and result["files"] == [] and result["drift"] == []


def changed(args, **changes):
    args = copy.deepcopy(args)
    args.update(changes)
    return args


def with_peer_key(args):
    args = copy.deepcopy(args)
    args["files"][0]["content"] = args["files"][0]["content"].replace("PUB2", "PUB2NEW")
    return args


def with_forward(args):
    args = copy.deepcopy(args)
    args["dnat"]["4"].append({"proto": "udp", "port": {"from": 2001, "to": 2001}, "daddr": "10.0.0.2",
                              "dport": {"from": 53, "to": 53}})
    return args


@pytest.mark.parametrize("other", [
    with_peer_key(ARGS),
    with_forward(ARGS),
    changed(ARGS, key_files={"wg0": "/etc/wireguard/wgpf/other.key"}),
    changed(ARGS, sysctls={"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1"}),
    changed(ARGS, files=[]),
    changed(ARGS, preshared_keys=[{"path": "/etc/wireguard/wgpf/wg0.h2.psk", "value": "Q" * 43 + "="}]),
    changed(ARGS, extra="an option apply_plan does not know"),
], ids=["peer key", "new forward", "key file", "sysctl", "files", "preshared copy", "unknown option"])
def test_any_difference_in_any_argument_calls_the_module(other):
    assert verified.settled_result(fact(), other) is None


@pytest.mark.parametrize("host_fact", [
    fact(in_sync=False),
    dict(fact(), in_sync="true"),  # only the read's own boolean
    {"run": "r1", "public_keys": {}, "applied_digest": None, "in_sync": False},  # nothing kept on the host
    dict(fact(), applied_digest=""),
    None,  # not read in this run
], ids=["not in sync", "not a boolean", "nothing kept", "no digest", "no fact"])
def test_the_module_is_called_unless_the_read_found_the_host_in_sync(host_fact):
    assert verified.settled_result(host_fact, copy.deepcopy(ARGS)) is None


def test_state_absent_calls_the_module():
    absent = {"state": "absent"}
    assert verified.settled_result(fact(absent), absent) is None


def test_a_step_that_changed_the_host_after_the_read_makes_the_apply_run():
    made = key_steps.with_keys(fact(), {"wg1": "PUBNEW"}, {})
    assert verified.settled_result(made, copy.deepcopy(ARGS)) is None
    psk = key_steps.with_keys(fact(), {}, {"/etc/wireguard/wgpf/wg0.h2.psk": "digest"})
    assert verified.settled_result(psk, copy.deepcopy(ARGS)) is None
    # Nothing made: the verdict stands.
    assert verified.settled_result(key_steps.with_keys(fact(), {}, {}), copy.deepcopy(ARGS)) is not None


def test_the_verdict_serves_one_apply_per_run():
    spent = verified.spent(fact())
    assert spent["in_sync"] is False and verified.settled_result(spent, copy.deepcopy(ARGS)) is None
    assert verified.spent(fact(in_sync=False)) is None and verified.spent(None) is None
