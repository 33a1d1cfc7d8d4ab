# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Draw inventory.example (render/diagram.py) into docs/ and the README. Run from the repository root:

    make diagram

writes docs/inventory.example.mmd (Mermaid) and docs/inventory.example.svg
(Graphviz's dot must be installed), and replaces the README's Mermaid block
that follows the marker line. tests/unit/plugins/module_utils/test_diagram.py
fails while they differ from what the code draws.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join("tests", "unit"))

import golden  # noqa: E402  (tests/unit: inventory.example loaded as the golden files load it)

from ansible_collections.wgforward.portforward.plugins.module_utils.render.diagram import graph_of, mermaid  # noqa: E402
from ansible_collections.wgforward.portforward.plugins.module_utils.render.diagram_svg import svg  # noqa: E402

MARKER = "<!-- The picture of inventory.example: `make diagram` rewrites the block below. -->\n"
FENCE = "```mermaid\n"


def readme_with(readme, text):
    """The README with the Mermaid block after MARKER replaced by ``text``."""
    start = readme.index(MARKER) + len(MARKER)
    if not readme.startswith(FENCE, start):
        raise SystemExit("README.md: a ```mermaid block must follow the marker line")
    end = readme.index("```\n", start + len(FENCE)) + len("```\n")
    return readme[:start] + FENCE + text + "```\n" + readme[end:]


def main():
    graph = graph_of(golden.load(golden.ROOT / "inventory.example"))
    text = mermaid(graph)
    picture, why = svg(graph)
    if picture is None:
        raise SystemExit("diagram: %s" % why)
    os.makedirs("docs", exist_ok=True)
    for path, content in (("docs/inventory.example.mmd", text), ("docs/inventory.example.svg", picture)):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)
    with open("README.md", encoding="utf-8") as handle:
        readme = handle.read()
    with open("README.md", "w", encoding="utf-8") as handle:
        handle.write(readme_with(readme, text))
    print("diagram: wrote docs/inventory.example.mmd, docs/inventory.example.svg and the README's block")


if __name__ == "__main__":
    main()
