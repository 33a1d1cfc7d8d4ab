# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The words the later phases add to the inventory, handed to the model by its caller.

A forward may force a technique by name, and a forward (one of its keys) or a
host (a wgpf_<key> variable) may answer a question of the decision tree. Those
names live with the techniques (techniques/), which the model may not import:
decide/tree.py gathers them into a Vocabulary and the planner passes it to
build_model, which reads every such answer the same way (true or false, else
the question's default). A new technique's question thus needs no change here.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.model.forwards import MODEL_FORWARD_KEYS
from ansible_collections.wgforward.portforward.plugins.module_utils.model.hosts import MODEL_HOST_KEYS

# Where the inventory gives a question's answer (Question.given_by in techniques/base.py).
FORWARD = "forward"  # a key of each forward, named as the answer
HOST = "host"  # a variable wgpf_<answer key> of the forward's private server


class Vocabulary:
    """Technique names and the answers read from the inventory; questions need key, default, given_by."""

    def __init__(self, techniques, questions):
        self.techniques = tuple(techniques)
        self.forward_answers = {}
        self.host_answers = {}
        for question in questions:
            given = {FORWARD: self.forward_answers, HOST: self.host_answers}.get(question.given_by)
            if given is None:
                continue
            if not isinstance(question.default, bool):
                raise ValueError("%s: only true/false answers are read from the inventory by their key; "
                                 "give the question its own read" % question.key)
            given[question.key] = question.default

    @property
    def forward_keys(self):
        """Every key a forward may have."""
        return MODEL_FORWARD_KEYS + tuple(self.forward_answers)

    @property
    def host_keys(self):
        """Every wgpf_ variable a host may have."""
        return MODEL_HOST_KEYS + tuple("wgpf_" + key for key in self.host_answers)
