# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' meta/argument_specs.yml are what hacking/argument_specs.yml makes (issue 15 item 2).

`make specs` writes them; `make test` does not, so a role file edited by hand, or a
source edited without `make specs`, fails here with the file's name and the diff.
tests/unit/test_docs_contract.py ties the source's inventory model to the planner
and the README.
"""

from __future__ import annotations

import difflib
import os
import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

import argument_specs  # hacking/, on pytest's pythonpath
import shipped_inventories

ROOT = shipped_inventories.ROOT
# What each role's tasks pass to each of its entry points (tasks/*.yml, site.yml's prepare).
PASSED = {"engine": {"engine_role": "public", "engine_install_packages": False}}


def _role_file(role):
    return os.path.join("roles", role, "meta", "argument_specs.yml")


def test_every_role_file_is_what_the_source_makes():
    expected = argument_specs.expected_files(ROOT)
    stale = argument_specs.drifted(ROOT)
    if stale:
        with open(os.path.join(ROOT, stale[0]), encoding="utf-8") as handle:
            current = handle.read().splitlines()
        diff = difflib.unified_diff(current, expected[stale[0]].splitlines(), stale[0], argument_specs.SOURCE, lineterm="")
        pytest.fail("%s: not what %s makes; edit the source, then run `make specs`\n%s"
                    % (", ".join(stale), argument_specs.SOURCE, "\n".join(list(diff)[:30])))


def test_every_role_with_argument_specs_has_them_from_the_source():
    on_disk = sorted(role for role in os.listdir(os.path.join(ROOT, "roles"))
                     if os.path.exists(os.path.join(ROOT, _role_file(role))))
    assert on_disk == sorted(argument_specs.role_specs(argument_specs.load_source(ROOT)))


def test_each_role_file_says_it_is_generated_and_from_what():
    for path in argument_specs.expected_files(ROOT):
        with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
            first = handle.readline()
        assert "make specs" in first and argument_specs.SOURCE in first, path


def _entry_points():
    for role, entry_points in argument_specs.role_specs(argument_specs.load_source(ROOT)).items():
        for name in entry_points:
            yield role, name


@pytest.mark.parametrize("role, entry_point", list(_entry_points()))
def test_each_entry_point_takes_what_the_role_passes_and_refuses_a_non_bool(role, entry_point):
    """ansible-core's own validator, on the role file as Ansible reads it."""
    with open(os.path.join(ROOT, _role_file(role)), encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["argument_specs"][entry_point]["options"]
    passed = PASSED.get(role, {"%s_install_packages" % role: False})
    validator = ArgumentSpecValidator(options)
    result = validator.validate(dict(passed), validate_role_argument_spec=True)
    assert not result.error_messages, result.error_messages
    install = [name for name in passed if name.endswith("_install_packages")]
    result = validator.validate(dict(passed, **{install[0]: "maybe"}), validate_role_argument_spec=True)
    assert any(install[0] in message for message in result.error_messages), result.error_messages


def test_the_generated_text_reads_back_as_the_source_says():
    """The writer keeps hex defaults hex and puts the model under the main entry point only."""
    source = argument_specs.load_source(ROOT)
    for role in source["roles"]:
        data = yaml.safe_load(argument_specs.render(argument_specs.role_specs(source)[role]))["argument_specs"]
        main = data["main"]["options"]
        assert {k: v for k, v in main.items() if k.startswith("wgpf_")} == source["inventory_model"], role
        assert not [k for k in data["prepare"]["options"] if k.startswith("wgpf_")], role
        assert not re.search(r"\{[a-z_]+\}", yaml.safe_dump(data)), "%s: a placeholder is left" % role
    text = argument_specs.render(argument_specs.role_specs(source)["wireguard_public"])
    assert "default: 0x01000000\n" in text and "default: 0x0F000000\n" in text
