# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pick each forward's technique: the tree, a forced choice, or the multi-public escalation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import forward_where
from ansible_collections.wgforward.portforward.plugins.module_utils.decide import peer_file
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import QUESTIONS, walk
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import Technique
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.registry import (
    SHARED_INTERMEDIATE, UNMANAGED_PEER_FALLBACK, get)


@dataclass
class Decision:
    """The technique one forward uses, and how it was reached."""
    forward: object  # the model's Forward
    technique: Technique
    tree_technique: str  # what the tree alone says
    steps: list
    forced: bool
    escalated: bool
    notes: List[str]
    cached_dict: Optional[dict] = field(default=None, repr=False, compare=False)

    def as_dict(self):
        """The decision as data; built once, since every host of the forward reports it."""
        if self.cached_dict is None:
            fwd = self.forward
            self.cached_dict = {
                "forward": fwd.name,
                "public": fwd.public,
                "to": fwd.to,
                "technique": self.technique.name,
                "tree_technique": self.tree_technique,
                "forced": self.forced,
                "escalated": self.escalated,
                "steps": [s.as_dict() for s in self.steps],
                "notes": list(self.notes),
            }
        return self.cached_dict


def answers_for(fwd, private):
    """The tree's answers for one forward, and where each came from (each question reads its own)."""
    answers, origins = {"intermediate": private.intermediate is not None}, {}
    for question in QUESTIONS:
        answers[question.key], origins[question.key] = question.answer(fwd, private)
    return answers, origins


def publics_by_intermediate(model):
    """{intermediate: sorted public servers whose forwards it carries}."""
    found = {}
    for fwd in model.forwards:
        private = model.hosts[fwd.to]
        if private.intermediate:
            found.setdefault(private.intermediate, set()).add(fwd.public)
    return {k: sorted(v) for k, v in found.items()}


def decide(fwd, private, publics, problems):
    """The Decision for one forward; ``publics`` lists the public servers its intermediate carries when
    there are several (else None)."""
    tree_name, steps = walk(*answers_for(fwd, private))
    technique = get(tree_name)
    forced = fwd.technique != "auto"
    notes = []
    if forced:
        technique = get(fwd.technique)
        why = technique.forced_problem(fwd, private) or peer_file.forced_problem(technique, private)
        if why:
            problems.add(forward_where(fwd.name), "technique", why)
        notes.append("technique forced to %s (the tree says %s)" % (technique.name, tree_name))
    elif private.public_key is not None and not peer_file.expressible(technique, private):
        technique = UNMANAGED_PEER_FALLBACK
        notes.append(peer_file.substitute_note(tree_name, technique, private, fwd.public))
    escalated = False
    if publics and technique is not SHARED_INTERMEDIATE:
        shared = SHARED_INTERMEDIATE.name
        if forced:
            problems.add(forward_where(fwd.name), "technique",
                         "%s cannot work: intermediate '%s' carries forwards from %s, so replies must leave by "
                         "the interface they came in on, which takes per-public-server connection marks "
                         "(%s)" % (technique.name, private.intermediate, " and ".join(publics), shared))
        else:
            notes.append("escalated from %s: intermediate '%s' carries forwards from %s, so replies must "
                         "leave by the interface they came in on; it marks each connection with the "
                         "public server it came from and routes replies by that mark"
                         % (technique.name, private.intermediate, " and ".join(publics)))
            escalated = True
        technique = SHARED_INTERMEDIATE
    notes.extend(technique.notes(fwd, private))
    return Decision(fwd, technique, tree_name, steps, forced, escalated, notes)


def decide_all(model, problems):
    """{forward name: Decision} for every forward."""
    multi = {k: v for k, v in publics_by_intermediate(model).items() if len(v) > 1}
    return {fwd.name: decide(fwd, model.hosts[fwd.to], multi.get(model.hosts[fwd.to].intermediate), problems)
            for fwd in model.forwards}
