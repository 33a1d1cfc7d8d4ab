# -*- coding: utf-8 -*-
"""plugin_utils' tests: Ansible's local temporary folder of the run is a fresh folder per test."""

from __future__ import annotations

import pytest

from ansible import constants as C


@pytest.fixture(autouse=True)
def run_tmp(tmp_path, monkeypatch):
    """The run's local tmp (C.DEFAULT_LOCAL_TMP), as ansible-playbook makes it: one per run."""
    path = tmp_path / "ansible-local-1234abcd"
    path.mkdir(mode=0o700)
    monkeypatch.setattr(C, "DEFAULT_LOCAL_TMP", str(path))
    return path
