# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The routes and ip rules of routes.sh, as its ``wanted()`` states them and as the kernel holds them.

Both sides become the same canonical text (``-4 priority 5100 from 172.31.15.3/32
ipproto 6 sport 8080 lookup 51900``, ``-4 default via 172.31.15.2 dev eth0 table
51900``), so that a line of one side missing from the other is a rule or route
missing or extra; the text of an extra one is also the argument list that
deletes exactly it. The kernel's side is read with ``ip -N -j`` (numbers for
tables and protocols: a table named in rt_tables, or a protocol in
/etc/protocols, prints the same as the script's number).

What is compared: every rule and route the script wants, and what else sits in
the collection's priorities and tables (those of the script's rules and
routes, never main, local or default), but for the routes of the WireGuard
interfaces there (wg-quick's ``Table =``: live_wg.py compares those).

Standard library only: runs on the managed host.
"""

from __future__ import annotations

import ipaddress
import shlex

# ip's own table names, as `ip -N` numbers them.
TABLE_IDS = {"default": 253, "main": 254, "local": 255}
SYSTEM_TABLES = set(TABLE_IDS.values())
PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58, "icmpv6": 58, "sctp": 132}
FULL_MASK = 0xFFFFFFFF
RULE_ORDER = ("priority", "not", "from", "to", "iif", "oif", "fwmark", "ipproto", "sport", "dport", "lookup")
ALIASES = {"pref": "priority", "preference": "priority", "order": "priority", "table": "lookup"}


def wanted(script):
    """{"rules": [...], "routes": [...], "sysctls": [(interface, key, value)]} of the script's wanted()."""
    out = {"rules": [], "routes": [], "sysctls": []}
    inside = False
    for line in (script or "").splitlines():
        if line.startswith("wanted() {"):
            inside = True
        elif inside and line.strip() == "}":
            break
        elif inside and line.strip():
            words = shlex.split(line)
            if words[0] == "rule":
                out["rules"].append(rule_from_args(words[1:]))
            elif words[0] == "route":
                out["routes"].append(route_from_args(words[1:]))
            elif words[0] == "if_sysctl" and len(words) == 4:
                out["sysctls"].append((words[1], words[2], words[3]))
    return out


# ------------------------------------------------------------ canonical values


def _family(flag):
    return 6 if flag == "-6" else 4


def table_id(value):
    text = str(value)
    if text.isdigit():
        return int(text)
    return TABLE_IDS.get(text, text)


def _net(text, family, length=None):
    if text in (None, "all", "default"):
        return None if text != "default" else ipaddress.ip_network("::/0" if family == 6 else "0.0.0.0/0")
    if length is not None:
        text = "%s/%s" % (text, length)
    return ipaddress.ip_network(text, strict=False)


def _proto(value):
    text = str(value)
    if text.startswith("ipproto-"):
        text = text[len("ipproto-"):]
    return int(text) if text.isdigit() else PROTOCOLS.get(text, text)


def _ports(text):
    lo, _sep, hi = str(text).partition("-")
    return "%d-%d" % (int(lo), int(hi)) if hi and hi != lo else str(int(lo))


def _mark(value, mask=None):
    if "/" in str(value):
        value, mask = str(value).split("/", 1)
    mask = FULL_MASK if mask is None else int(str(mask), 0)
    return "%#x/%#x" % (int(str(value), 0), mask)


# ------------------------------------------------------------ rules


def rule_from_args(words):
    """{family, key: canonical value} of ``-4 from X ipproto 6 sport 8080 lookup T priority P``."""
    rule = {"family": _family(words[0])}
    rest = words[1:]
    while rest:
        if rest[0] == "not":
            rule["not"], rest = True, rest[1:]
            continue
        key, value, rest = ALIASES.get(rest[0], rest[0]), rest[1], rest[2:]
        rule[key] = value
    return _canonical_rule(rule)


def rule_from_json(entry, family):
    """The same, from one entry of `ip -N -j rule show`."""
    rule = {"family": family, "priority": entry.get("priority"), "lookup": entry.get("table")}
    if "not" in entry:
        rule["not"] = True
    if entry.get("src") not in (None, "all"):
        rule["from"] = _net(entry["src"], family, entry.get("srclen"))
    if entry.get("dst") not in (None, "all"):
        rule["to"] = _net(entry["dst"], family, entry.get("dstlen"))
    for key in ("iif", "oif", "ipproto"):
        if entry.get(key) is not None:
            rule[key] = entry[key]
    if entry.get("fwmark") is not None:
        rule["fwmark"] = _mark(entry["fwmark"], entry.get("fwmask"))
    for key in ("sport", "dport"):
        if entry.get(key) is not None:
            rule[key] = entry[key]
        elif entry.get(key + "_start") is not None:
            rule[key] = "%s-%s" % (entry[key + "_start"], entry[key + "_end"])
    return _canonical_rule(rule)


def _canonical_rule(rule):
    out = dict(rule)
    for key in ("from", "to"):
        if isinstance(out.get(key), str):
            out[key] = _net(out[key], rule["family"])
    if "ipproto" in out:
        out["ipproto"] = _proto(out["ipproto"])
    for key in ("sport", "dport"):
        if key in out:
            out[key] = _ports(out[key])
    if "fwmark" in out:
        out["fwmark"] = _mark(out["fwmark"])
    if out.get("priority") is not None:
        out["priority"] = int(out["priority"])
    if out.get("lookup") is not None:
        out["lookup"] = table_id(out["lookup"])
    return out


def rule_text(rule):
    words = ["-%d" % rule["family"]]
    for key in RULE_ORDER:
        if key == "not":
            words += ["not"] if rule.get("not") else []
        elif rule.get(key) is not None:
            words += [key, str(rule[key])]
    return " ".join(words)


# ------------------------------------------------------------ routes


def route_from_args(words):
    """{family, dst, via, dev, table} of ``-4 DST via GW [dev DEV] [table T]``."""
    family = _family(words[0])
    route = {"family": family, "dst": _net(words[1], family), "via": None, "dev": None, "table": TABLE_IDS["main"]}
    rest = words[2:]
    while len(rest) >= 2:
        key, value, rest = rest[0], rest[1], rest[2:]
        if key in ("via", "dev"):
            route[key] = str(ipaddress.ip_address(value)) if key == "via" else value
        elif key == "table":
            route["table"] = table_id(value)
    return route


def route_from_json(entry, family):
    """The same, from one entry of `ip -N -j route show table all`; None for what is not a unicast route."""
    if entry.get("type", "unicast") != "unicast" or "dst" not in entry:
        return None
    via = entry.get("gateway")
    return {"family": family, "dst": _net(entry["dst"], family), "via": str(ipaddress.ip_address(via)) if via else None,
            "dev": entry.get("dev"), "table": table_id(entry.get("table", TABLE_IDS["main"]))}


def route_text(route, dev=True):
    dst = "default" if route["dst"].prefixlen == 0 else str(route["dst"])
    words = ["-%d" % route["family"], dst]
    if route.get("via"):
        words += ["via", route["via"]]
    if dev and route.get("dev"):
        words += ["dev", route["dev"]]
    return " ".join(words + ["table", str(route["table"])])


# ------------------------------------------------------------ both sides


def ours(want):
    """(priorities, tables) of the collection: those of the script's rules and routes, never ip's own tables."""
    priorities = {rule.get("priority") for rule in want["rules"]} - {None}
    tables = {rule.get("lookup") for rule in want["rules"]} | {route["table"] for route in want["routes"]}
    return priorities, tables - SYSTEM_TABLES - {None}


def compared(want, live_rules, live_routes, skip_devs=()):
    """(live lines, wanted lines, {live line: argv that deletes it}) of the rules and routes.

    ``live_rules`` and ``live_routes`` are canonical (rule_from_json, route_from_json); live lines are
    the wanted rules and routes that are there, and whatever else is in the collection's priorities
    and tables (the routes of ``skip_devs``, the WireGuard interfaces, left out).
    """
    priorities, tables = ours(want)
    wanted_lines = sorted(rule_text(rule) for rule in want["rules"])
    keys = {(r["family"], r["table"], r["dst"]) for r in want["routes"]}
    bare = {(r["family"], r["table"], r["dst"]) for r in want["routes"] if not r["dev"]}
    wanted_lines += sorted(route_text(route) for route in want["routes"])
    live, deletes = [], {}
    for rule in live_rules:
        text = rule_text(rule)
        if rule.get("priority") in priorities or rule.get("lookup") in tables or text in wanted_lines:
            live.append(text)
            deletes[text] = ["ip"] + text.split()[:1] + ["rule", "del"] + text.split()[1:]
    routes = []
    for route in live_routes:
        key = (route["family"], route["table"], route["dst"])
        if key in keys or (route["table"] in tables and route.get("dev") not in skip_devs):
            text = route_text(route, dev=key not in bare)
            routes.append(text)
            deletes[text] = ["ip", text.split()[0], "route", "del"] + route_text(route).split()[1:]
    return sorted(live) + sorted(routes), wanted_lines, deletes
