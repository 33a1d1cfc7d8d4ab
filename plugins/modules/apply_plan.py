#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apply_plan
short_description: Apply one host's rendered wgforward.portforward plan in one step
version_added: "0.1.0"
description:
  - Writes the files rendered for this host from its plan (M(wgforward.portforward.apply) renders them) where they differ
    (temporary file beside the target, then one rename; mode and owner root), with the helper units and the
    WireGuard sync script they need, then runs exactly what the change needs.
  - The nftables table is checked with C(nft -c) before it replaces the old file, and loaded by
    C(wgpf-nftables.service) (a reload replaces the collection's table only, in one transaction).
  - Sysctls are loaded from the drop-in only when a running value differs from the plan.
  - A WireGuard config whose C([Interface]) section changed (its C(interface_digest)) restarts C(wg-quick@<if>),
    stopped first with the old config in place; a peer-only change is applied to the running interface with
    C(wg syncconf) through C(/usr/local/sbin/wgpf-wg-sync), which reads the key from its file on the host and
    never feeds an empty or keyless config.
  - The routes script holds every route and C(ip rule) that follows peers and forwards (those of the WireGuard
    interfaces too), so a peer or forward change is a C(wg syncconf) plus a reload of C(wgpf-routes.service), and
    C(wg-quick@<if>) restarts only when the interface itself changes (address, key, port, MTU, table). A changed
    script is applied by that reload, which adds the new routes and rules before it deletes the stale ones (those
    the last run applied, listed in C(/run/wgpf/routes.applied)); nothing is flushed. A script without such a
    list (an older release) is taken down by its own C(down) first. Units are enabled; C(daemon-reload) runs
    when a unit file changed.
  - A file that did not change is compared with what runs, in the same call, and what differs is repaired with
    the least that fixes it, reported as a change and in RV(drift); check mode reports it and repairs nothing.
    The reads are the same in check mode; a run where nothing differs reads each kind once (C(nft -s list table),
    C(ip rule) and C(ip route show table all) per family, C(ip address), C(wg show all dump)).
  - The nftables table is compared with the kernel's listing right after the file's last load (kept in
    C(/var/lib/wgpf/nft.listing), root only; elements of sets that rules fill at run time are not compared),
    and reloaded by C(wgpf-nftables.service) when they differ.
  - The rules and routes C(routes.sh) wants are compared with the kernel's, with whatever else sits in the
    collection's rule priorities and tables (those of the script, never main, local or default; the routes of
    the WireGuard interfaces there are wg-quick's, compared with the interface). A missing one, or an interface
    sysctl the script sets, is restored by a reload of C(wgpf-routes.service); an extra one is deleted
    (C(ip rule del), C(ip route del)).
  - The running sysctls are compared with the drop-in (loaded again with C(sysctl --load)), the firewall hooks
    with the accepts the host needs (inserted or deleted again).
  - Each WireGuard interface is compared with its config. Missing, down or without its addresses, C(wg-quick@<if>)
    restarts; its listen port, peers, allowed IPs, endpoints (an address, not a name), keepalives, the preshared
    keys the config has and the routes of the allowed IPs in its C(Table) are put back by the sync script; a
    preshared key the config does not have is cleared.
  - Removes the interfaces, units and files the plan no longer holds; O(state=absent) removes everything the
    collection put on the host, and nothing else, and gives back the sysctl values and reserved ports it recorded.
  - Refuses to replace a WireGuard config the collection did not write (no C(# Managed by wgforward.portforward)
    header line).
  - Never reads a private key file (keys are loaded by the configs' C(PostUp) and by the sync script); diffs
    mask any secret line.
  - A config line C(PresharedKey = <the key in PATH>) (a link with C(wgpf_preshared_key)) is written with the
    preshared key read from PATH on the host, so C(wg-quick up) and C(wg syncconf) both set it; a missing or
    invalid PATH fails before anything is touched (in check mode a missing one is shown as not generated yet).
    The key is masked in the diff and in everything the module returns. A peer whose C(PresharedKey) line went
    away has its key cleared on the running interface after C(wg syncconf), which would keep it.
  - After a run that succeeded (not in check mode), keeps the arguments it applied, less O(preshared_keys), with
    their SHA-256 digest in C(/var/lib/wgpf/applied.json) (root only; the module's own bookkeeping, not reported as a
    change); M(wgforward.portforward.host_state) compares the host with them in the next run's read.
    O(state=absent) removes it.
  - The copies this host keeps of the preshared keys the other ends of its links generate are written from
    O(preshared_keys) first (C(0600), never shown in a diff).
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  state:
    description:
      - V(present) applies O(files); V(absent) removes everything the collection put on the host.
    type: str
    choices: [present, absent]
    default: present
  files:
    description:
      - The host's files rendered from its plan, each with C(path), C(mode), C(kind)
        (wireguard, nftables, sysctl, routes) and C(content); WireGuard configs also with C(interface),
        C(interface_digest) and C(missing_keys).
      - A kind with no file here is removed from the host.
    type: list
    elements: dict
    default: []
  key_files:
    description: The private key file of each WireGuard interface, by interface name (the plan's C(key_file)).
    type: dict
    default: {}
  sysctls:
    description:
      - The plan's sysctls (name to value), compared with the running values.
      - C(net.ipv4.ip_local_reserved_ports) is merged with what the host reserves itself (the drop-in holds the
        merged value); C(accept_ra) is set only on interfaces whose own value is C(1).
      - The host's value of each from before the collection's first change, and the ports the collection added to
        the reservations, are recorded in C(/var/lib/wgpf/record.json) (root only) and given back when the plan no
        longer sets them or O(state=absent) (a value someone else changed since is left as it is).
    type: dict
    default: {}
  dnat:
    description:
      - The plan's DNAT rows (C(nftables.dnat) of the plan, by address family). Where a UDP port's DNAT is new or
        changed since the last run, its conntrack entries are deleted with C(conntrack -D) after the table is
        loaded, so a flow that started before the DNAT is forwarded (only those ports, never a flush; skipped
        where C(conntrack) is not installed).
      - Either that mapping, or the same rows as one string, a row a line (what M(wgforward.portforward.apply)
        sends; at 10,000 forwards the mapping's 12,000 rows cost the module seconds to take in).
    type: raw
    default: {}
  preshared_keys:
    description:
      - This host's copies of preshared keys made at the other end of a link, written (C(0600)) where they
        differ before the configs are filled in. A secret, so its values are masked in everything the module returns.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The copy's file on this host (the C(preshared_key.path) of the plan's peer).
        type: str
        required: true
      value:
        description: The key.
        type: str
        required: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The commands a real run would run are returned in RV(actions); the WireGuard sync is assumed to change
        the running interface.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
requirements:
  - systemd, and on the host C(nft) (nftables), C(sysctl) (procps), C(wg) and C(wg-quick) (wireguard-tools).
notes:
  - Private keys are never in the arguments, the result or the diff.
"""

EXAMPLES = r"""
# The collection's roles call it through wgforward.portforward.apply, which renders the files.
- name: Apply this host's plan
  wgforward.portforward.apply:

- name: Remove everything the collection put on the host
  wgforward.portforward.apply_plan:
    state: absent
"""

RETURN = r"""
actions:
  description: The commands that changed the host (or would, in check mode), in the order they ran.
  returned: always
  type: list
  elements: str
  sample: ["systemctl reload wgpf-nftables.service", "/usr/local/sbin/wgpf-wg-sync wg0 /etc/wireguard/wgpf/wg0.key"]
drift:
  description:
    - What was found running that differs from the files that did not change, one line each, naming the kind
      (the nftables table, the routes and rules of routes.sh, the running sysctls, the firewall hooks, a
      WireGuard interface) and what is missing or extra; never a key (peers are named by their host). With
      C(--diff), each kind's live lines and planned lines are a diff entry too.
  returned: always
  type: list
  elements: str
  sample: ["routes and rules of /etc/wgpf/routes.sh: missing -4 priority 5100 from 172.31.15.3/32 ipproto 6 sport 8080 lookup 51900"]
files:
  description: The paths written or removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/wgpf/wgpf.nft]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import applied
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError, HostFiles
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_host import HostApply
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_systemd import Commands, start_query


def invocation(params):
    """What the result shows of the arguments: the files by path and size, not their content, and the
    number of DNAT rows (echoed whole, 4 MB of arguments at 10,000 forwards came back in every result)."""
    dnat = params["dnat"]
    rows = len(dnat.splitlines()) if isinstance(dnat, str) else sum(len(v) for v in (dnat or {}).values())
    files = [{"path": item.get("path"), "kind": item.get("kind"), "size": len(item.get("content") or "")}
             for item in params["files"] if isinstance(item, dict)]
    return {"module_args": {"state": params["state"], "files": files, "key_files": params["key_files"],
                            "sysctls": sorted(params["sysctls"]), "dnat": "%d rows" % rows,
                            "preshared_keys": [{"path": item["path"]} for item in params["preshared_keys"]]}}


def run_module(module, root="/"):
    fs = HostFiles(root=root, check_mode=module.check_mode)
    cmd = Commands(module.run_command, check_mode=module.check_mode, start=start_query)
    host = HostApply(fs, cmd)
    try:
        # The same run the read makes in check mode against the arguments kept here (applied.py).
        applied.run(host, fs, module.params, module.check_mode)
    except (ApplyError, OSError) as exc:
        module.no_log_values.update(host.secrets)
        module.fail_json(msg=str(exc), changed=host.changed, actions=cmd.actions, files=fs.changed_paths,
                         drift=host.drift.lines, invocation=invocation(module.params))
    # Diffs mask the PresharedKey lines already; this masks the keys anywhere else too.
    module.no_log_values.update(host.secrets)
    for text in host.warnings or []:
        module.warn(text)
    result = {"changed": host.changed, "actions": cmd.actions, "files": fs.changed_paths, "drift": host.drift.lines,
              "invocation": invocation(module.params)}
    if module._diff:
        result["diff"] = fs.diffs
    module.exit_json(**result)


# Every option is covered by the digest of the arguments kept after a run (applied.DEFAULTS names them all).
ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=["present", "absent"]),
    files=dict(type="list", elements="dict", default=[]),
    key_files=dict(type="dict", default={}, no_log=False),  # paths, not keys
    sysctls=dict(type="dict", default={}),
    dnat=dict(type="raw", default={}),  # the plan's mapping, or its rows as one string (host_record.rows_text)
    # The values are secrets (no_log below); the paths are not, and stay readable in the result.
    preshared_keys=dict(type="list", elements="dict", default=[], no_log=False, options=dict(
        path=dict(type="str", required=True),
        value=dict(type="str", required=True, no_log=True))),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module)


if __name__ == "__main__":
    main()
