#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_state
short_description: Learn in one call what the wgforward.portforward roles need from a host before planning
version_added: "0.1.0"
description:
  - Gathers the facts the planner reads (the C(network) and C(distribution) collectors of M(ansible.builtin.setup),
    returned as the same C(ansible_facts)).
  - Reports which of the packages the collection needs (wireguard-tools, nftables, iproute2, and conntrack for a
    public server) are not installed,
    asked with C(dpkg-query) or C(rpm) (no package cache, nothing fetched).
  - Reports the public key of each key file under C(/etc/wireguard/wgpf) that
    M(wgforward.portforward.wireguard_key) would leave exactly as it is (a valid key, the file C(0600) and its
    directory C(0700), both owned by root), derived with C(wg pubkey) on its standard input; the roles run
    M(wgforward.portforward.wireguard_key) only for the other interfaces.
  - Lists the preshared key files there that hold a valid key, by path (never their keys), and a SHA-256 digest of
    each key, which tells whether both ends of a link hold the same key without carrying it.
  - Learns which TCP and UDP ports the host's processes listen on (with C(ss -Hlntup), else from C(/proc/net)),
    with the address or interface each is bound to and the names of the processes, and the host's ephemeral
    port range (C(net.ipv4.ip_local_port_range)), returned as the fact C(wgpf_ports). The planner refuses a
    forward whose public port a service of the public server holds, and reserved ports that would leave it too
    few ephemeral ports.
  - Where the host keeps the arguments of its last apply (C(/var/lib/wgpf/applied.json), root only, written by
    M(wgforward.portforward.apply_plan)), runs apply_plan's own run against them in check mode (the same reads of
    files, units, sysctls, the nftables table, rules and routes, firewall hooks, WireGuard interfaces) and returns
    whether nothing would change (RV(in_sync)) with the arguments' digest (RV(applied_digest)), unless
    O(compare_applied) is false.
  - Changes nothing on the host. The private keys are never returned.
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  compare_applied:
    description:
      - Whether to compare the host with the arguments its last apply kept (RV(in_sync), RV(applied_digest)).
      - False for a read that only plans, such as the one of C(playbooks/check.yml); at 10,000 forwards the comparison
        is two thirds of the read (0.7 of 1.1 s on the public server).
    type: bool
    default: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Learn this host's facts, missing packages and public keys in one call
  wgforward.portforward.host_state:
  register: state
"""

RETURN = r"""
os_family:
  description: The distribution family (C(ansible_facts.os_family)).
  returned: always
  type: str
  sample: Debian
missing_packages:
  description: The needed packages that are not installed; null when the family is not supported.
  returned: always
  type: list
  elements: str
  sample: [wireguard-tools]
public_keys:
  description: Public key by interface name, of the key files wireguard_key would not change.
  returned: always
  type: dict
  sample: {wg0: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="}
wg:
  description: Whether C(wg) (wireguard-tools) is installed.
  returned: always
  type: bool
preshared_key_files:
  description: The preshared key files in RV(key_dir) that hold a valid key (paths only, never the keys).
  returned: always
  type: list
  elements: str
  sample: [/etc/wireguard/wgpf/wg0.public1.psk]
preshared_key_digests:
  description:
    - The SHA-256 digest of the key in each file of RV(preshared_key_files) (of its 44 characters). A preshared key
      is 32 random bytes, so its digest tells nothing about it.
  returned: always
  type: dict
  sample: {/etc/wireguard/wgpf/wg0.public1.psk: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
applied_digest:
  description: The SHA-256 digest of the arguments the host's last apply kept (every option of apply_plan, the
    preshared keys it received left out).
  returned: when the host keeps them (the module runs as root, and an apply succeeded there) and O(compare_applied)
  type: str
in_sync:
  description:
    - True when apply_plan with the kept arguments would change nothing on the host now, found no drift, every read
      it makes answered, and the private key of each of its interfaces is settled (RV(public_keys)).
  returned: when the host keeps the arguments of its last apply and O(compare_applied)
  type: bool
key_dir:
  description: The directory the keys were read from.
  returned: always
  type: str
  sample: /etc/wireguard/wgpf
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.facts import ansible_collector, default_collectors
from ansible.module_utils.facts.namespace import PrefixFactNamespace

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import applied, host_state, listening
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_systemd import Commands
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout


ARGUMENT_SPEC = {"compare_applied": {"type": "bool", "default": True}}


def gather_facts(module):
    """setup's collectors for host_state.FACT_SUBSET, in setup's own format."""
    collector = ansible_collector.get_ansible_collector(
        all_collector_classes=default_collectors.collectors,
        namespace=PrefixFactNamespace(namespace_name="ansible", prefix="ansible_"),
        filter_spec=["*"], gather_subset=host_state.FACT_SUBSET, gather_timeout=10,
        minimal_gather_subset=frozenset())
    return collector.collect(module=module)


def run_module(module, key_dir=layout.KEY_DIR, root="/"):
    facts = gather_facts(module)
    os_family = facts.get("ansible_os_family")

    def query(argv):
        # Exits non-zero when a package is unknown to dpkg; the output still lists the installed ones.
        return module.run_command(argv)[1]

    wg = module.get_bin_path("wg")
    ss = module.get_bin_path("ss")

    def run_ss(args):
        if not ss:
            return None
        rc, out, dummy = module.run_command([ss] + args)
        return out if rc == 0 else None

    # Beside the gathered facts, so the planner finds it (also for hosts read by delegation) as
    # ansible_facts.wgpf_ports; the ansible_ prefix keeps it out of the wgpf_ variables.
    facts["ansible_wgpf_ports"] = listening.wgpf_ports(run_ss)

    def pubkey(private):
        module.no_log_values.add(private)
        rc, out, dummy = module.run_command([wg, "pubkey"], data=private)
        return out.strip() if rc == 0 else None

    # Without wg (not installed yet) no key is settled: wireguard_key runs after the packages.
    public_keys = host_state.settled_keys(key_dir, pubkey) if wg else {}
    module.exit_json(
        changed=False, ansible_facts=facts, os_family=os_family, key_dir=key_dir, wg=bool(wg),
        missing_packages=host_state.missing_packages(os_family, query), public_keys=public_keys,
        **_preshared(key_dir), **(_applied(module, root, public_keys) if module.params["compare_applied"] else {}))


def _applied(module, root, public_keys):
    """The last apply's arguments compared with the host by apply_plan's own run, in check mode (applied.py)."""
    def run(argv):
        # A command missing since the apply (a package removed) is a failed read here, not a failed read step.
        try:
            return module.run_command(argv, handle_exceptions=False)
        except OSError as exc:
            return 127, "", str(exc)
    return applied.in_sync(HostFiles(root=root, check_mode=True), Commands(run, check_mode=True), public_keys)


def _preshared(key_dir):
    digests = host_state.preshared_digests(key_dir)
    return {"preshared_key_files": sorted(digests), "preshared_key_digests": digests}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module)


if __name__ == "__main__":
    main()
