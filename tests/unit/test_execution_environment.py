# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml gives ansible-builder a build context for AWX / Automation Platform (issue 20.4).

`ansible-builder create` (no container runtime, no network) runs on a copy of the
definition and the two requirement files beside the collection tarball that
`ansible-galaxy collection build` writes, as `make build` would. The context it
writes must carry the Python requirements (netaddr), the bindep file, the
collection tarball and a galaxy requirements file naming it; the tarball itself
must carry meta/execution-environment.yml and the two files it names, which is
what ansible-builder reads from a collection installed from Galaxy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EE_FILES = ("execution-environment.yml", "requirements.txt", "bindep.txt")


def tool(name):
    """A command of the venv this test runs in (make deps installs ansible-builder from tests/requirements.txt)."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(path):
        path = shutil.which(name)
    if path is None:
        pytest.fail("%s is not installed: run `make deps` (tests/requirements.txt)" % name)
    return path


def galaxy_version():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)["version"]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The build context `ansible-builder create` writes for a copy of the source's definition."""
    work = tmp_path_factory.mktemp("ee")
    for name in EE_FILES:
        shutil.copy(os.path.join(ROOT, name), str(work / name))
    env = dict(os.environ, ANSIBLE_HOME=str(work / "home"), ANSIBLE_NOCOLOR="1")
    subprocess.run([tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(work / "dist"),
                    ROOT], check=True, capture_output=True, text=True, env=env, timeout=120)
    done = subprocess.run([tool("ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context",
                           "--output-filename", "Containerfile"], cwd=str(work), capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return work / "context"


def test_the_definition_is_ansible_builder_3_with_both_requirement_files():
    with open(os.path.join(ROOT, "execution-environment.yml")) as handle:
        definition = yaml.safe_load(handle)
    assert definition["version"] == 3
    assert definition["dependencies"]["python"] == "requirements.txt"
    assert definition["dependencies"]["system"] == "bindep.txt"
    # The tarball it installs is the one `make build` writes for galaxy.yml's version.
    tarball = "wgforward-portforward-%s.tar.gz" % galaxy_version()
    assert [c["name"] for c in definition["dependencies"]["galaxy"]["collections"]] == ["collections/" + tarball]
    assert [f["src"] for f in definition["additional_build_files"]] == ["dist/" + tarball]


def test_the_context_carries_the_python_and_system_requirements(context):
    build = context / "_build"
    assert "netaddr" in (build / "requirements.txt").read_text()
    bindep = [line.split()[0] for line in (build / "bindep.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert bindep == ["graphviz"]
    containerfile = (context / "Containerfile").read_text()
    # The builder stage's introspection reads both files, the final stage installs what it found.
    assert "_build/requirements.txt" in containerfile and "_build/bindep.txt" in containerfile
    assert 'ANSIBLE_INSTALL_REFS="ansible-core>=2.19,<2.20 ansible-runner"' in containerfile
    assert 'PYCMD="/usr/bin/python3.11"' in containerfile


def test_the_context_carries_the_collection_and_its_own_requirements(context):
    build = context / "_build"
    tarball = build / "collections" / ("wgforward-portforward-%s.tar.gz" % galaxy_version())
    assert tarball.is_file()
    with open(str(build / "requirements.yml")) as handle:
        wanted = yaml.safe_load(handle)
    assert wanted["collections"] == [{"name": "collections/" + tarball.name, "type": "file"}]
    # What ansible-builder reads from an installed collection (Galaxy's copy is this tarball).
    with tarfile.open(str(tarball)) as archive:
        names = set(archive.getnames())
        meta = yaml.safe_load(archive.extractfile("meta/execution-environment.yml"))
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    assert {"requirements.txt", "bindep.txt"} <= names


def test_ansible_builder_reads_the_installed_collections_requirements(context, tmp_path):
    """What the image's builder stage runs on the collections it installed (introspect), on this tarball."""
    tarball = context / "_build" / "collections" / ("wgforward-portforward-%s.tar.gz" % galaxy_version())
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_NOCOLOR="1")
    subprocess.run([tool("ansible-galaxy"), "collection", "install", "--force", "--offline", "-p",
                    str(tmp_path / "coll"), str(tarball)], check=True, capture_output=True, text=True, env=env,
                   timeout=120)
    done = subprocess.run([tool("ansible-builder"), "introspect", "--sanitize", str(tmp_path / "coll")],
                          capture_output=True, text=True, env=env, timeout=120, check=True)
    found = yaml.safe_load(done.stdout)
    assert [line.split()[0] for line in found["python"]] == ["netaddr>=0.10"]
    assert [line.split()[0] for line in found["system"]] == ["graphviz"]
