# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's nftables table as the kernel lists it, compared with what its file loaded.

The kernel's listing is not the file's text (nft prints ``iifname { "wg0" }`` as
``iifname "wg0"``, ``syn / syn,rst`` for ``& (syn | rst) == syn``...), so the
apply step keeps what the kernel listed right after it loaded the file: the
stateless listing (``nft -s``: no counters, no expiry times) with the digest of
the file it came from (``layout.NFT_LISTING``). A later run lists the table
again and compares the two as lines (``describe``): each object's own lines,
each element of a set or map, each rule of a chain in order. Nothing here knows
what the table holds: a new kind of object, set or chain is compared the same
way. Elements of sets that rules fill at run time (``flags dynamic`` or a
``timeout``) are state, not configuration, and are left out. Measured on the
test image: a listing takes 4 ms (loading the file into a scratch network
namespace and listing it there, the other way, 18 ms, and it cannot load an
object bound to a device the namespace lacks).

Standard library only: runs on the managed host.
"""

from __future__ import annotations

import hashlib

from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import NFT_TABLE

LIST_ARGV = ["nft", "-s", "list", "table", "inet", NFT_TABLE]
DIGEST_PREFIX = "# loaded from sha256 "


def digest(content):
    return hashlib.sha256(content.encode()).hexdigest()


def snapshot(content, listing):
    """The text kept on the host: the digest of the file the table was loaded from, then its listing."""
    return "%s%s\n%s" % (DIGEST_PREFIX, digest(content), listing)


def loaded_listing(kept, content):
    """The listing kept for exactly this file content, or None (none kept, or kept for another content:
    a load that failed after the file was written, or a release that kept none)."""
    if not kept:
        return None
    first, _sep, listing = kept.partition("\n")
    if first != DIGEST_PREFIX + digest(content):
        return None
    return listing


def _split_top(text):
    """``text`` split at the commas outside quotes and braces."""
    if '"' not in text and "{" not in text and "}" not in text:
        # The usual element list (addresses, ports, concatenations): no nesting, a plain split.
        return [part for part in (piece.strip() for piece in text.split(",")) if part]
    parts, depth, quoted, current = [], 0, False, []
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "{}":
            depth += 1 if char == "{" else -1
        if char == "," and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def _balanced(text):
    return text.count("{") == text.count("}")


def _is_dynamic(lines):
    """A set whose elements rules add at run time: its elements are state."""
    for line in lines:
        words = line.replace(",", " ").split()
        if words and ((words[0] == "flags" and "dynamic" in words) or words[0] == "timeout"):
            return True
    return False


def _block_lines(header, body):
    """One object's comparable lines: its own lines, then its elements (sorted: the kernel's order of a
    hash set is not its configuration)."""
    own, elements = [], []
    for line in body:
        if line.startswith("elements = {"):
            elements += _split_top(line[len("elements = {"):line.rindex("}")])
        else:
            own.append("%s: %s" % (header, line))
    if _is_dynamic(body):
        elements = []
    return own + ["%s element %s" % (header, elem) for elem in sorted(elements)]


def _blocks(listing):
    """[(header, [body lines])] of the objects in a listing of one table.

    An element list spans many lines (one per element or few, 12,000 at 10,000 forwards): its lines
    are gathered in a list and its braces counted line by line, once each (joining and recounting the
    whole text at every line took seconds at that size)."""
    blocks, header, body, pending, depth = [], None, [], None, 0
    for raw in listing.splitlines():
        text = raw.strip()
        if pending is not None:
            pending.append(text)
            depth += text.count("{") - text.count("}")
            if depth == 0:
                body.append(" ".join(pending))
                pending = None
        elif header is None:
            if text.endswith("{") and not text.startswith("table "):
                header, body = text[:-1].strip(), []
        elif text == "}":
            blocks.append((header, body))
            header = None
        elif text.startswith("elements = {") and not _balanced(text):
            pending, depth = [text], text.count("{") - text.count("}")
        elif text:
            body.append(text)
    return blocks


def describe(listing):
    """The listing as comparable lines, its objects in name order (a re-created object lists last)."""
    lines = []
    for header, body in sorted(_blocks(listing or ""), key=lambda block: block[0]):
        lines += _block_lines(header, body)
    return lines
