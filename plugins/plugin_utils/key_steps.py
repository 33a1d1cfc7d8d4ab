# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The key pipeline of the roles: which keys each step makes, reads or carries.

Public keys live in one place, each host's fact ``wgforward_portforward`` (run_view.py):
the host read sets it, the key step (plugins/action/keys.py) updates it when it makes a
key, on the host itself or, with ``delegate_facts``, on a peer outside the play or
batch. The apply step renders the configs from those facts. Private keys never leave
their host.

A preshared key is made by one end of its link (plan/psk.py says which) and copied
to the other by the apply step (apply_plan writes the copy). The read reports a digest
of each key file (never a key), so a key is read and carried only when the two ends'
digests differ: a run that changes nothing reads none. A key that must be carried is
returned by the generating end's key step (its result is ``no_log``, registered, never
a fact: a fact cache would keep it) and taken from there by the receiving end's apply.

``summaries`` is planning.RunPlan.hosts, ``fact(host)`` run_view.RunView.fact.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.keys import key_digest
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.psk import psk_path


def active(summaries, host):
    """True for a host the run contacts and configures (state present)."""
    summary = summaries.get(host)
    return bool(summary) and summary["state"] == "present" and summary["contacted"]


def links(summaries, host):
    """(interface, peer) of each link of ``host`` to a WireGuard host the run configures."""
    if not active(summaries, host):
        return
    for iface in summaries[host]["interfaces"]:
        for peer in iface["peers"]:
            if not peer["unmanaged"] and active(summaries, peer["host"]):
                yield iface, peer


def public_keys(fact):
    return dict((fact or {}).get("public_keys") or {})


def digest(fact, path):
    return ((fact or {}).get("preshared_key_digests") or {}).get(path)


def keys_to_make(summaries, host, fact):
    """The interfaces of ``host`` whose private key is not settled there (its fact has no public key)."""
    if not active(summaries, host):
        return []
    have = public_keys(fact)
    return [iface["name"] for iface in summaries[host]["interfaces"] if iface["name"] not in have]


def generated_links(summaries, host):
    """{path on host: (interface, receiver, receiver's copy)} of the preshared keys ``host`` makes."""
    out = {}
    for iface, peer in links(summaries, host):
        psk = peer.get("psk")
        if psk and psk["generate"]:
            out[psk["path"]] = (iface["name"], peer["host"], psk_path(peer["interface"], host))
    return out


def psks_to_carry(summaries, host, fact):
    """The preshared keys ``host`` makes whose receiver does not hold the same key: to read and carry."""
    out = []
    for path, (_iface, receiver, copy) in sorted(generated_links(summaries, host).items()):
        mine = digest(fact(host), path)
        if mine is None or mine != digest(fact(receiver), copy):
            out.append(path)
    return out


def key_hosts(me, summaries, fact, in_this_step, carried):
    """The hosts whose key step this host needs: itself first, then each peer that does not run its own
    in this same step (outside the play or batch, or not waited for by a free strategy) and from which
    this host needs a public key not settled yet or a preshared key not carried yet."""
    out = [me]
    for iface, peer in links(summaries, me):
        other = peer["host"]
        if other in out or in_this_step(other):
            continue
        need_key = peer["interface"] not in public_keys(fact(other))
        psk = peer.get("psk")
        need_psk = bool(psk) and not psk["generate"] and not carried(other, psk["source_path"]) and \
            (digest(fact(other), psk["source_path"]) is None
             or digest(fact(other), psk["source_path"]) != digest(fact(me), psk["path"]))
        if need_key or need_psk:
            out.append(other)
    return out


def carried_values(results):
    """{(generating host, path): key} from the key step's registered results (a loop's or one)."""
    out = {}
    for result in results:
        items = result.get("results") if isinstance(result, dict) and "results" in result else [result]
        for item in items or []:
            for entry in (item.get("preshared_keys") or []) if isinstance(item, dict) else []:
                out[(entry["host"], entry["path"])] = entry["value"]
    return out


def copies(me, summaries, fact, values, check_mode=False):
    """([{path, value}] of this host's copies to write, [problems]) for the links whose key the other end
    makes: a carried key that differs from the copy here, or nothing when the two digests agree."""
    out, problems = [], []
    for iface, peer in links(summaries, me):
        psk = peer.get("psk")
        if not psk or psk["generate"]:
            continue
        other, mine = peer["host"], digest(fact(me), psk["path"])
        value = values.get((other, psk["source_path"]))
        if value is not None:
            if key_digest(value) != mine:
                out.append({"path": psk["path"], "value": value})
        elif (mine is None or mine != digest(fact(other), psk["source_path"])) and not check_mode:
            problems.append("%s: %s: the preshared key of the link to %s (%s there) reached no step of this run: "
                            "run the roles on %s too" % (host_where(me), iface["name"], other, psk["source_path"],
                                                         other))
    return out, problems


def with_keys(fact, made, psk_digests):
    """``fact`` with the public keys the key step made and the digests of the preshared keys it made."""
    fact = dict(fact)
    fact["public_keys"] = dict(fact.get("public_keys") or {}, **made)
    fact["preshared_key_digests"] = dict(fact.get("preshared_key_digests") or {}, **psk_digests)
    fact["preshared_key_files"] = sorted(set(fact.get("preshared_key_files") or []) | set(psk_digests))
    if made or psk_digests:
        # A key made on the host after its read (or one read to carry): its apply runs (plugin_utils/verified.py).
        fact["in_sync"] = False
    return fact
