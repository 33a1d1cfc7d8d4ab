"""Checks of molecule/policy_routing_hub with firewalld on the public and intermediate servers.

Skipped unless the scenario's test_expect has ``firewalld`` (the hosts that run
it, prepared by prepare_firewalld.yml: nftables backend, default zone public
holding the Ethernet interfaces, nothing opened). Real traffic from the client
and firewalld's own view:

- firewalld runs its nftables table with default zone public, and the
  collection's table ``inet wgpf`` stands beside it;
- what the collection added to firewalld is exactly its two policies, with
  exactly the rich rules test_expect lists (running and permanent), and (firewalld
  2.0 or later: Debian 13) its WireGuard interfaces, in no zone before, bound to
  the default zone public, running and permanent, as its record says (firewalld
  1.x: in no zone, no record); every other zone and policy is as prepare wrote it
  down before converge;
- (first verify only; the second, after every container restarted, sees the
  forwards through firewalld in test_forward.py) the forwards answer with the
  client's address, and again (no Ansible run) after `firewall-cmd --reload`, `systemctl restart firewalld`, the WAN
  interface moved to another zone, the default zone changed to ``drop`` (2.x: the
  bound WireGuard interface stays in public; 1.x: the unbound one goes with it), the
  WireGuard interface moved by hand into ``drop``, and all back; the table ``inet wgpf``
  survives the reload and restart;
- a service of public1's own (a port nobody forwards) stays closed to the client;
- (first verify only) with wgpf-forward deleted by hand on the hub (and zone public's intra-zone
  forwarding off, which a bound wg0 would get), the forwards get no answer; (2.x) with wg0 taken out
  of its zone by hand on public1, site.yml reports both as drift and puts them back, and the forwards
  answer again, by the policy alone.
"""

import json
import os
import subprocess

import pytest

from lab import first_verify_only, molecule_inventory
from test_forward import answered
from test_real_servers import answered_cases, wait_for_forwards

BEFORE = "/var/lib/test-firewalld.before"
RECORD = "/etc/wgpf/firewalld-zones.json"  # the bindings the collection made (module_utils/apply/firewalld_zones.py)
OURS = ("wgpf-input", "wgpf-forward")
MARKER = "wgpf-firewalld-done"
LISTING = ("firewall-cmd --list-all-zones; firewall-cmd --list-all-policies; "
           "firewall-cmd --permanent --list-all-zones; firewall-cmd --permanent --list-all-policies")


@pytest.fixture(scope="module")
def fwd(scenario):
    if "firewalld" not in scenario:
        pytest.skip("no firewalld in this scenario")
    return scenario["firewalld"]


def run(host, command):
    cmd = host.run(command)
    assert cmd.rc == 0, "`%s` failed: %s" % (command, cmd.stdout + cmd.stderr)
    return cmd.stdout


def without_ours(listing, bound):
    """firewall-cmd's --list-all-* output without the blocks of the collection's policies and without the
    interfaces it bound (``bound``: {interface: zone}) in their zone's ``interfaces:`` line."""
    out, skip, block = [], False, None
    for line in listing.splitlines():
        if line and not line[0].isspace():
            block = line.split()[0]
            skip = block in OURS
        if line.strip().startswith("interfaces:"):
            names = [name for name in line.split()[1:] if bound.get(name) != block]
            line = line[:line.index("interfaces:")] + " ".join(["interfaces:"] + names)
        if not skip:
            out.append(line)
    return out


def binds(host):
    """firewalld 2.0 or later: the collection binds its WireGuard interfaces that are in no zone."""
    return int(run(host, "firewall-cmd --version").strip().split(".")[0]) >= 2


def zone_of(host, name, permanent=""):
    cmd = host.run("firewall-cmd %s --get-zone-of-interface=%s" % (permanent, name))
    return (cmd.stdout + cmd.stderr).strip()


def test_firewalld_runs_its_nftables_table_beside_the_collections(container, fwd):
    for name in fwd["hosts"]:
        host = container(name)
        assert run(host, "firewall-cmd --state").strip() == "running", name
        assert run(host, "firewall-cmd --get-default-zone").strip() == "public", name
        run(host, "nft list table inet firewalld >/dev/null && nft list table inet wgpf >/dev/null")


# One exec per host (each firewall-cmd costs a Python start): the collection's policies as firewalld holds them,
# running and permanent ("## name", its rich rules, its target and zones), then every zone and policy and what
# prepare wrote down before converge, each part after a "#### " line.
OURS_SCRIPT = ("for p in $(firewall-cmd %(s)s --get-policies); do case $p in wgpf*) echo \"## $p\"; "
               "firewall-cmd %(s)s --policy=$p --list-rich-rules; "
               "firewall-cmd %(s)s --info-policy=$p | grep -E '^  (target|ingress-zones|egress-zones):';; esac; done")
