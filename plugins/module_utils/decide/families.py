# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which address families a forward serves: no family dropped in silence (issue 16 item 2).

A forward serves IPv4, and IPv6 too where the inventory gives it all the way:
its target has an IPv6 address and every hop carries IPv6 (an IPv6 tunnel
address on both ends of each WireGuard link the forward takes, and for a LAN
or container target an IPv6 LAN address on the intermediate, which routes the
replies). ``families`` on the forward states the families (``[ipv6]`` for a
service only IPv6 clients reach), and ``sources`` of one family state it too.
A family stated, or IPv4 by default, that the target or a hop cannot carry is
refused with what lacks it; an IPv6 address the forward leaves unserved is a
note in the explanation.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import forward_where

NAMES = {4: "IPv4", 6: "IPv6"}


def _links(fwd, hosts):
    """[(host, its WgSpec)] of the WireGuard links the forward takes, each end (a spec is None when missing)."""
    public, private = hosts[fwd.public], hosts[fwd.to]
    inner = hosts.get(private.intermediate) if private.intermediate else private
    if inner is None:
        return []
    out = [(public, public.iface_for(inner.name)), (inner, inner.iface_for(public.name))]
    if inner is not private and private.attachment == "wireguard":
        out.append((inner, inner.iface_for(private.name)))
    return out


def lacking(fwd, hosts, version):
    """What keeps the forward from serving ``version`` (a sentence), or None when nothing does."""
    private = hosts[fwd.to]
    if private.forward_address(version) is None:
        return "'%s' has no %s address to forward to" % (private.name, NAMES[version])
    for host, spec in _links(fwd, hosts):
        if spec is not None and spec.addresses and not any(n.version == version for n in spec.addresses):
            return "'%s' has no %s address on %s, a tunnel the forward takes" % (host.name, NAMES[version], spec.name)
    inter = hosts.get(private.intermediate) if private.intermediate else None
    if inter is not None and private.attachment != "wireguard" and inter.lan_addresses \
            and inter.lan_address(version) is None:
        return "'%s' has no %s LAN address (wgpf_lan_address), through which '%s' is reached" % (
            inter.name, NAMES[version], private.name)
    return None


def serve(fwd, hosts, problems):
    """(families the forward serves, notes for the explanation); problems for a family it cannot serve."""
    where = forward_where(fwd.name)
    if all(hosts[fwd.to].forward_address(v) is None for v in (4, 6)):
        # No address at all: the model names the target's missing field (or the fact an offline run needs).
        return [], []
    why = {v: lacking(fwd, hosts, v) for v in (4, 6)}
    if fwd.families is not None:
        for v in fwd.families:
            if why[v]:
                problems.add(where, "families", "%s: %s" % (NAMES[v].lower(), why[v]))
        _agree(where, fwd, problems)
        left = [NAMES[v] for v in (4, 6) if v not in fwd.families]
        notes = ["serves %s only, as families says: %s clients of '%s' get nothing" % (
            NAMES[fwd.families[0]], left[0], fwd.public)] if left else []
        return [v for v in fwd.families if not why[v]], notes
    if fwd.sources:
        for src in fwd.sources:
            if why[src.version]:
                problems.add(where, "sources", "%s is %s, but %s" % (src, NAMES[src.version], why[src.version]))
        return sorted({s.version for s in fwd.sources if not why[s.version]}), []
    if why[4]:
        problems.add(where, "to", "%s: IPv4 clients of '%s' would get nothing. Give it one, or set families: [ipv6] "
                     "on the forward to serve IPv6 clients only" % (why[4], fwd.public))
    notes = []
    if why[6] and hosts[fwd.to].forward_address(6) is not None:
        notes.append("IPv4 only: %s, so IPv6 clients of '%s' get nothing (give every hop an IPv6 address to "
                     "serve them, or set families: [ipv4] to say so)" % (why[6], fwd.public))
    return [v for v in (4, 6) if not why[v]], notes


def _agree(where, fwd, problems):
    """With sources, only they may connect: the families stated and the sources' families must be the same (an
    IPv6 DNAT with no IPv6 source would be open to every IPv6 client)."""
    if not fwd.sources:
        return
    given = {s.version for s in fwd.sources}
    for v in fwd.families:
        if v not in given:
            problems.add(where, "families", "%s is listed, but no network of sources is %s: only the sources may "
                         "connect, so add %s ones or leave %s out" % (NAMES[v].lower(), NAMES[v], NAMES[v],
                                                                      NAMES[v].lower()))
    for src in fwd.sources:
        if src.version not in fwd.families:
            problems.add(where, "sources", "%s is %s, which families leaves out" % (src, NAMES[src.version]))
