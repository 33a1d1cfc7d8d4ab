# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Imports flow one way through the phase folders of plugins/module_utils/ (CONTRIBUTING.md, "How the code is laid out").

Every .py under plugins/ is parsed (ast, so an import inside a function or a try
counts too) and each import of the collection's own code is mapped to the folder
it lands in. A phase imports only the phases before it; the host side (apply/,
and the modules AnsiballZ ships) never reaches the planner, so a managed host
needs no netaddr; nothing under module_utils/ imports the controller-only
plugin_utils/; and no module sits flat in module_utils/ outside the folders.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"
PACKAGE = "ansible_collections.wgforward.portforward.plugins"
MODULE_UTILS = PACKAGE + ".module_utils"

# What each folder may import, besides itself (CONTRIBUTING.md's folder table).
MAY_IMPORT = {
    "core": set(),
    "model": {"core"},
    "techniques": {"core", "model"},
    "decide": {"core", "model", "techniques"},
    "plan": {"core", "model", "techniques", "decide"},
    "render": {"core", "model", "plan"},
    "apply": {"core"},
    "check": {"core", "model", "techniques", "decide", "plan", "render", "apply"},
}
# The modules run on managed hosts: only what apply/ may import, and apply/ itself.
HOST_SIDE = MAY_IMPORT["apply"] | {"apply"}


def own_imports(path, plugins=PLUGINS):
    """Sorted (line, dotted name) of each import of the collection's plugins in ``path`` (under ``plugins``)."""
    tree = ast.parse(path.read_text(), str(path))
    here = ".".join([PACKAGE] + list(path.relative_to(plugins).with_suffix("").parts))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                parent = here.rsplit(".", node.level)[0]
                base = parent + ("." + base if base else "")
            # `from module_utils import model` names the folder only after `import`.
            out += [(node.lineno, base + "." + alias.name if base == MODULE_UTILS else base) for alias in node.names]
    return sorted({(line, name) for line, name in out if name.startswith(PACKAGE + ".")})


def folder_of(dotted):
    """The module_utils folder a dotted name lands in, 'plugin_utils', or None (filters, modules)."""
    parts = dotted[len(PACKAGE) + 1:].split(".")
    if parts[0] == "module_utils":
        return parts[1] if len(parts) > 1 else "module_utils"
    return parts[0] if parts[0] == "plugin_utils" else None


def wrong_way(path, allowed):
    """'file:line: imports X (folder)' for each import of ``path`` outside ``allowed`` folders."""
    rel = path.relative_to(PLUGINS.parent)
    return ["%s:%d: imports %s (%s/), which it may not" % (rel, line, name, folder_of(name))
            for line, name in own_imports(path) if folder_of(name) not in allowed]


def python_files(where):
    return sorted((PLUGINS / where).rglob("*.py"))


def test_every_folder_is_known_and_nothing_sits_flat():
    module_utils = PLUGINS / "module_utils"
    flat = sorted(p.name for p in module_utils.glob("*.py") if p.name != "__init__.py")
    folders = sorted(p.name for p in module_utils.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert (flat, folders) == ([], sorted(MAY_IMPORT))
    for folder in folders:
        doc = ast.get_docstring(ast.parse((module_utils / folder / "__init__.py").read_text()))
        assert doc and "import" in doc.lower(), "%s/__init__.py must say what the phase may import" % folder


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_a_phase_imports_only_the_phases_before_it(folder):
    offenders = []
    for path in python_files("module_utils/" + folder):
        offenders += wrong_way(path, MAY_IMPORT[folder] | {folder})
    assert not offenders, "\n".join(offenders)


def test_the_modules_shipped_to_hosts_import_only_the_host_side():
    offenders = []
    for path in python_files("modules"):
        offenders += wrong_way(path, HOST_SIDE)
    assert not offenders, "\n".join(offenders)


def test_controller_code_may_import_module_utils_and_plugin_utils():
    # Actions, filters and plugin_utils are controller-only: any phase, and plugin_utils, but nothing else of ours.
    offenders = []
    for where in ("action", "filter", "plugin_utils"):
        for path in python_files(where):
            offenders += wrong_way(path, set(MAY_IMPORT) | {"plugin_utils"})
    assert not offenders, "\n".join(offenders)


def test_the_checker_sees_every_form_of_import(tmp_path):
    # The tests above are only as good as own_imports: each form must map to its folder.
    source = tmp_path / "module_utils" / "apply" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "from %(mu)s.plan.plan import planned\n"
        "from %(mu)s import model\n"
        "import %(mu)s.decide.tree\n"
        "def f():\n    from ..render import render\n"
        "from %(mu)s.core import layout\n"
        "from %(p)s.plugin_utils.key_steps import links\n" % {"mu": MODULE_UTILS, "p": PACKAGE})
    found = [(line, folder_of(name)) for line, name in own_imports(source, tmp_path)]
    assert found == [(1, "plan"), (2, "model"), (3, "decide"), (5, "render"), (6, "core"), (7, "plugin_utils")]


def test_controller_code_stays_small():
    # CONTRIBUTING.md's rule for module_utils holds for the actions and plugin_utils too: 300 lines, 60 a function.
    long_modules, long_functions = {}, {}
    for where in ("action", "filter", "plugin_utils"):
        for path in python_files(where):
            text = path.read_text()
            if len(text.splitlines()) > 300:
                long_modules[str(path)] = len(text.splitlines())
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                    long_functions["%s:%s" % (path.name, node.name)] = node.end_lineno - node.lineno + 1
    assert (long_modules, long_functions) == ({}, {})
