# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared action base (plugin_utils/actions.py): the step runs with the inherited heap frozen."""

from __future__ import annotations

import gc

import pytest

from ansible_collections.wgforward.portforward.plugins.plugin_utils import actions


class Inherited:
    """An object the worker got from the controller (here: made before the step)."""


def test_the_step_runs_with_what_existed_before_it_frozen_and_the_collector_gets_it_back():
    before = Inherited()
    seen = {}

    def step():
        seen["frozen"] = gc.get_freeze_count()
        seen["tracked"] = any(obj is before for obj in gc.get_objects())
        return {"changed": False}

    with actions.inherited_heap_frozen():
        step()
    # Frozen objects leave the collector's generations: the step's collections do not walk them.
    assert seen["frozen"] > 0 and not seen["tracked"]
    assert gc.get_freeze_count() == 0 and any(obj is before for obj in gc.get_objects())


def test_a_failing_step_gives_the_heap_back_too():
    with pytest.raises(RuntimeError):
        with actions.inherited_heap_frozen():
            raise RuntimeError("the step failed")
    assert gc.get_freeze_count() == 0
