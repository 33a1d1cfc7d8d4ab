# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files the collection writes on the controller: the render preview, and the unmanaged peers' files.

One step writes them all (plugins/action/render.py): ansible-core would start one
module process per file for a ``copy`` loop. A file is written only when its content
or mode differs, in one rename. The preview goes under a folder that is relative to
where the command runs; the collection's own folders are never written.
"""

from __future__ import annotations

import os
import tempfile

from ansible_collections.wgforward.portforward.plugins.module_utils.render.diagram_svg import diagram_files
from ansible_collections.wgforward.portforward.plugins.module_utils.render.peer_config import peer_config
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import peer_key, render_files

DEFAULT_DEST = "rendered"
PEER_FILE_MODE = "0600"
PEER_DIR_MODE = "0700"
HOST_DIR_MODE = "0755"
DIAGRAM_MODE = "0644"
# The folders Ansible loads a collection from: a source checkout's own content.
CONTENT_FOLDERS = ("plugins", "roles", "playbooks", "meta")
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class RenderError(Exception):
    """A folder or file the step must not write; the message names it."""


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def refuse_collection(path, root=COLLECTION_ROOT):
    """Refuse a destination inside the collection: anywhere in an installed one (it has MANIFEST.json),
    its root or the folders Ansible loads it from in a source checkout."""
    real, root = os.path.realpath(path), os.path.realpath(root)
    installed = os.path.exists(os.path.join(root, "MANIFEST.json"))
    if (installed and _inside(real, root)) or real == root or \
            any(_inside(real, os.path.join(root, folder)) for folder in CONTENT_FOLDERS):
        raise RenderError("%s is inside the collection wgforward.portforward (%s), whose own folders are never "
                          "written: choose another folder with -e wgpf_render_dir=..." % (path, root))


def resolve_dest(dest, cwd=None):
    """The preview's folder: ``dest``, or ./rendered, relative to where the command runs (never $PWD's
    guess: os.getcwd())."""
    if dest is not None and (not isinstance(dest, str) or not dest.strip() or "\0" in dest):
        raise RenderError("wgpf_render_dir must be a folder, got %r" % (dest,))
    path = os.path.expanduser(dest if dest else DEFAULT_DEST)
    path = os.path.normpath(os.path.join(cwd or os.getcwd(), path))
    refuse_collection(path)
    return path


def host_files(plans, keys):
    """[(host, path on the host, mode, content)] of every managed host's plan."""
    out = []
    for host in sorted(plans):
        for item in render_files(plans[host], keys):
            out.append((host, item["path"], item["mode"], item["content"]))
    return out


def peer_files(plans, keys):
    """[(host, dir, path, content, complete)] of every unmanaged peer: its wg-quick file with its servers'
    public keys, or a placeholder for each one not known yet (``complete`` false)."""
    out = []
    for host in sorted(plans):
        plan = plans[host]
        if plan.get("peer_config") is None or plan["state"] != "present" or not plan["interfaces"]:
            continue
        complete = all(peer_key(p, keys) for p in plan["interfaces"][0]["peers"])
        config = plan["peer_config"]
        out.append((host, config["dir"], config["path"], peer_config(plan, keys), complete))
    return out


def _mode(path):
    return "%04o" % (os.lstat(path).st_mode & 0o7777)


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


class Writer:
    """Writes files where they differ; check mode only reports; ``diffs`` holds each change's before/after."""

    def __init__(self, check_mode=False, diff=False):
        self.check_mode = check_mode
        self.diff = diff
        self.changed = []
        self.diffs = []

    def folder(self, path, mode):
        if os.path.isdir(path):
            if _mode(path) != mode and not self.check_mode:
                os.chmod(path, int(mode, 8))
            return
        if not self.check_mode:
            os.makedirs(path, int(mode, 8), exist_ok=True)
            os.chmod(path, int(mode, 8))

    def file(self, path, content, mode):
        before = _read(path)
        if before == content and _mode(path) == mode:
            return False
        self.changed.append(path)
        if self.diff and before != content:
            self.diffs.append({"before_header": path, "after_header": path, "before": before or "", "after": content})
        if self.check_mode:
            return True
        if before == content:
            os.chmod(path, int(mode, 8))
            return True
        handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".%s." % os.path.basename(path))
        try:
            os.fchmod(handle, int(mode, 8))
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(content)
            os.rename(temp, path)
        finally:
            if os.path.lexists(temp):
                os.unlink(temp)
        return True


def write_preview(dest, plans, keys, writer):
    """Every host's files under dest/<host>/<path on the host>, and each unmanaged peer's file as
    dest/<peer>/<peer>.conf (with placeholders for the public keys not known yet)."""
    for host, path, mode, content in host_files(plans, keys):
        target = os.path.join(dest, host, path.lstrip("/"))
        writer.folder(os.path.dirname(target), HOST_DIR_MODE)
        writer.file(target, content, mode)
    for host, _dir, path, content, _complete in peer_files(plans, keys):
        target = os.path.join(dest, host, os.path.basename(path))
        writer.folder(os.path.dirname(target), PEER_DIR_MODE)
        writer.file(target, content, PEER_FILE_MODE)


def write_diagram(dest, graph, writer):
    """The inventory's picture as dest/inventory.mmd, and dest/inventory.svg where Graphviz is installed;
    returns None, or why there is no SVG."""
    files, why = diagram_files(graph)
    writer.folder(dest, HOST_DIR_MODE)
    for item in files:
        writer.file(os.path.join(dest, item["name"]), item["content"], DIAGRAM_MODE)
    return why


def write_peer_files(plans, keys, writer):
    """Each unmanaged peer's file where the inventory puts it (wgpf_peer_config_dir), once every public
    key in it is known: never a file with a placeholder where a user takes it from. Returns the peers left."""
    left = []
    for host, folder, path, content, complete in peer_files(plans, keys):
        if not complete:
            left.append(host)
            continue
        writer.folder(folder, PEER_DIR_MODE)
        writer.file(path, content, PEER_FILE_MODE)
    return left
