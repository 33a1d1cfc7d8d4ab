# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's nftables table as the planner gathers it and exports it into the plan.

``NftDraft`` gathers a host's flows while the techniques run; ``export`` turns it
into the plan's ``nftables`` data, the filter part (``export_filters``: what the
forward chain drops, MSS clamping, SAV) included. render/nftables.py describes
that data as the table's sets, maps, chains and rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Set, Tuple

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import NFT_TABLE

# wg-quick's MTU when none is set: 1500 less 80 bytes of WireGuard over IPv6 (it may pick
# less from the endpoint's route, never more on a 1500 path).
DEFAULT_MTU = 1420
# What a TCP segment carries besides its payload: IPv4 20 + TCP 20, IPv6 40 + TCP 20.
TCP_IP_HEADERS = {4: 40, 6: 60}

# Strict SAV on the LAN lets through what hosts send before they have an address: DHCP
# (0.0.0.0), duplicate address detection (::) and IPv6 link-local neighbour discovery.
UNNUMBERED = {4: ["0.0.0.0"], 6: ["::", "fe80::/10"]}


@dataclass
class NftDraft:
    """What the techniques put in one host's table, gathered forward by forward."""
    dnat: Dict[int, list] = field(default_factory=lambda: {4: [], 6: []})  # (saddr, proto, port, daddr, dport)
    masq: Dict[Tuple[str, int], list] = field(default_factory=dict)  # (oif, version) -> [(daddr, proto, span)]
    masq_out: List[Tuple[str, str]] = field(default_factory=list)  # (iif, oif): default_route's outbound
    accept: Dict[int, list] = field(default_factory=lambda: {4: [], 6: []})  # [(daddr, proto, span)]
    accept_iifs: Set[str] = field(default_factory=set)
    marks_in: List[dict] = field(default_factory=list)  # {"iif", "mark"}: connmark on the intermediate
    marks_private: List[dict] = field(default_factory=list)  # {"iif", "mac", "mark", "match": {v: [flow]}}
    restore_output: bool = False
    guard_links: Dict[str, Set[str]] = field(default_factory=dict)  # link to public servers -> their names
    clamp: Set[str] = field(default_factory=set)  # tunnels the forwarded flows cross: MSS clamped
    lan_sav: Dict[str, Set[int]] = field(default_factory=dict)  # LAN interface -> families, for strict SAV

    def masquerade(self, oif, version, flows):
        self.masq.setdefault((oif, version), []).extend(flows)

    def mark_in(self, iif, mark):
        if not any(m["iif"] == iif for m in self.marks_in):
            self.marks_in.append({"iif": iif, "mark": mark})

    def mark_private(self, iif, mac, mark):
        """The entry marking new connections from ``iif`` (and ``mac``), made on first use."""
        for item in self.marks_private:
            if item["iif"] == iif and item["mac"] == mac:
                return item
        entry = {"iif": iif, "mac": mac, "mark": mark, "match": {}}
        self.marks_private.append(entry)
        return entry


# ------------------------------------------------------------------ export: the plan's nftables data


def _span(span):
    return {"from": span[0], "to": span[1]}


def merge_spans(spans):
    """Port spans with every overlapping or adjacent pair joined, sorted."""
    merged = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [tuple(s) for s in merged]


def _flows(items):
    """[(addr, proto, span)] -> sorted [{addr, proto, port}] for nft sets.

    Two forwards may meet on one private address and port range: the spans of each address and
    protocol are merged, so the sets' exact keys (one per port) come out once each, and the
    firewall hooks get one span per service.
    """
    spans = {}
    for addr, proto, span in items:
        spans.setdefault((addr, proto), []).append(span)
    return [{"addr": a, "proto": p, "port": _span(s)} for (a, p) in sorted(spans) for s in merge_spans(spans[(a, p)])]


def export(nft, host, ifaces):
    """The plan's ``nftables`` dict for ``host``, from its draft and its WireGuard interfaces."""
    dnat = {}
    for v, items in nft.dnat.items():
        rows = sorted(set(items), key=lambda t: (t[1], t[2], t[0]))
        dnat[str(v)] = [{"saddr": s, "proto": p, "port": _span(port), "daddr": d, "dport": _span(dport)}
                        for s, p, port, d, dport in rows]
    # Only the public server DNATs; elsewhere the flows arrive already translated.
    masq = [{"oif": oif, "family": v, "flows": _flows(items), "dnat_only": host.role == "public"}
            for (oif, v), items in sorted(nft.masq.items())]
    marks_private = [{"iif": e["iif"], "mac": e["mac"], "mark": e["mark"],
                      "flows": {str(v): _flows(items) for v, items in sorted(e["match"].items())}}
                     for e in nft.marks_private]
    dnats = bool(nft.dnat[4] or nft.dnat[6])
    data = {
        "table": NFT_TABLE,
        "wan_interface": host.wan_interface if dnats else None,
        # The DNAT decision marks the connection with it: the forward chain, the MSS clamp and the
        # masquerade then key on the mark, without a lookup (render/nftables.py).
        "dnat_mark": {"value": host.mark, "mask": host.mark_mask} if dnats else None,
        "dnat": dnat,
        "masquerade": masq,
        "masquerade_out": [{"iif": i, "oif": o} for i, o in sorted(set(nft.masq_out))],
        "accept": {str(v): _flows(items) for v, items in nft.accept.items() if items},
        "accept_iifs": sorted(i for i in nft.accept_iifs if i),
        "marks_in": list(nft.marks_in),
        "marks_private": marks_private,
        "restore_output": {"value": host.mark, "mask": host.mark_mask} if nft.restore_output else None,
    }
    data.update(export_filters(nft, host, ifaces))
    return data


