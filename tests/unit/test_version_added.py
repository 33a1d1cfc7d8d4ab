# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin's version_added names a version of this collection that exists (issue 19 item 6).

A plugin (and any option or return value that says so) was added in a released
version (changelogs/changelog.yaml) or in the one galaxy.yml is about to release;
antsibull-changelog lists a plugin under "New Modules"/"New Plugins" of the release
its version_added names, so a later version would leave it out of every release's
notes. The files are read with `ast`, not imported.
"""

from __future__ import annotations

import ast
import glob
import os

import pytest
import yaml

import shipped_inventories

ROOT = shipped_inventories.ROOT
# Folders of plugins that ansible-doc documents; module_utils and plugin_utils hold none, and an action
# plugin's documentation is its module's (plugins/modules/).
UNDOCUMENTED = ("module_utils", "plugin_utils", "action")
BLOCKS = ("DOCUMENTATION", "RETURN")


def _plugins():
    for path in sorted(glob.glob(os.path.join(ROOT, "plugins", "*", "*.py"))):
        folder = os.path.basename(os.path.dirname(path))
        if folder not in UNDOCUMENTED and not os.path.basename(path).startswith("_"):
            yield os.path.relpath(path, ROOT)


def _blocks(path):
    """{DOCUMENTATION/RETURN: parsed YAML} of a plugin file."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in BLOCKS:
                    found[target.id] = yaml.safe_load(node.value.value)
    return found


def _nested_versions(value, where):
    """(where, version_added) of every option or return value below value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "version_added":
                yield where, str(item)
            else:
                yield from _nested_versions(item, "%s.%s" % (where, key))
    elif isinstance(value, list):
        for item in value:
            yield from _nested_versions(item, where)


def _versions():
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        upcoming = str(yaml.safe_load(handle)["version"])
    with open(os.path.join(ROOT, "changelogs", "changelog.yaml"), encoding="utf-8") as handle:
        released = [str(v) for v in (yaml.safe_load(handle).get("releases") or {})]
    return upcoming, set(released) | {upcoming}


def test_every_documented_plugin_is_checked():
    names = [os.path.basename(p) for p in _plugins()]
    assert {"wireguard_key.py", "apply_plan.py", "plan.py", "technique.py"} <= set(names)


@pytest.mark.parametrize("path", list(_plugins()))
def test_version_added_is_a_version_of_this_collection(path):
    upcoming, known = _versions()
    blocks = _blocks(path)
    doc = blocks.get("DOCUMENTATION") or {}
    assert "version_added" in doc, "%s: DOCUMENTATION has no version_added" % path
    found = [("DOCUMENTATION", str(doc["version_added"]))]
    for block, parsed in blocks.items():
        body = {k: v for k, v in (parsed or {}).items() if k != "version_added"} if block == "DOCUMENTATION" else parsed
        found.extend(_nested_versions(body, block))
    wrong = ["%s version_added %s" % (where, version) for where, version in found if version not in known]
    assert not wrong, "%s: %s; galaxy.yml's version is %s, released: %s" % (
        path, ", ".join(wrong), upcoming, ", ".join(sorted(known - {upcoming})) or "none")
