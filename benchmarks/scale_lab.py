# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The containers and inventories of scale_bench.py: a hub with spokes behind one or two public servers.

    public1 (public2) ═wg1 (wg2)═ hub1 ═wg0═ private1 .. privateN (WireGuard spokes of the hub)
     192.0.2.11 (.12)     192.0.2.2 / 10.213.0.2    10.213.0.10 ..

Containers are named ``wgpfs-<host>`` (never a Molecule scenario's names), from the
test image with the settings of molecule/resources/playbooks/create.yml (systemd as
PID 1, unprivileged, NET_ADMIN and SYS_ADMIN, /dev/net/tun, tmpfs /run and /tmp, its
own cgroup namespace, IPv6 on), on two internal networks: ``wgpfs-tr``
(192.0.2.0/24, TEST-NET-1: the public servers and the hub's uplink) and ``wgpfs-lan``
(10.213.0.0/24: the hub and its spokes). No traffic crosses the lab (the benchmark
times runs of Ansible), so the DOCKER-USER accept rule create.yml adds for forwarded
packets is left out. The caller holds the lab lock (scale_bench.py does).

Every container's systemd and logind hold inotify instances, counted against the host's
root (no user namespace: the containers' root is the host's), and Debian's
fs.inotify.max_user_instances is 128: with 6 a container, the 30-host lab's 22nd
container found none left, and its systemd stopped ("Failed to create inotify object:
Too many open files" in the journals of those that still booted, degraded). inotify_room()
raises the limit for the labs' lifetime and restores it, saying so.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time

import yaml

PREFIX = "wgpfs-"
IMAGE = os.environ.get("WGPF_TEST_IMAGE", "wgpf-test:debian12")
NETWORKS = {"wgpfs-tr": ("192.0.2.0/24", "192.0.2.1"), "wgpfs-lan": ("10.213.0.0/24", "10.213.0.1")}
# A default route via an address where no host lives, as the scenarios' test_ip sets: the
# planner reads each host's default route (the public server's Internet interface).
DEFAULT_VIA = {"wgpfs-tr": "192.0.2.254", "wgpfs-lan": "10.213.0.254"}
LISTEN_PORT = 51820
INOTIFY = "/proc/sys/fs/inotify/max_user_instances"
# Measured on the lab's containers: systemd 5 and logind 1 once booted, 7.2 a host on the 10-host
# lab after a run (wireguard-go takes one per interface); the rest is room for what else root runs.
INOTIFY_PER_HOST = 8
INOTIFY_SPARE = 32


def docker(*args, check=True):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=check)


def hosts_of(size):
    """The WireGuard hosts of a lab of ``size`` hosts: one public server under 4 hosts, else two; a hub; spokes."""
    publics = ["public1"] if size < 4 else ["public1", "public2"]
    spokes = ["private%d" % i for i in range(1, size - len(publics))]
    return publics, "hub1", spokes


def addresses(size):
    """{host: [(network, address)]}, the first network the one the default route leaves by."""
    publics, hub, spokes = hosts_of(size)
    out = {name: [("wgpfs-tr", "192.0.2.%d" % (11 + i))] for i, name in enumerate(publics)}
    out[hub] = [("wgpfs-tr", "192.0.2.2"), ("wgpfs-lan", "10.213.0.2")]
    out.update({name: [("wgpfs-lan", "10.213.0.%d" % (10 + i))] for i, name in enumerate(spokes)})
    return out


def create(size):
    """Start the lab's networks and containers, wait for systemd, set each host's default route."""
    destroy()
    for name, (subnet, gateway) in NETWORKS.items():
        docker("network", "create", "--driver", "bridge", "--internal", "--label", "owner=wgpfs",
               "--opt", "com.docker.network.bridge.name=" + name, "--subnet", subnet, "--gateway", gateway, name)
    plan = addresses(size)
    for host, nets in plan.items():
        (net, addr), rest = nets[0], nets[1:]
        docker("run", "-d", "--name", PREFIX + host, "--hostname", host, "--label", "owner=wgpfs",
               "--cap-add", "NET_ADMIN", "--cap-add", "SYS_ADMIN", "--device", "/dev/net/tun",
               "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp", "--cgroupns", "private",
               "--stop-signal", "SIGRTMIN+3", "--sysctl", "net.ipv6.conf.all.disable_ipv6=0",
               "--sysctl", "net.ipv6.conf.default.disable_ipv6=0", "--log-driver", "json-file",
               "--network", net, "--ip", addr, IMAGE, "/usr/local/sbin/wgpf-init")
        for net2, addr2 in rest:
            docker("network", "connect", "--ip", addr2, net2, PREFIX + host)
    deadline = time.monotonic() + 120
    for host, nets in plan.items():
        while True:
            state = docker("exec", PREFIX + host, "systemctl", "is-system-running", check=False)
            if state.stdout.strip() in ("running", "degraded"):
                break
            if "is not running" in state.stderr or time.monotonic() > deadline:
                # A container whose systemd stopped does not come back: say why now, not in 120 s.
                raise SystemExit("%s: systemd is %r (%s); %s" % (PREFIX + host, state.stdout.strip(),
                                                                 state.stderr.strip(), inotify_state()))
            time.sleep(0.5)
        docker("exec", PREFIX + host, "sh", "-c", "ip -6 route del default 2>/dev/null; ip route replace default via "
               + DEFAULT_VIA[nets[0][0]])
    in_use, limit = inotify_in_use(), inotify_limit()
    if in_use >= limit:
        # Some systemd found no inotify instance left: the lab boots, degraded, and is not what we time.
        raise SystemExit("the lab used every inotify instance of root (%s)" % inotify_state())
    return plan


def inotify_limit():
    with open(INOTIFY) as handle:
        return int(handle.read())


def inotify_in_use(uid=0):
    """inotify instances held by ``uid``'s processes on the host (containers' included: same kernel)."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat("/proc/" + pid).st_uid != uid:
                continue
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                count += os.readlink("/proc/%s/fd/%s" % (pid, fd)) == "anon_inode:inotify"
            except OSError:
                continue
    return count


def inotify_state():
    return "root's inotify instances in use: %d, fs.inotify.max_user_instances %d" % (
        inotify_in_use(), inotify_limit())


@contextlib.contextmanager
def inotify_room(size, say=print):
    """fs.inotify.max_user_instances raised, while the block runs, to what ``size`` containers need, then restored.

    What an operator does on a host meant to run dozens of systemd containers; the benchmark runs as
    root. A limit already high enough is left alone. Killed before the restore, the host keeps the
    higher limit: the message says which value to put back."""
    before = inotify_limit()
    need = inotify_in_use() + size * INOTIFY_PER_HOST + INOTIFY_SPARE
    if need <= before:
        yield
        return
    say("scale_lab: raising fs.inotify.max_user_instances from %d to %d for a lab of up to %d containers "
        "(%d in use now); it is set back to %d at the end" % (before, need, size, inotify_in_use(), before),
        flush=True)
    with open(INOTIFY, "w") as handle:
        handle.write("%d\n" % need)
    try:
        yield
    finally:
        with open(INOTIFY, "w") as handle:
            handle.write("%d\n" % before)
        say("scale_lab: fs.inotify.max_user_instances set back to %d" % before, flush=True)


def destroy():
    """Remove every wgpfs-* container and network (the lab's, and a previous run's left behind)."""
    names = docker("ps", "-aq", "--filter", "label=owner=wgpfs").stdout.split()
    if names:
        docker("rm", "-f", *names)
    for name in NETWORKS:
        docker("network", "rm", name, check=False)


RESERVE_PORTS_UP_TO = 500  # forwards; scattered ports, ranges among them, fit the kernel's page up to about 700


def inventory(size, forwards, extra=None):
    """Our inventory for the lab: {'all': ...} with the hub's interfaces, spokes and ``forwards``."""
    publics, hub, spokes = hosts_of(size)
    plan = addresses(size)
    hostvars = {}
    for i, name in enumerate(publics, start=1):
        hostvars[name] = {"wgpf_address": "10.215.%d.2/24" % i, "wgpf_listen_port": LISTEN_PORT,
                          "wgpf_endpoint": "%s:%d" % (plan[name][0][1], LISTEN_PORT)}
        if len(forwards) > RESERVE_PORTS_UP_TO:
            # The kernel takes one page of reserved ports: a thousand scattered ports are more (refused).
            hostvars[name]["wgpf_reserve_ports"] = False
    interfaces = [{"name": "wg0", "address": "10.214.0.1/24", "listen_port": LISTEN_PORT, "peers": spokes}]
    interfaces += [{"name": "wg%d" % i, "address": "10.215.%d.1/24" % i, "listen_port": LISTEN_PORT + i,
                    "peers": [name]} for i, name in enumerate(publics, start=1)]
    hostvars[hub] = {"wgpf_interfaces": interfaces, "wgpf_endpoint": "10.213.0.2:%d" % LISTEN_PORT}
    for i, name in enumerate(spokes):
        hostvars[name] = {"wgpf_intermediate": hub, "wgpf_attachment": "wireguard",
                          "wgpf_address": "10.214.0.%d/24" % (10 + i), "wgpf_listen_port": LISTEN_PORT}
    for name in hostvars:
        hostvars[name].update({"ansible_connection": "community.docker.docker", "ansible_host": PREFIX + name})
    groups = {"wireguard_public": {"hosts": {n: hostvars[n] for n in publics}},
              "wireguard_intermediate": {"hosts": {hub: hostvars[hub]}},
              "wireguard_private": {"hosts": {n: hostvars[n] for n in spokes}}}
    return {"all": {"children": groups, "vars": dict({"wgpf_forwards": forwards}, **(extra or {}))}}


def write_group_vars(folder, inventory):
    """``inventory`` as README.md advises for thousands of forwards: its groups and hosts in ``folder``/hosts.json,
    its ``all`` vars in ``folder``/group_vars/all.json (ansible-core reads that file without the deep copy its
    inventory plugins make). Returns the inventory's path."""
    os.makedirs(os.path.join(folder, "group_vars"), exist_ok=True)
    hosts = {"all": {key: value for key, value in inventory["all"].items() if key != "vars"}}
    with open(os.path.join(folder, "hosts.json"), "w") as handle:
        json.dump(hosts, handle)
    with open(os.path.join(folder, "group_vars", "all.json"), "w") as handle:
        json.dump(inventory["all"].get("vars", {}), handle)
    return os.path.join(folder, "hosts.json")


def spoke_forwards(size):
    """One forward per spoke, alternating between the public servers."""
    publics, dummy, spokes = hosts_of(size)
    return [{"name": "s%d" % i, "public": publics[i % len(publics)], "port": 2000 + i, "protocols": ["tcp"],
             "to": name, "to_port": 8080} for i, name in enumerate(spokes)]


SERVICES = (8080, 8443, 5432, 6379, 9000)
# The client networks of the forwards with `sources` (RFC 6598, nothing in the lab): few, so the spoke's
# AllowedIPs and static routes stay a handful whatever ``count`` is.
SOURCE_POOL = ["100.64.%d.0/24" % i for i in range(8)]


def many_forwards(count, public="public1", to="private1"):
    """``count`` forwards from ``public`` to ``to`` shaped like users' (wire_inventory.py's mix, on one
    private server): scattered ports never adjacent across forwards, tcp, udp or both, every tenth a
    3-port range, every tenth another with `sources` (one or two of a few client networks), every fifth
    masqueraded (`preserve_source: false`), a few service ports behind them (so the public server's
    table grows with ``count`` and the spoke's replies stay one rule). IPv4 only: the lab's
    networks have no IPv6 addresses of ours."""
    out = []
    for i in range(count):
        port = 1100 + 6 * i
        protocols = [["tcp"], ["tcp"], ["udp"], ["tcp", "udp"]][i % 4]
        fwd = {"name": "f%d" % i, "public": public, "protocols": protocols, "to": to}
        if i % 10 == 4:
            fwd["sources"] = SOURCE_POOL[(i // 10) % len(SOURCE_POOL):][:1 + (i // 10) % 2]
        if i % 5 == 2:
            fwd["preserve_source"] = False
        if i % 10 == 9:
            base = 9100 + (i // 10) % 20 * 3
            fwd.update(port="%d-%d" % (port, port + 2), to_port="%d-%d" % (base, base + 2))
        else:
            fwd.update(port=port, to_port=SERVICES[i % len(SERVICES)])
        out.append(fwd)
    return out


def extra_forward(forwards, public="public1", to="private1"):
    """One forward more, on a port none of ``forwards`` uses (the one-added-forward run)."""
    used = set()
    for fwd in forwards:
        low, high = (str(fwd["port"]).split("-") + [None])[:2]
        used.update(range(int(low), int(high or low) + 1))
    port = next(p for p in range(65000, 1024, -1) if p not in used)
    return {"name": "added", "public": public, "port": port, "protocols": ["tcp"], "to": to, "to_port": 8080}


def listen_ports(forwards, host):
    """wgpf_echo.py's arguments for ``host``: every target port of its forwards (check.yml looks for a listener)."""
    spans = set()
    for fwd in forwards:
        if fwd["to"] != host:
            continue
        low, high = (str(fwd.get("to_port", fwd["port"])).split("-") + [None])[:2]
        for proto in fwd.get("protocols", ["tcp"]):
            spans.add("%s:%s-%s" % (proto, low, high or low))
    return sorted(spans)


def start_echo(host, forwards, echo_py):
    """Listeners on ``host`` for its forwards' target ports (check.yml's 'nothing listens' otherwise)."""
    docker("cp", echo_py, PREFIX + host + ":/usr/local/lib/wgpf_echo.py")
    docker("exec", PREFIX + host, "systemd-run", "--unit", "wgpfs-echo", "--property", "Type=notify",
           "/usr/bin/python3", "/usr/local/lib/wgpf_echo.py", *listen_ports(forwards, host))


def githubixx_inventory(size):
    """githubixx/ansible-role-wireguard's own inventory for the same hosts: a mesh on wg9 (port 51899), beside ours."""
    plan = addresses(size)
    hosts = {}
    for i, name in enumerate(sorted(plan)):
        hosts[name] = {"ansible_connection": "community.docker.docker", "ansible_host": PREFIX + name,
                       "wireguard_address": "10.216.0.%d/24" % (10 + i), "wireguard_endpoint": plan[name][0][1],
                       "wireguard_port": 51899, "wireguard_interface": "wg9"}
    return {"all": {"children": {"githubixx": {"hosts": hosts}}}}


def write_yaml(path, data):
    with open(path, "w") as handle:
        yaml.safe_dump(data, handle, default_flow_style=False, sort_keys=False)
