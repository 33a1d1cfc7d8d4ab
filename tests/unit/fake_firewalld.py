# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake host's firewalld for the tests of module_utils/apply/firewalld.py and the apply step.

Permanent configuration: the policy files under the tmp root's /etc/firewalld/policies/ (HostFiles).
Runtime: {policy: [rich rule]}, loaded from those files by --reload (and a restart), changed rule by rule
by --add-rich-rule/--remove-rich-rule, read by --list-rich-rules, as firewall-cmd does.
Interfaces' zones: ``bound`` {"running"|"permanent": {interface: zone}}, as firewall-cmd [--permanent] and
firewall-offline-cmd (permanent, firewalld stopped only) bind, unbind and answer them (their exit statuses
and messages as measured with firewalld 1.3 and 2.3.1); a reload drops the runtime-only bindings.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewalld import POLICY_DIR, Firewalld


def rich_of(rule):
    """A policy file's <rule> element in firewall-cmd's spelling."""
    words = ["rule"]
    if rule.get("family"):
        words.append('family="%s"' % rule.get("family"))
    dest = rule.find("destination")
    if dest is not None:
        words.append('destination address="%s"' % dest.get("address"))
    port = rule.find("port")
    words.append('port port="%s" protocol="%s"' % (port.get("port"), port.get("protocol")))
    words.append("accept")
    return " ".join(words)


class FakeFirewalld:
    def __init__(self, root, state="running", installed=True):
        self.fs = HostFiles(str(root), chown=False)
        self.state = state  # running, enabled (stopped), stopped
        self.installed = installed
        self.runtime = {}
        self.changes = []
        self.default_zone = "public"
        self.version = "2.3.1"
        self.bound = {"running": {}, "permanent": {}}
        if state == "running":
            self.reload()

    def reload(self):
        self.runtime = {}
        for entry in self.fs.listdir(POLICY_DIR):
            root = ET.fromstring(self.fs.read("%s/%s" % (POLICY_DIR, entry)))
            self.runtime[entry[:-len(".xml")]] = [rich_of(rule) for rule in root.findall("rule")]
        self.bound["running"] = dict(self.bound["permanent"])

    def zones(self, argv):
        """firewall-cmd [--permanent] and firewall-offline-cmd: interfaces' zones."""
        if argv[0] == "firewall-offline-cmd" and self.state == "running":
            raise AssertionError("firewall-offline-cmd while firewalld runs: %s" % argv)
        if argv[0] == "firewall-cmd" and self.state != "running":
            return 252, "", "FirewallD is not running\n"
        scope = "running" if argv[0] == "firewall-cmd" and argv[1] != "--permanent" else "permanent"
        bound = self.bound[scope]
        words = dict(arg[2:].split("=", 1) if "=" in arg else (arg[2:], "") for arg in argv[1:])
        if "version" in words:
            return 0, self.version + "\n", ""
        if "get-default-zone" in words:
            return 0, self.default_zone + "\n", ""
        if "get-zone-of-interface" in words:
            zone = bound.get(words["get-zone-of-interface"])
            return (0, zone + "\n", "") if zone else (2, "", "no zone\n")
        self.changes.append(" ".join(argv))
        name, zone = words.get("add-interface") or words["remove-interface"], words["zone"]
        if bound.get(name, zone) != zone:
            return 14, "", "Error: ZONE_CONFLICT: '%s' already bound to '%s'\n" % (name, bound[name])
        if "add-interface" in words:
            bound[name] = zone
        elif name in bound:
            del bound[name]
        elif scope == "running":
            return 17, "", "Error: UNKNOWN_INTERFACE: '%s' is not in any zone\n" % name
        return 0, "success\n", ""

    def run(self, argv):
        if argv[:2] == ["systemctl", "is-active"]:
            return (0 if self.state == "running" else 3), "", ""
        if argv[:2] == ["systemctl", "is-enabled"]:
            return (0 if self.state in ("running", "enabled") else 1), "", ""
        zones = ("--get-default-zone", "--version")
        if argv[0] == "firewall-offline-cmd" or "-interface" in argv[-1] or argv[-1] in zones:
            return self.zones(argv)
        self.changes += [" ".join(argv)] if "--list-rich-rules" not in argv else []
        if argv == ["firewall-cmd", "--reload"]:
            self.reload()
            return 0, "success\n", ""
        name = argv[1][len("--policy="):]
        if name not in self.runtime:
            return 11, "", "Error: INVALID_POLICY: %s\n" % name
        verb, dummy, rule = argv[2].partition("=")
        if verb == "--list-rich-rules":
            return 0, "".join(r + "\n" for r in self.runtime[name]), ""
        if verb == "--add-rich-rule":
            self.runtime[name].append(rule)
        elif verb == "--remove-rich-rule":
            self.runtime[name].remove(rule)
        return 0, "success\n", ""

    def which(self, name):
        found = self.installed and name in ("firewall-cmd", "firewall-offline-cmd")
        return "/usr/bin/%s" % name if found else None

    def firewalld(self):
        return Firewalld(self.run, self.run, self.fs, self.which)
