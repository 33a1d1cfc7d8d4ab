# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live check's verdicts: what each host's forward_probe read, against what check_expect.py expects.

Per forward the hops are judged in path order (public server, intermediate,
private server), each hop's checks in a fixed order (its WireGuard links, the
DNAT map, the listening service, the routes of the replies), so the verdict
names the first hop that is wrong and the first reason there.
"""

from __future__ import annotations

import functools
import ipaddress

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_expect import route_key
# dnat_map_of is imported from here by callers and tests: the lookups live in probe_index.py.
from ansible_collections.wgforward.portforward.plugins.module_utils.check.probe_index import (  # noqa: F401
    counters, dnat_map_of, route_answers)

# WireGuard's REJECT_AFTER_TIME: a session whose latest handshake is older carries nothing. With a
# keepalive on the link a working session handshakes again every two minutes.
STALE_AFTER = 180


def _peer(link, probe, results):
    """The probed peer entry of the link: by the peer host's public key, else by its allowed IPs."""
    peers = probe["interfaces"][link["iface"]]["peers"]
    other = (results.get(link["peer"]) or {}).get("interfaces") or {}
    key = (other.get(link["peer_iface"]) or {}).get("public_key")
    found = [p for p in peers if key and p["public_key"] == key]
    return (found or [p for p in peers if p["allowed_ips"] == link["allowed_ips"]] or [None])[0]


def check_link(link, probe, results):
    """(report, problem or None) of one WireGuard link seen from this hop."""
    name, peer = link["iface"], link["peer"]
    iface = probe.get("interfaces", {}).get(name)
    if iface is None:
        return None, "%s was not read" % name
    if not iface["exists"]:
        return None, "%s does not exist (%s)" % (name, iface.get("error") or "no such interface")
    if not iface["up"]:
        return None, "%s is down" % name
    if iface.get("error"):
        return None, "cannot read %s: %s" % (name, iface["error"])
    entry = _peer(link, probe, results)
    if entry is None:
        return None, "%s has no peer %s (allowed IPs %s)" % (name, peer, ", ".join(link["allowed_ips"]))
    missing = _networks(link["allowed_ips"]) - _networks(entry["allowed_ips"])
    if missing:
        # What the peer may send in, and what this host routes to it: a family missing here has no path.
        return None, "%s peer %s lacks the allowed IPs %s (it has %s)" % (
            name, peer, ", ".join(sorted(str(net) for net in missing)), ", ".join(entry["allowed_ips"]) or "none")
    age = entry["handshake_age"]
    if age is None:
        return None, "%s no handshake with %s ever" % (name, peer)
    if age > STALE_AFTER and link["keepalive"]:
        return None, "%s no handshake with %s for %d s" % (name, peer, age)
    idle = " (no keepalive on this link: it handshakes when traffic flows)" if age > STALE_AFTER else ""
    return "%s handshake with %s %d s ago%s" % (name, peer, age, idle), None


def link_read(link, probe, results):
    """{iface, peer, read, handshake_age} of one link as this hop's probe read it (for check/metrics.py):
    read is false where the interface or the peer could not be read; an age of None means never."""
    iface = (probe.get("interfaces") or {}).get(link["iface"]) or {}
    ok = iface.get("exists") and iface.get("up") and not iface.get("error")
    entry = _peer(link, probe, results) if ok else None
    return {"iface": link["iface"], "peer": link["peer"], "read": entry is not None,
            "handshake_age": entry["handshake_age"] if entry is not None else None}


def _once(memo, kind, host, link, make):
    """``make()`` for this link of ``host``, made once per verdicts() call (``memo``): the same few links are on
    the path of every forward (80,000 lookups at 10,000 forwards, 0.7 s)."""
    if memo is None:
        return make()
    key = (kind, host, link["iface"], link["peer"], link.get("peer_iface"), tuple(link["allowed_ips"]),
           link.get("keepalive"))
    if key not in memo:
        memo[key] = make()
    return memo[key]


