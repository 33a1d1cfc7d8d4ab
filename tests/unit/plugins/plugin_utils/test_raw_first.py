# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""planning.RawFirstHostVars gives the planner the same input as hostvars, without templating what holds no template."""

from __future__ import annotations

import pytest

import golden

from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import from_hostvars
from ansible_collections.wgforward.portforward.plugins.plugin_utils.planning import RawFirstHostVars


@pytest.mark.parametrize("name,path", sorted(golden.inventories().items()), ids=sorted(golden.inventories()))
def test_the_same_input_as_hostvars_for_every_shipped_inventory(name, path):
    hostvars, groups = golden.hostvars_of(path)
    assert from_hostvars(RawFirstHostVars(hostvars), groups) == from_hostvars(hostvars, groups)


def test_a_template_is_still_templated_and_a_shared_list_is_read_once(tmp_path):
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "hosts.yml").write_text(
        "all:\n  children:\n    wireguard_public:\n      hosts:\n        p1: {wgpf_mtu: '{{ 1300 + 80 }}'}\n"
        "    wireguard_private:\n      hosts:\n        q1: {}\n")
    (tmp_path / "group_vars" / "all.yml").write_text("wgpf_forwards:\n  - {name: web, public: p1, port: 2000, to: q1}\n")
    hostvars, groups = golden.hostvars_of(tmp_path)
    fast = RawFirstHostVars(hostvars)
    assert fast["p1"]["wgpf_mtu"] == 1380
    assert fast["p1"]["wgpf_forwards"] is fast["q1"]["wgpf_forwards"]
    assert from_hostvars(fast, groups) == from_hostvars(hostvars, groups)


def test_a_large_value_without_a_template_is_not_run_through_the_template_engine(tmp_path, monkeypatch):
    """is_template ran ansible-core's engine over the whole forwards list: 2 s at 10,000 forwards."""
    from ansible_collections.wgforward.portforward.plugins.plugin_utils.planning import may_hold_template
    forwards = [{"name": "f%d" % i, "public": "p1", "port": 2000 + i, "protocols": ["tcp"], "to": "q1"}
                for i in range(10000)]
    fast = RawFirstHostVars({})
    monkeypatch.setattr(fast._templar, "is_template", lambda value: pytest.fail("the engine ran"))
    assert fast.holds_template(forwards) is False
    for value in ([{"name": "{{ x }}"}], {"{% if a %}": 1}, ("a", ["{# c #}"]), "#jinja2: variable_start_string:'[['\n[[x]]"):
        assert may_hold_template(value), value
    assert not may_hold_template([{"port": 1, "note": "a { b } % #"}, None, 2.5])
