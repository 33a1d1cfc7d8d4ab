# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the apply step asks the host, and when (issue 20: one added forward at 10,000 forwards).

The table's listing kept after a load (the next run's reference for drift) runs beside the steps that
follow the load and is kept at the end, also when a later step fails; the units' states are asked in one
`systemctl is-active` and one `is-enabled` for all, read as each unit's own exit status would be.
"""

from __future__ import annotations

import pytest

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import applied, live_nft
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError, HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_host import HostApply
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_systemd import Commands, start_query
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout
from fake_host import KEY_FILE, SYSCTLS, apply, converged, nft_file, routes_file, sysctl_file, wg_file

LIST = " ".join(live_nft.LIST_ARGV)
TABLE = "table inet wgpf {\n\tchain c {\n\t\ttcp dport 22 accept\n\t}\n}\n"
TABLE2 = "table inet wgpf {\n\tchain c {\n\t\ttcp dport 23 accept\n\t}\n}\n"


def files(table=TABLE, routes="up() { :; }\n"):
    return [wg_file(), nft_file(table), sysctl_file(), routes_file(routes)]


def commands(host):
    return [" ".join(argv) for argv, dummy in host.calls]


# ------------------------------------------------------------ the listing kept after a load


def test_the_listing_after_a_load_runs_beside_the_steps_that_follow(host):
    converged(host, files())
    # A changed table into the running unit, and a changed routes script reloaded after it.
    apply(host, files(TABLE2, routes="up() { true; }\n"))
    ran = commands(host)
    load = ran.index("nft -f %s" % next(c.split()[-1] for c in ran if c.startswith("nft -f ")))
    reload_routes = ran.index("systemctl reload %s" % layout.ROUTES_UNIT)
    (started, dummy, at_start), (waited, dummy2, at_wait) = [e for e in host.events if e[1] == LIST]
    # Started right after the load (nothing but the unit's questions between), waited for after the later steps.
    assert (started, waited) == ("start", "wait") and ran[at_start - 1] == LIST
    assert all(c.startswith("systemctl is-") for c in ran[load + 1:at_start - 1])
    assert at_start - 1 < reload_routes < at_wait
    # What is kept is the kernel's listing of the loaded table, for that file: the next run compares with it.
    assert host.read(layout.NFT_LISTING) == live_nft.snapshot(nft_file(TABLE2)["content"], host.kernel.nft)
    step, dummy, cmd = apply(host, files(TABLE2, routes="up() { true; }\n"))
    assert not step.changed and step.drift.lines == [] and cmd.actions == []
    host.kernel.nft = host.kernel.nft.replace("dport 23", "dport 24")
    step, dummy, cmd = apply(host, files(TABLE2, routes="up() { true; }\n"))
    assert step.drift.lines and cmd.actions == ["systemctl reload %s" % layout.NFT_UNIT]


def test_the_listing_is_kept_when_a_later_step_fails(host):
    converged(host, files())
    host.fail[("systemctl", "reload", layout.ROUTES_UNIT)] = (1, "routes.sh failed")
    fs = HostFiles(root=str(host.root), chown=False)
    step = HostApply(fs, Commands(host.run, start=host.start))
    params = dict(applied.DEFAULTS, files=files(TABLE2, routes="up() { true; }\n"), key_files={"wg0": KEY_FILE},
                  sysctls=SYSCTLS)
    with pytest.raises(ApplyError, match="routes.sh failed"):
        applied.run(step, fs, params, check_mode=False)
    # The table was loaded: its listing is kept (else the next run would load it once more).
    assert host.read(layout.NFT_LISTING) == live_nft.snapshot(nft_file(TABLE2)["content"], host.kernel.nft)


def test_a_failed_listing_keeps_none_and_the_next_run_loads_the_table_again(host):
    converged(host, files())
    host.fail[tuple(live_nft.LIST_ARGV)] = (1, "netlink: Error")
    step, dummy, dummy2 = apply(host, files(TABLE2))
    assert any("failed: netlink: Error" in text for text in step.warnings)
    del host.fail[tuple(live_nft.LIST_ARGV)]
    step, dummy, cmd = apply(host, files(TABLE2))
    assert cmd.actions == ["systemctl reload %s" % layout.NFT_UNIT]
    assert step.drift.lines == ["nftables table inet wgpf: no listing kept from the last load of %s: it is loaded "
                                "again" % layout.NFT_PATH]


def test_check_mode_starts_no_listing(host):
    converged(host, files())
    apply(host, files(TABLE2), check_mode=True)
    assert host.events == [] and LIST not in commands(host)


def test_the_module_runs_a_query_beside_with_its_output_in_files():
    # A listing of 700 KB (10,000 forwards) never waits for the module to read a pipe.
    wait = start_query(["python3", "-c", "import sys; print('x' * 1000000); sys.stderr.write('e'); sys.exit(3)"])
    rc, out, err = wait()
    assert (rc, len(out), err) == (3, 1000001, "e")
    rc, out, err = start_query(["/nonexistent/wgpf-nft"])()
    assert rc == 127 and "wgpf-nft" in err and out == ""


# ------------------------------------------------------------ units asked at once


class Systemd:
    """A runner that answers systemctl's questions about several units as systemd does: a state a line."""

    def __init__(self, active=(), enabled=(), missing=()):
        self.active, self.enabled, self.missing = dict(active), dict(enabled), set(missing)
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        verb, names = argv[1], [a for a in argv[2:] if a != "--quiet"]
        if verb == "is-active":
            states = [self.active.get(name, "inactive") for name in names]
            return (0 if "active" in states else 3), "".join(s + "\n" for s in states), ""
        lines = []
        for name in names:
            if name in self.missing:  # systemd before 254 stops at a unit without a file
                return 1, "".join(lines), "Failed to get unit file state for %s: No such file" % name
            lines.append(self.enabled.get(name, "disabled") + "\n")
        return 0, "".join(lines), ""