def hop_links(hop, results, memo=None):
    """The links of a hop as read there; [] for a hop not contacted or not probed."""
    probe = results.get(hop["host"])
    if not hop["contacted"] or _unprobed(hop, probe) is not None:
        return []
    return [_once(memo, "read", hop["host"], link, lambda link=link: link_read(link, probe, results))
            for link in hop["links"]]


def check_dnat(item, probe):
    flow = "%s %s -> %s:%d" % (item["proto"], "-".join(str(p) for p in sorted(set(item["port"]))),
                               item["daddr"], item["dport"])
    nft = probe.get("nft") or {}
    if nft.get("error") or nft.get("table") is None:
        return None, "cannot read its nftables table: %s" % (nft.get("error") or "not read")
    found = dnat_map_of(nft["table"], item)
    if found is None:
        return None, "no DNAT map of table inet wgpf holds %s" % flow
    return "DNAT map %s holds %s" % (found, flow), None


def check_listen(item, probe):
    listening = probe.get("listening") or {}
    if listening.get("error") and not listening.get(item["proto"]):
        return None, "cannot read the listening sockets: %s" % listening["error"]
    sockets = listening.get(item["proto"], [])
    for port in range(item["ports"][0], item["ports"][1] + 1):
        if [item["addr"], port] not in sockets and ["*", port] not in sockets:
            return None, "nothing listens on %s %s:%d" % (item["proto"], item["addr"], port)
    return "%s %s:%s listening" % (item["proto"], item["addr"], "-".join(str(p) for p in sorted(set(item["ports"])))), None


def _address(text):
    """An address in one spelling (IPv6 has several), or None."""
    if not text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return text


def _networks(texts):
    return _network_set(tuple(texts))


@functools.lru_cache(maxsize=1024)
def _network_set(texts):
    """The networks of ``texts`` (each link's allowed IPs, the same few lists for every forward)."""
    out = set()
    for text in texts:
        try:
            out.add(ipaddress.ip_network(text, strict=False))
        except ValueError:
            out.add(text)
    return frozenset(out)


def _leg(dev, via, table):
    return "%s%s (table %s)" % (dev or "?", " via %s" % via if via else "", table or "main")


def check_route(item, probe):
    """(report, problem): where the kernel sends a reply of the service, against the plan."""
    answers = route_answers(probe.get("routes") or [])
    answer = answers.get(route_key(item))
    what = "a reply from %s %s sport %d to %s%s%s" % (
        item["from"], item["proto"], item["sport"], item["dst"],
        " (mark %s)" % item["mark"] if item.get("mark") else "", " in by %s" % item["iif"] if item.get("iif") else "")
    if answer is None or answer.get("error") or not answer.get("route"):
        return None, "%s has no route: %s" % (what, (answer or {}).get("error") or "not asked")
    route, want = answer["route"], item["expect"]
    if want.get("unknown"):
        return None, "%s cannot be checked: %s" % (what, want["unknown"])
    got = _leg(route.get("dev"), route.get("gateway"), route.get("table"))
    # Both the interface and the gateway: a gateway where none is planned (or another one) is another path.
    wrong_dev = route.get("dev") != want.get("dev")
    wrong_via = _address(route.get("gateway")) != _address(want.get("via"))
    if wrong_dev or wrong_via:
        return None, "%s would leave by %s, not by %s" % (what, got, _leg(want.get("dev"), want.get("via"),
                                                                          want.get("table")))
    return "%s leaves by %s" % (what, got), None


def _unprobed(hop, result):
    """Why the hop could not be judged, or None when its probe result is there."""
    if result is None or result.get("skipped"):
        return "not probed (outside --limit, or it failed before the probe: see the run's output)"
    if result.get("unreachable"):
        return "not reachable: %s" % str(result.get("msg", "")).strip()
    if result.get("failed"):
        return "the probe failed: %s" % str(result.get("msg", "")).strip()
    return None