# ------------------------------------------------------------------ export: the filter part


def _by_family(nets):
    out = {4: [], 6: []}
    for net in nets:
        out[net.version].append(net)
    return {str(v): [str(n) for n in A.netaddr.cidr_merge(items)] for v, items in out.items() if items}


def _guard(nft, host, ifaces):
    """Drops on the paths into the tunnels: from the WAN (public) or from a link to a public server."""
    if host.role == "public":
        if not (nft.dnat[4] or nft.dnat[6]):
            return []
        return [{"iif": host.wan_interface, "oifs": sorted(i.name for i in ifaces), "others": {}}]
    out = []
    by_name = {i.name: i for i in ifaces}
    for name in sorted(nft.guard_links):
        # A hub's interface that also faces the public server carries its spokes' own traffic:
        # WireGuard only takes a source from the peer whose AllowedIPs hold it, so the spokes'
        # sources mark what is theirs.
        others = [net for peer in by_name[name].peers.values() if peer.host not in nft.guard_links[name]
                  for net in peer.allowed if net.prefixlen]
        out.append({"iif": name, "oifs": [], "others": _by_family(others)})
    return out


def _protect(nft, host, ifaces):
    """The public server's own tunnel addresses, which nothing from the WAN may reach."""
    if host.role != "public" or not (nft.dnat[4] or nft.dnat[6]):
        return None
    own = [A.host_net(net.ip) for i in ifaces for net in i.spec.addresses]
    return {"iif": host.wan_interface, "daddr": _by_family(own)}


def _clamp(nft, ifaces):
    groups = {}
    for iface in ifaces:
        if iface.name in nft.clamp:
            groups.setdefault(iface.spec.mtu or DEFAULT_MTU, []).append(iface.name)
    return [{"ifaces": sorted(names), "mss": {str(v): mtu - TCP_IP_HEADERS[v] for v in (4, 6)}}
            for mtu, names in sorted(groups.items())]


def _sav(host, ifaces):
    """Strict SAV: what may arrive on loosened WireGuard interfaces (the seed's raw-table example)."""
    if host.sav != "strict":
        return []
    out = []
    for iface in ifaces:
        if not iface.loose:
            continue
        allowed = [net.cidr for net in iface.spec.addresses]
        allowed += [net for peer in iface.peers.values() for net in peer.allowed if net.prefixlen]
        out.append({"iif": iface.spec.name, "peers": _by_family(allowed),
                    "bogons": {str(v): list(A.BOGONS[v]) for v in (4, 6)}})
    return out


def _lan_sav(nft, host):
    """Strict SAV on the LAN: only the LAN's own sources (the private servers' replies carry them)."""
    if host.sav != "strict":
        return []
    out = []
    for iif, versions in sorted(nft.lan_sav.items()):
        nets = _by_family(host.lan_networks)
        out.append({"iif": iif, "allowed": {str(v): nets.get(str(v), []) + UNNUMBERED[v]
                                            for v in sorted(versions) if nets.get(str(v))}})
    return out


def export_filters(nft, host, ifaces):
    """The plan's filter data for ``host``: merged into its ``nftables`` dict."""
    return {"accept_dnat_only": host.role == "public", "guard": _guard(nft, host, ifaces),
            "protect": _protect(nft, host, ifaces), "clamp": _clamp(nft, ifaces),
            "sav": _sav(host, ifaces), "lan_sav": _lan_sav(nft, host)}


# ------------------------------------------------------------------ whether there is a table at all


def needs_table(nft):
    """True when the plan's ``nftables`` data holds a rule, so the host gets the table.

    Exactly when render/nftables.describe gives a table (a unit test compares the two on every host
    of the shipped inventories): the planner's check on hosts it never contacts asks this.
    """
    families = ("4", "6")
    return bool(
        any(nft["dnat"].get(v) or nft["accept"].get(v) for v in families)
        or nft["masquerade"] or nft["masquerade_out"] or nft.get("guard")
        or (nft.get("protect") and nft["protect"]["daddr"])
        or nft["marks_in"] or any(e["flows"].get(v) for e in nft["marks_private"] for v in families)
        or nft["restore_output"]
        or nft.get("sav") or any(e["allowed"] for e in nft.get("lan_sav") or []))
