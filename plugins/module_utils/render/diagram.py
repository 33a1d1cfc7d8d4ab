# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A picture of the inventory: hosts by role, their tunnels and LANs, and the path of each forward.

``inventory_graph`` reads the model and the plans into plain data (nodes,
tunnels, LAN links, forwards with their path, ports and technique);
``mermaid`` writes it as a Mermaid flowchart (GitHub renders it in Markdown)
and ``svg`` asks Graphviz for an SVG of the same graph (render/diagram_svg.py:
None where Graphviz is not installed). Nothing here decides: the technique of
a forward is the one its plan carries.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.grammar import port_text
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.export import export_plan
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import planned

ROLES = (("public", "public servers"), ("intermediate", "intermediate servers"), ("private", "private servers"))
INTERNET = "internet"
INTERNET_LABEL = "Internet clients"
# Sources of a forward shown on its first hop; more are counted, not listed.
SHOWN_SOURCES = 3
# Beyond this many forwards, one edge per path and technique: a picture of thousands of edges shows nothing
# (and Graphviz would take minutes to lay it out); explain.yml lists every forward.
DRAWN_FORWARDS = 24
SHOWN_NAMES = 3


def _rank(host):
    return [role for role, _t in ROLES].index(host.role)


def _iface_line(iface, plan):
    port = iface["listen_port"]
    if plan.get("peer_config") is not None and not plan["peer_config"]["listen_port"]:
        port = None  # an unmanaged peer's file has no ListenPort unless the inventory gives one
    return "%s %s%s" % (iface["name"], ", ".join(iface["addresses"]), " :%d" % port if port else "")


def _node_lines(host, plan):
    lines = [_iface_line(iface, plan) for iface in plan["interfaces"]]
    if host.endpoint is not None and host.vars.get("wgpf_endpoint"):
        lines.append("endpoint %s" % host.vars["wgpf_endpoint"])
    # The LAN side of an intermediate, and of a private server reached over it (a spoke's LAN carries no forward).
    if host.lan_addresses and (host.role == "intermediate" or host.attachment in ("lan", "container")):
        what = "container" if host.attachment == "container" else "LAN"
        where = host.bridge if host.attachment == "container" else host.lan_interface
        lines.append("%s%s %s" % (what, " %s" % where if where else "", ", ".join(str(a) for a in host.lan_addresses)))
    if host.public_key is not None:
        lines.append("not managed: its own WireGuard app")
    elif not host.contacted:
        lines.append("never contacted")
    if host.state == "absent":
        lines.append("wgpf_state: absent")
    return lines


def _tunnels(hosts, plans, ids):
    """One entry per WireGuard link (both ends' interfaces), the end closer to the Internet first."""
    found = {}
    for name in sorted(plans):
        for iface in plans[name]["interfaces"]:
            for peer in iface["peers"]:
                ends = sorted([(name, iface["name"]), (peer["host"], peer["interface"])],
                              key=lambda end: (_rank(hosts[end[0]]), end[0]))
                item = found.setdefault(tuple(ends), {"a": ids[ends[0][0]], "b": ids[ends[1][0]], "dials": None})
                if peer["endpoint"]:
                    item["dials"] = "%s dials %s" % (name, peer["endpoint"])
    out = []
    for (first, second), item in found.items():
        label = ["WireGuard %s ⇄ %s" % (first[1], second[1])] + ([item["dials"]] if item["dials"] else [])
        out.append({"a": item["a"], "b": item["b"], "label": label})
    return sorted(out, key=lambda t: (int(t["a"][1:]), int(t["b"][1:]), t["label"]))


def _lans(hosts, ids):
    out = []
    for host in sorted(hosts.values(), key=lambda h: h.name):
        if host.role == "private" and host.intermediate in hosts and host.attachment in ("lan", "container"):
            inter = hosts[host.intermediate]
            word = "Docker bridge" if host.attachment == "container" else "LAN"
            where = (host.bridge or inter.lan_interface) if host.attachment == "container" else inter.lan_interface
            out.append({"a": ids[inter.name], "b": ids[host.name], "label": ["%s%s" % (word, " %s" % where
                                                                                       if where else "")]})
    return out