# The zone of each WireGuard interface, running and permanent, and the collection's record of its bindings.
ZONES_SCRIPT = ("for i in $(ls /sys/class/net | grep '^wg'); do echo \"$i running $(firewall-cmd "
                "--get-zone-of-interface=$i 2>&1)\"; echo \"$i permanent $(firewall-cmd --permanent "
                "--get-zone-of-interface=$i 2>&1)\"; done; echo \"record $(cat %s 2>/dev/null || echo '{}')\""
                % RECORD)
STATE_SCRIPT = "; ".join(["echo '#### running'", OURS_SCRIPT % {"s": ""}, "echo '#### permanent'",
                          OURS_SCRIPT % {"s": "--permanent"}, "echo '#### zones'", ZONES_SCRIPT,
                          "echo '#### all'", LISTING, "echo '#### before'", "cat " + BEFORE])


def parse_ours(text):
    """{policy: (rich rules, {target, ingress-zones, egress-zones})} from OURS_SCRIPT's output."""
    out, name = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            name = line[3:]
            out[name] = ([], {})
        elif line.startswith("  ") and ":" in line:
            key, dummy, value = line.strip().partition(":")
            out[name][1][key] = value.strip()
        elif line:
            out[name][0].append(line)
    return out


def test_the_collection_added_exactly_its_two_policies_and_bound_its_interfaces(container, fwd):
    for name, want in fwd["hosts"].items():  # {host: {policy: [rich rule]}}
        host = container(name)
        parts = dict(part.split("\n", 1) for part in run(host, STATE_SCRIPT).split("#### ")[1:])
        # In no zone before converge (prepare bound the Ethernet ones only): firewalld 2.x, in the default
        # zone now, running and permanent, and recorded as the collection's; 1.x: in none still.
        bound = fwd["bound"] if binds(host) else {}
        zones = parts["zones"].splitlines()
        assert zones[:-1] == ["%s %s %s" % (i, scope, bound.get(i, "no zone")) for i in sorted(fwd["bound"])
                              for scope in ("running", "permanent")], "%s: %s" % (name, zones)
        assert json.loads(zones[-1][len("record "):]) == bound, "%s: %s" % (name, zones[-1])
        for scope in ("running", "permanent"):
            found = parse_ours(parts[scope])
            assert sorted(found) == sorted(want), "%s %s: %s" % (name, scope, sorted(found))
            for policy, (rules, info) in found.items():
                assert sorted(rules) == sorted(want[policy]), "%s %s %s: %s" % (name, scope, policy, rules)
                egress = "HOST" if policy == "wgpf-input" else "ANY"
                assert info == {"target": "CONTINUE", "ingress-zones": "ANY", "egress-zones": egress}, info
        # Every zone and every other policy, running and permanent, as before converge.
        assert without_ours(parts["all"], bound) == without_ours(parts["before"], {}), name


def test_forwards_pass_firewalld_after_reload_restart_and_changed_zones(client, container, scenario, fwd):
    first_verify_only(MARKER + "-zones")
    hosts = {name: container(name) for name in fwd["hosts"]}
    wait_for_forwards(client, scenario)
    wan = {name: run(host, "ip -o -4 addr show to %s | awk '{print $2}'" % fwd["wan"][name]).strip()
           for name, host in hosts.items()}
    # wg0's zone: the collection's binding (permanent, firewalld 2.x) survives reload and restart; 1.x: none.
    bound = {name: fwd["bound"]["wg0"] if binds(host) else None for name, host in hosts.items()}
    # (step, the zone of wg0 after it; None: its own, as converge left it)
    steps = [
        ("firewall-cmd --reload", None),
        ("systemctl restart firewalld.service", None),
        # The WAN interface into another zone (runtime, as NetworkManager's zone= of a connection does).
        ("firewall-cmd --zone=%(zone)s --change-interface=%(wan)s", None),
        # The zone that drops everything as default zone: it takes no bound interface (2.x: wg0 stays in
        # public); an interface in no zone (1.x) gets its rules by fallback.
        ("firewall-cmd --set-default-zone=drop", None),
        # wg0 moved by hand into that zone (the policies, ingress and egress ANY, still apply).
        ("firewall-cmd --zone=drop --change-interface=wg0", "drop"),
        ("firewall-cmd --set-default-zone=public && firewall-cmd --zone=public --change-interface=%(wan)s && "
         "%(wg_back)s", None),
    ]
    for step, zone in steps:
        for name, host in hosts.items():
            back = ("firewall-cmd --zone=%s --change-interface=wg0" % bound[name] if bound[name]
                    else "firewall-cmd --zone=drop --remove-interface=wg0")
            run(host, step % {"zone": fwd["zone"][name], "wan": wan[name], "wg_back": back})
        wait_for_forwards(client, scenario, seconds=20)
        for name, host in hosts.items():
            run(host, "nft list table inet wgpf >/dev/null")  # firewalld flushes only its own table
            assert zone_of(host, "wg0") == (zone or bound[name] or "no zone"), (name, step)


