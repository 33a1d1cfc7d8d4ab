# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own policies in firewalld, where firewalld runs or is enabled.

firewalld's nftables backend keeps every rule of its own in its table
``inet firewalld``; the collection's table ``inet wgpf`` hooks the same places,
and each table decides on its own: a packet firewalld rejects (another zone's
traffic forwarded, input its zone does not allow) is gone, whatever ``inet wgpf``
accepts. So where firewalld is there the collection adds two policies (firewalld
0.9 and later) to its *permanent* configuration, one XML file each under
``/etc/firewalld/policies/``:

- ``wgpf-input``  (ingress ANY, egress HOST): the WireGuard listen ports, UDP;
- ``wgpf-forward`` (ingress ANY, egress ANY): one rich rule per forwarded flow
  (family, destination address, protocol, destination port: what the table's
  forward chain lets through, see firewall_spec.py); replies pass by firewalld's
  own ``ct state established,related accept``.

ANY stands for every zone, now and later, so a changed default zone or an
interface moved to another zone changes nothing; the rules name only the
forwarded services and the listen ports, so nothing else is opened (and the
table ``inet wgpf`` still drops what enters a tunnel from the WAN un-DNAT'd).
Being permanent, firewalld loads them itself at every start and reload: no unit
of the collection follows firewalld. The apply step writes the files, then
compares the rich rules firewalld runs in each policy with the plan and adds or
removes exactly the differences at runtime (no reload: connections in flight and
other tools' runtime rules stay); only a policy to create or delete takes
``firewall-cmd --reload``. What differed is reported as drift.

firewalld 2.x applies a policy only to interfaces bound to a zone (1.x also to
an interface in none, by the default zone's fallback): there each WireGuard
interface of the plan that firewalld has in no zone is bound to the default zone
(firewalld_zones.py, which records the bindings it made). Nothing else of
firewalld's (zones' rules, default zone, other policies, firewalld.conf) is written.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.firewalld_zones import ZONES_PATH, Zones

POLICY_DIR = "/etc/firewalld/policies"
INPUT, FORWARD = "wgpf-input", "wgpf-forward"
NAMES = (INPUT, FORWARD)
UNIT = "firewalld.service"
FAMILY = {"4": "ipv4", "6": "ipv6"}
ZONES = {INPUT: ("ANY", "HOST"), FORWARD: ("ANY", "ANY")}
DESCRIPTION = {
    INPUT: "wgforward.portforward: the WireGuard listen ports of this host. Managed: local changes are overwritten.",
    FORWARD: "wgforward.portforward: the forwarded flows of this host (destination address, protocol, port). "
             "Managed: local changes are overwritten.",
}


def policy_path(name):
    return "%s/%s.xml" % (POLICY_DIR, name)


def _ports(span):
    return str(span["from"]) if span["from"] == span["to"] else "%d-%d" % (span["from"], span["to"])


def rich_rules(spec):
    """{policy: [rich rule]} in firewalld's own spelling (as ``--list-rich-rules`` prints them)."""
    rules = {INPUT: ['rule port port="%d" protocol="udp" accept' % port for port in spec.get("listen_ports", [])],
             FORWARD: []}
    for version, flows in sorted(spec.get("forward", {}).items()):
        for flow in flows:
            rule = 'rule family="%s" destination address="%s" port port="%s" protocol="%s" accept' % (
                FAMILY[str(version)], flow["addr"], _ports(flow["port"]), flow["proto"])
            if rule not in rules[FORWARD]:
                rules[FORWARD].append(rule)
    return {name: found for name, found in rules.items() if found}


def _xml_rule(rule):
    """One rich rule of rich_rules() as the policy file's <rule> element."""
    words = dict(part.split("=", 1) for part in rule.split() if "=" in part)
    family = ' family=%s' % words["family"] if "family" in words else ""
    dest = '\n    <destination address=%s/>' % words["address"] if "address" in words else ""
    return '  <rule%s>%s\n    <port port=%s protocol=%s/>\n    <accept/>\n  </rule>\n' % (
        family, dest, words["port"], words["protocol"])


def policy_texts(spec):
    """{policy name: the XML file's text} for each policy ``spec`` needs (none: no file)."""
    out = {}
    for name, rules in rich_rules(spec).items():
        ingress, egress = ZONES[name]
        out[name] = ('<?xml version="1.0" encoding="utf-8"?>\n'
                     '<policy target="CONTINUE" priority="-1">\n'
                     '  <ingress-zone name="%s"/>\n  <egress-zone name="%s"/>\n'
                     '  <short>%s</short>\n  <description>%s</description>\n%s</policy>\n'
                     % (ingress, egress, name, DESCRIPTION[name], "".join(_xml_rule(r) for r in rules)))
    return out


def file_lines(text):
    """A policy file as comparable lines: its target, priority and zones, then its rules as rich rules
    (what policy_texts writes reads back the same). A file of another shape reads as what it holds of these."""
    if text is None:
        return []
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return ["(not XML)"]
    lines = ["target %s" % root.get("target", "CONTINUE"), "priority %s" % root.get("priority", "-1")]
    lines += ["%s %s" % (zone.tag, zone.get("name")) for zone in root if zone.tag in ("ingress-zone", "egress-zone")]
    for rule in root.findall("rule"):
        words = ["rule"] + (['family="%s"' % rule.get("family")] if rule.get("family") else [])
        for child in rule:
            if child.tag == "destination":
                words.append('destination address="%s"' % child.get("address"))
            elif child.tag == "port":
                words.append('port port="%s" protocol="%s"' % (child.get("port"), child.get("protocol")))
            else:
                words.append(child.tag)
        lines.append(" ".join(words))
    return lines


class Firewalld:
    """firewalld on the host: ``query(argv)`` -> (rc, out, err), ``change(argv)`` runs (or records, in check
    mode); ``fs`` reads and writes files (apply_fs.HostFiles); ``which`` finds firewall-cmd. Injected so that
    the unit tests describe a host with a fake runner."""

    def __init__(self, query, change, fs, which=shutil.which):
        self.query, self.change, self.fs, self.which = query, change, fs, which
        self.zones = Zones(query, change, fs, which)

    def state(self):
        """'running', 'enabled' (stopped, starts at boot: the files are enough), or None (nothing to do)."""
        if not self.which("firewall-cmd"):
            return None
        # systemd's answer, not `firewall-cmd --state`: that starts a Python program (0.3 s) on every
        # host where firewalld is merely installed.
        if self.query(["systemctl", "is-active", "--quiet", UNIT])[0] == 0:
            return "running"
        if self.query(["systemctl", "is-enabled", "--quiet", UNIT])[0] == 0:
            return "enabled"
        return None

    def runtime(self, name):
        """The policy's rich rules firewalld runs now, or None when it has no such policy."""
        rc, out, dummy = self.query(["firewall-cmd", "--policy=%s" % name, "--list-rich-rules"])
        return [line.strip() for line in out.splitlines() if line.strip()] if rc == 0 else None

    def apply(self, spec, report=None, interfaces=()):
        """Make firewalld hold exactly the policies ``spec`` needs, in its files and running, and the WireGuard
        ``interfaces`` in a zone (firewalld_zones.py). ``report(what, live, wanted)`` gets each file, running
        policy and binding to compare (drift: the caller passes it when the plan did not change). Returns what
        was done: files written or removed, firewall-cmd commands run."""
        state = self.state()
        if state is None:
            return []
        # After the policies and their reload, if any: the bindings are then asked as firewalld runs them.
        return self.apply_policies(state, spec, report) + self.zones.apply(state, interfaces, report)

    def apply_policies(self, state, spec, report):
        texts, wanted = policy_texts(spec), rich_rules(spec)
        done = []
        for name in NAMES:
            path = policy_path(name)
            before = self.fs.read(path)
            if name not in texts:
                if self.fs.remove(path):
                    done.append("rm %s" % path)
            elif self.fs.write(path, texts[name], "0644"):
                done.append("write %s" % path)
                if report:
                    report("firewalld policy %s (permanent, %s)" % (name, path), file_lines(before),
                           file_lines(texts[name]))
        if state != "running":
            return done  # firewalld reads the files when it starts
        reload_needed, fixes = False, []
        for name in NAMES:
            live = self.runtime(name)
            if (live is None) != (name not in wanted):
                # A policy to create (new, or deleted by hand) or to delete: only a reload does that.
                reload_needed = True
                continue
            if live is None:
                continue
            if report:
                report("firewalld policy %s (running)" % name, live, wanted[name])
            # A changed forward or port: rule by rule at runtime (the file holds it for the next reload),
            # so connections in flight and other tools' runtime-only rules are not touched.
            fixes += [["firewall-cmd", "--policy=%s" % name, "--remove-rich-rule=%s" % r] for r in live
                      if r not in wanted[name]]
            fixes += [["firewall-cmd", "--policy=%s" % name, "--add-rich-rule=%s" % r] for r in wanted[name]
                      if r not in live]
        for argv in [["firewall-cmd", "--reload"]] if reload_needed else fixes:
            self.change(argv)
            done.append(" ".join(argv))
        return done

    def remove(self):
        """``wgpf_state: absent`` (or no firewall file in the plan): the two policies' files, then a reload
        where firewalld runs, and the bindings of firewalld_zones.py's record. Nothing else of firewalld's is
        touched."""
        done = ["rm %s" % policy_path(name) for name in NAMES if self.fs.remove(policy_path(name))]
        state = self.state() if done or self.fs.exists(ZONES_PATH) else None
        if done and state == "running":
            self.change(["firewall-cmd", "--reload"])
            done.append("firewall-cmd --reload")
        return done + self.zones.remove(state)
