# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The grammar of every inventory value that lands in a file or a command.

Each check is a full match (re.fullmatch): a pattern anchored with ``$`` also
matches before a trailing newline, and a newline in a wg-quick config, an
nftables file or a shell script is a new directive. Checks raise ValueError
with a message that shows the value with repr(), so the message itself stays
on one line.
"""

from __future__ import annotations

import re

# Forward names: ids in messages and plans.
FORWARD_NAME_RE = re.compile(r"[a-z0-9_-]+")
# Inventory host names land in comments of every file: DNS-like names and IP addresses only.
HOST_NAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.:-]{0,252})")
# wg-quick's own check on interface names; Linux (dev_valid_name) allows more, never '/', ':' or spaces.
IFNAME_RE = re.compile(r"[A-Za-z0-9_=+.-]{1,15}")
MAC_RE = re.compile(r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}")
# RFC 1123 host names: labels of letters, digits and inner hyphens, 253 characters at most.
DNS_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
PORT_RE = re.compile(r"([0-9]{1,5})(?: ?- ?([0-9]{1,5}))?")
INT_RE = re.compile(r"0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10}")
# Address texts before netaddr sees them: no spaces, zones or other characters.
IPV4_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
IPV6_RE = re.compile(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*")
PREFIX_RE = re.compile(r"[0-9]{1,3}")
RESERVED_IFNAMES = (".", "..", "lo")
PLAIN_RE = re.compile(r"[ -&(-~]*")  # printable ASCII but the single quote


def is_plain(value):
    """A string that can be quoted in a message as it is (printable ASCII, no quote)."""
    return isinstance(value, str) and PLAIN_RE.fullmatch(value) is not None


def quote(value):
    """'value' for messages; repr() for anything else, so a message stays one line."""
    return "'%s'" % value if is_plain(value) else repr(value)


def forward_name(value):
    if not isinstance(value, str) or not FORWARD_NAME_RE.fullmatch(value):
        raise ValueError("required, and must match [a-z0-9_-]+, got %r" % (value,))
    return value


def host_name(value):
    if not isinstance(value, str) or not HOST_NAME_RE.fullmatch(value):
        raise ValueError("inventory host name %s lands in the files' comments: use letters, digits and . _ : -"
                         % quote(value))
    return value


def ifname(value):
    """A Linux interface name that wg-quick accepts; raises ValueError."""
    if not isinstance(value, str) or not IFNAME_RE.fullmatch(value):
        raise ValueError("must be an interface name of 1-15 characters from A-Z a-z 0-9 _ = + . -, got %r"
                         % (value,))
    if value in RESERVED_IFNAMES:
        raise ValueError("%r is not an interface name the collection may use" % (value,))
    return value


def mac(value):
    if not isinstance(value, str) or not MAC_RE.fullmatch(value):
        raise ValueError("must be a MAC address like 12:34:56:78:90:ab, got %r" % (value,))
    return value


def dns_name(value):
    """True for an RFC 1123 host name (an optional final dot, no all-numeric last label)."""
    text = value[:-1] if value.endswith(".") else value
    labels = text.split(".")
    return (0 < len(text) <= 253 and all(DNS_LABEL_RE.fullmatch(label) for label in labels)
            and not labels[-1].isdigit())


def integer(value):
    """Ints, and strings of decimal or 0x hex digits, as int; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and INT_RE.fullmatch(value):
        return int(value, 16) if value[:2].lower() == "0x" else int(value, 10)
    return None


def boolean(value):
    return isinstance(value, bool)


def parse_port(value):
    """int or 'lo-hi' -> (lo, hi); raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("expected a port or 'lo-hi' range, got %r" % (value,))
    if isinstance(value, int):
        lo = hi = value
    else:
        found = PORT_RE.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            raise ValueError("expected a port (1-65535) or a 'lo-hi' range, got %r" % (value,))
        lo = int(found.group(1))
        hi = int(found.group(2) or lo)
    if not (1 <= lo <= 65535 and 1 <= hi <= 65535):
        raise ValueError("port %r is outside 1-65535" % (value,))
    if lo > hi:
        raise ValueError("range %r runs backwards" % (value,))
    return lo, hi


def port_text(span):
    """A port span (lo, hi) as text: 2000, or 2000-2010 for a range. The one spelling of a span for ip
    rules, nft sets, the kernel's reserved ports and messages."""
    return str(span[0]) if span[0] == span[1] else "%d-%d" % (span[0], span[1])


def looks_like_address(value):
    """An address with an optional /prefix and nothing else (netaddr then checks the numbers)."""
    if not isinstance(value, str):
        return False
    addr, slash, prefix = value.partition("/")
    return bool((IPV4_RE.fullmatch(addr) or IPV6_RE.fullmatch(addr)) and (not slash or PREFIX_RE.fullmatch(prefix)))
