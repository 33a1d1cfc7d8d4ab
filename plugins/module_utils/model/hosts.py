# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse one host's wgpf_ variables into its fields: a dict of records.Host's fields, before cross-host inference.

model.build_model finishes the fields (facts.py needs several hosts at once)
and builds each Host from its fields in one call.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G
from ansible_collections.wgforward.portforward.plugins.module_utils.core.origins import DEFAULT, SET
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.model import facts as F
from ansible_collections.wgforward.portforward.plugins.module_utils.model.knobs import (
    CHECK_HOPS, KNOB_DEFAULTS, METRICS_PATH, parse_knobs)
from ansible_collections.wgforward.portforward.plugins.module_utils.model.unmanaged import (
    CONTAINER, UNMANAGED_KEYS, check_container, check_never_contacted, contacted, parse_unmanaged)
from ansible_collections.wgforward.portforward.plugins.module_utils.model.wg_interfaces import addresses, ifname, wg_specs

# The model's own variables; the tree's answers a host gives come from the Vocabulary (model/vocabulary.py).
MODEL_HOST_KEYS = ("wgpf_address", "wgpf_listen_port", "wgpf_interface", "wgpf_endpoint",
                   "wgpf_wan_interface", "wgpf_lan_interface", "wgpf_lan_address", "wgpf_lan_mac",
                   "wgpf_intermediate", "wgpf_attachment", "wgpf_gateway_is_intermediate",
                   "wgpf_local_routes", "wgpf_interfaces", "wgpf_forwards",
                   "wgpf_render_dir", "wgpf_mtu", METRICS_PATH, CHECK_HOPS) + UNMANAGED_KEYS + tuple(KNOB_DEFAULTS)
ATTACHMENTS = ("wireguard", "lan", "container")
LOCAL_ROUTE_KEYS = ("to", "via", "dev")


def parse_host(name, role, hv, vocabulary, problems):
    """The fields of one host: a dict of every records.Host field, from its variables and its own facts."""
    where = host_where(name)
    if not contacted(hv):
        hv = _no_facts(hv)  # never contacted: planned from its variables alone, whatever a fact cache holds
    try:
        G.host_name(name)
    except ValueError as exc:
        problems.add(where, "name", str(exc))
    problems.unknown_keys(where, [k for k in hv if isinstance(k, str) and k.startswith("wgpf_")], vocabulary.host_keys,
                          what="variable")
    fields = {"name": name, "role": role, "vars": hv, "wg": wg_specs(where, hv, problems),
              "endpoint": _endpoint(where, hv, problems), "default_gateways": F.default_gateways(hv),
              "local_routes": _local_routes(where, hv, problems)}
    fields.update(parse_knobs(where, hv, problems))
    fields.update(parse_unmanaged(where, role, hv, problems))
    fields.update(_interfaces(where, role, hv, problems))
    fields.update(_attachment(where, role, hv, problems))
    fields.update(_answers(where, hv, vocabulary, problems))
    if hv.get("wgpf_interfaces") is not None and role != "intermediate":
        problems.add(where, "wgpf_interfaces", "only intermediate servers take several interfaces")
    if fields["local_routes"] and role == "public":
        problems.add(where, "wgpf_local_routes", "only intermediate and private servers keep local routes")
    return fields


def _no_facts(hv):
    return {k: v for k, v in hv.items() if k.startswith("wgpf_") or k in ("inventory_dir", "ansible_inventory_sources")}


def _endpoint(where, hv, problems):
    if hv.get("wgpf_endpoint") is None:
        return None
    try:
        return A.split_endpoint(hv["wgpf_endpoint"])
    except ValueError as exc:
        problems.add(where, "wgpf_endpoint", str(exc))
        return None


def _interfaces(where, role, hv, problems):
    """WAN/LAN interface, LAN addresses and MAC: set, or for a public or private server its default route's."""
    wan = ifname(where, "wgpf_wan_interface", hv.get("wgpf_wan_interface"), problems)
    if wan is None and role == "public" and hv.get("wgpf_wan_interface") is None:
        wan = F.default_interface(where, "wgpf_wan_interface", hv, problems)
    lan = ifname(where, "wgpf_lan_interface", hv.get("wgpf_lan_interface"), problems)
    lan_addresses, lan_networks = [], []
    if hv.get("wgpf_lan_address") is not None:
        nets = addresses(where, "wgpf_lan_address", hv["wgpf_lan_address"], problems)
        lan_addresses = [net.ip for net in nets]
        # 192.168.1.1/24 states the LAN's prefix; a bare address leaves it to the facts' netmask.
        lan_networks = [net.cidr for net in nets if net.prefixlen < A.MAX_PREFIX[net.version]]
    if role == "private" and hv.get("wgpf_attachment") == CONTAINER:
        # A container's wgpf_lan_interface names its host's bridge (the intermediate's side).
        return {"wan_interface": wan, "lan_interface": None, "bridge": lan, "lan_addresses": lan_addresses,
                "lan_networks": lan_networks, "lan_mac": None}
    if role == "private":
        if lan is None and hv.get("wgpf_lan_interface") is None:
            lan = F.default_interface(where, "wgpf_lan_interface", hv, problems)
        if not lan_addresses and hv.get("wgpf_lan_address") is None:
            lan_addresses = F.default_addresses(where, hv, problems)
    mac = hv.get("wgpf_lan_mac")
    if mac is not None:
        try:
            mac = G.mac(mac)
        except ValueError as exc:
            problems.add(where, "wgpf_lan_mac", str(exc))
            mac = None
    return {"wan_interface": wan, "lan_interface": lan, "bridge": None, "lan_addresses": lan_addresses,
            "lan_networks": lan_networks, "lan_mac": mac}


