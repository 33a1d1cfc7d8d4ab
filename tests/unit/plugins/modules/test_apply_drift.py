# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run repairs what changed under it (issue 17 item 1): the apply step against a fake host whose kernel
something changed by hand after a converged run, the files all still as planned.

Each case breaks one thing (fake_kernel.FakeKernel holds what the units put in the kernel, and what `ip`,
`nft -s list` and `wg show all dump` print of it), then: check mode reports it (a drift line naming what is
missing or extra, the command that would repair it) and changes nothing; a real run repairs it with that
command; the run after that changes nothing.
"""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError, HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_host import HostApply
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_systemd import Commands
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout
from ansible_collections.wgforward.portforward.plugins.modules import apply_plan
from fake_host import KEY_FILE, apply, converged, nft_file, routes_file, sysctl_file, wg_file
from fake_kernel import PRIVATE, PSK, rule_entry

TABLE = """table inet wgpf {
\tmap dnat4 {
\t\ttype inet_proto . inet_service : ipv4_addr . inet_service
\t\telements = { tcp . 2000 : 10.0.0.3 . 8080,
\t\t\t     udp . 2000 : 10.0.0.3 . 8080 }
\t}

\tchain prerouting_nat {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tiifname "eth1" meta l4proto { tcp, udp } dnat ip to meta l4proto . th dport map @dnat4
\t}
}
"""
ROUTES = """wanted() {
    route -4 default via 172.31.15.2 dev eth0 table 51901
    rule -4 from 172.31.15.3 ipproto 6 sport 8080 lookup 51900 priority 5100
    if_sysctl wg0 net.ipv4.conf.wg0.rp_filter 2
}
"""
INTERFACE = "[Interface]\nAddress = 10.0.0.1/24\nListenPort = 51821\nTable = 51900\n"
PEER = ("\n[Peer]\n# h2\nPublicKey = pub2\nPresharedKey = %s\nEndpoint = 192.0.2.1:51822\nAllowedIPs = 10.0.0.2/32, "
        "0.0.0.0/0\nPersistentKeepalive = 25\n" % PSK)
REPLY_RULE = "-4 priority 5100 from 172.31.15.3/32 ipproto 6 sport 8080 lookup 51900"
RETURN_ROUTE = "-4 default via 172.31.15.2 dev eth0 table 51901"
NFT_RELOAD = "systemctl reload %s" % layout.NFT_UNIT
ROUTES_RELOAD = "systemctl reload %s" % layout.ROUTES_UNIT
SYNC = "%s wg0 %s" % (layout.SYNC_SCRIPT, KEY_FILE)
RESTART = ["systemctl stop wg-quick@wg0", "systemctl start wg-quick@wg0"]


def lab_files(peers=PEER):
    return [wg_file(interface=INTERFACE, peers=peers), nft_file(TABLE), sysctl_file(), routes_file(ROUTES)]


def peer(host):
    return host.kernel.wg["wg0"]["peers"][0]


def rule(host, words):
    return [r for r in host.kernel.rules[4] if r == rule_entry(words)][0]


def without_element(host):
    before = host.kernel.nft
    host.kernel.nft = before.replace("tcp . 2000 : 10.0.0.3 . 8080,\n\t\t\t     ", "")
    assert host.kernel.nft != before


def with_rule_in_chain(host):
    host.kernel.nft = host.kernel.nft.replace("policy accept;\n", "policy accept;\n\t\tcounter drop\n")


def set_route(host, **changes):
    route = [r for r in host.kernel.routes[4] if r.get("table") == "51901" and r.get("dev") == "eth0"][0]
    route.update(changes)


def set_proc(host, key, value):
    (host.root / "proc/sys" / key.replace(".", "/")).write_text(value + "\n")


# (id, what breaks it, the commands that repair it, a line the drift report must hold)
CASES = [
    ("dnat element deleted", without_element, [NFT_RELOAD],
     "nftables table inet wgpf: missing map dnat4 element tcp . 2000 : 10.0.0.3 . 8080"),
    ("table deleted", lambda h: setattr(h.kernel, "nft", None), [NFT_RELOAD],
     "nftables table inet wgpf (not loaded): missing chain prerouting_nat: type nat hook prerouting"),
    ("rule added to a chain", with_rule_in_chain, [NFT_RELOAD],
     "nftables table inet wgpf: extra chain prerouting_nat: counter drop"),
    ("listing of the last load lost", lambda h: (h.root / layout.NFT_LISTING.lstrip("/")).unlink(), [NFT_RELOAD],
     "nftables table inet wgpf: no listing kept from the last load of /etc/wgpf/wgpf.nft"),
    ("reply rule deleted",
     lambda h: h.kernel.rules[4].remove(rule(h, REPLY_RULE.split()[1:])), [ROUTES_RELOAD],
     "routes and rules of /etc/wgpf/routes.sh: missing " + REPLY_RULE),
    ("return route deleted", lambda h: h.kernel.routes[4].remove(
        [r for r in h.kernel.routes[4] if r.get("dev") == "eth0"][0]),
     [ROUTES_RELOAD], "routes and rules of /etc/wgpf/routes.sh: missing " + RETURN_ROUTE),
    ("return route via another gateway", lambda h: set_route(h, gateway="172.31.15.254"),
     ["ip -4 route del default via 172.31.15.254 dev eth0 table 51901", ROUTES_RELOAD],
     "routes and rules of /etc/wgpf/routes.sh: extra -4 default via 172.31.15.254 dev eth0 table 51901"),
    ("extra rule in the collection's priority",
     lambda h: h.kernel.rules[4].append(rule_entry(["from", "10.9.9.9", "lookup", "100", "priority", "5100"])),
     ["ip -4 rule del priority 5100 from 10.9.9.9/32 lookup 100"],
     "routes and rules of /etc/wgpf/routes.sh: extra -4 priority 5100 from 10.9.9.9/32 lookup 100"),
    ("extra route in the collection's table",
     lambda h: h.kernel.routes[4].append({"dst": "10.9.0.0/24", "gateway": "172.31.15.9", "dev": "eth0",
                                          "table": "51900", "flags": []}),
     ["ip -4 route del 10.9.0.0/24 via 172.31.15.9 dev eth0 table 51900"],
     "routes and rules of /etc/wgpf/routes.sh: extra -4 10.9.0.0/24 via 172.31.15.9 dev eth0 table 51900"),
    ("interface rp_filter changed", lambda h: set_proc(h, "net.ipv4.conf.wg0.rp_filter", "1"), [ROUTES_RELOAD],
     "routes and rules of /etc/wgpf/routes.sh: missing sysctl net.ipv4.conf.wg0.rp_filter = 2"),
    ("running sysctl changed", lambda h: set_proc(h, "net.ipv4.ip_forward", "0"),
     ["sysctl --quiet --load %s" % layout.SYSCTL_PATH],
     "running sysctls (/etc/sysctl.d/90-wgpf.conf): missing net.ipv4.ip_forward = 1"),
    ("peer removed", lambda h: h.kernel.wg["wg0"].update(peers=[]), [SYNC],
     "WireGuard interface wg0: missing wg0 peer h2 allowed-ip 10.0.0.2/32"),
    ("allowed IP removed", lambda h: peer(h)["allowed"].remove("10.0.0.2/32"), [SYNC],
     "WireGuard interface wg0: missing wg0 peer h2 allowed-ip 10.0.0.2/32"),
    ("endpoint changed", lambda h: peer(h).update(endpoint="192.0.2.7:51822"), [SYNC],
     "WireGuard interface wg0: extra wg0 peer h2 endpoint 192.0.2.7:51822"),
    ("keepalive off", lambda h: peer(h).update(keepalive="off"), [SYNC],
     "WireGuard interface wg0: missing wg0 peer h2 keepalive 25"),
    ("preshared key cleared", lambda h: peer(h).update(psk=False), [SYNC],
     "WireGuard interface wg0: missing wg0 peer h2 preshared key set"),
    ("extra peer", lambda h: h.kernel.wg["wg0"]["peers"].append(
        {"key": "pub9", "psk": False, "endpoint": "(none)", "allowed": ["10.0.0.9/32"], "keepalive": "off"}),
     [SYNC], "WireGuard interface wg0: extra wg0 peer not in the config #1 allowed-ip 10.0.0.9/32"),
    ("route of an allowed IP deleted", lambda h: h.kernel.routes[4].remove(
        [r for r in h.kernel.routes[4] if r.get("dev") == "wg0" and r["dst"] == "default"][0]), [SYNC],
     "WireGuard interface wg0: missing wg0 route 0.0.0.0/0 in table 51900"),
    ("interface down", lambda h: h.kernel.wg["wg0"].update(up=False), RESTART,
     "WireGuard interface wg0: extra wg0 is down"),
    ("interface deleted", lambda h: h.kernel.wg_down("wg0"), RESTART,
     "WireGuard interface wg0: extra wg0 does not exist"),
    ("address removed", lambda h: h.kernel.wg["wg0"]["conf"].update(addresses=[]), RESTART,
     "WireGuard interface wg0: missing wg0 address 10.0.0.1/24"),
]


@pytest.mark.parametrize("break_it, repair, line", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_drift_is_reported_in_check_mode_then_repaired_then_gone(host, break_it, repair, line):
    files = converged(host, lab_files())
    step, dummy, dummy2 = apply(host, files)
    assert not step.changed and step.drift.lines == [], step.drift.lines
    break_it(host)

    step, fs, cmd = apply(host, files, check_mode=True)
    assert step.changed and any(found.startswith(line) for found in step.drift.lines), step.drift.lines
    assert host.changes() == [], "check mode repaired something"
    assert cmd.actions == repair
    # A diff of the live side and the planned one, but where nothing says what the file loads.
    assert any(d["before_header"].endswith("(live)") for d in fs.diffs) or "no listing kept" in line
    assert apply(host, files, check_mode=True)[0].drift.lines == step.drift.lines, "check mode repaired it"

    step, fs, dummy = apply(host, files)
    assert step.changed and any(found.startswith(line) for found in step.drift.lines)
    assert host.changes() == repair
    text = json.dumps([fs.diffs, step.drift.lines])
    assert PRIVATE not in text and PSK not in text

    step, fs, dummy = apply(host, files)
    assert not step.changed and step.drift.lines == [] and host.changes() == [], step.drift.lines


def test_a_preshared_key_the_config_does_not_have_is_cleared_without_a_sync(host):
    files = converged(host, lab_files(peers=PEER.replace("PresharedKey = %s\n" % PSK, "")))
    peer(host)["psk"] = True
    step, dummy, dummy2 = apply(host, files)
    assert "WireGuard interface wg0: extra wg0 peer h2 preshared key set" in step.drift.lines
    assert host.changes() == ["wg set wg0 peer pub2 preshared-key /dev/null"]
    assert not apply(host, files)[0].changed


def test_a_run_with_nothing_changed_reads_each_kind_once(host):
    files = converged(host, lab_files())
    apply(host, files)
    reads = [argv for argv, dummy in host.calls if host.kernel.query(argv) is not None]
    assert sorted(" ".join(argv) for argv in reads) == sorted([
        "nft -s list table inet wgpf", "ip -N -4 -j rule show", "ip -N -6 -j rule show",
        "ip -N -4 -j route show table all", "ip -N -6 -j route show table all", "ip -j address show",
        "wg show all dump"])


def test_a_table_the_running_kernel_rejected_is_loaded_by_the_next_run(host):
    """A changed table is loaded from its temporary file before it replaces the old one: rejected (a kernel
    without some feature, a race), neither the file nor the running table changed, and the next run loads it."""
    files = converged(host, lab_files())
    new = lab_files()
    new[1] = nft_file(TABLE.replace("8080", "8081"))
    host.fail[("nft", "-f")] = (1, "Error: Could not process rule: No such file or directory")
    with pytest.raises(ApplyError, match=r"^/etc/wgpf/wgpf.nft: nft rejected the table, nothing was replaced"):
        apply(host, new)
    del host.fail[("nft", "-f")]
    assert host.read(layout.NFT_PATH) == files[1]["content"] and "8081" not in host.kernel.nft
    assert not list((host.root / "etc/wgpf").glob(".wgpf.nft.*")), "the temporary file was left behind"
    step, dummy, cmd = apply(host, new)
    assert cmd.actions == ["nft -f %s" % layout.NFT_PATH] and "8081" in host.kernel.nft
    assert host.read(layout.NFT_PATH) == new[1]["content"]
    assert not apply(host, new)[0].changed


def test_a_table_file_written_without_its_load_is_loaded_by_the_next_run(host):
    """The file holds the plan but the kernel does not (a run killed between the two, a hand edit undone):
    the next run finds the running table differs from its file and reloads it."""
    converged(host, lab_files())
    new = lab_files()
    new[1] = nft_file(TABLE.replace("8080", "8081"))
    (host.root / layout.NFT_PATH.lstrip("/")).write_text(new[1]["content"])
    assert "8081" not in host.kernel.nft
    step, dummy, dummy2 = apply(host, new)
    assert host.changes() == [NFT_RELOAD] and "8081" in host.kernel.nft
    assert not apply(host, new)[0].changed


def test_a_changed_file_is_a_change_of_the_plan_not_drift(host):
    files = converged(host, lab_files())
    without_element(host)
    new = lab_files()
    new[1] = nft_file(TABLE.replace("8080", "8081"))
    step, dummy, cmd = apply(host, new)
    assert cmd.actions == ["nft -f %s" % layout.NFT_PATH] and step.drift.lines == []
    assert "8081" in host.kernel.nft and files


def test_absent_removes_the_kept_listing(host):
    converged(host, lab_files())
    assert host.read(layout.NFT_LISTING).startswith("# loaded from sha256 ")
    apply(host, [], state="absent")
    assert not (host.root / layout.RECORD_DIR.lstrip("/")).exists()


# ------------------------------------------------------------ firewall hooks


def test_a_firewall_accept_deleted_by_hand_is_inserted_again_and_reported(host):
    from fake_iptables import DOCKER, FakeIptables
    spec = ('{"forward": {"4": [{"addr": "10.0.0.3", "proto": "tcp", "port": {"from": 8080, "to": 8080}, '
            '"iifs": ["eth0"], "dnat": true}]}, "listen_ports": [], "outbound": []}\n')
    item = {"path": layout.FIREWALL_PATH, "mode": "0644", "kind": "firewall",
            "content": "# Managed by wgforward.portforward\n" + spec}
    ipt = FakeIptables({"iptables-nft": DOCKER})
    plain = host.run

    def run(argv):
        if argv[0].startswith("iptables"):
            host.calls.append((list(argv), {}))
            return (0, ipt.change(argv), "") if argv[4] in ("-I", "-D") else ipt.query(argv)
        return plain(argv)

    def once(check_mode=False):
        fs = HostFiles(root=str(host.root), check_mode=check_mode, chown=False)
        step = HostApply(fs, Commands(run, check_mode=check_mode), which=ipt.which)
        host.calls = []
        step.present([item], {}, {}, check_mode=check_mode)
        return step

    once()
    tagged = ipt.tagged()
    ipt.tables["iptables-nft"] = [line for line in ipt.tables["iptables-nft"] if "--sport" not in line]
    step = once(check_mode=True)
    assert len(ipt.tagged()) == len(tagged) - 1, "check mode inserted the rule"
    want = ("accepts in the host's firewall (/etc/wgpf/firewall.json): missing iptables-nft DOCKER-USER -o eth0 "
            "-s 10.0.0.3 -p tcp -m tcp --sport 8080 -m conntrack --ctstate ESTABLISHED -m conntrack --ctstate DNAT "
            "-j ACCEPT")
    assert step.changed and step.drift.lines == [want]
    step = once()
    assert step.changed and step.drift.lines == [want] and len(ipt.tagged()) == len(tagged)
    assert not once().changed


# ------------------------------------------------------------ the module


def test_the_module_returns_the_drift_and_its_diff(monkeypatch, capsys, host):
    files = converged(host, lab_files())
    host.kernel.rules[4].remove(rule(host, REPLY_RULE.split()[1:]))
    monkeypatch.setattr(apply_plan, "HostFiles", lambda root, check_mode: HostFiles(str(host.root), check_mode, False))
    monkeypatch.setattr(apply_plan.AnsibleModule, "run_command", lambda self, argv: host.run(argv))
    monkeypatch.setattr(apply_plan, "start_query", host.start)
    args = {"files": files, "key_files": {"wg0": KEY_FILE}, "sysctls": {"net.ipv4.ip_forward": "1"},
            "_ansible_check_mode": True, "_ansible_diff": True}
    with patch_module_args(args), pytest.raises(SystemExit):
        apply_plan.main()
    result = json.loads(capsys.readouterr().out)
    assert result["changed"] and result["drift"] == ["routes and rules of /etc/wgpf/routes.sh: missing " + REPLY_RULE]
    assert result["actions"] == [ROUTES_RELOAD]
    diff = [d for d in result["diff"] if d["before_header"] == "routes and rules of /etc/wgpf/routes.sh (live)"][0]
    assert REPLY_RULE + "\n" in diff["after"] and REPLY_RULE not in diff["before"]
    assert PRIVATE not in json.dumps(result)
    assert PSK not in json.dumps([result["diff"], result["drift"]])  # the arguments hold it: they are the test's
