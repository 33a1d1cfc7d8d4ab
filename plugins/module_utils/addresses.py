# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address parsing on top of netaddr (no hand-written CIDR arithmetic)."""

from __future__ import annotations

import functools
import re

try:
    import netaddr
    HAS_NETADDR = True
except ImportError:  # pragma: no cover - reported by the filters
    netaddr = None
    HAS_NETADDR = False

IFNAME_RE = re.compile(r"^[A-Za-z0-9_=+.-]{1,15}$")
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")

ANY = {4: "0.0.0.0/0", 6: "::/0"}
# The other half of the "def1" trick: two /1 routes override a default route without replacing it.
HALVES = {4: ("0.0.0.0/1", "128.0.0.0/1"), 6: ("::/1", "8000::/1")}

# Addresses that never come from the Internet (RFC 6890 and friends), for strict SAV.
BOGONS = {
    4: ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"),
    6: ("::/8", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8"),
}


def require_netaddr():
    if not HAS_NETADDR:
        raise ImportError("wgforward.portforward needs the Python library netaddr on the controller "
                          "(pip install netaddr)")


def parse_interface_address(value):
    """'10.0.0.2/24' or '10.0.0.2' -> IPNetwork keeping the host address; raises ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected an address like 10.0.0.2/24, got %r" % (value,))
    text = value.strip()
    try:
        net = netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValueError("%r is not an IP address with optional /prefix" % value)
    if "/" in text and net.size > 2 and net.ip == net.network:
        raise ValueError("%r is a network address, not a host address" % value)
    return net


def parse_address(value):
    """A bare IP address; raises ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected an IP address, got %r" % (value,))
    try:
        return netaddr.IPAddress(value.strip().split("/")[0])
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValueError("%r is not an IP address" % value)


def parse_cidr(value):
    """A network in CIDR form (host bits must be zero); raises ValueError."""
    if not isinstance(value, str):
        raise ValueError("expected a CIDR like 192.0.2.0/24, got %r" % (value,))
    return _parse_cidr(value)


@functools.lru_cache(maxsize=4096)
def _parse_cidr(value):
    # Large inventories repeat the same source networks: parse each text once.
    if not value.strip():
        raise ValueError("expected a CIDR like 192.0.2.0/24, got %r" % (value,))
    try:
        net = netaddr.IPNetwork(value.strip())
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValueError("%r is not a CIDR" % value)
    if net.ip != net.network:
        raise ValueError("%r has host bits set (did you mean %s?)" % (value, net.cidr))
    return net.cidr


@functools.lru_cache(maxsize=4096)
def host_net(ip):
    """An address as a single-host network (/32 or /128); treat the result as read-only."""
    ip = netaddr.IPAddress(ip)
    return netaddr.IPNetwork("%s/%d" % (ip, 32 if ip.version == 4 else 128))


def split_endpoint(value):
    """'host:port' or '[v6]:port' -> (host, port); raises ValueError."""
    if not isinstance(value, str) or ":" not in value:
        raise ValueError("expected host:port, got %r" % (value,))
    if value.startswith("["):
        host, sep, port = value[1:].partition("]:")
        if not sep:
            raise ValueError("expected [IPv6]:port, got %r" % value)
    else:
        host, dummy, port = value.rpartition(":")
        if ":" in host:
            raise ValueError("an IPv6 endpoint needs brackets: [%s]:%s" % (host, port))
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError("expected host:port with a port in 1-65535, got %r" % value)
    return host, int(port)


def join_endpoint(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
