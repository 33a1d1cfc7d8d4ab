# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public server's own ports, which no forward may take, and the ephemeral ports it keeps.

A DNAT on the WAN takes a port from whatever listens there, so a forward may
not use:
- the port Ansible connects to the host on: ``ansible_port`` (or
  ``ansible_ssh_port``), else 22 when the host is reached over SSH (no
  ``ansible_connection``, or an SSH one): refused always, offline too, so a
  run never cuts its own connection;
- a WireGuard listen port of the host (UDP);
- a port one of its own services listens on for the WAN, from the fact
  ``wgpf_ports`` that host_state returns (apply/listening.py): bound to every
  address, to an address of the WAN interface (or one the facts do not place
  on another interface), or to the WAN interface itself. Loopback listeners
  and those bound to another interface's address or to another interface do
  not count, nor the WireGuard listen ports (reported above). Offline
  (render, explain: no host_state) nothing is known of them, and the state
  read at the start of site.yml checks them before any change.
And the reserved ports (``wgpf_reserve_ports``) must leave at least half of
the host's ephemeral range (``ip_local_port_range``, from the same fact, else
Linux's default) to its own connections.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.core import addresses as A
from ansible_collections.wgforward.portforward.plugins.module_utils.core import grammar as G
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import forward_where, host_where
from ansible_collections.wgforward.portforward.plugins.module_utils.model import facts as F

# Connection plugins that reach the host over SSH, whose port is 22 unless ansible_port says otherwise.
SSH_CONNECTIONS = ("ssh", "paramiko", "paramiko_ssh", "smart", "libssh")
SSH_PORT = 22
WILDCARDS = ("0.0.0.0", "::", "*", "")
# Linux's default net.ipv4.ip_local_port_range, for a host whose own is not known.
DEFAULT_EPHEMERAL = (32768, 60999)
# The kernel takes one page, less its terminating byte, from a write to ip_local_reserved_ports and drops
# the rest: a longer list would be reserved in part, and every run would find the rest missing.
RESERVED_TEXT_MAX = 4095


def ansible_port(where, hv, problems):
    """(port, why) of the port Ansible connects to the host on, or None when it is not a port of the host."""
    for key in ("ansible_port", "ansible_ssh_port"):
        if hv.get(key) is None:
            continue
        port = G.integer(hv[key])
        if port is None or not 1 <= port <= 65535:
            problems.add(where, key, "must be a port in 1-65535, got %r" % (hv[key],))
            return None
        return port, "the port Ansible connects to (%s)" % key
    connection = hv.get("ansible_connection")
    if connection is None or str(connection).rsplit(".", 1)[-1] in SSH_CONNECTIONS:
        return SSH_PORT, ("the port Ansible connects to (SSH's default: no ansible_port is set; set it if "
                          "Ansible uses another)")
    return None


def _iface_addresses(hv, ifname):
    data = F.iface_facts(hv, ifname) or {}
    found = [data.get("ipv4") or {}] + list(data.get("ipv4_secondaries") or []) + list(data.get("ipv6") or [])
    out = set()
    for item in found:
        try:
            out.add(A.parse_address(item.get("address")))
        except (ValueError, AttributeError, TypeError):
            continue
    return out


def faces_wan(item, host, wan_addresses, other_addresses):
    """True when the listener takes connections that arrive on the WAN interface (unknown: true)."""
    if item.get("interface"):
        return host.wan_interface is None or item["interface"] == host.wan_interface
    address = str(item.get("address") or "")
    if address in WILDCARDS:
        return True
    try:
        ip = A.parse_address(address)
    except ValueError:
        return True
    if ip.is_loopback():
        return False
    return ip in wan_addresses or ip not in other_addresses


def _listener_text(item):
    names = sorted(set(str(n) for n in item.get("processes") or []))
    if not names:
        who = "a socket of the kernel listens"
    else:
        who = "its own service%s %s listen%s" % ("s" if len(names) > 1 else "", " and ".join(G.quote(n) for n in names),
                                                 "" if len(names) > 1 else "s")
    where = ("every address" if str(item.get("address") or "") in WILDCARDS else str(item.get("address")))
    if item.get("interface"):
        where += " of %s" % item["interface"]
    return "where %s (on %s; the state host_state read): the DNAT would take its connections from the " \
           "WAN; forward another port, or stop that service or bind it off the WAN first" % (who, where)


