# -*- coding: utf-8 -*-
"""accept_ra in a network namespace: a host that autoconfigures IPv6 loses the router advertisements
(and so its default route) once forwarding is on with accept_ra=1; with the sysctls the planner plans
and the apply step's rule (host_record.settle: accept_ra=2 only where the host had 1) it keeps them,
and removal gives back its own values. A veth peer in a second namespace sends the advertisements."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from builders import seed_hub

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import host_record
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_record import sysctl_path
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory

# One router advertisement (router lifetime 1800 s) to all nodes; the kernel fills in the checksum.
SEND_RA = """
import socket, struct
sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
sock.sendto(struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0), ("ff02::1", 0, 0, socket.if_nametoindex("eth0")))
"""


def ns_run(ns, *args):
    return subprocess.run(["ip", "netns", "exec", ns] + list(args), check=True, capture_output=True, text=True).stdout


def planned_ipv6_sysctls():
    """What the planner puts in a dual-stack public server's drop-in for IPv6 (its WAN is eth0)."""
    inv = seed_hub(private_vars={"address": ["10.0.0.3/24", "fd00::3/64"]})
    inv.hosts["public1"]["wgpf_address"] = ["10.0.0.2/24", "fd00::2/64"]
    inv.hosts["inter1"]["wgpf_address"] = ["10.0.0.1/24", "fd00::1/64"]
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080)
    sysctls = plan_inventory(inv.data())["public1"]["sysctls"]
    return {k: v for k, v in sysctls.items() if k.startswith("net.ipv6.")}


def default_route_after_ra(host, router):
    ns_run(host, "ip", "-6", "route", "flush", "proto", "ra")
    ns_run(router, sys.executable, "-c", SEND_RA)
    for dummy in range(20):
        if "proto ra" in ns_run(host, "ip", "-6", "route", "show", "default"):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("own_accept_ra", ["1", "0"])
def test_an_autoconfiguring_host_keeps_its_default_route_once_forwarding_is_on(own_accept_ra):
    if os.geteuid() != 0:
        pytest.skip("network namespaces with veths need root (ip netns add)")
    tag = uuid.uuid4().hex[:6]
    host, router = "wgpf-ra-h-" + tag, "wgpf-ra-r-" + tag
    try:
        for ns in (host, router):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        ns_run(host, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", router)
        for ns in (host, router):
            # No duplicate address detection: the link-local addresses work at once.
            ns_run(ns, "sysctl", "-q", "-w", "net.ipv6.conf.eth0.accept_dad=0")
            ns_run(ns, "ip", "link", "set", "eth0", "up")
        for dummy in range(40):  # the router's link-local address comes with the carrier
            if "fe80::" in ns_run(router, "ip", "-6", "addr", "show", "dev", "eth0", "scope", "link"):
                break
            time.sleep(0.05)
        ns_run(host, "sysctl", "-q", "-w", "net.ipv6.conf.eth0.accept_ra=%s" % own_accept_ra)
        assert default_route_after_ra(host, router) == (own_accept_ra == "1")

        def running(key):
            try:
                return ns_run(host, "cat", sysctl_path(key))
            except subprocess.CalledProcessError:
                return None

        def write(values):
            for key, value in values:
                ns_run(host, "sysctl", "-q", "-w", "%s=%s" % (key, value))

        wanted = planned_ipv6_sysctls()
        assert wanted == {"net.ipv6.conf.all.forwarding": "1", "net.ipv6.conf.eth0.accept_ra": "2"}
        values, dummy, record = host_record.settle(wanted, running, {})
        # The problem: forwarding on, accept_ra left as it was, the advertisements are ignored.
        write([("net.ipv6.conf.all.forwarding", "1")])
        assert not default_route_after_ra(host, router)
        write(sorted(values.items()))
        # Autoconfiguring (1): accepted again; configured statically (0): still ignored, as before.
        assert default_route_after_ra(host, router) == (own_accept_ra == "1")
        dummy, restores, record = host_record.settle({}, running, record)
        write(restores)
        assert running("net.ipv6.conf.eth0.accept_ra").strip() == own_accept_ra
        assert running("net.ipv6.conf.all.forwarding").strip() == "0"
    finally:
        for ns in (host, router):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
