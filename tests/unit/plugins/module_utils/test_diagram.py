# -*- coding: utf-8 -*-
"""The picture of the inventory (issue 19 item 4): Mermaid and Graphviz's SVG, each read back by a parser.

The Mermaid text is read by a structural parser of the flowchart subset the
diagram writes (every line must be a header, a subgraph, a node or an edge of
that grammar, every edge must join declared nodes); the SVG is read as XML.
Both must name every host and every forward of every shipped inventory, with
each forward's technique and ports. docs/ and the README hold the picture of
inventory.example as the code draws it now.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import golden
import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.core.grammar import port_text
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import VOCABULARY
from ansible_collections.wgforward.portforward.plugins.module_utils.model.model import build_model
from ansible_collections.wgforward.portforward.plugins.module_utils.render.diagram import (
    INTERNET, graph_of, mermaid, mermaid_text)
from ansible_collections.wgforward.portforward.plugins.module_utils.render.diagram_svg import diagram_files, svg

INVENTORIES = golden.inventories()
DOCS = golden.ROOT / "docs"
SVG_NS = "{http://www.w3.org/2000/svg}"
HAS_DOT = shutil.which("dot") is not None
NEEDS_DOT = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed (`make deps` installs graphviz)")

# ------------------------------------------------------------------ a structural parser of the Mermaid subset

ID = r"[A-Za-z][A-Za-z0-9_]*"
LABEL = r'"(?P<label>[^"]*)"'
HEADER_RE = re.compile(r"flowchart (TB|TD|BT|LR|RL)")
SUBGRAPH_RE = re.compile(r"\s*subgraph (?P<id>%s)\[%s\]" % (ID, LABEL))
END_RE = re.compile(r"\s*end")
NODE_RE = re.compile(r"\s*(?P<id>%s)(?:\(\(%s\)\)|\[%s\])" % (ID, LABEL, LABEL.replace("label", "label2")))
EDGE_RE = re.compile(r"\s*(?P<a>%s) (?P<kind>===|---|-\.->)\|%s\| (?P<b>%s)" % (ID, LABEL, ID))
RESERVED = {"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click", "linkStyle"}


def lines_of(label):
    return [line.replace("#quot;", '"') for line in label.split("<br/>")]


def parse_mermaid(text):
    """{nodes: {id: lines}, subgraphs: {id: (title, [node ids])}, edges: [(a, kind, lines, b)]}; asserts the grammar."""
    lines = text.splitlines()
    assert HEADER_RE.fullmatch(lines[0]), lines[0]
    nodes, subgraphs, edges, current = {}, {}, [], None
    for number, line in enumerate(lines[1:], start=2):
        if SUBGRAPH_RE.fullmatch(line):
            match = SUBGRAPH_RE.fullmatch(line)
            assert current is None, "line %d: nested subgraph" % number
            current = match["id"]
            subgraphs[current] = (match["label"], [])
        elif END_RE.fullmatch(line):
            assert current is not None, "line %d: end without subgraph" % number
            current = None
        elif NODE_RE.fullmatch(line):
            match = NODE_RE.fullmatch(line)
            assert match["id"] not in nodes, "line %d: node %s declared twice" % (number, match["id"])
            nodes[match["id"]] = lines_of(match["label"] or match["label2"])
            if current is not None:
                subgraphs[current][1].append(match["id"])
        elif EDGE_RE.fullmatch(line):
            match = EDGE_RE.fullmatch(line)
            edges.append((match["a"], match["kind"], lines_of(match["label"]), match["b"]))
        else:
            raise AssertionError("line %d is no flowchart line the parser knows: %r" % (number, line))
    assert current is None, "subgraph %s not closed" % current
    ids = set(nodes) | set(subgraphs)
    assert not ids & RESERVED and len(ids) == len(nodes) + len(subgraphs), ids
    for a, _kind, _label, b in edges:
        assert a in nodes and b in nodes, "edge %s -> %s joins an undeclared node" % (a, b)
    return {"nodes": nodes, "subgraphs": subgraphs, "edges": edges}


def model_of(name):
    return build_model(golden.load(INVENTORIES[name]), VOCABULARY)


def forward_words(fwd):
    ports = "%s %s" % ("+".join(fwd.protocols), port_text(fwd.port))
    return [fwd.name, ports, "%s:%s" % (fwd.to, port_text(fwd.to_port))]


# ------------------------------------------------------------------ Mermaid


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_mermaid_names_every_host_and_forward(name):
    model = model_of(name)
    graph = graph_of(golden.load(INVENTORIES[name]))
    parsed = parse_mermaid(mermaid(graph))
    names = {lines[0]: node for node, lines in parsed["nodes"].items()}
    assert set(names) == set(model.hosts) | {"Internet clients"}
    for role, (_title, members) in parsed["subgraphs"].items():
        assert {parsed["nodes"][m][0] for m in members} == {h for h, host in model.hosts.items() if host.role == role}
    techniques = {f["name"]: f["technique"] for f in graph["forwards"]}
    for fwd in model.forwards:
        hops = [e for e in parsed["edges"] if e[1] == "-.->" and e[2][0].split(":")[0] == fwd.name]
        assert hops, "no edge of forward %s" % fwd.name
        first = hops[0]
        assert first[0] == INTERNET and names[fwd.public] == first[3]
        assert all(word in first[2][0] for word in forward_words(fwd)), first
        assert first[2][1] == techniques[fwd.name]
        # The path: public server, its intermediate if any, the private server, one hop after the other.
        assert [e[3] for e in hops] == [names[h] for h in graph_forward(graph, fwd.name)["hosts"]]
        assert all(a == b for (_a, _k, _l, b), (a, _k2, _l2, _b) in zip(hops, hops[1:]))


def graph_forward(graph, name):
    return next(f for f in graph["forwards"] if f["name"] == name)


def test_mermaid_tunnels_and_lans_of_the_example():
    parsed = parse_mermaid(mermaid(graph_of(golden.load(INVENTORIES["inventory.example"]))))
    names = {node: lines[0] for node, lines in parsed["nodes"].items()}
    tunnels = {(names[a], names[b], tuple(label)) for a, kind, label, b in parsed["edges"] if kind == "==="}
    assert tunnels == {
        ("public1", "intermediate1", ("WireGuard wg0 ⇄ wg0", "intermediate1 dials 203.0.113.2:51822")),
        ("intermediate1", "private2", ("WireGuard wg0 ⇄ wg0", "private2 dials 172.31.0.1:51821"))}
    lans = {(names[a], names[b]) for a, kind, _label, b in parsed["edges"] if kind == "---"}
    assert lans == {("intermediate1", "private1")}
    nodes = {lines[0]: lines[1:] for lines in parsed["nodes"].values()}
    assert nodes["public1"] == ["wg0 10.0.0.2/24 :51822", "endpoint 203.0.113.2:51822"]
    assert nodes["private2"] == ["wg0 10.0.0.3/24 :51823"]
    assert "LAN eth0 172.31.0.3" in nodes["private1"]


def test_unmanaged_peer_is_drawn_as_such():
    parsed = parse_mermaid(mermaid(graph_of(golden.load(INVENTORIES["molecule-default_route"]))))
    peer = next(lines for lines in parsed["nodes"].values() if lines[0] == "peer1")
    assert "not managed: its own WireGuard app" in peer
    assert "wg0 10.201.3.5/24" in peer  # no ListenPort in its file: no port drawn


def synthetic_graph(name):
    return {"nodes": [{"id": "h0", "name": name, "role": "public", "managed": True, "lines": ['say "hi" & <go>']}],
            "tunnels": [], "lans": [],
            "forwards": [{"name": "web", "technique": "masquerade", "path": [INTERNET, "h0"], "hosts": [name],
                          "label": ['web "quoted"', "masquerade"]}]}


def test_mermaid_labels_keep_quotes_inside_the_label():
    parsed = parse_mermaid(mermaid(synthetic_graph('odd"]name')))
    assert parsed["nodes"]["h0"] == ['odd"]name', 'say "hi" & <go>']
    assert parsed["edges"][0][2] == ['web "quoted"', "masquerade"]
    assert mermaid_text(['a"b', "c"]) == '"a#quot;b<br/>c"'


# ------------------------------------------------------------------ SVG (Graphviz)


def svg_texts(text):
    root = ET.fromstring(text)
    assert root.tag == SVG_NS + "svg"
    groups = {cls: [g for g in root.iter(SVG_NS + "g") if g.get("class") == cls] for cls in ("node", "edge")}
    texts = [t.text or "" for t in root.iter(SVG_NS + "text")]
    return groups, texts


@NEEDS_DOT
@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_svg_names_every_host_and_forward(name):
    model = model_of(name)
    graph = graph_of(golden.load(INVENTORIES[name]))
    text, why = svg(graph)
    assert why is None and text, why
    groups, texts = svg_texts(text)
    assert len(groups["node"]) == len(model.hosts) + 1
    hops = sum(len(f["path"]) - 1 for f in graph["forwards"])
    assert len(groups["edge"]) == len(graph["tunnels"]) + len(graph["lans"]) + hops
    for host in model.hosts:
        assert host in texts, "%s is not named in the SVG" % host
    for fwd in model.forwards:
        first = next(t for t in texts if t.startswith(fwd.name + ":"))
        assert all(word in first for word in forward_words(fwd)), first
        assert texts[texts.index(first) + 1] == graph_forward(graph, fwd.name)["technique"]


@NEEDS_DOT
def test_diagram_files_are_the_mermaid_and_the_svg():
    graph = synthetic_graph("public1")
    files, note = diagram_files(graph)
    assert note is None and [f["name"] for f in files] == ["inventory.mmd", "inventory.svg"]
    assert files[0]["content"] == mermaid(graph) and files[1]["content"] == svg(graph)[0]


@NEEDS_DOT
def test_svg_escapes_what_it_is_given():
    text, _why = svg(synthetic_graph('odd"name'))
    _groups, texts = svg_texts(text)
    assert 'odd"name' in texts and 'say "hi" & <go>' in texts and 'web "quoted"' in texts


def test_svg_says_why_without_graphviz(monkeypatch):
    from ansible_collections.wgforward.portforward.plugins.module_utils.render import diagram_svg
    monkeypatch.setenv("PATH", "/nonexistent")
    text, why = diagram_svg.svg(synthetic_graph("public1"))
    assert text is None and "dot is not installed" in why
    files, note = diagram_svg.diagram_files(synthetic_graph("public1"))
    assert [f["name"] for f in files] == ["inventory.mmd"] and note == why
    monkeypatch.setattr(diagram_svg, "HAS_GRAPHVIZ", False)
    assert diagram_svg.svg(synthetic_graph("public1"))[1].startswith("the Python library graphviz")


# ------------------------------------------------------------------ the example's picture in docs/ and the README


def example_mermaid():
    return mermaid(graph_of(golden.load(INVENTORIES["inventory.example"])))


def test_docs_and_readme_hold_the_example_as_drawn_now():
    """`make diagram` rewrites docs/inventory.example.{mmd,svg}; the README's block is the .mmd."""
    now = example_mermaid()
    assert (DOCS / "inventory.example.mmd").read_text() == now, "run `make diagram`"
    readme = (golden.ROOT / "README.md").read_text()
    assert "```mermaid\n" + now + "```\n" in readme, "README's mermaid block differs: run `make diagram`"
    assert "(docs/inventory.example.svg)" in readme


