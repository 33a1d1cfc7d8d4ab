# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the validated model and each forward's technique into one plan per host.

The planner gathers each host's draft (draft.py): it makes the WireGuard links
(links.py), places on every host what each forward needs in common (DNAT on the
public server, forwarding and accepted flows), and asks the forward's technique
(techniques/) for the rest. export.py turns each draft into the host's plan:
plain data (dicts, lists, strings, ints) that render/render.py turns into files.
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import (
    Problems, forward_where, host_where)
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.decide import decide_all, publics_by_intermediate
from ansible_collections.wgforward.portforward.plugins.module_utils.decide.tree import VOCABULARY
from ansible_collections.wgforward.portforward.plugins.module_utils.model.model import Model, build_model
from ansible_collections.wgforward.portforward.plugins.module_utils.plan import psk
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.draft import HostDraft
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.export import export_plan
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.links import (
    Links, check_allowed_overlap, check_link_modes, check_shared_interfaces)
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.uncontacted import check_plans
from ansible_collections.wgforward.portforward.plugins.module_utils.techniques.base import Job


class Planner:
    """Places every forward of a valid model on its hosts' drafts; ``run`` once, then read ``drafts``."""

    def __init__(self, model):
        self.model = model
        self.problems = Problems()
        self.decisions = decide_all(model, self.problems)
        self.drafts = {name: HostDraft(h) for name, h in model.hosts.items()}
        self.multi = {k: v for k, v in publics_by_intermediate(model).items() if len(v) > 1}
        self.links = Links(self)
        self._targets = {}

    def draft(self, name):
        return self.drafts[name]

    def target(self, private, version):
        """The address the public server forwards to, or None."""
        key = (private.name, version)
        if key not in self._targets:
            if private.attachment == "wireguard":
                found = next((net.ip for net in private.wg[0].addresses if net.version == version), None)
            else:
                found = private.lan_address(version)
            self._targets[key] = found
        return self._targets[key]

    def target_text(self, private, version):
        key = (private.name, version, "text")
        if key not in self._targets:
            self._targets[key] = str(self.target(private, version))
        return self._targets[key]

    # ------------------------------------------------------------ the walk

    def run(self):
        self.declare_links()
        check_shared_interfaces(self)
        for fwd in self.model.forwards:
            self.place(fwd, self.decisions[fwd.name])
        check_link_modes(self)
        check_allowed_overlap(self)
        self.problems.raise_if_any()

    def declare_links(self):
        """Every declared interface and link, so they exist (and can be removed) before any forward uses them."""
        model = self.model
        publics_of_private = {}
        for fwd in model.forwards:
            publics_of_private.setdefault(fwd.to, set()).add(fwd.public)
        for host in model.hosts.values():
            for spec in host.wg:
                if spec.addresses:
                    self.draft(host.name).iface(spec)
        for private in model.by_role("private"):
            if private.intermediate and private.attachment == "wireguard":
                self.links.spoke(private, model.hosts[private.intermediate],
                                 [model.hosts[p] for p in sorted(publics_of_private.get(private.name, ()))])
        for inter in model.by_role("intermediate"):
            for spec in inter.wg:
                self.draft(inter.name).iface(spec)
                for peer in spec.peers or ():
                    other = model.hosts.get(peer)
                    if other is None:
                        self.problems.add(host_where(inter.name), "wgpf_interfaces",
                                          "%s lists peer '%s', which is not a WireGuard host of the inventory"
                                          % (spec.name, peer))
                    elif other.role == "public" and "absent" not in (other.state, inter.state):
                        self.links.public_link(inter, other)
        for private in model.by_role("private"):
            publics = sorted(publics_of_private.get(private.name, ()))
            if private.intermediate is None and len(publics) > 1:
                self.problems.add(host_where(private.name), "wgpf_intermediate",
                                  "a direct peer takes forwards from one public server, but %s forward to it; "
                                  "reach it through an intermediate instead" % " and ".join(publics))

    def place(self, fwd, dec):
        """Put one forward on its hosts: what every forward needs, then what its technique adds."""
        hosts = self.model.hosts
        public, private = hosts[fwd.public], hosts[fwd.to]
        inter = hosts[private.intermediate] if private.intermediate else None
        versions = [v for v in (4, 6) if self.target(private, v) is not None]
        if fwd.sources:
            versions = [v for v in versions if any(s.version == v for s in fwd.sources)]
        if not versions:
            self.problems.add(forward_where(fwd.name), "to", "'%s' has no address to forward to%s" % (
                private.name, " in the address family of sources" if fwd.sources else ""))
            return
        for host in filter(None, (public, private, inter)):
            self.draft(host.name).forwards[fwd.name] = dec
        inner_if, public_if = self.links.public_link(inter or private, public)
        if inner_if is None:
            return
        job = Job(self, fwd, dec.technique, versions, inner_if, public_if)
        self.publish(job)
        inner_if.use(dec.technique.link_mode, fwd.name)
        dec.technique.public(job)
        if inter is None:
            dec.technique.direct_peer(job)
            return
        self.pass_through(job)
        if job.spoke:
            if job.spoke_if is None or job.hub_if is None:
                return
            job.spoke_if.use(dec.technique.spoke_link_mode(private), fwd.name)
        dec.technique.intermediate(job)
        dec.technique.behind_intermediate(job)

    @staticmethod
    def publish(job):
        """The public server: DNAT from the WAN to the private server, forward acceptance, reserved ports."""
        fwd, draft = job.fwd, job.public_draft
        draft.forwarding.update(job.versions)
        draft.reserved.append(fwd.port)
        for v in job.versions:
            dest = job.target_text(v)
            job.public_if.peer((job.inter or job.private).name).allow(A.host_net(job.target(v)))
            # Merged: an interval map refuses overlapping source networks (10.0.0.0/8 beside 10.1.0.0/16).
            sources = [str(s) for s in A.netaddr.cidr_merge([s for s in fwd.sources if s.version == v])] or [A.ANY[v]]
            for proto in fwd.protocols:
                for src in sources:
                    draft.nft.dnat[v].append((src, proto, fwd.port, dest, fwd.to_port))
                draft.nft.accept[v].append((dest, proto, fwd.to_port))
        draft.nft.accept_iifs.add(job.public.wan_interface)
        draft.nft.clamp.add(job.public_if.name)

    @staticmethod
    def pass_through(job):
        """The intermediate forwards the flows and accepts them from the public link, only them."""
        draft, inter = job.inter_draft, job.inter
        draft.forwarding.update(job.versions)
        for v in job.versions:
            draft.nft.accept[v].extend(job.flows(v))
        draft.nft.accept_iifs.add(job.inner_if.name)
        draft.nft.guard_links.setdefault(job.inner_if.name, set()).add(job.public.name)
        draft.nft.clamp.update(i.name for i in (job.inner_if, job.hub_if) if i is not None)
        if inter.sav == "strict" and not job.spoke:
            Planner.lan_sav(job)

    @staticmethod
    def lan_sav(job):
        """Strict SAV on the LAN the forward's private server lives on: its interface and prefix must be known."""
        inter, draft = job.inter, job.inter_draft
        known = {net.version for net in inter.lan_networks}
        missing = [v for v in job.versions if v not in known]
        if inter.lan_interface is None:
            job.planner.problems.add(host_where(inter.name), "wgpf_sav", "strict drops what the LAN sends from "
                                     "outside its networks, but the LAN interface is not known: set "
                                     "wgpf_lan_interface")
        elif missing:
            job.planner.problems.add(host_where(inter.name), "wgpf_sav", (
                "strict drops what the LAN sends from outside its networks, but the LAN's IPv%d prefix is "
                "not known: set wgpf_lan_address with its prefix, like 192.168.1.1/24" % missing[0]))
        else:
            draft.nft.lan_sav.setdefault(inter.lan_interface, set()).update(job.versions)


