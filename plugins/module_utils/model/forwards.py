# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse and check wgpf_forwards: names, ports, protocols, answers, and clashes between forwards."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G
from ansible_collections.wgforward.portforward.plugins.module_utils.core.origins import DEFAULT, SET
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import forward_where
from ansible_collections.wgforward.portforward.plugins.module_utils.model.records import Forward

# The model's own keys; the tree's answers a forward gives come from the Vocabulary (model/vocabulary.py).
MODEL_FORWARD_KEYS = ("name", "public", "port", "protocols", "to", "to_port", "sources", "technique")
PROTOCOLS = ("tcp", "udp")
SSH_PORT = 22


def parse_forwards(raw, vocabulary, problems):
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("inventory", "wgpf_forwards", "must be a list of forwards, got %s" % type(raw).__name__)
        return []
    seen = {}
    forwards = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.add("forward #%d" % (index + 1), None, "must be a mapping, got %s" % type(item).__name__)
            continue
        forwards.append(parse_forward(index, item, seen, vocabulary, problems))
    return forwards


def parse_forward(index, item, seen, vocabulary, problems):
    """One forward, every field checked; invalid fields get a harmless value so checking goes on."""
    name, where = _name(index, item.get("name"), seen, problems)
    problems.unknown_keys(where, item, vocabulary.forward_keys)
    origins = {}
    port, to_port = _ports(where, item, problems)
    answers = {key: _flag(where, item, key, default, origins, problems)
               for key, default in vocabulary.forward_answers.items()}
    origins["sources"] = DEFAULT if item.get("sources") is None else SET
    return Forward(name=name, index=index, public=_host_ref(where, item, "public", problems),
                   to=_host_ref(where, item, "to", problems), port=port, to_port=to_port,
                   protocols=_protocols(where, item, problems), sources=_sources(where, item.get("sources"), problems),
                   technique=_technique(where, item, vocabulary.techniques, problems), answers=answers,
                   origins=origins)


def _name(index, name, seen, problems):
    where = "forward #%d" % (index + 1)
    try:
        G.forward_name(name)
    except ValueError as exc:
        problems.add(where, "name", str(exc))
        return "#%d" % (index + 1), where
    where = forward_where(name)
    if name in seen:
        problems.add(where, "name", "duplicate forward name (also forward #%d)" % (seen[name] + 1))
    seen[name] = index
    return name, where


def _host_ref(where, item, key, problems):
    value = item.get(key)
    if not isinstance(value, str) or not value:
        problems.add(where, key, "required: the inventory host name")
        return None
    return value


def _ports(where, item, problems):
    port = to_port = None
    try:
        port = G.parse_port(item.get("port"))
    except ValueError as exc:
        problems.add(where, "port", str(exc))
    if item.get("to_port") is None:
        return port, port
    try:
        to_port = G.parse_port(item["to_port"])
    except ValueError as exc:
        problems.add(where, "to_port", str(exc))
        return port, None
    if port is None:
        return port, to_port
    width = port[1] - port[0]
    if to_port[0] == to_port[1] and width:
        # A single to_port on a range maps the range onto a same-size range starting there.
        to_port = (to_port[0], to_port[0] + width)
        if to_port[1] > 65535:
            problems.add(where, "to_port", "range %s-%d maps past port 65535" % to_port)
    elif to_port[1] - to_port[0] != width:
        problems.add(where, "to_port", "range %s has %d ports but port %s has %d"
                     % (G.port_text(to_port), to_port[1] - to_port[0] + 1, G.port_text(port), width + 1))
    return port, to_port


def _protocols(where, item, problems):
    protocols = item.get("protocols", ["tcp"])
    if isinstance(protocols, str):
        protocols = [protocols]
    if (not isinstance(protocols, list) or not protocols
            or any(p not in PROTOCOLS for p in protocols) or len(set(protocols)) != len(protocols)):
        problems.add(where, "protocols", "must be a non-empty list of distinct tcp/udp, got %r" % (protocols,))
        protocols = [p for p in PROTOCOLS if isinstance(protocols, list) and p in protocols] or ["tcp"]
    return tuple(protocols)


def _flag(where, item, key, default, origins, problems):
    value = item.get(key)
    origins[key] = DEFAULT if value is None else SET
    if value is None:
        return default
    if not G.boolean(value):
        problems.add(where, key, "must be true or false, got %r" % (value,))
        return default
    return value


def _sources(where, sources, problems):
    """The client networks, merged when they overlap or touch (netaddr.cidr_merge)."""
    if sources is None:
        return []
    if not isinstance(sources, list):
        problems.add(where, "sources", "must be a list of CIDRs, got %r" % (sources,))
        return []
    nets = []
    for src in sources:
        try:
            net = A.parse_cidr(src)
        except ValueError as exc:
            problems.add(where, "sources", str(exc))
            continue
        if net not in nets:
            nets.append(net)
    merged = A.netaddr.cidr_merge(nets) if len(nets) > 1 else nets
    # Keep the order written when nothing merges, so routes and files keep it too.
    return nets if len(merged) == len(nets) else merged


def _technique(where, item, names, problems):
    technique = item.get("technique", "auto")
    if technique is None or technique == "auto":
        return "auto"
    if technique not in names:
        problems.add(where, "technique", "must be auto or one of %s, got %r" % (", ".join(names), technique))
        return "auto"
    return technique


def _overlaps(group, span_of):
    """(later, earlier) pairs of forwards whose spans overlap, each later one against the furthest reach."""
    reach = None
    for cur in sorted(group, key=span_of):
        if reach is not None and span_of(cur)[0] <= span_of(reach)[1]:
            yield cur, reach
        if reach is None or span_of(cur)[1] > span_of(reach)[1]:
            reach = cur


def check_port_clashes(forwards, hosts, problems):
    """Two forwards on one public port and protocol; forwards on WireGuard's or SSH's port."""
    by_key = {}
    for fwd in forwards:
        if fwd.port is not None and fwd.public is not None:
            for proto in fwd.protocols:
                by_key.setdefault((fwd.public, proto), []).append(fwd)
    for (public, proto), group in by_key.items():
        for cur, reach in _overlaps(group, lambda f: f.port):
            problems.add(forward_where(cur.name), "port", "%s/%s on %s is already forwarded by '%s' (%s)"
                         % (G.port_text(cur.port), proto, public, reach.name, G.port_text(reach.port)))
        host = hosts.get(public)
        if host is not None and host.role == "public":
            _check_reserved(host, proto, group, problems)


def _check_reserved(host, proto, group, problems):
    reserved = [(s.listen_port, "its WireGuard listen port") for s in host.wg] if proto == "udp" else []
    if proto == "tcp":
        reserved.append((SSH_PORT, "SSH"))
    for fwd in group:
        for port, what in reserved:
            if fwd.port[0] <= port <= fwd.port[1]:
                problems.add(forward_where(fwd.name), "port", "%s/%s on %s takes %d, %s"
                             % (G.port_text(fwd.port), proto, host.name, port, what))
