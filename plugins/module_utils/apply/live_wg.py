# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A WireGuard interface as its wg-quick config says it should run, and as it runs.

Both sides are described as the same lines, each of a kind that says what
repairs it: ``link`` (the interface is there and up, with the config's
addresses: only a restart of wg-quick@ brings that back), ``peer`` (the listen
port, each peer's allowed IPs, endpoint and keepalive, a preshared key where
the config has one: ``wg syncconf``), ``psk`` (a preshared key the config does
not have: syncconf keeps it, it is cleared) and ``route`` (a route of an
allowed IP that wg-quick puts in the config's ``Table``: the sync script adds
it again).

No line holds a key. Peers are named by the comment the renderer writes under
``[Peer]`` (the peer's host); ``wg show all dump`` prints the private and
preshared keys too: ``parse_dump`` keeps neither (a preshared key only as
"set" or not), and the text is dropped once parsed. An endpoint is compared
only where the config gives an address (a name resolves to whatever the DNS
says today).

Standard library only: runs on the managed host.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.live_routes import TABLE_IDS, table_id

DUMP_ARGV = ["wg", "show", "all", "dump"]
ADDR_ARGV = ["ip", "-j", "address", "show"]
RESTART, SYNC, CLEAR, ROUTE = "link", "peer", "psk", "route"


def _values(value):
    return [part.strip() for part in value.split(",") if part.strip()]


def _endpoint(text):
    """'address:port' with the address in its canonical form, or None for a name or nothing."""
    host, sep, port = (text or "").rpartition(":")
    if not sep or not port.isdigit():
        return None
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return ("[%s]:%s" if address.version == 6 else "%s:%s") % (address, port)


def parse_config(text):
    """{addresses, listen_port, table, peers: {public key: {name, allowed, endpoint, keepalive, psk}}}."""
    conf = {"addresses": set(), "listen_port": None, "table": "auto", "peers": {}}
    section, peer = None, None
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section, peer = line, {"name": None, "key": None, "allowed": set(), "endpoint": None,
                                   "keepalive": "off", "psk": False}
            continue
        if line.startswith("#") and section == "[Peer]" and peer["name"] is None:
            peer["name"] = line.lstrip("# ").strip() or None
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or line.startswith("#"):
            continue
        if section == "[Interface]":
            _interface_setting(conf, key, value)
        elif section == "[Peer]":
            _peer_setting(conf, peer, key, value)
    return conf


def _interface_setting(conf, key, value):
    if key == "address":
        conf["addresses"].update(str(ipaddress.ip_interface(a)) for a in _values(value))
    elif key == "listenport":
        conf["listen_port"] = value
    elif key == "table":
        conf["table"] = value.lower()


def _peer_setting(conf, peer, key, value):
    if key == "publickey":
        peer["key"] = value
        conf["peers"][value] = peer
    elif key == "allowedips":
        peer["allowed"].update(str(ipaddress.ip_network(a, strict=False)) for a in _values(value))
    elif key == "endpoint":
        peer["endpoint"] = _endpoint(value)
    elif key == "persistentkeepalive":
        peer["keepalive"] = "off" if value in ("0", "off") else value
    elif key == "presharedkey":
        peer["psk"] = True


def parse_dump(text):
    """{interface: {listen_port, peers: {public key: {allowed, endpoint, keepalive, psk}}}}, without the
    private keys and with a preshared key only as set or not."""
    out = {}
    for line in (text or "").splitlines():
        fields = line.split("\t")
        if len(fields) == 5:  # interface, private key, public key, listen port, fwmark
            out.setdefault(fields[0], {"peers": {}})["listen_port"] = fields[3]
        elif len(fields) == 9:  # interface, public key, preshared key, endpoint, allowed IPs, handshake, rx, tx, keepalive
            nets = [] if fields[4] == "(none)" else _values(fields[4])
            allowed = {str(ipaddress.ip_network(a, strict=False)) for a in nets}
            out.setdefault(fields[0], {"peers": {}, "listen_port": None})["peers"][fields[1]] = {
                "allowed": allowed, "endpoint": _endpoint(fields[3]), "keepalive": fields[8],
                "psk": fields[2] != "(none)"}
    return out


def parse_links(entries):
    """{interface: {up, addresses}} of `ip -j address show` (link-local addresses left out)."""
    out = {}
    for entry in entries or []:
        addresses = {str(ipaddress.ip_interface("%s/%s" % (a["local"], a["prefixlen"])))
                     for a in entry.get("addr_info", []) if a.get("scope") != "link" and "local" in a}
        out[entry.get("ifname")] = {"up": "UP" in entry.get("flags", []), "addresses": addresses}
    return out


def _route_nets(name, conf):
    """(table, network) of each route wg-quick puts in the config's table for its allowed IPs."""
    table = conf["table"]
    if table == "off":
        return []
    nets = sorted({net for peer in conf["peers"].values() for net in peer["allowed"]})
    if table == "auto":
        # wg-quick's routes go to main, but a /0, which it turns into rules and a table of its own.
        return [(TABLE_IDS["main"], net) for net in nets if not net.endswith("/0")]
    return [(table_id(table), net) for net in nets]


def _peer_lines(label, peer, conf_peer):
    lines = [(SYNC, "%s allowed-ip %s" % (label, net)) for net in sorted(peer["allowed"])]
    if conf_peer is not None and conf_peer["endpoint"]:
        lines.append((SYNC, "%s endpoint %s" % (label, peer["endpoint"] or "(none)")))
    lines.append((SYNC, "%s keepalive %s" % (label, peer["keepalive"])))
    if peer["psk"]:
        lines.append((CLEAR if conf_peer is None or not conf_peer["psk"] else SYNC, "%s preshared key set" % label))
    return lines


def wanted_lines(name, conf):
    """[(kind, line)] of the interface as its config says it runs."""
    lines = [(RESTART, "%s is up" % name)] + [(RESTART, "%s address %s" % (name, a)) for a in sorted(conf["addresses"])]
    if conf["listen_port"]:
        lines.append((SYNC, "%s listen-port %s" % (name, conf["listen_port"])))
    for peer in conf["peers"].values():
        lines += _peer_lines("%s peer %s" % (name, peer["name"]), peer, peer)
    lines += [(ROUTE, "%s route %s in table %s" % (name, net, table)) for table, net in _route_nets(name, conf)]
    return sorted(lines, key=lambda kind_line: kind_line[1])


def live_lines(name, conf, dump, links, covered):
    """[(kind, line)] of the interface as it runs; ``covered(table, net, dev)`` says whether a route of
    ``dev`` in ``table`` carries ``net``."""
    link, wg = links.get(name), dump.get(name)
    if link is None or wg is None:
        return [(RESTART, "%s does not exist" % name)]
    lines = [(RESTART, "%s is %s" % (name, "up" if link["up"] else "down"))]
    lines += [(RESTART, "%s address %s" % (name, a)) for a in sorted(link["addresses"])]
    if conf["listen_port"]:
        lines.append((SYNC, "%s listen-port %s" % (name, wg["listen_port"])))
    strangers = 0
    for key, peer in sorted(wg["peers"].items(), key=lambda key_peer: sorted(key_peer[1]["allowed"])):
        conf_peer = conf["peers"].get(key)
        if conf_peer is None:
            strangers += 1
            label = "%s peer not in the config #%d" % (name, strangers)
        else:
            label = "%s peer %s" % (name, conf_peer["name"])
        lines += _peer_lines(label, peer, conf_peer)
    lines += [(ROUTE, "%s route %s in table %s" % (name, net, table))
              for table, net in _route_nets(name, conf) if covered(table, net, name)]
    return sorted(lines, key=lambda kind_line: kind_line[1])


def kinds(live, wanted, missing, extra):
    """The kinds of the lines that differ: what has to run."""
    kind_of = {line: kind for kind, line in live + wanted}
    return {kind_of[line] for line in missing + extra}