def _forward(fwd, hosts, techniques, ids):
    """The forward's path with its ports and technique, or None when it is not placed (a host is absent)."""
    technique = techniques.get((fwd.public, fwd.name))
    if technique is None:
        return None
    private = hosts[fwd.to]
    path = [fwd.public] + ([private.intermediate] if private.intermediate else []) + [fwd.to]
    first = "%s: %s %s → %s:%s" % (fwd.name, "+".join(fwd.protocols), port_text(fwd.port), fwd.to,
                                   port_text(fwd.to_port))
    sources = [str(s) for s in fwd.sources]
    label = [first, technique]
    if sources:
        label.append("only from %s" % _shown(sources, SHOWN_SOURCES))
    return {"name": fwd.name, "technique": technique, "path": [INTERNET] + [ids[h] for h in path],
            "hosts": path, "label": label}


def _shown(items, count):
    return ", ".join(items[:count]) + (" +%d" % (len(items) - count) if len(items) > count else "")


def _bundled(forwards):
    """One edge per path and technique, in the order of each bundle's first forward."""
    bundles = {}
    for fwd in forwards:
        bundles.setdefault((tuple(fwd["path"]), fwd["technique"]), []).append(fwd)
    out = []
    for (path, technique), group in bundles.items():
        names = [f["name"] for f in group]
        label = ["%d forwards: %s" % (len(group), _shown(names, SHOWN_NAMES)), technique]
        out.append({"name": "%d forwards" % len(group), "technique": technique, "path": list(path),
                    "hosts": group[0]["hosts"], "label": label, "forwards": names})
    return out


def inventory_graph(model, plans):
    """{nodes, tunnels, lans, forwards}: the inventory as plain data, node ids h0, h1, ... in role order.
    Past DRAWN_FORWARDS forwards, ``forwards`` holds one bundle per path and technique."""
    hosts = model.hosts
    order = sorted(hosts.values(), key=lambda h: (_rank(h), h.name))
    ids = {host.name: "h%d" % index for index, host in enumerate(order)}
    nodes = [{"id": ids[h.name], "name": h.name, "role": h.role, "managed": h.contacted,
              "lines": _node_lines(h, plans[h.name])} for h in order]
    techniques = {(name, f["forward"]): f["technique"] for name, plan in plans.items() for f in plan["forwards"]}
    forwards = [f for f in (_forward(fwd, hosts, techniques, ids) for fwd in model.forwards) if f is not None]
    if len(forwards) > DRAWN_FORWARDS:
        forwards = _bundled(forwards)
    return {"nodes": nodes, "tunnels": _tunnels(hosts, plans, ids), "lans": _lans(hosts, ids),
            "forwards": forwards}


def graph_of(inventory):
    """The graph of an inventory (the plan filter's argument); raises PlanError like the plan."""
    planner = planned(inventory)
    return inventory_graph(planner.model, {name: export_plan(draft) for name, draft in planner.drafts.items()})


# ------------------------------------------------------------------ Mermaid


def mermaid_text(lines):
    """Lines as one quoted Mermaid label: a double quote as its entity, lines joined by <br/>."""
    return '"%s"' % "<br/>".join(line.replace('"', "#quot;") for line in lines)


def mermaid(graph):
    """The graph as a Mermaid flowchart, top to bottom: the Internet, then each role in a subgraph of its own."""
    out = ["flowchart TB", "    %s((%s))" % (INTERNET, mermaid_text([INTERNET_LABEL]))]
    for role, title in ROLES:
        nodes = [n for n in graph["nodes"] if n["role"] == role]
        if nodes:
            out.append("    subgraph %s[%s]" % (role, mermaid_text([title])))
            out += ["        %s[%s]" % (n["id"], mermaid_text([n["name"]] + n["lines"])) for n in nodes]
            out.append("    end")
    out += ["    %s ===|%s| %s" % (t["a"], mermaid_text(t["label"]), t["b"]) for t in graph["tunnels"]]
    out += ["    %s ---|%s| %s" % (lan["a"], mermaid_text(lan["label"]), lan["b"]) for lan in graph["lans"]]
    for fwd in graph["forwards"]:
        hops = list(zip(fwd["path"], fwd["path"][1:]))
        out += ["    %s -.->|%s| %s" % (a, mermaid_text(fwd["label"] if i == 0 else [fwd["name"]]), b)
                for i, (a, b) in enumerate(hops)]
    return "\n".join(out) + "\n"
