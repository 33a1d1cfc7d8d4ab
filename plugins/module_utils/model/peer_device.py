# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an unmanaged peer's wg-quick file says for the device it goes to: wgpf_dns, wgpf_peer_default_route.

Only a peer Ansible does not manage (model/unmanaged.py) takes them: the run
writes no file for any other host that could carry them.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G

PEER_DEVICE_KEYS = ("wgpf_dns", "wgpf_peer_default_route")
# How the file spells the full tunnel (AllowedIPs of every address): /0 (wg-quick and NetworkManager route
# their own packets outside the tunnel only for a /0; WireGuard for Windows turns its kill-switch on), or the
# two halves of each family (no kill-switch; wg-quick then routes the tunnel's own packets into itself).
WHOLE, HALVES = "whole", "halves"
DEFAULT_ROUTE_CHOICES = (WHOLE, HALVES)


def parse_peer_device(where, hv, is_peer, problems):
    """{'dns': [address text], 'peer_default_route': whole or halves} of one host, each value checked."""
    out = {"dns": [], "peer_default_route": WHOLE}
    if not is_peer:
        for name in PEER_DEVICE_KEYS:
            if hv.get(name) is not None:
                problems.add(where, name, "only for a peer Ansible does not manage (one with wgpf_public_key)")
        return out
    out["dns"] = _dns(where, hv.get("wgpf_dns"), problems)
    route = hv.get("wgpf_peer_default_route")
    if route is not None:
        if route in DEFAULT_ROUTE_CHOICES:
            out["peer_default_route"] = route
        else:
            problems.add(where, "wgpf_peer_default_route", "must be one of %s, got %s" % (
                ", ".join(DEFAULT_ROUTE_CHOICES), G.quote(route)))
    return out


def _dns(where, value, problems):
    """The DNS servers: one address or a list of them (the file's ``DNS =`` line), in the order given."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        problems.add(where, "wgpf_dns", "must be an IP address or a non-empty list of them, got %s" % G.quote(value))
        return []
    found = []
    for item in items:
        address = _server(item)
        if address is None:
            problems.add(where, "wgpf_dns", "%s is not the IP address of a DNS server (a bare unicast IPv4 or IPv6 "
                         "address such as 9.9.9.9, no /prefix, no name)" % G.quote(item))
        elif address not in found:
            found.append(address)
    return found


def _server(item):
    """The address as the file writes it, or None when it cannot be a DNS server's."""
    if not isinstance(item, str) or "/" in item:
        return None
    try:
        ip = A.parse_address(item)
    except ValueError:
        return None
    if ip.is_multicast() or int(ip) == 0:
        return None
    return str(ip)
