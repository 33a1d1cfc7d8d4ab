# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address parsing on top of netaddr (no hand-written CIDR arithmetic)."""

from __future__ import annotations

import functools

from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G

try:
    import netaddr
    HAS_NETADDR = True
except ImportError:  # pragma: no cover - reported by the filters
    netaddr = None
    HAS_NETADDR = False

ANY = {4: "0.0.0.0/0", 6: "::/0"}
MAX_PREFIX = {4: 32, 6: 128}
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
    if not isinstance(value, str) or not value:
        raise ValueError("expected an address like 10.0.0.2/24, got %r" % (value,))
    try:
        if not G.looks_like_address(value):
            raise ValueError(value)
        net = netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ValueError("%r is not an IP address with optional /prefix" % value)
    if "/" in value and net.size > 2 and net.ip == net.network:
        raise ValueError("%r is a network address, not a host address" % value)
    return net


def parse_address(value):
    """A bare IP address (a /prefix is ignored); raises ValueError."""
    if not isinstance(value, str) or not value:
        raise ValueError("expected an IP address, got %r" % (value,))
    try:
        if not G.looks_like_address(value):
            raise ValueError(value)
        return netaddr.IPAddress(value.split("/")[0])
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
    if not value:
        raise ValueError("expected a CIDR like 192.0.2.0/24, got %r" % (value,))
    try:
        if not G.looks_like_address(value):
            raise ValueError(value)
        net = netaddr.IPNetwork(value)
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
    """'host:port' or '[v6]:port' -> (host, port); the host is a DNS name or an address. Raises ValueError."""
    if not isinstance(value, str) or ":" not in value:
        raise ValueError("expected host:port, got %r" % (value,))
    if value.startswith("["):
        host, sep, port = value[1:].partition("]:")
        if not sep or not _is_ip(host, 6):
            raise ValueError("expected [IPv6]:port, got %r" % value)
    else:
        host, dummy, port = value.rpartition(":")
        if ":" in host:
            raise ValueError("an IPv6 endpoint needs brackets: [%s]:%s" % (host, port))
        if not (_is_ip(host, 4) or G.dns_name(host)):
            raise ValueError("the host of %r must be a DNS name (RFC 1123) or an IP address" % value)
    if not (port.isascii() and port.isdigit() and len(port) <= 5) or not 1 <= int(port) <= 65535:
        raise ValueError("expected host:port with a port in 1-65535, got %r" % value)
    return host, int(port)


def _is_ip(text, version):
    """A plain address of that version, in its usual spelling (no prefix, zone or shorthand)."""
    if not G.looks_like_address(text) or "/" in text:
        return False
    check = netaddr.valid_ipv4 if version == 4 else netaddr.valid_ipv6
    return check(text, flags=netaddr.INET_PTON) if version == 4 else check(text)


def join_endpoint(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
