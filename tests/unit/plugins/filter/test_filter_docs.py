# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every filter's DOCUMENTATION describes exactly the arguments its function takes (issue 10 item 5).

`ansible-doc -t filter wgforward.portforward.<name>` shows DOCUMENTATION; the function is
what Jinja calls. The first argument is `_input` (what is piped in), the others are named
as in the function, required exactly when the function has no default for them.
"""

from __future__ import annotations

import glob
import importlib
import inspect
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
FILTERS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "filter", "*.py"))
                 if not os.path.basename(p).startswith("_"))


def load(name):
    module = importlib.import_module("ansible_collections.wgforward.portforward.plugins.filter." + name)
    func = module.FilterModule().filters()[name]
    return yaml.safe_load(module.DOCUMENTATION), getattr(module, "_impl", func), module


def test_the_public_filters_are_what_a_user_calls_and_no_more():
    # The roles' plumbing is action plugins and plain Python (plugin_utils/), not public filters (issue 15.4).
    assert FILTERS == ["contacted", "explain", "plan", "technique"]


@pytest.mark.parametrize("name", FILTERS)
def test_documentation_matches_the_arguments(name):
    doc, func, module = load(name)
    assert doc["name"] == name
    params = list(inspect.signature(func).parameters.values())
    options = doc["options"]
    assert list(options)[0] == "_input"
    assert sorted(options) == sorted(["_input"] + [p.name for p in params[1:]]), name
    for param in [None] + params[1:]:
        key = "_input" if param is None else param.name
        spec = options[key]
        required = param is None or param.default is inspect.Parameter.empty
        assert bool(spec.get("required")) is required, "%s: %s" % (name, key)
        assert spec.get("type"), "%s: %s has no type" % (name, key)
        text = " ".join(spec["description"]) if isinstance(spec["description"], list) else spec["description"]
        assert len(text.split()) >= 4, "%s: %s is not described: %r" % (name, key, text)
    assert module.EXAMPLES.strip() and yaml.safe_load(module.RETURN)["_value"]["description"]


def test_ansible_doc_lists_just_those():
    import subprocess
    done = subprocess.run(["ansible-doc", "-t", "filter", "-l", "wgforward.portforward"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines() if line.strip()] == [
        "wgforward.portforward.contacted", "wgforward.portforward.explain", "wgforward.portforward.plan",
        "wgforward.portforward.technique"], done.stdout
