# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the apply step remembers on the host so that it can give back exactly what it changed.

The record (layout.RECORD_PATH, root only) holds, written before the change it describes:

- ``sysctls``: for each sysctl the drop-in sets, the host's running value before the
  collection's first change (``before``) and the value the collection set (``set``);
- ``reserved_added``: the ports the collection added to ``net.ipv4.ip_local_reserved_ports``
  (the forwarded ports the host did not reserve itself);
- ``dnat``: the DNAT rows last applied, so conntrack entries are cleared only for new or
  changed forwards.

Pure functions over plain data (``running(key)`` reads a running value); the apply step
reads and writes the host. Runs on the managed host: Python 3.8+ (ansible-core 2.19's floor).
"""

from __future__ import annotations

import json

from ansible_collections.wgforward.portforward.plugins.module_utils.core.grammar import port_text

RESERVED = "net.ipv4.ip_local_reserved_ports"
# Sysctls the plan raises only from one value of the host's own: accept_ra=2 keeps an interface
# that accepts router advertisements (1) accepting them once forwarding is on; 0 stays 0.
RAISE_ONLY_FROM = {"accept_ra": "1"}
MAX_PORT = 65535


class RecordError(Exception):
    """The record on the host cannot be read; the message names it."""


def normalize(value):
    return " ".join(str(value).split())


# ------------------------------------------------------------ ports


def parse_ports(text):
    """The set of ports in a kernel port list ("1000,2000-2010"); empty for ""."""
    ports = set()
    for part in normalize(text or "").replace(" ", "").split(","):
        if not part:
            continue
        lo, _sep, hi = part.partition("-")
        lo, hi = int(lo), int(hi or lo)
        if not 0 < lo <= hi <= MAX_PORT:
            raise ValueError("not a port range: %r" % part)
        ports.update(range(lo, hi + 1))
    return ports


def format_ports(ports):
    """The kernel's canonical form: sorted, ranges joined, comma-separated."""
    spans = []
    for port in sorted(ports):
        if spans and port == spans[-1][1] + 1:
            spans[-1][1] = port
        else:
            spans.append([port, port])
    return ",".join(port_text(span) for span in spans)


# ------------------------------------------------------------ the record


def load(text, shown_as):
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RecordError("%s: not the record wgforward.portforward writes (%s): restore it or remove it "
                          "(the values it held are then not given back)" % (shown_as, exc))
    if not isinstance(data, dict):
        raise RecordError("%s: not the record wgforward.portforward writes" % shown_as)
    return data


def dump(record):
    """Stable text (a second run writes the same bytes), or None when nothing is recorded."""
    kept = {key: value for key, value in record.items() if value}
    # Compact: with an indent json takes its Python encoder, 10 times slower on 10,000 DNAT rows.
    return json.dumps(kept, sort_keys=True, separators=(",", ":")) + "\n" if kept else None


# ------------------------------------------------------------ sysctls


def _leaf(key):
    return key.rsplit(".", 1)[-1]


def _reserved(value, current, record):
    """(merged value, ports added): the host's own reservations plus the forwarded ports."""
    own = parse_ports(current) - parse_ports(record.get("reserved_added"))
    ours = parse_ports(value)
    return format_ports(own | ours), format_ports(ours - own)


def settle(wanted, running, record):
    """What to set, what to give back, and the new record, from the plan's sysctls ``wanted``.

    Returns ``(values, restores, record)``: ``values`` {key: value} for the drop-in and the
    running system (the reserved ports merged with the host's own, a RAISE_ONLY_FROM sysctl only
    where the host had that value); ``restores`` [(key, value)] for what the collection set
    before and the plan no longer holds (a value someone else changed since is left alone).
    """
    old = record.get("sysctls") or {}
    kept = {}
    values = {}
    new = {key: value for key, value in record.items() if key not in ("sysctls", "reserved_added")}
    for key in sorted(wanted):
        value = normalize(wanted[key])
        current = running(key)
        if key == RESERVED:
            values[key], new["reserved_added"] = _reserved(value, current, record)
            continue
        before = old[key]["before"] if key in old else (None if current is None else normalize(current))
        if _leaf(key) in RAISE_ONLY_FROM and before != RAISE_ONLY_FROM[_leaf(key)]:
            continue
        values[key] = value
        if before is not None:
            kept[key] = {"before": before, "set": value}
    restores = []
    for key in sorted(set(old) - set(kept)):
        current = running(key)
        if current is not None and normalize(current) == old[key]["set"] and old[key]["before"] != old[key]["set"]:
            restores.append((key, old[key]["before"]))
    if RESERVED not in wanted and record.get("reserved_added"):
        current = running(RESERVED)
        if current is not None:
            left = format_ports(parse_ports(current) - parse_ports(record["reserved_added"]))
            if left != normalize(current).replace(" ", ""):
                restores.append((RESERVED, left))
    new["sysctls"] = kept
    return values, restores, new


def dropin(content, values):
    """The rendered drop-in with each ``key = value`` line set to ``values`` (lines of other keys dropped)."""
    out = []
    for line in content.splitlines(True):
        key, sep, _value = line.partition(" = ")
        if not sep or line.startswith("#"):
            out.append(line)
        elif key in values:
            out.append("%s = %s\n" % (key, values[key]))
    return "".join(out)


# ------------------------------------------------------------ DNAT and conntrack


def dnat_rows(dnat):
    """{"proto lo-hi": [target, ...]} of the plan's nftables ``dnat`` ({"4": [row], "6": [row]}), or of
    its rows as ``rows_text`` wrote them (the apply action sends that: one string, where 12,000 rows as
    dicts cost the module seconds to take in and give back)."""
    rows = {}
    if isinstance(dnat, str):
        for line in dnat.splitlines():
            key, sep, target = line.partition("\t")
            if sep:
                rows.setdefault(key, []).append(target)
        return {key: sorted(targets) for key, targets in rows.items()}
    for family in sorted(dnat or {}):
        for row in dnat[family]:
            key = "%s %d-%d" % (row["proto"], row["port"]["from"], row["port"]["to"])
            target = "%s %s %s %d-%d" % (family, row.get("saddr") or "*", row["daddr"],
                                         row["dport"]["from"], row["dport"]["to"])
            rows.setdefault(key, []).append(target)
    return {key: sorted(targets) for key, targets in rows.items()}


def rows_text(dnat):
    """The plan's ``dnat`` as one string, a row a line (``key<TAB>target``): what dnat_rows reads back."""
    return "".join("%s\t%s\n" % (key, target) for key, targets in sorted(dnat_rows(dnat).items())
                   for target in targets)


def changed_ports(new_rows, old_rows, proto):
    """The ports of ``proto`` whose DNAT is new or changed since ``old_rows``."""
    ports = set()
    for key, targets in new_rows.items():
        row_proto, span = key.split(" ")
        if row_proto == proto and old_rows.get(key) != targets:
            lo, _sep, hi = span.partition("-")
            ports.update(range(int(lo), int(hi) + 1))
    return ports


def conntrack_ports(listing, ports):
    """The original destination ports in ``conntrack -L`` output that are in ``ports``."""
    found = set()
    for line in listing.splitlines():
        for word in line.split():
            if word.startswith("dport="):
                port = int(word[len("dport="):])
                if port in ports:
                    found.add(port)
                break  # the first dport= is the original direction's
    return found
