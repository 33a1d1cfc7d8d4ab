# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the live check's verdicts look up in a probe result, indexed once per result (check_verdict.py).

verdicts() asks about each forward in turn: the DNAT map element of its ports, the route answer of its
reply, the table's counters. At 10,000 forwards a scan of the probed table or list per forward costs
minutes of controller CPU (benchmarks/README.md, "Scale"), so each probed object is indexed once, by
its identity, and every forward after the first looks it up.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_expect import route_key


def _atoms(value):
    """The parts of an nft JSON key or value: ints, strings, (lo, hi) ranges."""
    if isinstance(value, dict):
        if "elem" in value:
            return _atoms(value["elem"].get("val"))
        if "concat" in value:
            return [atom for part in value["concat"] for atom in _atoms(part)]
        if "range" in value:
            return [tuple(value["range"])]
        if "prefix" in value:
            return ["%s/%s" % (value["prefix"]["addr"], value["prefix"]["len"])]
        return []
    return [value]


def _covers(atom, port):
    if isinstance(atom, tuple):
        return isinstance(atom[0], int) and atom[0] <= port <= atom[1]
    return isinstance(atom, int) and not isinstance(atom, bool) and atom == port


def _text_atom(text):
    """One part of an element as forward_probe writes it: an int, a (low, high) range, or a string."""
    if text.isdigit():
        return int(text)
    low, sep, high = text.partition("-")
    if sep and low.isdigit() and high.isdigit():
        return (int(low), int(high))
    return text


def _text_atoms(text):
    return [_text_atom(part) for part in text.split(" . ")]


def _elements(table):
    """(map name, key atoms, value atoms) of every element of the table's maps: a string ``key : value``
    (forward_probe.compact_maps) or a pair as nft -j prints it."""
    for obj in table or []:
        nft_map = obj.get("map") or {}
        for elem in nft_map.get("elem", []):
            if isinstance(elem, str):
                key, sep, value = elem.partition(" : ")
                if sep:
                    yield nft_map["name"], _text_atoms(key), _text_atoms(value)
            elif isinstance(elem, list) and len(elem) == 2:
                yield nft_map["name"], _atoms(elem[0]), _atoms(elem[1])


# Kept by the object's identity, for a few objects (a few per host of the run).
_INDEXES = {}
# A port range of the DNAT map up to this many ports is indexed port by port; a wider one is scanned.
RANGE_INDEXED = 1024


def _indexed(kind, obj, make):
    """``make(obj)``, made once while ``obj`` (a probe's table or list) is the same object."""
    key = (kind, id(obj))
    if _INDEXES.get(key, (None,))[0] is obj:
        return _INDEXES[key][1]
    if len(_INDEXES) >= 32:  # a few objects per host of the run
        _INDEXES.clear()
    value = make(obj)
    _INDEXES[key] = (obj, value)
    return value


def _port_index(table):
    """({port: [element]}, [elements with a port range too wide to index]), each element
    (position, name, key, value)."""
    return _indexed("ports", table, _make_port_index)


def _make_port_index(table):
    by_port, ranged = {}, []
    for pos, (name, key, value) in enumerate(_elements(table)):
        elem = (pos, name, key, value)
        for atom in key:
            if isinstance(atom, tuple):
                if isinstance(atom[0], int) and isinstance(atom[1], int) and 0 <= atom[1] - atom[0] < RANGE_INDEXED:
                    for port in range(atom[0], atom[1] + 1):
                        by_port.setdefault(port, []).append(elem)
                else:
                    ranged.append(elem)
            elif isinstance(atom, int) and not isinstance(atom, bool):
                by_port.setdefault(atom, []).append(elem)
    return by_port, ranged


def dnat_map_of(table, item):
    """The name of the map that sends every port of the forward to its service's port, or None."""
    by_port, ranged = _port_index(table)
    found = None
    for offset in range(item["port"][1] - item["port"][0] + 1):
        port, to_port = item["port"][0] + offset, item["dport"] + offset
        # The first such element in the table's order, as a scan of the whole table would find.
        candidates = dict((elem[0], elem) for elem in by_port.get(port, []) + ranged)
        found = next((name for dummy, name, key, value in (candidates[pos] for pos in sorted(candidates))
                      if item["proto"] in key and any(_covers(a, port) for a in key)
                      and item["daddr"] in value and any(_covers(a, to_port) for a in value)), None)
        if found is None:
            return None
    return found


def counters(table):
    """The table's rule counters (_counters), read once per table: every forward through the host shows them."""
    return _indexed("counters", table, _counters)


def _counters(table):
    """'<chain> rule <n> (<verdict>[: comment]): N packets' of every rule of the table that counts.

    A rule's comment says what its counter counts when that is not every packet it matches (the
    accept rules, after the established connections: the packets of new ones before a reply).
    """
    out, seen = [], {}
    for obj in table or []:
        rule = obj.get("rule")
        if not rule:
            continue
        seen[rule["chain"]] = seen.get(rule["chain"], 0) + 1
        exprs = [e for e in rule.get("expr", []) if isinstance(e, dict)]
        count = next((e["counter"] for e in exprs if isinstance(e.get("counter"), dict)), None)
        if count is not None:
            verdict = next((k for e in exprs for k in ("accept", "drop") if k in e), "count")
            verdict += ": %s" % rule["comment"] if rule.get("comment") else ""
            packets = count.get("packets", 0)
            out.append("%s rule %d (%s): %d packets" % (rule["chain"], seen[rule["chain"]], verdict, packets))
    return out


def route_answers(routes):
    """{route_key: answer} of a probe's `ip route get` answers."""
    return _indexed("routes", routes, lambda items: {route_key(r): r for r in items})
