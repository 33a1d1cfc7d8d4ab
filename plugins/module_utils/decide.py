# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pick each forward's technique: the tree, a forced choice, or the multi-public escalation."""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.model import port_text
from ansible_collections.wgforward.portforward.plugins.module_utils.problems import forward_where
from ansible_collections.wgforward.portforward.plugins.module_utils.tree import SET, walk

ESCALATED = "connmark_intermediate"


class Decision:
    __slots__ = ("forward", "technique", "tree_technique", "steps", "forced", "escalated", "notes", "_dict")

    def as_dict(self):
        """The decision as data; built once, since every host of the forward reports it."""
        if getattr(self, "_dict", None) is None:
            self._dict = self._build_dict()
        return self._dict

    def _build_dict(self):
        fwd = self.forward
        return {
            "forward": fwd.name,
            "public": fwd.public,
            "to": fwd.to,
            "technique": self.technique,
            "tree_technique": self.tree_technique,
            "forced": self.forced,
            "escalated": self.escalated,
            "steps": [s.as_dict() for s in self.steps],
            "notes": list(self.notes),
        }


def answers_for(fwd, private):
    answers = {
        "preserve_source": fwd.preserve_source,
        "sources": [str(s) for s in fwd.sources],
        "internet_via_public": private.internet_via_public,
        "only_via_public": fwd.only_via_public,
        "gateway_is_intermediate": private.gateway_is_intermediate,
        "intermediate": private.intermediate is not None,
    }
    origins = dict(fwd.origins)
    origins["internet_via_public"] = private.internet_origin
    origins["gateway_is_intermediate"] = private.gateway_origin or SET
    return answers, origins


def publics_by_intermediate(model):
    """{intermediate: sorted public servers whose forwards it carries}."""
    found = {}
    for fwd in model.forwards:
        private = model.hosts[fwd.to]
        if private.intermediate:
            found.setdefault(private.intermediate, set()).add(fwd.public)
    return {k: sorted(v) for k, v in found.items()}


# Connection marks only work for replies conntrack matches to the forwarded flow. A UDP
# reply from a wildcard socket takes the source address the main table picks (not the
# tunnel address the datagram came to), so it is a new flow with no mark.
UDP_TUNNEL_NOTE = ("UDP on '%(host)s' port %(port)s: the service must answer from the tunnel address the "
                   "datagram came to (bind that address, or use IP_PKTINFO as most UDP servers can); a "
                   "wildcard-bound UDP socket answers from its main-table address and the reply misses the "
                   "connection mark. TCP is not affected.")


def _forced_problem(fwd, private, technique):
    """Why a forced technique cannot work for this topology (None when it can)."""
    if technique == "static_routes" and not fwd.sources:
        return "static_routes needs the fixed client networks in sources"
    if technique == "connmark_intermediate":
        if private.intermediate is None:
            return ("connmark_intermediate needs an intermediate, but '%s' is a direct WireGuard peer of '%s'"
                    % (private.name, fwd.public))
        if not private.gateway_is_intermediate:
            return ("connmark_intermediate needs the private server's replies to pass through the intermediate, but "
                    "'%s' does not use '%s' as its default gateway (wgpf_gateway_is_intermediate is false)"
                    % (private.name, private.intermediate))
    return None


def decide_all(model, problems):
    """{forward name: Decision} for every forward."""
    multi = {k: v for k, v in publics_by_intermediate(model).items() if len(v) > 1}
    decisions = {}
    for fwd in model.forwards:
        private = model.hosts[fwd.to]
        answers, origins = answers_for(fwd, private)
        technique, steps = walk(answers, origins)
        dec = Decision()
        dec.forward, dec.tree_technique, dec.steps, dec.notes, dec._dict = fwd, technique, steps, [], None
        dec.forced = fwd.technique != "auto"
        dec.escalated = False
        if dec.forced:
            why = _forced_problem(fwd, private, fwd.technique)
            if why:
                problems.add(forward_where(fwd.name), "technique", why)
            dec.notes.append("technique forced to %s (the tree says %s)" % (fwd.technique, technique))
            technique = fwd.technique
        publics = multi.get(private.intermediate)
        if publics:
            if dec.forced and technique != ESCALATED:
                problems.add(forward_where(fwd.name), "technique",
                             "%s cannot work: intermediate '%s' carries forwards from %s, so replies must leave by "
                             "the interface they came in on, which takes per-public-server connection marks "
                             "(connmark_intermediate)" % (technique, private.intermediate, " and ".join(publics)))
            elif technique != ESCALATED:
                dec.notes.append("escalated from %s: intermediate '%s' carries forwards from %s, so replies must "
                                 "leave by the interface they came in on; it marks each connection with the "
                                 "public server it came from and routes replies by that mark"
                                 % (technique, private.intermediate, " and ".join(publics)))
                dec.escalated = True
            technique = ESCALATED
        dec.technique = technique
        if technique == "connmark_private" and "udp" in fwd.protocols and private.attachment == "wireguard":
            dec.notes.append(UDP_TUNNEL_NOTE % {"host": private.name, "port": port_text(fwd.to_port)})
        decisions[fwd.name] = dec
    return decisions
