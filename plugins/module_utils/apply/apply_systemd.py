# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands of the apply step: systemd units, sysctl, nft, the WireGuard sync script.

``run(argv)`` returns ``(rc, stdout, stderr)``: the module's run_command on a
host, a fake in the unit tests. Queries always run; in check mode a command
that would change the host is only recorded. ``start_query`` runs a query beside
the module (the table's listing after a load: Commands.query_beside).
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError


# The states for which `systemctl is-active` and `is-enabled` exit 0 (systemd's systemctl-is-active.c and
# systemctl-is-enabled.c): a unit's line in a question about several is read as that exit status would be.
ACTIVE = ("active", "reloading", "refreshing")
ENABLED = ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated")


class Commands:
    def __init__(self, run, check_mode=False, start=None):
        self.run = run
        self.check_mode = check_mode
        self.actions = []
        # start(argv) -> wait() -> (rc, out, err): a query that runs beside what follows (the module's
        # subprocess); without it a query started is run at once.
        self.start = start
        # (verb, unit) -> bool: ask_units' answers, until a command changes the host.
        self._units = {}

    def query(self, argv):
        """Run a query; a unit's `systemctl is-active|is-enabled --quiet` asked already (``ask_units``) is
        answered from that answer, until a command changes the host."""
        if len(argv) == 4 and argv[:1] == ["systemctl"] and argv[2] == "--quiet":
            known = self._units.get((argv[1], argv[3]))
            if known is not None:
                return (0 if known else 3), "", ""
        return self.run(argv)

    def ask_units(self, active=(), enabled=()):
        """Ask systemd once for the state of several units (one `systemctl is-active` and one `is-enabled`
        for all, where a run asked each unit one by one: 20 ms a question), answering the queries of
        the step that follows. `is-active` prints a state for every unit named; `is-enabled` may stop at
        a unit without a file (systemd before 254): when the lines are not one a unit, each is asked alone."""
        units = dict(self._units)
        for verb, names, yes in (("is-active", active, ACTIVE), ("is-enabled", enabled, ENABLED)):
            names = [name for name in dict.fromkeys(names) if (verb, name) not in units]
            if not names:
                continue
            dummy, out, dummy2 = self.run(["systemctl", verb] + names)
            lines = out.splitlines()
            if len(lines) == len(names):
                units.update(((verb, name), line.strip() in yes) for name, line in zip(names, lines))
        self._units = units

    def query_beside(self, argv):
        """Start a query that runs while the step goes on; the function returned waits for its answer."""
        if self.start is None:
            answer = self.run(argv)
            return lambda: answer
        return self.start(argv)

    def change(self, argv, what, ok_rcs=(0,)):
        """Run a command that changes the host; fail naming ``what`` (a file or unit)."""
        self.actions.append(" ".join(argv))
        # Whatever it changes (a unit it starts, a script that restarts one), units are asked again.
        self._units = {}
        if self.check_mode:
            return ""
        rc, out, err = self.run(argv)
        if rc not in ok_rcs:
            raise ApplyError("%s: `%s` failed (rc %d): %s" % (what, " ".join(argv), rc, (err or out).strip()))
        return out

    # ------------------------------------------------------------ systemd

    def is_active(self, unit):
        return self.query(["systemctl", "is-active", "--quiet", unit])[0] == 0

    def is_enabled(self, unit):
        return self.query(["systemctl", "is-enabled", "--quiet", unit])[0] == 0

    def systemctl(self, verb, unit):
        self.change(["systemctl", verb, unit], unit)

    def daemon_reload(self):
        self.change(["systemctl", "daemon-reload"], "systemd")

    def ensure_enabled(self, unit):
        if self.is_enabled(unit):
            return False
        self.systemctl("enable", unit)
        return True

    def ensure_started(self, unit, reload_when_running=False):
        """Start a stopped unit; a running one is reloaded only when asked. True when something ran."""
        enabled = self.ensure_enabled(unit)
        if not self.is_active(unit):
            self.systemctl("start", unit)
            return True
        if reload_when_running:
            self.systemctl("reload", unit)
            return True
        return enabled

    def ensure_gone(self, unit):
        """Stop and disable a unit (its ExecStop runs with its files still in place)."""
        active, enabled = self.is_active(unit), self.is_enabled(unit)
        if active or enabled:
            self.change(["systemctl", "disable", "--now", unit], unit)
        return active or enabled

    # ------------------------------------------------------------ others

    def nft_load(self, temp, path):
        """Load the table file ``temp`` (to become ``path``) into the running kernel: one transaction, so a
        rejected table leaves the running one as it was; fail naming ``path``."""
        self.actions.append("nft -f %s" % path)
        rc, out, err = self.run(["nft", "-f", temp])
        if rc != 0:
            raise ApplyError("%s: nft rejected the table, nothing was replaced: %s" % (path, (err or out).strip()))

    def nft_check(self, path, shown_as):
        """Fail naming ``shown_as`` unless `nft -c -f` accepts the table file at ``path``."""
        rc, out, err = self.query(["nft", "-c", "-f", path])
        if rc != 0:
            raise ApplyError("%s: nft -c rejected the table, nothing was replaced: %s" % (shown_as, (err or out).strip()))


def start_query(argv):
    """Start a query that runs while the module goes on (Commands.query_beside): its output
    goes to temporary files, not pipes, so it never waits for the module to read (a table's listing
    is 700 KB at 10,000 forwards). The function returned waits for it: (rc, stdout, stderr)."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    env = dict(os.environ, LANG="C", LC_ALL="C", LC_MESSAGES="C")  # as the module's run_command runs commands
    try:
        # Waited for by wait() below, not in a with block: it runs while the caller goes on.
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)  # pylint: disable=R1732
    except OSError as exc:
        out.close()
        err.close()
        failed = (127, "", "%s: %s" % (argv[0], exc))
        return lambda: failed

    def wait():
        rc = proc.wait()
        texts = []
        for handle in (out, err):
            handle.seek(0)
            texts.append(handle.read().decode("utf-8", "replace"))
            handle.close()
        return rc, texts[0], texts[1]
    return wait
