# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documented contract and the planner's model agree (issue 10 item 5).

Three places say which wgpf_* variables exist: the planner's accepted keys
(decide/tree.py's VOCABULARY: host_keys, forward_keys; KNOB_DEFAULTS, IFACE_KEYS, LOCAL_ROUTE_KEYS), the
inventory model of hacking/argument_specs.yml (from which `make specs` writes the
roles' meta/argument_specs.yml: what `ansible-doc -t role` shows, and what
ansible-core validates before the role runs; test_argument_specs.py keeps the
files equal to it) and the README's tables. A variable added to one and not the
others fails here, and so does a shipped inventory that the argument specs
would refuse at run time.
"""

from __future__ import annotations

import os
import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import VOCABULARY
from ansible_collections.wgforward.portforward.plugins.module_utils.model import forwards, hosts, knobs
from ansible_collections.wgforward.portforward.plugins.module_utils.model import wg_interfaces
import argument_specs  # hacking/, on pytest's pythonpath
import shipped_inventories

ROOT = shipped_inventories.ROOT
ROLES = ("wireguard_public", "wireguard_intermediate", "wireguard_private")
CELL_NAME_RE = re.compile(r"`([a-z_]+)`")


def role_options(role, entry="main"):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"][entry]["options"]


def wgpf_options():
    """The inventory model: the wgpf_* options of hacking/argument_specs.yml."""
    return argument_specs.load_source(ROOT)["inventory_model"]


def readme_tables():
    """{first header cell: [names in backticks of each row's first cell]} of every README table."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    tables, header = {}, None
    for index, line in enumerate(lines):
        if not line.startswith("|"):
            header = None
            continue
        first = line.split("|")[1].strip()
        if header is None:
            header = first
            tables.setdefault(header, [])
        elif index and not set(first) <= set("-: "):
            tables[header].extend(CELL_NAME_RE.findall(first))
    return tables


def test_each_role_documents_the_whole_model_in_its_main_entry_point():
    model = wgpf_options()
    for role in ROLES:
        assert {k: v for k, v in role_options(role).items() if k.startswith("wgpf_")} == model, role


def test_argument_specs_hold_exactly_the_models_variables():
    assert sorted(wgpf_options()) == sorted(VOCABULARY.host_keys)


def test_every_option_has_a_type_and_a_description():
    def walk(options, where):
        for name, spec in options.items():
            assert spec.get("type"), "%s%s has no type" % (where, name)
            assert spec.get("description"), "%s%s has no description" % (where, name)
            walk(spec.get("options") or {}, "%s%s." % (where, name))
    for role, entry_points in argument_specs.role_specs(argument_specs.load_source(ROOT)).items():
        for entry_point, spec in entry_points.items():
            walk(spec["options"], "%s %s: " % (role, entry_point))


def test_suboptions_are_the_models_keys():
    options = wgpf_options()
    assert sorted(options["wgpf_forwards"]["options"]) == sorted(VOCABULARY.forward_keys)
    assert sorted(options["wgpf_interfaces"]["options"]) == sorted(wg_interfaces.IFACE_KEYS)
    assert sorted(options["wgpf_local_routes"]["options"]) == sorted(hosts.LOCAL_ROUTE_KEYS)
    for key in ("wgpf_forwards", "wgpf_interfaces", "wgpf_local_routes"):
        assert (options[key]["type"], options[key]["elements"]) == ("list", "dict"), key


def test_defaults_and_choices_are_the_models():
    options = wgpf_options()
    for key, default in knobs.KNOB_DEFAULTS.items():
        assert options[key].get("default") == default, key
    for key, allowed in knobs.CHOICES.items():
        assert options[key]["choices"] == list(allowed), key
    assert options["wgpf_attachment"]["choices"] == list(hosts.ATTACHMENTS)
    assert options["wgpf_listen_port"]["default"] == wg_interfaces.DEFAULT_LISTEN_PORT
    assert options["wgpf_interface"]["default"] == wg_interfaces.DEFAULT_INTERFACE
    assert options["wgpf_interfaces"]["options"]["listen_port"]["default"] == wg_interfaces.DEFAULT_LISTEN_PORT
    fwd = options["wgpf_forwards"]["options"]
    assert fwd["protocols"]["choices"] == list(forwards.PROTOCOLS)
    assert fwd["technique"]["choices"] == ["auto"] + list(VOCABULARY.techniques)
    assert [k for k in fwd if fwd[k].get("required")] == ["name", "public", "port", "to"]


def test_readme_tables_list_exactly_the_models_variables():
    tables = readme_tables()
    documented = [name for rows in tables.values() for name in rows if name.startswith("wgpf_")]
    assert sorted(set(documented)) == sorted(VOCABULARY.host_keys)
    assert sorted(tables["forward key"]) == sorted(VOCABULARY.forward_keys)


def test_each_roles_readme_names_its_own_variables():
    for role in ROLES:
        with open(os.path.join(ROOT, "roles", role, "README.md"), encoding="utf-8") as handle:
            text = handle.read()
        own = [k for k in role_options(role) if not k.startswith("wgpf_")]
        assert own and all("`%s`" % k in text for k in own), role


def inventories():
    yield "inventory.example", shipped_inventories.example()
    for name in shipped_inventories.scenarios():
        yield "molecule/" + name, shipped_inventories.scenario(name)


@pytest.mark.parametrize("role", ROLES)
def test_shipped_inventories_pass_the_run_time_validation(role):
    """What ansible-core checks before a role's first task (validate_argument_spec on the host's vars)."""
    validator = ArgumentSpecValidator(role_options(role))
    checked = 0
    for where, inventory in inventories():
        for host, hv in inventory["hosts"].items():
            params = {k: v for k, v in hv.items() if k.startswith("wgpf_")}
            result = validator.validate(params, validate_role_argument_spec=True)
            assert not result.error_messages, "%s %s: %s" % (where, host, result.error_messages)
            checked += 1
    assert checked > 20


def test_the_two_shaped_values_pass_the_run_time_validation():
    """A port range string, an address list and a hex mark are valid inventory, so the specs must take them."""
    params = {"wgpf_address": ["10.0.0.2/24", "fd00::2/64"], "wgpf_mark": "0x02000000", "wgpf_mark_mask": 0x0F000000,
              "wgpf_lan_address": "192.168.1.1/24", "wgpf_listen_port": "51821",
              "wgpf_forwards": [{"name": "game", "public": "public1", "port": "27015-27017", "to": "private1",
                                 "to_port": 27015, "protocols": ["tcp", "udp"]}]}
    result = ArgumentSpecValidator(role_options("wireguard_public")).validate(params, validate_role_argument_spec=True)
    assert not result.error_messages
    bad = dict(params, wgpf_sav="paranoid")
    result = ArgumentSpecValidator(role_options("wireguard_public")).validate(bad, validate_role_argument_spec=True)
    assert any("wgpf_sav" in m for m in result.error_messages)


def test_requires_ansible_is_the_version_the_tests_run():
    """requires_ansible and the roles' min_ansible_version claim no ansible-core older than the tests install."""
    with open(os.path.join(ROOT, "tests", "requirements.txt"), encoding="utf-8") as handle:
        pins = [line.split("#")[0].strip() for line in handle if line.startswith("ansible-core")]
    lowest = re.fullmatch(r"ansible-core>=([0-9.]+),.*", pins[0]).group(1)
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        required = yaml.safe_load(handle)["requires_ansible"]
    assert required == ">=%s.0" % lowest
    for role in ROLES:
        with open(os.path.join(ROOT, "roles", role, "meta", "main.yml"), encoding="utf-8") as handle:
            assert yaml.safe_load(handle)["galaxy_info"]["min_ansible_version"] == lowest, role