def planned(inventory):
    """A Planner that has run; raises PlanError listing every problem found."""
    problems = Problems()
    model = build_model(inventory, VOCABULARY, problems)
    if problems:
        # Decide what can be decided, so forced-technique problems come in the same report.
        hosts = model.hosts
        sound = [f for f in model.forwards
                 if f.port and hosts.get(f.public) is not None and hosts[f.public].role == "public"
                 and hosts.get(f.to) is not None and hosts[f.to].role == "private"]
        decide_all(Model(hosts, sound, model.groups), problems)
        problems.raise_if_any()
    planner = Planner(model)
    planner.run()
    return planner


def plan_inventory(inventory):
    """{host: plan dict} for every WireGuard host; raises PlanError listing every problem."""
    planner = planned(inventory)
    plans = {name: export_plan(draft) for name, draft in planner.drafts.items()}
    check_plans(planner.model, plans, planner.problems)
    planner.problems.raise_if_any()
    return psk.annotate(plans, planner.model.hosts)


_CACHE = {}


def fingerprint(inventory):
    """A digest of the inventory's content; a forwards list shared by many hosts is hashed once."""
    digest = hashlib.sha256()
    lists = {}
    for name in sorted(inventory["hosts"]):
        hv = dict(inventory["hosts"][name])
        forwards = hv.pop("wgpf_forwards", None)
        if forwards is not None:
            if id(forwards) not in lists:
                lists[id(forwards)] = hashlib.sha256(json.dumps(forwards, sort_keys=True, default=str)
                                                     .encode()).hexdigest()
            hv["wgpf_forwards"] = lists[id(forwards)]
        digest.update(json.dumps([name, hv], sort_keys=True, default=str).encode())
    digest.update(json.dumps(inventory["groups"], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def plan_cached(inventory):
    """plan_inventory, memoised on the inventory's content: the filter runs once per host."""
    key = fingerprint(inventory)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = plan_inventory(inventory)
    return _CACHE[key]


def explain_inventory(inventory):
    """[decision dict] per forward, with the path through the tree."""
    planner = planned(inventory)
    return [planner.decisions[f.name].as_dict() for f in planner.model.forwards]


def explain_lines(decisions):
    """Readable lines: per forward, the technique and each step of the walk."""
    lines = []
    for dec in decisions:
        lines.append("%s (%s -> %s): %s" % (dec["forward"], dec["public"], dec["to"], dec["technique"]))
        for step in dec["steps"]:
            answer = "n/a" if step["answer"] is None else step["answer"]
            lines.append("  %s %s = %s (%s) -> %s: %s" % (
                step["question"], step["key"], answer, step["source"], step["outcome"], step["reason"]))
        lines.extend("  note: %s" % note for note in dec["notes"])
    return lines
