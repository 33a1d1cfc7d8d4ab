# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a technique is, and the one forward (``Job``) it is asked to place on its hosts.

Each technique module subclasses ``Technique`` and says, in one place: its
place in the decision tree (``rank``, and the ``Question`` whose answer leads
to it, with that answer's default and where the inventory gives it), the link
mode it needs on the WireGuard link to the public server, the topologies it
works for (``requirements``: what a forced technique is checked against, with
the reason), and what it puts on the public server, on a private server that
is a direct peer, on the intermediate and on a private server behind it.
registry.py finds every such module of this package by itself.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Callable, Optional

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.model.vocabulary import FORWARD

# What a peer's wg-quick file can hold, per technique (Technique.peer_config): AllowedIPs only
# (every WireGuard app), Table= and PostUp/PreDown rules (wg-quick on Linux), or more (nftables).
PEER_ALLOWED_IPS = "allowed_ips"
PEER_HOOKS = "hooks"
PEER_HOST = "host"

# How a technique uses the WireGuard link between the inner host and the public server.
LINK_PLAIN = "plain"  # AllowedIPs: only the addresses behind the link; the main table routes
LINK_DEFAULT_ROUTE = "full"  # AllowedIPs 0.0.0.0/0 in the main table: wg-quick's default route
LINK_OWN_TABLE = "table"  # Table=: the link's routes in its own table, reached by ip rules

# ``holds(fwd, private)`` is true when the technique can work; ``why`` (formatted with the names of
# private, public and intermediate) says why it cannot otherwise.
Requirement = namedtuple("Requirement", ("holds", "why"))


@dataclass(frozen=True)
class Question:
    """A question of the decision tree, declared by the technique that an answer which stops leads to."""
    id: str  # as the explanation numbers it: Q1, Q2, ...
    key: str  # the answer's key (the technique filter's, the explanation's, and the inventory's)
    text: str
    stops: Callable  # answer -> true when the walk stops here, at the technique
    why_stop: str  # the reason the explanation gives for stopping
    why_go: str  # ... and for going on
    default: object  # the answer when none is given
    # Where the inventory gives the answer, read by the model (model/vocabulary.py): FORWARD (the
    # forward's <key>), HOST (the private server's wgpf_<key>), or None with ``read`` below.
    given_by: Optional[str] = None
    read: Optional[Callable] = None  # (fwd, private) -> (answer, origin) for an answer the model works out
    applies: Optional[Callable] = None  # answers -> false when the question has no meaning: passed over
    why_not: str = ""  # the reason the explanation gives then

    def answer(self, fwd, private):
        """(answer, where it came from) for one forward and its private server (records of model/records.py)."""
        if self.read is not None:
            return self.read(fwd, private)
        given = fwd if self.given_by == FORWARD else private
        return given.answers[self.key], given.origins[self.key]


class Technique:
    """One way of getting a forwarded service's replies back to the public server."""

    name = ""
    rank = 0  # the technique's place in the tree, and in every list of techniques
    question = None  # the Question whose answer leads here (None: reached only otherwise)
    ends_tree = False  # where the walk ends when every answer says go on (exactly one technique)
    serves_several_publics = False  # what an intermediate carrying several public servers' forwards uses (one)
    unmanaged_fallback = False  # what a peer Ansible does not manage takes when its file cannot hold the tree's
    link_mode = LINK_PLAIN
    requirements = ()
    # What the private server's part needs when it is a peer Ansible does not manage (decide/peer_file.py).
    peer_config = PEER_HOST

    def forced_problem(self, fwd, private):
        """Why this technique, forced, cannot work for the forward's topology (None when it can)."""
        for req in self.requirements:
            if not req.holds(fwd, private):
                return req.why % {"private": private.name, "public": fwd.public,
                                  "intermediate": private.intermediate}
        return None

    def notes(self, fwd, private):
        """Caveats the explanation reports for this forward."""
        return []

    def public_link_mode(self, private):
        """The link mode on the link between the inner host (intermediate or direct peer) and the public server."""
        return self.link_mode

    def spoke_link_mode(self, private):
        """The link mode on a spoke's link to its hub."""
        return self.link_mode

    # What the technique puts on each server; the planner has already added what every
    # forward needs (DNAT, forwarding, accepted flows, the links' own addresses).

    def public(self, job):
        """On the public server."""

    def direct_peer(self, job):
        """On a private server that is a direct WireGuard peer of the public server."""

    def intermediate(self, job):
        """On the intermediate."""

    def behind_intermediate(self, job):
        """On a private server reached through the intermediate (a spoke, a LAN host or a container)."""


class Job:
    """One forward as a technique places it: the hosts, their drafts, the link ends, the address families."""

    def __init__(self, planner, fwd, technique, versions, inner_if, public_if):
        hosts = planner.model.hosts
        self.planner = planner
        self.fwd = fwd
        self.technique = technique
        self.versions = versions
        self.public = hosts[fwd.public]
        self.private = hosts[fwd.to]
        self.inter = hosts[self.private.intermediate] if self.private.intermediate else None
        self.public_draft = planner.draft(self.public.name)
        self.private_draft = planner.draft(self.private.name)
        self.inter_draft = planner.draft(self.inter.name) if self.inter else None
        self.inner_if = inner_if  # the intermediate's end of the link to the public server, or the direct peer's
        self.public_if = public_if  # the public server's end
        self.spoke = self.inter is not None and self.private.attachment == "wireguard"
        self.spoke_if = self.hub_if = None
        if self.spoke:
            self.spoke_if = self.private_draft.ifaces.get(self.private.wg[0].name)
            hub_spec = self.inter.iface_for(self.private.name)
            self.hub_if = self.inter_draft.ifaces.get(hub_spec.name) if hub_spec else None
        # Replies of a LAN host that does not route through the intermediate do not pass it by themselves.
        self.lan_needs_return = self.inter is not None and not self.spoke and not self.private.gateway_is_intermediate

    @property
    def public_peer(self):
        """The inner host's peer entry for the public server (on inner_if)."""
        return self.inner_if.peers[self.public.name]

    def target(self, version):
        return self.planner.target(self.private, version)

    def target_text(self, version):
        return self.planner.target_text(self.private, version)

    def flows(self, version):
        """(destination, protocol, port span) of the forward's flows at the private server."""
        return [(self.target_text(version), proto, self.fwd.to_port) for proto in self.fwd.protocols]

    def need_lan(self, what, mac=False):
        """True when the intermediate's LAN side is known; reports the forward's problem otherwise."""
        inter, problems = self.inter, self.planner.problems
        if not inter.lan_addresses or inter.lan_interface is None:
            # Each one missing, so that an offline run lists both at once (plugin_utils/offline.py).
            for field, missing, what_of in (("wgpf_lan_address", not inter.lan_addresses, "LAN address"),
                                            ("wgpf_lan_interface", inter.lan_interface is None, "LAN interface")):
                if missing:
                    problems.need_fact(inter.name, field,
                                       "forward '%s' (%s) routes replies to this intermediate's %s, which is not set "
                                       "and could not be inferred from facts" % (self.fwd.name, what, what_of))
            return False
        missing = [v for v in self.versions if inter.lan_address(v) is None]
        if missing:
            # Half a return path is no path: that family's replies would leave by another way, un-DNAT'd.
            given = ("wgpf_lan_address has none" if inter.vars.get("wgpf_lan_address") is not None else
                     "none is set, and no IPv%d network of %s in the facts holds %s's address"
                     % (missing[0], inter.lan_interface, self.private.name))
            problems.add(host_where(inter.name), "wgpf_lan_address",
                         "forward '%s' serves IPv%d, and its replies come back by this intermediate's LAN "
                         "address, but it has no IPv%d one (%s): give it one, or set %s's wgpf_lan_address to "
                         "the addresses it serves" % (self.fwd.name, missing[0], missing[0], given, self.private.name))
            return False
        if mac and inter.lan_mac is None:
            problems.need_fact(inter.name, "wgpf_lan_mac",
                               "forward '%s' (%s) marks connections by this intermediate's MAC address on the LAN, "
                               "which is not set and could not be inferred from facts" % (self.fwd.name, what))
            return False
        return True

    def publics_through_intermediate(self):
        """The public servers whose forwards the intermediate carries, when more than one; else this one."""
        return self.planner.multi.get(self.inter.name, [self.public.name])