def test_units_are_asked_at_once_and_read_as_their_own_exit_status():
    run = Systemd(active={"a": "active", "b": "reloading", "c": "activating", "d": "failed"},
                  enabled={"a": "enabled", "b": "static", "c": "masked", "d": "enabled-runtime"})
    cmd = Commands(run)
    cmd.ask_units(active=["a", "b", "c", "d"], enabled=["a", "b", "c", "d"])
    assert run.calls == [["systemctl", "is-active", "a", "b", "c", "d"], ["systemctl", "is-enabled", "a", "b", "c", "d"]]
    assert [cmd.is_active(u) for u in "abcd"] == [True, True, False, False]
    assert [cmd.is_enabled(u) for u in "abcd"] == [True, True, False, True]
    assert len(run.calls) == 2
    # A unit not asked is asked alone.
    assert not cmd.is_active("e") and run.calls[-1] == ["systemctl", "is-active", "--quiet", "e"]


def test_a_command_that_changes_the_host_drops_the_answers():
    run = Systemd(active={"a": "active"})
    cmd = Commands(run)
    cmd.ask_units(active=["a"])
    cmd.change(["systemctl", "stop", "a"], "a")
    run.active["a"] = "inactive"
    assert not cmd.is_active("a") and run.calls[-1] == ["systemctl", "is-active", "--quiet", "a"]


def test_an_answer_without_a_line_for_each_unit_is_not_used():
    run = Systemd(enabled={"a": "enabled", "c": "enabled"}, missing={"b"})
    cmd = Commands(run)
    cmd.ask_units(enabled=["a", "b", "c"])
    assert [cmd.is_enabled(u) for u in "abc"] == [True, False, True]
    assert run.calls[1:] == [["systemctl", "is-enabled", "--quiet", u] for u in "abc"]


def test_a_run_with_nothing_to_change_asks_systemd_two_questions(host):
    converged(host, files())
    step, dummy, cmd = apply(host, files())
    assert not step.changed and cmd.actions == []
    asked = [c for c in commands(host) if c.startswith("systemctl ")]
    units = [layout.NFT_UNIT, layout.ROUTES_UNIT, "wg-quick@wg0", "systemd-networkd.service"]
    assert asked == ["systemctl is-active " + " ".join(units), "systemctl is-enabled " + " ".join(units)]
