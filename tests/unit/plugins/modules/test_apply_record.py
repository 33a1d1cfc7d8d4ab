# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apply step's record of the host's own values (apply_host.py with host_record.py): reserved ports
merged and given back, sysctls restored on removal, accept_ra only where it was 1, and the conntrack
entries of new or changed UDP forwards deleted. A temporary directory stands for the host's root,
including /proc/sys, and a fake runner applies `sysctl` to it and answers `conntrack -L`."""

from __future__ import annotations

import json
import stat

import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import host_record as R
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError, HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_host import HostApply
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_record import sysctl_path
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_systemd import Commands
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout

HEAD = "%s for host h1: local changes are overwritten.\n" % layout.HEADER
RES = "net.ipv4.ip_local_reserved_ports"
FWD = "net.ipv4.ip_forward"
RA = "net.ipv6.conf.eth0.accept_ra"
CONNTRACK = "/usr/sbin/conntrack"
STALE = ("udp      17 29 src=192.0.2.2 dst=192.0.2.3 sport=40000 dport=%d [UNREPLIED] src=192.0.2.3 dst=192.0.2.2 "
         "sport=%d dport=40000 mark=0 use=1\n")


class FakeHost:
    def __init__(self, root):
        self.root = root
        self.calls = []
        self.conntrack = {"ipv4": "", "ipv6": ""}

    def proc(self, key):
        return self.root / sysctl_path(key).lstrip("/")

    def set(self, key, value):
        self.proc(key).parent.mkdir(parents=True, exist_ok=True)
        self.proc(key).write_text(value + "\n")

    def get(self, key):
        return self.proc(key).read_text().strip()

    def run(self, argv):
        self.calls.append(list(argv))
        if argv[:3] == ["sysctl", "--quiet", "--load"]:
            for line in (self.root / argv[3].lstrip("/")).read_text().splitlines():
                if " = " in line and not line.startswith("#"):
                    self.set(*line.split(" = "))
        elif argv[:3] == ["sysctl", "--quiet", "--write"]:
            self.set(*argv[3].split("=", 1))
        elif argv[0] == CONNTRACK and argv[1] == "-L":
            return 0, self.conntrack[argv[3]], ""
        elif argv[:2] == ["systemctl", "is-active"] or argv[:2] == ["systemctl", "is-enabled"]:
            return 3, "", ""
        return 0, "", ""

    def changes(self):
        return [" ".join(a) for a in self.calls if a[:2] not in (["systemctl", "is-active"], ["systemctl", "is-enabled"])
                and a[1:2] != ["-L"]]


@pytest.fixture
def host(tmp_path):
    fake = FakeHost(tmp_path)
    fake.set(FWD, "0")
    fake.set(RES, "1000,2001-2003")
    fake.set(RA, "1")
    return fake


def dropin(values):
    return {"path": layout.SYSCTL_PATH, "mode": "0644", "kind": "sysctl",
            "content": HEAD + "".join("%s = %s\n" % kv for kv in sorted(values.items()))}


def dnat(*rows):
    return {"4": [{"saddr": None, "proto": proto, "port": {"from": port, "to": port}, "daddr": daddr,
                   "dport": {"from": 8080, "to": 8080}} for proto, port, daddr in rows], "6": []}


def apply(host, sysctls=None, rows=(), state="present", check_mode=False, as_text=False):
    fs = HostFiles(root=str(host.root), check_mode=check_mode, chown=False)
    step = HostApply(fs, Commands(host.run, check_mode=check_mode),
                     which=lambda name: CONNTRACK if name == "conntrack" else None)
    host.calls = []
    if state == "absent":
        step.absent()
    else:
        files = [dropin(sysctls)] if sysctls else []
        rows = dnat(*rows)
        step.present(files, {}, sysctls or {}, check_mode=check_mode, dnat=R.rows_text(rows) if as_text else rows)
    return step, fs


WANTED = {FWD: "1", RES: "2000,2001", RA: "2"}


def record(host):
    path = host.root / layout.RECORD_PATH.lstrip("/")
    return json.loads(path.read_text()) if path.exists() else None


def test_the_drop_in_and_the_kernel_hold_the_hosts_reservations_plus_the_forwarded_ports(host):
    step, fs = apply(host, WANTED)
    assert host.get(RES) == "1000,2000-2003"
    assert "%s = 1000,2000-2003\n" % RES in (host.root / layout.SYSCTL_PATH.lstrip("/")).read_text()
    rec = record(host)
    assert rec["reserved_added"] == "2000"
    assert rec["sysctls"][FWD] == {"before": "0", "set": "1"}
    mode = (host.root / layout.RECORD_PATH.lstrip("/")).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE((host.root / layout.RECORD_DIR.lstrip("/")).stat().st_mode) == 0o700
    step, fs = apply(host, WANTED)
    assert not step.changed and host.changes() == []


def test_absent_gives_everything_back_and_a_second_absent_changes_nothing(host):
    apply(host, WANTED)
    host.set(RES, host.get(RES) + ",7000")  # reserved by the host meanwhile: stays
    step, fs = apply(host, state="absent")
    assert step.changed
    assert (host.get(FWD), host.get(RES), host.get(RA)) == ("0", "1000,2001-2003,7000", "1")
    assert not (host.root / layout.RECORD_DIR.lstrip("/")).exists()
    assert not (host.root / layout.SYSCTL_PATH.lstrip("/")).exists()
    step, fs = apply(host, state="absent")
    assert not step.changed and host.changes() == []


def test_a_forward_removed_gives_back_its_port_and_a_sysctl_no_longer_planned_its_value(host):
    apply(host, WANTED)
    apply(host, {RES: "2001"})
    assert host.get(RES) == "1000,2001-2003" and host.get(FWD) == "0" and host.get(RA) == "1"
    assert record(host) is None  # nothing of the host's is changed any more


def test_accept_ra_stays_0_where_the_host_configures_ipv6_statically(host):
    host.set(RA, "0")
    apply(host, WANTED)
    assert host.get(RA) == "0"
    assert "accept_ra" not in (host.root / layout.SYSCTL_PATH.lstrip("/")).read_text()


def test_the_record_is_written_before_any_sysctl_changes(host):
    path = host.root / layout.RECORD_PATH.lstrip("/")
    seen = []
    run = host.run

    def spy(argv):
        if argv[0] == "sysctl":
            seen.append(path.exists())
        return run(argv)
    host.run = spy
    apply(host, WANTED)
    assert seen == [True]


def test_check_mode_changes_no_value_and_writes_no_record(host):
    step, fs = apply(host, WANTED, check_mode=True)
    assert step.changed and host.get(RES) == "1000,2001-2003" and record(host) is None


def test_a_corrupt_record_fails_before_any_change(host):
    path = host.root / layout.RECORD_PATH.lstrip("/")
    path.parent.mkdir(parents=True)
    path.write_text("{")
    with pytest.raises(ApplyError, match="record.json: not the record"):
        apply(host, WANTED)
    assert host.get(FWD) == "0"


def test_stale_conntrack_entries_of_a_new_udp_forward_are_deleted_once(host):
    host.conntrack["ipv4"] = STALE % (2000, 2000) + STALE % (2999, 2999)
    apply(host, WANTED, rows=[("udp", 2000, "10.0.0.3"), ("tcp", 2000, "10.0.0.3")])
    deletes = [c for c in host.changes() if c.startswith(CONNTRACK)]
    assert deletes == ["%s -D -f ipv4 -p udp --orig-port-dst 2000" % CONNTRACK]
    # Unchanged DNAT: nothing is listed or deleted again.
    apply(host, WANTED, rows=[("udp", 2000, "10.0.0.3"), ("tcp", 2000, "10.0.0.3")])
    assert not [c for c in host.calls if c[0] == CONNTRACK]
    # The forward moves to another address: its entries go again.
    apply(host, WANTED, rows=[("udp", 2000, "10.0.0.4"), ("tcp", 2000, "10.0.0.3")])
    assert [c for c in host.changes() if c.startswith(CONNTRACK)] == deletes
    # The same rows as the apply action sends them (one string): unchanged, nothing listed again.
    apply(host, WANTED, rows=[("udp", 2000, "10.0.0.4"), ("tcp", 2000, "10.0.0.3")], as_text=True)
    assert not [c for c in host.calls if c[0] == CONNTRACK]
    apply(host, WANTED, rows=[("udp", 2000, "10.0.0.5"), ("tcp", 2000, "10.0.0.3")], as_text=True)
    assert [c for c in host.changes() if c.startswith(CONNTRACK)] == deletes
