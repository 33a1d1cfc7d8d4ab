# -*- coding: utf-8 -*-
"""The apply step's fake host (fake_host.py) as a fixture of the module tests."""

from __future__ import annotations

import pytest
from fake_host import new_host


@pytest.fixture
def host(tmp_path):
    return new_host(tmp_path)