def test_docs_svg_names_every_host_and_forward():
    model = model_of("inventory.example")
    _groups, texts = svg_texts((DOCS / "inventory.example.svg").read_text())
    for name in list(model.hosts) + [f.name for f in model.forwards]:
        assert any(t == name or t.startswith(name + ":") for t in texts), name


# ------------------------------------------------------------------ many forwards


def many_forwards(count):
    inventory = golden.load(INVENTORIES["inventory.example"])
    base = [dict(f) for f in inventory["hosts"]["public1"]["wgpf_forwards"]]
    extra = [dict(base[i % len(base)], name="svc%d" % i, port=20000 + 3 * i) for i in range(count)]
    extra = [{k: v for k, v in f.items() if k not in ("to_port",)} for f in extra]
    for hv in inventory["hosts"].values():
        hv["wgpf_forwards"] = base + extra
    return inventory


def test_past_the_limit_one_edge_per_path_and_technique_names_the_count_and_first_forwards():
    from ansible_collections.wgforward.portforward.plugins.module_utils.render import diagram
    graph = graph_of(many_forwards(diagram.DRAWN_FORWARDS))
    drawn = graph["forwards"]
    assert all("forwards" in f for f in drawn) and len(drawn) < 10
    every = sorted(name for f in drawn for name in f["forwards"])
    assert len(every) == len(set(every)) == diagram.DRAWN_FORWARDS + 3
    for bundle in drawn:
        assert bundle["label"][0].startswith("%d forwards: " % len(bundle["forwards"]))
        assert bundle["label"][1] == bundle["technique"]
    parsed = parse_mermaid(mermaid(graph))
    assert {tuple(e[2]) for e in parsed["edges"] if e[1] == "-.->" and len(e[2]) == 2} == \
        {tuple(b["label"]) for b in drawn}


def test_up_to_the_limit_every_forward_is_an_edge_of_its_own():
    from ansible_collections.wgforward.portforward.plugins.module_utils.render import diagram
    graph = graph_of(many_forwards(diagram.DRAWN_FORWARDS - 3))
    assert len(graph["forwards"]) == diagram.DRAWN_FORWARDS
    assert all("forwards" not in f for f in graph["forwards"])
