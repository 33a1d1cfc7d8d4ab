# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apply steps' look at the live state: what differs from the host's files, so a run repairs it.

A mixin of HostApply (apply_host.py), which gives it ``fs``, ``cmd`` and ``drift``
(drift.Drift). A file that changes is applied whatever runs; these compare a
file that did not change with what runs, in the same module call (reads only,
so check mode sees the same): the nftables table with the listing kept from its
last load (live_nft.py), the rules, routes and interface sysctls of routes.sh
(live_routes.py), each WireGuard interface (live_wg.py) and the firewall hooks
(what firewall_hooks.py had to insert or delete). Each read is one command for
the whole host (``ip -j address``, ``wg show all dump``, per family ``ip rule``
and ``ip route show table all``), made once a run and again only after a step
changed what it shows.
"""

from __future__ import annotations

import ipaddress
import json

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import live_nft, live_routes, live_wg
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_record import sysctl_path
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.drift import differences
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.host_record import normalize
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout

NFT_WHAT = "nftables table inet %s" % layout.NFT_TABLE


class LiveSteps:
    """Reads of the live state (cached for the run), compared with the files that did not change."""

    _live = None
    warnings = None

    def forget_live(self):
        """Drop what was read: a step changed the host, the next comparison reads again."""
        self._live = {}

    def _read(self, argv, retry=None):
        """A command's output, once a run (``retry``: the older spelling, when the host's tool lacks an option)."""
        if self._live is None:
            self._live = {}
        key = tuple(argv)
        if key not in self._live:
            rc, out, err = self.cmd.query(argv)
            if rc != 0 and retry:
                rc, out, err = self.cmd.query(retry)
            self._live[key] = out if rc == 0 else None
            if rc != 0:
                self.warn("`%s` failed (rc %d): %s" % (" ".join(argv), rc, (err or out or "").strip()))
        return self._live[key]

    def _json(self, argv, retry=None):
        out = self._read(argv, retry)
        try:
            return json.loads(out) if out else []
        except ValueError:
            self.warn("`%s` printed no JSON: the live state it shows is not compared" % " ".join(argv))
            return []

    def warn(self, text):
        if self.warnings is None:
            self.warnings = []
        if text not in self.warnings:
            self.warnings.append(text)

    # ------------------------------------------------------------ nftables

    def nft_drift(self, content):
        """True when the table differs from what the file loaded (or nothing kept says what it loaded)."""
        kept = live_nft.loaded_listing(self.fs.read(layout.NFT_LISTING), content)
        rc, out, dummy = self.cmd.query(live_nft.LIST_ARGV)
        if kept is None:
            self.drift.lines.append("%s: no listing kept from the last load of %s: it is loaded again"
                                    % (NFT_WHAT, layout.NFT_PATH))
            return True
        live = live_nft.describe(out) if rc == 0 else []
        return self.drift.add(NFT_WHAT if rc == 0 else NFT_WHAT + " (not loaded)", live, live_nft.describe(kept))

    def keep_nft_listing(self, content):
        """What the kernel lists right after a load of ``content``: the next run compares with it.

        The listing is started here, right after the load, and kept at the end of the run
        (``keep_pending``): the kernel's table is the loaded one from here on (nothing of the
        step touches the collection's table again), so the listing is the same whenever it runs,
        and the rest of the step (routes, sysctls, firewall, interfaces, the arguments kept) runs
        beside it (0.5 s of nft at 10,000 forwards)."""
        if self.cmd.check_mode:
            return
        self._pending_listing = (content, self.cmd.query_beside(live_nft.LIST_ARGV))

    _pending_listing = None

    def keep_pending(self):
        """Wait for the listing started after a load and keep it (also after a later step failed: the
        table was loaded all the same). A failed listing keeps none: the next run loads the file again."""
        pending, self._pending_listing = self._pending_listing, None
        if pending is None:
            return
        content, wait = pending
        rc, out, err = wait()
        if rc != 0:
            self.warn("the table was loaded, but `%s` failed: %s" % (" ".join(live_nft.LIST_ARGV), (err or out).strip()))
            return
        self.fs.ensure_dir(layout.RECORD_DIR, "0700")
        self.fs.write(layout.NFT_LISTING, live_nft.snapshot(content, out), "0600", show=False)

    # ------------------------------------------------------------ routes and rules

    def live_routes(self, family):
        entries = self._json(["ip", "-N", "-%d" % family, "-j", "route", "show", "table", "all"],
                             ["ip", "-%d" % family, "-j", "route", "show", "table", "all"])
        return [r for r in (live_routes.route_from_json(e, family) for e in entries) if r is not None]

    def live_rules(self, family):
        entries = self._json(["ip", "-N", "-%d" % family, "-j", "rule", "show"], ["ip", "-%d" % family, "-j", "rule", "show"])
        return [live_routes.rule_from_json(e, family) for e in entries]

    def _if_sysctls(self, want):
        """(live, wanted) lines of the interface sysctls routes.sh sets, on the interfaces that exist now
        (one that comes up later runs routes.sh from its PostUp)."""
        live, wanted = [], []
        for ifname, key, value in want["sysctls"]:
            if self.fs.exists("/proc/sys/net/ipv4/conf/%s" % ifname):
                wanted.append("sysctl %s = %s" % (key, value))
                live.append("sysctl %s = %s" % (key, normalize(self.fs.read(sysctl_path(key)) or "")))
        return live, wanted

    def routes_drift(self, content, wg_names):
        """(something is missing, [argv deleting each extra rule or route]) of an unchanged routes.sh."""
        want = live_routes.wanted(content)
        rules = self.live_rules(4) + self.live_rules(6)
        routes = self.live_routes(4) + self.live_routes(6)
        live, wanted, deletes = live_routes.compared(want, rules, routes, wg_names)
        live_sysctls, wanted_sysctls = self._if_sysctls(want)
        live, wanted = live + live_sysctls, wanted + wanted_sysctls
        if not self.drift.add("routes and rules of %s" % layout.ROUTES_PATH, live, wanted):
            return False, []
        missing, extra = differences(live, wanted)
        return bool(missing), [deletes[line] for line in extra if line in deletes]

    # ------------------------------------------------------------ WireGuard

    def covered(self, table, net, dev):
        """Whether a route of ``dev`` in ``table`` carries the network ``net``."""
        net = ipaddress.ip_network(net)
        return any(r["table"] == table and r["dev"] == dev and net.subnet_of(r["dst"])
                   for r in self.live_routes(net.version) if r["dst"].version == net.version)

    def wg_dump(self):
        """The running WireGuard interfaces (live_wg.parse_dump): the dump holds keys, so its text is parsed
        at once and not kept."""
        if self._live is None:
            self._live = {}
        if "wg dump" not in self._live:
            rc, out, dummy = self.cmd.query(live_wg.DUMP_ARGV)
            self._live["wg dump"] = live_wg.parse_dump(out if rc == 0 else "")
        return self._live["wg dump"]

    def wg_drift(self, item):
        """(kinds of what differs, [public keys whose preshared key to clear]) of an unchanged config."""
        name, conf = item["interface"], live_wg.parse_config(item["content"])
        dump = self.wg_dump()
        links = live_wg.parse_links(self._json(live_wg.ADDR_ARGV))
        live = live_wg.live_lines(name, conf, dump, links, self.covered)
        wanted = live_wg.wanted_lines(name, conf)
        if not self.drift.add("WireGuard interface %s" % name, [line for dummy, line in live],
                              [line for dummy, line in wanted]):
            return set(), []
        missing, extra = differences([line for dummy, line in live], [line for dummy, line in wanted])
        peers = (dump.get(name) or {}).get("peers", {})
        clear = sorted(key for key, peer in peers.items()
                       if peer["psk"] and key in conf["peers"] and not conf["peers"][key]["psk"])
        return live_wg.kinds(live, wanted, missing, extra), clear

    # ------------------------------------------------------------ firewall hooks

    def report_firewall(self, done):
        """The accepts firewall_hooks had to insert (missing) or delete (extra), as drift."""
        live, wanted = [], []
        for command in done:
            words = command.split()
            binary, verb, chain, args = words[0], words[4], words[5], words[6:]
            args = args[1:] if verb == "-I" else args  # the position
            if "--comment" in args:
                at = args.index("--comment")
                args = args[:at - 2] + args[at + 2:]  # the tag: -m comment --comment wgpf:...
            (wanted if verb == "-I" else live).append("%s %s %s" % (binary, chain, " ".join(args)))
        self.drift.add("accepts in the host's firewall (%s)" % layout.FIREWALL_PATH, live, wanted)