# Runs in the client: "open" when a TCP connection to ADDR PORT is accepted.
CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 3); print('open')"
# Runs on the host: a listener on PORT for 30 s, as any service of the host's own.
LISTEN = ("import socket, time; s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, "
          "socket.SO_REUSEADDR, 1); s.bind(('::', %d)); s.listen(); time.sleep(30)")


def test_a_port_of_the_host_nobody_forwards_stays_closed(client, container, fwd):
    """The policies open the listen ports and forwarded flows only: a service of the host's own stays closed."""
    closed = fwd["closed"]
    host = container(closed["host"])
    run(host, "(timeout 40 python3 -c \"%s\" >/dev/null 2>&1 &) ; sleep 1; ss -Htln 'sport = :%d' | grep -q ."
        % (LISTEN % closed["port"], closed["port"]))
    assert "open" in run(host, "python3 -c \"%s\" ::1 %d" % (CONNECT, closed["port"]))  # it listens
    cmd = client.run("python3 -c %s %s %s", CONNECT, closed["addr"], str(closed["port"]))
    assert "open" not in cmd.stdout, "%s:%d answered the client through firewalld" % (closed["addr"], closed["port"])


def site_drift(inventory):
    """{host: the drift lines its apply step reported} of one site.yml run (the JSON callback)."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0")
    done = subprocess.run(["ansible-playbook", "-i", inventory, "wgforward.portforward.site"], capture_output=True,
                          text=True, timeout=600, check=False, env=env)
    assert done.returncode == 0, "site.yml failed: %s" % (done.stdout[-3000:] + done.stderr[-2000:])
    out = json.loads(done.stdout[done.stdout.index("{"):])
    found = {}
    for task in (task for play in out["plays"] for task in play["tasks"]):
        for name, result in task["hosts"].items():
            found.setdefault(name, []).extend(result.get("drift") or [])
    return found


def test_site_repairs_and_reports_the_forward_policy_and_the_binding_removed_by_hand(
        pytestconfig, client, container, scenario, fwd):
    """Without wgpf-forward the hub rejects the forwards: zone public's intra-zone forwarding taken away first
    (permanent, until the end), which a bound wg0 (2.x) gets from it, so that the policy alone is tested. 2.x:
    wg0 also taken out of its zone on public1 (running: its permanent binding would come back with the
    reload the policy's repair takes on the hub, not there). site.yml puts both back and says so, and the
    forwards answer again. First verify only."""
    inventory = molecule_inventory(pytestconfig)
    first_verify_only(MARKER + "-drift")
    name, other = fwd["drift_host"], fwd["zone_drift_host"]
    hub, zone = container(name), fwd["bound"]["wg0"]
    run(hub, "firewall-cmd --permanent --zone=%s --remove-forward && firewall-cmd --permanent "
             "--delete-policy=wgpf-forward && firewall-cmd --reload" % zone)
    try:
        by_hand = binds(container(other))  # 2.x: the collection bound wg0 there
        if by_hand:
            run(container(other), "firewall-cmd --zone=%s --remove-interface=wg0" % zone)
        case = answered_cases(scenario)[0]
        assert answered(client, case, 3), "the forward still answers without wgpf-forward on %s" % name
        lines = site_drift(inventory)
        want = 'firewalld policy wgpf-forward (permanent, /etc/firewalld/policies/wgpf-forward.xml): missing ' \
            'rule family="ipv4" destination address="10.201.4.3" port port="8080" protocol="tcp" accept'
        assert want in lines.get(name, []), "%s: site.yml did not report the deleted policy: %s" % (name, lines)
        if by_hand:
            want = "firewalld zone %s (running): missing interface wg0" % zone
            assert want in lines.get(other, []), "%s: site.yml did not report the binding: %s" % (other, lines)
            assert zone_of(container(other), "wg0") == zone
        wait_for_forwards(client, scenario, seconds=30)
    finally:
        run(hub, "firewall-cmd --permanent --zone=%s --add-forward && firewall-cmd --reload" % zone)