def wan_listeners(host):
    """[(protocol, port, what)] of the host's own listeners that face the WAN (from the fact wgpf_ports)."""
    ports = F.fact(host.vars, "wgpf_ports")
    listening = ports.get("listening") if isinstance(ports, dict) else None
    if not isinstance(listening, list):
        return []
    wan = _iface_addresses(host.vars, host.wan_interface) if host.wan_interface else set()
    other = set()
    for name in F.iface_names(host.vars):
        if name != host.wan_interface:
            other |= _iface_addresses(host.vars, name)
    wireguard = {spec.listen_port for spec in host.wg}
    out = []
    for item in listening:
        if not isinstance(item, dict) or item.get("protocol") not in ("tcp", "udp"):
            continue
        port = G.integer(item.get("port"))
        if port is None or (item["protocol"] == "udp" and port in wireguard):
            continue  # WireGuard's own listen port is reported as such
        if faces_wan(item, host, wan, other):
            out.append((item["protocol"], port, _listener_text(item)))
    return out


def taken(host, problems):
    """{protocol: [(port, what)]}: the ports of the public server no forward may take."""
    out = {"tcp": [], "udp": [(spec.listen_port, "its WireGuard listen port") for spec in host.wg]}
    port = ansible_port(host_where(host.name), host.vars, problems)
    if port is not None:
        out["tcp"].append((port[0], port[1] + ": converging would cut its own connection"))
    for protocol, number, what in wan_listeners(host):
        out[protocol].append((number, what))
    return out


def check_forwards(host, forwards, problems):
    """Each forward of this public server (ports parsed) against its own ports, per protocol."""
    own = taken(host, problems)
    for fwd in forwards:
        for proto in fwd.protocols:
            for port, what in sorted(own[proto]):
                if fwd.port[0] <= port <= fwd.port[1]:
                    problems.add(forward_where(fwd.name), "port", "%s/%s on %s takes %d, %s"
                                 % (G.port_text(fwd.port), proto, host.name, port, what))
    check_ephemeral(host, forwards, problems)
    check_reserved_text(host, forwards, problems)


def check_reserved_text(host, forwards, problems):
    """The reserved ports (wgpf_reserve_ports) as the kernel's list must fit the one page it takes."""
    if not host.reserve_ports or not forwards:
        return
    text = ",".join(G.port_text(tuple(span)) for span in _merged([f.port for f in forwards]))
    if len(text) <= RESERVED_TEXT_MAX:
        return
    problems.add(host_where(host.name), "wgpf_reserve_ports", (
        "the public ports of its %d forwards come to %d characters as net.ipv4.ip_local_reserved_ports, and the "
        "kernel takes at most %d from one write (the rest would not be reserved, and every run would find them "
        "missing). Set wgpf_reserve_ports: false on %s, or forward ranges of adjacent ports (a range counts once)"
        % (len(forwards), len(text), RESERVED_TEXT_MAX, host.name)))


def ephemeral(host):
    """((low, high), where it came from) of the host's ephemeral ports."""
    ports = F.fact(host.vars, "wgpf_ports")
    span = ports.get("ephemeral") if isinstance(ports, dict) else None
    if isinstance(span, (list, tuple)) and len(span) == 2:
        low, high = G.integer(span[0]), G.integer(span[1])
        if low is not None and high is not None and 1 <= low <= high <= 65535:
            return (low, high), "its ip_local_port_range"
    return DEFAULT_EPHEMERAL, "Linux's default ip_local_port_range; the host's own is read by site.yml"


def check_ephemeral(host, forwards, problems):
    """Reserved ports (wgpf_reserve_ports) must leave at least half of the ephemeral range free."""
    if not host.reserve_ports or not forwards:
        return
    (low, high), origin = ephemeral(host)
    size = high - low + 1
    inside = [f for f in forwards if f.port[0] <= high and f.port[1] >= low]
    reserved = 0
    for lo, hi in _merged([(max(f.port[0], low), min(f.port[1], high)) for f in inside]):
        reserved += hi - lo + 1
    if size - reserved >= (size + 1) // 2:
        return
    problems.add(host_where(host.name), "wgpf_reserve_ports", (
        "the forwards %s would reserve %d of its %d ephemeral ports (%s, %s), leaving its own connections "
        "%d: at least half must stay free. Narrow their public ports, or set wgpf_reserve_ports: false on %s "
        "(its own connections may then pick a forwarded port)" % (
            ", ".join("'%s' (%s)" % (f.name, G.port_text(f.port)) for f in inside), reserved, size,
            G.port_text((low, high)), origin, size - reserved, host.name)))


def _merged(spans):
    out = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out
