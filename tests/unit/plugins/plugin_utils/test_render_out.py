# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preview's folder and the files written on the controller (plugin_utils/render_out.py)."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.wgforward.portforward.plugins.plugin_utils import render_out as R


def test_a_relative_folder_is_relative_to_where_the_command_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PWD", raising=False)
    assert R.resolve_dest(None) == str(tmp_path / "rendered")
    assert R.resolve_dest("out/x") == str(tmp_path / "out" / "x")
    assert R.resolve_dest("/abs/dir") == "/abs/dir"
    assert R.resolve_dest("rendered", cwd="/") == "/rendered"  # only when the command really runs in /


@pytest.mark.parametrize("inside", ["", "playbooks", "playbooks/rendered", "roles/x", "plugins", "meta/y"])
def test_the_collections_own_folders_are_refused(inside):
    with pytest.raises(R.RenderError, match="inside the collection wgforward.portforward"):
        R.resolve_dest(os.path.join(R.COLLECTION_ROOT, inside))


def test_a_source_checkouts_other_folders_are_allowed_an_installed_collections_never(tmp_path):
    R.refuse_collection(os.path.join(R.COLLECTION_ROOT, "rendered"))
    installed = tmp_path / "ansible_collections" / "wgforward" / "portforward"
    installed.mkdir(parents=True)
    (installed / "MANIFEST.json").write_text("{}")
    with pytest.raises(R.RenderError):
        R.refuse_collection(str(installed / "rendered"), root=str(installed))
    R.refuse_collection(str(tmp_path / "rendered"), root=str(installed))


def test_the_writer_writes_what_differs_with_its_mode_and_nothing_in_check_mode(tmp_path):
    path = str(tmp_path / "a" / "wg0.conf")
    check = R.Writer(check_mode=True)
    check.folder(os.path.dirname(path), "0755")
    assert check.file(path, "x\n", "0600") and not os.path.exists(os.path.dirname(path))
    writer = R.Writer(diff=True)
    writer.folder(os.path.dirname(path), "0755")
    assert writer.file(path, "x\n", "0600")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not writer.file(path, "x\n", "0600")
    os.chmod(path, 0o644)
    assert writer.file(path, "x\n", "0600") and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert writer.file(path, "y\n", "0600") and open(path, encoding="utf-8").read() == "y\n"
    assert writer.diffs[-1]["before"] == "x\n" and writer.diffs[-1]["after"] == "y\n"
    assert [p for p in os.listdir(os.path.dirname(path)) if p.startswith(".")] == []


def small_graph():
    return {"nodes": [{"id": "h0", "name": "public1", "role": "public", "managed": True, "lines": []}],
            "tunnels": [], "lans": [], "forwards": []}


def test_the_diagram_is_written_beside_the_hosts_folders_once(tmp_path):
    tmp_path = tmp_path / "rendered"
    writer = R.Writer()
    why = R.write_diagram(str(tmp_path), small_graph(), writer)
    names = sorted(os.listdir(tmp_path))
    assert names == (["inventory.mmd"] if why else ["inventory.mmd", "inventory.svg"])
    assert "public1" in (tmp_path / "inventory.mmd").read_text()
    assert oct(stat.S_IMODE(os.stat(tmp_path / "inventory.mmd").st_mode)) == "0o644"
    again = R.Writer()
    R.write_diagram(str(tmp_path), small_graph(), again)
    assert again.changed == []


def test_without_graphviz_only_the_mermaid_file_and_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    tmp_path = tmp_path / "rendered"
    why = R.write_diagram(str(tmp_path), small_graph(), R.Writer())
    assert "dot is not installed" in why and os.listdir(tmp_path) == ["inventory.mmd"]
