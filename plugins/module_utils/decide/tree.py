# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The article's decision tree, assembled from the techniques: each declares the question that leads to it.

The questions are asked in the techniques' rank order; the first answer that
stops the walk picks that question's technique, and when every answer says go
on, the walk ends at the technique that ends the tree (connmark_private). A
question with no meaning for the topology (Q5 for a direct peer) is passed over.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.wgforward.portforward.plugins.module_utils.core.origins import DEFAULT, NOT_APPLICABLE, SET
from ansible_collections.wgforward.portforward.plugins.module_utils.model.vocabulary import Vocabulary
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.registry import NAMES, TECHNIQUES, TREE_END

# The techniques a question leads to, and their questions, in the tree's order.
ASKING = tuple(t for t in TECHNIQUES if t.question is not None)
QUESTIONS = tuple(t.question for t in ASKING)
# Not a question: whether the private server is reached through an intermediate (false for a direct peer).
TOPOLOGY_DEFAULTS = {"intermediate": True}
ANSWER_DEFAULTS = dict([(q.key, q.default) for q in QUESTIONS] + list(TOPOLOGY_DEFAULTS.items()))
# What the model reads with the techniques' words: the names a forward may force, the answers it reads.
VOCABULARY = Vocabulary(NAMES, QUESTIONS)


@dataclass
class Step:
    """One question of the walk: the answer, where it came from, and where it led."""
    question: str
    key: str
    text: str
    answer: object
    origin: str
    outcome: str
    reason: str

    def as_dict(self):
        return {
            "question": self.question,
            "key": self.key,
            "text": self.text,
            "answer": self.answer,
            "source": self.origin,
            "outcome": self.outcome,
            "reason": self.reason,
        }


def walk(answers, origins=None):
    """Return (technique, [Step]) for complete answers.

    ``answers`` holds every key of ANSWER_DEFAULTS; ``origins`` maps a key to
    SET, INFERRED or DEFAULT (missing keys count as SET).
    """
    origins = origins or {}
    steps = []
    for technique in ASKING:
        q = technique.question
        if q.applies is not None and not q.applies(answers):
            steps.append(Step(q.id, q.key, q.text, None, NOT_APPLICABLE, "continue", q.why_not))
            continue
        answer = answers[q.key]
        if q.stops(answer):
            steps.append(Step(q.id, q.key, q.text, answer, origins.get(q.key, SET), technique.name, q.why_stop))
            return technique.name, steps
        steps.append(Step(q.id, q.key, q.text, answer, origins.get(q.key, SET), "continue", q.why_go))
    # Every answer said go on: the last step leads to the end of the tree.
    steps[-1].outcome = TREE_END.name
    return TREE_END.name, steps


def complete(answers):
    """Fill defaults; return (answers, origins)."""
    full = {}
    origins = {}
    for key, default in ANSWER_DEFAULTS.items():
        if key in answers and answers[key] is not None:
            full[key] = answers[key]
            origins[key] = SET
        else:
            full[key] = list(default) if isinstance(default, list) else default
            origins[key] = DEFAULT
    return full, origins
