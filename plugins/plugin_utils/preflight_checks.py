# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything that can refuse a run, checked before the first write on any host (issue 17.4).

Run by the preflight step (plugins/action/preflight.py) of every host, after every
WireGuard host was read and the plan made: a host in no WireGuard group or in another
role's group, a --limit run that would need a key or a preshared key a host outside
the limit does not have, a host whose keys must be made that has no ``wg`` and gets no
package. The checks cover the whole play (every batch of a ``serial`` play, and the
peers outside it that the play prepares), so every host of the play finds the same
problems and none writes anything. wgpf_* variables set where the planner does not see
them are variables.py's.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.model.inventory import ROLES
from ansible_collections.wgforward.portforward.plugins.plugin_utils.host_fact import package_problem
from ansible_collections.wgforward.portforward.plugins.plugin_utils.key_steps import active, key_hosts, links, public_keys


def group_problems(play_hosts, summaries, role, contacted):
    """Every host of the play the run contacts is planned, and, with ``role``, planned in that role."""
    out = []
    if role is not None and role not in ROLES:
        return ["the role %r is not one of %s" % (role, ", ".join(ROLES))]
    for host in play_hosts:
        if not contacted(host):
            continue
        if host not in summaries:
            out.append("%s: is in none of the groups wireguard_public, wireguard_intermediate, wireguard_private, so "
                       "the collection has nothing to plan for it" % host_where(host))
        elif role is not None and summaries[host]["role"] != role:
            planned = summaries[host]["role"]
            out.append("%s: is planned as a %s server, but the role wgforward.portforward.wireguard_%s is applied to "
                       "it: put it in the group wireguard_%s or apply wgforward.portforward.wireguard_%s"
                       % (host_where(host), planned, role, role, planned))
    return out


def unread_problems(hosts, summaries, fact, contacted):
    """Hosts whose facts the plan lacks because no read of this run reached them."""
    return ["%s: was not read in this run (unreachable, or its read failed), so the plan has none of its facts"
            % host_where(h) for h in hosts if h in summaries and contacted(h) and fact(h) is None]


def limit_problems(play_hosts, summaries, fact, may_change):
    """Under --limit: what a play host needs from a peer outside the limit, which the run may not make there."""
    out = []
    for host in play_hosts:
        for iface, peer in links(summaries, host):
            other, psk = peer["host"], peer.get("psk")
            if may_change(other):
                continue
            where, tail = "%s: %s" % (host_where(host), iface["name"]), (
                "and %s is outside --limit, where a limited run changes nothing: run without --limit, or include %s"
                % (other, other))
            if peer["interface"] not in public_keys(fact(other)):
                out.append("%s: needs the public key of %s %s, which has no settled key file there (missing, or one "
                           "wireguard_key would still fix), %s" % (where, other, peer["interface"], tail))
            files = set((fact(host if psk and psk["generate"] else other) or {}).get("preshared_key_files") or [])
            if psk and psk["generate"] and psk["path"] not in files:
                out.append("%s: the preshared key of the link to %s (%s) does not exist yet, so %s would not get it, %s"
                           % (where, other, psk["path"], other, tail))
            elif psk and not psk["generate"] and psk["source_path"] not in files:
                out.append("%s: no preshared key on %s (%s) for this link, %s" % (where, other, psk["source_path"], tail))
    return out


def prepared_hosts(play_hosts, summaries, fact, in_this_step, carried):
    """The hosts whose key step this play runs: its own, and the peers outside it they need (key_steps)."""
    out = []
    for host in play_hosts:
        if not active(summaries, host):
            continue
        for other in key_hosts(host, summaries, fact, in_this_step, carried):
            if other not in out:
                out.append(other)
    return out


def package_problems(hosts, summaries, fact, install, may_change):
    """Hosts whose keys must be made that have no ``wg`` and get no package (see host_fact.package_problem)."""
    out = []
    for host in hosts:
        if not active(summaries, host) or not may_change(host):
            continue
        problem = package_problem(host, summaries[host]["role"], fact(host), install(host))
        if problem and (fact(host) is not None):
            out.append(problem)
    return out
