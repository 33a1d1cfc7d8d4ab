# -*- coding: utf-8 -*-
"""Shared fixtures; the inventory builders live in builders.py (tests/unit is on pytest's pythonpath)."""

from __future__ import annotations

import shutil
import subprocess

import pytest


@pytest.fixture
def nft_check():
    """Validate a rendered table with `nft -c -f` in an unprivileged network namespace."""
    if not (shutil.which("nft") and shutil.which("unshare")):
        pytest.fail("nft and unshare are required: run the tests through `make test`")

    def check(text, tmp_path):
        path = tmp_path / "table.nft"
        path.write_text(text)
        run = subprocess.run(["unshare", "-rn", "nft", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr + "\n" + text
    return check
