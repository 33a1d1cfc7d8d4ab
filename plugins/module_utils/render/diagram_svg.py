# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's graph (render/diagram.py) as Graphviz draws it: DOT source, and SVG where Graphviz is installed.

The Python binding ``graphviz`` writes the DOT source (its quoting, not ours);
Graphviz's ``dot`` lays it out. Both are optional on the controller: without
either, ``svg`` returns None and says why, and the Mermaid file is still written.
Node ids are diagram.py's h0, h1, ...: a host name may hold a colon, which DOT
reads as a port in an edge.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.render.diagram import (
    INTERNET, INTERNET_LABEL, ROLES, mermaid)

try:
    import graphviz
    HAS_GRAPHVIZ = True
except ImportError:  # pragma: no cover - the SVG is optional
    graphviz = None
    HAS_GRAPHVIZ = False

ROLE_COLOURS = {"public": "#dbeafe", "intermediate": "#fef3c7", "private": "#dcfce7"}
FORWARD_COLOUR = "#1d4ed8"


def dot_text(lines):
    """Lines as one DOT label: DOT's own line break escape, centred."""
    return "\\n".join(lines)


def dot_graph(graph):
    """A graphviz.Digraph of the graph (needs the Python binding, not Graphviz itself)."""
    dot = graphviz.Digraph("wgpf", graph_attr={"rankdir": "TB", "fontname": "Helvetica", "nodesep": "0.6",
                                               "ranksep": "0.9"},
                           node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                      "fontsize": "11"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    dot.node(INTERNET, label=INTERNET_LABEL, shape="ellipse", style="filled", fillcolor="#f3f4f6")
    for role, title in ROLES:
        nodes = [n for n in graph["nodes"] if n["role"] == role]
        if not nodes:
            continue
        with dot.subgraph(name="cluster_%s" % role) as cluster:
            cluster.attr(label=title, style="rounded,dashed", color="#9ca3af")
            for node in nodes:
                style = "rounded,filled" if node["managed"] else "rounded,filled,dashed"
                cluster.node(node["id"], label=dot_text([node["name"]] + node["lines"]), fillcolor=ROLE_COLOURS[role],
                             style=style)
    for tunnel in graph["tunnels"]:
        dot.edge(tunnel["a"], tunnel["b"], label=dot_text(tunnel["label"]), dir="both", penwidth="2.5",
                 color="#374151")
    for lan in graph["lans"]:
        dot.edge(lan["a"], lan["b"], label=dot_text(lan["label"]), dir="none", color="#6b7280")
    for fwd in graph["forwards"]:
        for index, (a, b) in enumerate(zip(fwd["path"], fwd["path"][1:])):
            dot.edge(a, b, label=dot_text(fwd["label"] if index == 0 else [fwd["name"]]), style="dashed",
                     color=FORWARD_COLOUR, fontcolor=FORWARD_COLOUR)
    return dot


def svg(graph):
    """(SVG text, None), or (None, why not) where the binding or Graphviz's dot is missing."""
    if not HAS_GRAPHVIZ:
        return None, "the Python library graphviz is not installed on the controller (pip install graphviz)"
    try:
        return dot_graph(graph).pipe(format="svg", encoding="utf-8"), None
    except graphviz.ExecutableNotFound:
        return None, "Graphviz's dot is not installed on the controller (Debian: apt install graphviz)"


def diagram_files(graph):
    """([{name, content}], note): inventory.mmd, and inventory.svg where Graphviz is installed (else the note
    says why there is none)."""
    files = [{"name": "inventory.mmd", "content": mermaid(graph)}]
    picture, why = svg(graph)
    if picture is not None:
        files.append({"name": "inventory.svg", "content": picture})
    return files, why
