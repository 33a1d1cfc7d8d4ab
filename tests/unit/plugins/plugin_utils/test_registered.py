# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RunView.registered reads another host's registered result as its task returned it, not templated.

The live check's verdicts read every host's probe result; through hostvars, ansible-core 2.19 templates and
copies it on every access (10 s at 10,000 forwards, benchmarks/README.md "Scale")."""

from __future__ import annotations

import types

import golden

from ansible_collections.wgforward.portforward.plugins.plugin_utils.run_view import RunView


def test_a_registered_result_is_read_untemplated(tmp_path):
    (tmp_path / "hosts.yml").write_text("all:\n  children:\n    wireguard_public:\n      hosts:\n        p1: {}\n"
                                        "    wireguard_private:\n      hosts:\n        q1: {}\n")
    hostvars, groups = golden.hostvars_of(tmp_path)
    probe = {"nft": {"table": [{"map": {"name": "dnat4", "elem": ["tcp . 2000 : 10.0.0.2 . 80"]}}]}}
    hostvars._variable_manager.set_nonpersistent_facts("p1", {"check__probe": probe})  # what `register` does
    task = types.SimpleNamespace(delegate_to=None, check_mode=False, _play=None, _parent=None)
    view = RunView(task, {"hostvars": hostvars, "inventory_hostname": "q1", "groups": groups})
    assert view.registered("p1", "check__probe") is probe  # the object itself: no copy, no templating
    assert view.registered("p1", "check__probe") == hostvars["p1"]["check__probe"]
    assert view.registered("q1", "check__probe") is None
    assert view.registered("nowhere", "check__probe") is None