def _attachment(where, role, hv, problems):
    intermediate = hv.get("wgpf_intermediate")
    if intermediate is not None and role != "private":
        problems.add(where, "wgpf_intermediate", "only private servers are reached through an intermediate")
        intermediate = None
    attachment = hv.get("wgpf_attachment")
    if attachment is not None and attachment not in ATTACHMENTS:
        problems.add(where, "wgpf_attachment", "must be one of %s, got %r" % (", ".join(ATTACHMENTS), attachment))
        attachment = None
    if role == "private" and intermediate is None and attachment not in (None, "wireguard"):
        problems.add(where, "wgpf_attachment", "%s needs wgpf_intermediate: without it the private server is a "
                     "direct WireGuard peer of the public server" % attachment)
        attachment = "wireguard"
    if attachment is None and role == "private":
        attachment = "wireguard" if (intermediate is None or hv.get("wgpf_address") is not None) else "lan"
    return {"intermediate": intermediate, "attachment": attachment}


def _bool_var(where, hv, key, problems):
    value = hv.get(key)
    if value is None:
        return None
    if not G.boolean(value):
        problems.add(where, key, "must be true or false, got %r" % (value,))
        return None
    return value


def _answers(where, hv, vocabulary, problems):
    """Q5 as the host states it (facts.infer_gateway fills it in later), then the answers it gives by name."""
    gateway = _bool_var(where, hv, "wgpf_gateway_is_intermediate", problems)
    answers, origins = {}, {}
    for key, default in vocabulary.host_answers.items():
        value = _bool_var(where, hv, "wgpf_" + key, problems)
        answers[key], origins[key] = (default, DEFAULT) if value is None else (value, SET)
    return {"gateway_is_intermediate": gateway, "gateway_origin": SET if gateway is not None else None,
            "answers": answers, "origins": origins}


def _local_routes(where, hv, problems):
    raw = hv.get("wgpf_local_routes") or []
    if not isinstance(raw, list):
        problems.add(where, "wgpf_local_routes", "must be a list of {to, via}")
        return []
    routes = []
    for i, item in enumerate(raw):
        route = _local_route(where, "wgpf_local_routes[%d]" % i, item, problems)
        if route is not None:
            routes.append(route)
    return routes


def _local_route(where, field, item, problems):
    if not isinstance(item, dict):
        problems.add(where, field, "must be a mapping {to, via}")
        return None
    problems.unknown_keys(where, item, LOCAL_ROUTE_KEYS, what="key of %s" % field)
    to = _parsed(where, field + ".to", item.get("to"), A.parse_cidr, problems)
    via = _parsed(where, field + ".via", item.get("via"), A.parse_address, problems)
    if to is None or via is None:
        return None
    if to.version != via.version:
        problems.add(where, field, "to %s and via %s are of different IP versions" % (to, via))
        return None
    dev = ifname(where, field + ".dev", item.get("dev"), problems)
    if item.get("dev") is not None and dev is None:
        return None
    return {"to": str(to), "via": str(via), "dev": dev}


def _parsed(where, field, value, parse, problems):
    try:
        return parse(value)
    except ValueError as exc:
        problems.add(where, field, str(exc))
        return None


def check_required(host, problems):
    """What a host's part needs once every default is filled in (a value set but refused is reported already)."""
    where = host_where(host.name)
    unset = {key for key in ("wgpf_endpoint", "wgpf_wan_interface", "wgpf_lan_address") if host.vars.get(key) is None}
    # Facts that had a value, refused by its grammar, are reported already too.
    if any(d.get("interface") for d in F.defaults(host.vars)):
        unset.discard("wgpf_wan_interface")
    if any(d.get("address") for d in F.defaults(host.vars)):
        unset.discard("wgpf_lan_address")
    if host.role == "public":
        if host.endpoint is None and "wgpf_endpoint" in unset:
            problems.add(where, "wgpf_endpoint", "required: the host:port that peers dial to reach this server")
        if host.wan_interface is None and "wgpf_wan_interface" in unset:
            problems.need_fact(host.name, "wgpf_wan_interface",
                               "not set and no default IPv4 route in the facts to infer it")
    check_container(host, problems)
    check_never_contacted(host, problems)
    if host.role == "private" and host.attachment != "wireguard":
        if not host.lan_addresses and "wgpf_lan_address" in unset and host.contacted:
            problems.need_fact(host.name, "wgpf_lan_address", "not set and no default route in the facts to infer "
                               "it: the public server forwards to this address")
        if host.attachment == "container" and host.gateway_is_intermediate is False:
            problems.add(where, "wgpf_gateway_is_intermediate", "a container on a Docker bridge always has its "
                         "host as default gateway")
