# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The article's decision tree: five questions, six techniques."""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.wgforward.portforward.plugins.module_utils.core.origins import DEFAULT, INFERRED, SET
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques import (
    connmark_intermediate, connmark_private, default_route, masquerade, policy_routing, static_routes)
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.registry import (
    DIRECT_PEER_LAST_STEP, NAMES)

# The technique names, in the tree's order (the registry's).
TECHNIQUES = NAMES
# Re-exported: where an answer came from, as the explanation reports it.
ORIGINS = (SET, INFERRED, DEFAULT)

ANSWER_DEFAULTS = {
    "preserve_source": True,
    "sources": [],
    "internet_via_public": False,
    "only_via_public": True,
    "gateway_is_intermediate": False,
    "intermediate": True,
}

# (question id, answer key, question text, technique when the answer says stop,
#  predicate telling whether the answer stops the walk, reason for stopping, reason for going on)
QUESTIONS = (
    ("Q1", "preserve_source",
     "Does the private service need the original Internet source address of each connection?",
     masquerade.NAME, lambda a: not a,
     "the service does not need the client's address, so rewriting it to the forwarding hop's is simplest",
     "the service must see the client's address, so it cannot be masqueraded"),
    ("Q2", "sources",
     "Do all Internet connections come from a small, fixed set of source addresses?",
     static_routes.NAME, bool,
     "the client networks are known, so plain routes for them send replies back the way they came",
     "clients may come from anywhere, so no fixed routes can cover them"),
    ("Q3", "internet_via_public",
     "Do the private and intermediate servers use the public server for all their Internet access?",
     default_route.NAME, bool,
     "everything already leaves through the public server, so the default route carries the replies",
     "the inner servers keep their own Internet access, so the default route cannot move"),
    ("Q4", "only_via_public",
     "Do all connections to the private service come through the public server?",
     policy_routing.NAME, bool,
     "every reply of the service belongs to a forwarded connection, so a routing rule on its address or port suffices",
     "the service also answers other clients, so replies must be told apart per connection"),
    ("Q5", "gateway_is_intermediate",
     "Is the intermediate server the private server's default gateway?",
     connmark_intermediate.NAME, bool,
     "replies already pass through the intermediate, which can mark connections and route them back",
     "replies do not pass through the intermediate, so the private server must mark connections itself"),
)


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
    for question, key, text, technique, stops, why_stop, why_go in QUESTIONS:
        if key == "gateway_is_intermediate" and not answers["intermediate"]:
            steps.append(Step(question, key, text, None, "not applicable", DIRECT_PEER_LAST_STEP,
                              "no intermediate: the private server is a direct WireGuard peer of the public "
                              "server, so it marks connections from the tunnel and routes replies back by mark"))
            return DIRECT_PEER_LAST_STEP, steps
        answer = answers[key]
        if stops(answer):
            steps.append(Step(question, key, text, answer, origins.get(key, SET), technique, why_stop))
            return technique, steps
        steps.append(Step(question, key, text, answer, origins.get(key, SET), "continue", why_go))
    # Q5 answered no: the private server marks connections itself.
    steps[-1].outcome = connmark_private.NAME
    return connmark_private.NAME, steps


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