def judge_hop(hop, results, memo=None):
    """(report lines, first problem or None) of one hop of a forward; ``memo``: a dict kept for one verdicts() call."""
    if not hop["contacted"]:
        return ["not checked: Ansible does not contact this host"], None
    probe = results.get(hop["host"])
    why = _unprobed(hop, probe)
    if why is not None:
        return [], why
    checks = ([lambda link=link: _once(memo, "check", hop["host"], link, lambda: check_link(link, probe, results))
               for link in hop["links"]]
              + [lambda item=item: check_dnat(item, probe) for item in hop["dnat"]]
              + [lambda item=item: check_listen(item, probe) for item in hop["listen"]]
              + [lambda item=item: check_route(item, probe) for item in hop["routes"]])
    lines, problem = [], None
    for check in checks:
        report, wrong = check()
        if wrong is not None:
            lines.append("WRONG: " + wrong)
            problem = problem or wrong
        else:
            lines.append(report)
    if hop["dnat"] and (probe.get("nft") or {}).get("table"):
        found = counters(probe["nft"]["table"])
        if found:
            lines.append("counters of table inet wgpf (shared by its forwards): " + "; ".join(found))
    return lines, problem


def verdicts(expect, results):
    """Per forward: its hops' reports and its verdict, ``ok`` or the first wrong hop and why."""
    out, memo = [], {}
    for fwd in expect["forwards"]:
        hops, verdict = [], None
        for hop in fwd["hops"]:
            lines, problem = judge_hop(hop, results, memo)
            hops.append({"host": hop["host"], "lines": lines, "problem": problem, "links": hop_links(hop, results, memo),
                         "checked": hop["contacted"]})
            if problem is not None and verdict is None:
                verdict = "%s: %s" % (hop["host"], problem)
        out.append({"forward": fwd["forward"], "public": fwd["public"], "to": fwd["to"], "path": fwd["path"],
                    "hops": hops, "ok": verdict is None, "verdict": verdict or "ok",
                    "line": "%s (%s -> %s): %s" % (fwd["forward"], fwd["public"], fwd["to"], verdict or "ok")})
    return out


def unchecked(fwd):
    """True when a hop of the forward is a host Ansible does not contact: its verdict covers the other hops only."""
    return any(not hop.get("checked", True) for hop in fwd["hops"])


def summary(report):
    """{forwards, ok, wrong, not_checked}: ok counts the forwards every hop of which was read and is as planned,
    not_checked those that are ok where read but have a hop Ansible does not contact."""
    wrong = sum(1 for fwd in report if not fwd["ok"])
    partial = sum(1 for fwd in report if fwd["ok"] and unchecked(fwd))
    return {"forwards": len(report), "ok": len(report) - wrong - partial, "wrong": wrong, "not_checked": partial}


def summary_line(counts):
    return ("check: %d forwards, %d ok, %d wrong, %d not checked (ok where read; a host on the path is one Ansible "
            "does not contact)" % (counts["forwards"], counts["ok"], counts["wrong"], counts["not_checked"]))


def verdict_lines(report, hops="failing"):
    """Readable lines: the hops of each forward that is not ok (every forward's with ``hops="all"``,
    wgpf_check_hops), then one verdict line per forward, then the counts. At 10,000 forwards every forward's
    hops are 120,000 lines, 8 MB that Ansible carries and prints; the verdict lines and the metrics file keep
    every forward."""
    lines = []
    for fwd in report:
        if fwd["ok"] and hops != "all":
            continue
        lines.append("%s (%s):" % (fwd["forward"], " -> ".join(fwd["path"])))
        for hop in fwd["hops"]:
            lines.extend("  %s: %s" % (hop["host"], line) for line in hop["lines"] or [hop["problem"]])
    lines.extend(fwd["line"] for fwd in report)
    lines.append(summary_line(summary(report)))
    return lines
