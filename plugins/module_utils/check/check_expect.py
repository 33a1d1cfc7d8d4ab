# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the live check (playbooks/check.yml) expects on each hop of each forward, from the plan.

``expectations(inventory)`` plans the inventory and returns, per forward, its
hops in path order (public server, intermediate, private server), each with
what must hold there: the WireGuard links of the path (up, with a recent
handshake), the DNAT map entries (public server), the listening service
(private server) and where a reply of the service must leave
(``ip route get``, with the technique's mark): per family, the interface
and the gateway (none on a WireGuard link), so a reply of one family that
leaves another way than it came in is found. ``probe_args`` folds a host's
hops into the arguments of the forward_probe module; check_verdict.py
compares what the probes read with these expectations.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core.layout import NFT_TABLE
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.export import export_plan
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import planned

# Where a reply "to the Internet" is routed to: the benchmarking ranges (RFC 2544, RFC 5180) follow
# the default route on any host and are no test network of the labs; `ip route get` sends nothing.
INTERNET = {4: "198.18.0.1", 6: "2001:2::1"}
# The protocol numbers of the plan's rules (techniques/steps.py writes numbers).
IPPROTO = {"tcp": 6, "udp": 17}
# What forward_probe needs of a route expectation to ask `ip route get`.
ROUTE_ARGS = ("family", "proto", "dst", "from", "sport", "iif", "mark")


def contacted(plan):
    """Whether the run contacts the host of this plan.

    A host Ansible does not manage (a peer known only by ``wgpf_public_key``, a container) is
    planned but never contacted: its plan carries ``contacted: false`` and its hop reads
    "not checked". Plans without the key are of managed hosts.
    """
    return plan.get("contacted", True) is not False


def _peer_entry(plan, peer):
    """(interface, peer entry) of ``plan`` whose peer is the host ``peer``, or (None, None)."""
    for iface in plan.get("interfaces", []):
        for entry in iface.get("peers", []):
            if entry["host"] == peer:
                return iface, entry
    return None, None


def _link(plans, host, peer):
    """The link of ``host`` to ``peer`` as the check reads it on ``host``, or None."""
    iface, entry = _peer_entry(plans[host], peer)
    if iface is None:
        return None
    dummy, back = _peer_entry(plans.get(peer, {}), host)
    keepalive = bool(entry.get("keepalive")) or bool(back and back.get("keepalive"))
    return {"iface": iface["name"], "peer": peer, "peer_iface": entry.get("interface"),
            "allowed_ips": sorted(entry.get("allowed_ips", [])), "keepalive": keepalive}


def _masqueraded(public_plan, target, proto, port):
    """True when the public server masquerades the forward's flow: its replies need no routing."""
    for item in public_plan["nftables"].get("masquerade", []):
        for flow in item.get("flows", []):
            if flow["addr"] == target and flow["proto"] == proto and flow["port"]["from"] <= port <= flow["port"]["to"]:
                return True
    return False


def _mark(plan, iif, target):
    """The packet mark (hex) the host's table gives the forward's replies, or None."""
    nft = plan["nftables"]
    for item in nft.get("marks_in", []):
        if item["iif"] == iif:
            return "0x%x" % item["mark"]["value"]
    for item in nft.get("marks_private", []):
        if any(flow["addr"] == target for flows in item.get("flows", {}).values() for flow in flows):
            return "0x%x" % item["mark"]["value"]
    return None


# The plan's rules parsed once per plan: _rule_table runs for every routed flow (25,000 at 10,000 forwards).
_RULES = {}
ANY_FAMILY = object()


def _parsed_rules(plan):
    """[(family, selector words, {from, ipproto, sport}, table)] of the plan's rules, in order (a rule without
    a family: ANY_FAMILY)."""
    if _RULES.get(id(plan), (None,))[0] is plan:
        return _RULES[id(plan)][1]
    rules = list(plan.get("rules", []))
    for iface in plan.get("interfaces", []):
        rules.extend(iface.get("rules", []))
    parsed = []
    for rule in rules:
        words = rule["selector"].split()
        value = {key: words[words.index(key) + 1] for key in ("from", "ipproto", "sport") if key in words}
        parsed.append((rule.get("family", ANY_FAMILY), words, value, rule["table"]))
    if len(_RULES) >= 64:
        _RULES.clear()
    _RULES[id(plan)] = (plan, parsed)
    return parsed


def _rule_table(plan, flow, sport, mark):
    """The table the plan's rule sends the forward's replies of ``flow`` to (for the message), or None."""
    version, proto, target = flow
    for family, words, value, table in _parsed_rules(plan):
        if family is not ANY_FAMILY and family != version:
            continue
        if mark is not None and "fwmark" in words:
            return table
        lo, _sep, hi = value.get("sport", "").partition("-")
        by_port = lo.isdigit() and int(lo) <= sport <= int(hi or lo)
        by_proto = value.get("ipproto") in (None, str(IPPROTO[proto]))
        if by_port and by_proto and value.get("from") in (None, target):
            return table
    return None


def _dst(fwd, version):
    """A client address of the family: the first of the forward's sources, else an Internet address."""
    for net in fwd.sources:
        if net.version == version:
            return str(net.network)
    return INTERNET[version]


def _flows(planner, fwd):
    """(family, protocol, service address) of every flow of the forward, in plan order: the families its
    decision serves (decide/families.py), the same the planner placed."""
    private = planner.model.hosts[fwd.to]
    versions = planner.decisions[fwd.name].versions
    return [(v, proto, planner.target_text(private, v)) for v in versions for proto in fwd.protocols]


def _route(plan, fwd, flow, iif, mark_iif, expect):
    version, proto, target = flow
    mark = _mark(plan, mark_iif, target)
    expect = dict(expect, table=_rule_table(plan, flow, fwd.to_port[0], mark))
    return {"family": version, "proto": proto, "dst": _dst(fwd, version), "from": target,
            "sport": fwd.to_port[0], "iif": iif, "mark": mark, "expect": expect}


def _hop(plans, host, links):
    return {"host": host, "role": plans[host]["role"], "contacted": contacted(plans[host]),
            "links": [link for link in links if link is not None], "dnat": [], "listen": [], "routes": []}


def _lan_leg(private, inter, version):
    """Where a LAN server's reply of ``version`` must leave: its LAN interface, via the intermediate's LAN
    address of that family; without one the path cannot be proven, and the expectation says why."""
    via = inter.lan_address(version)
    expect = {"dev": private.lan_interface, "via": None if via is None else str(via)}
    if via is None:
        expect["unknown"] = "%s has no IPv%d LAN address for it to come back by" % (inter.name, version)
    return expect


def forward_path(planner, plans, fwd):
    """One forward's hops in path order, each with what must hold there."""
    hosts = planner.model.hosts
    public, private = hosts[fwd.public], hosts[fwd.to]
    inter = hosts[private.intermediate] if private.intermediate else None
    spoke = inter is not None and private.attachment == "wireguard"
    inner = inter or private
    flows = _flows(planner, fwd)
    routed = [f for f in flows if not _masqueraded(plans[public.name], f[2], f[1], fwd.to_port[0])]
    first = _hop(plans, public.name, [_link(plans, public.name, inner.name)])
    first["dnat"] = [{"family": v, "proto": p, "port": list(fwd.port), "daddr": t, "dport": fwd.to_port[0]}
                     for v, p, t in flows]
    hops = [first]
    public_link = _link(plans, inner.name, public.name)
    if inter is not None:
        to_spoke = _link(plans, inter.name, private.name) if spoke else None
        hop = _hop(plans, inter.name, [public_link, to_spoke])
        iif = to_spoke["iface"] if to_spoke else inter.lan_interface
        mark_iif = public_link["iface"] if public_link else None
        hop["routes"] = [_route(plans[inter.name], fwd, f, iif, mark_iif, {"dev": mark_iif, "via": None})
                         for f in routed]
        hops.append(hop)
    if spoke:
        own = [_link(plans, private.name, inter.name)]
    else:
        own = [public_link] if inter is None else []
    last = _hop(plans, private.name, own)
    last["listen"] = [{"proto": p, "addr": t, "ports": list(fwd.to_port)} for v, p, t in flows]
    for flow in routed:
        if last["links"]:
            expect = {"dev": last["links"][0]["iface"], "via": None}
        else:
            expect = _lan_leg(private, inter, flow[0])
        last["routes"].append(_route(plans[private.name], fwd, flow, None, None, expect))
    hops.append(last)
    return {"forward": fwd.name, "public": public.name, "to": private.name,
            "path": [hop["host"] for hop in hops], "hops": hops}


def route_key(route):
    """What identifies one `ip route get` between the expectation and the probe's answer."""
    return "%s %s %s %s %s %s %s" % (route["family"], route["proto"], route["dst"], route["from"],
                                     route["sport"], route.get("iif") or "-", route.get("mark") or "-")


def probe_args(forwards, host):
    """The arguments of the forward_probe module on ``host``: everything its hops need read."""
    interfaces, routes, nft, listen = set(), {}, False, False
    for fwd in forwards:
        for hop in fwd["hops"]:
            if hop["host"] != host:
                continue
            interfaces.update(link["iface"] for link in hop["links"])
            nft = nft or bool(hop["dnat"])
            listen = listen or bool(hop["listen"])
            for route in hop["routes"]:
                routes[route_key(route)] = {k: route[k] for k in ROUTE_ARGS}
    return {"interfaces": sorted(interfaces), "nft_table": NFT_TABLE if nft else None, "listen": listen,
            "routes": [routes[k] for k in sorted(routes)]}


def expectations(inventory):
    """{"forwards": [path of each forward], "hosts": {host: probe_args}}; raises PlanError like the plan."""
    planner = planned(inventory)
    plans = {name: export_plan(draft) for name, draft in planner.drafts.items()}
    forwards = [forward_path(planner, plans, fwd) for fwd in planner.model.forwards
                if plans[fwd.public]["state"] == "present" and plans[fwd.to]["state"] == "present"]
    hosts = {name: probe_args(forwards, name) for name in sorted(plans) if contacted(plans[name])}
    return {"forwards": forwards, "hosts": hosts}
