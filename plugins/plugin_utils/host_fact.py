# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's fact ``wgforward_portforward`` (what the read learned), and its packages.

The fact holds what host_state reported that the other steps need: the public key
of each settled key file, which preshared key files hold a key and their digests
(never a key), whether ``wg`` is there, the missing packages, and ``run``: this
run's identity, so a fact from an earlier run (a fact cache) is read again. It is a
fact, not a variable, so the delegated read of a host outside the play files it
under that host (``delegate_facts``), where every later step and play finds it.

``in_sync`` and ``applied_digest`` say that the host runs exactly what its last apply
applied, and with which arguments (apply/applied.py): the apply step then calls no
module when its arguments have that digest (verified.py). A step of the run that
changes the host after the read (packages, keys) sets ``in_sync`` false in the fact.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.packages import PACKAGES, needed_packages
from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import host_where

STATE_KEYS = ("public_keys", "key_dir", "wg", "preshared_key_files", "preshared_key_digests", "missing_packages",
              "os_family", "applied_digest", "in_sync")
PACKAGES_TAG = "wgpf_packages"


def from_state(state, run_id):
    """The fact from host_state's result."""
    fact = {key: state.get(key) for key in STATE_KEYS}
    fact["public_keys"] = dict(fact["public_keys"] or {})
    fact["preshared_key_digests"] = dict(fact["preshared_key_digests"] or {})
    fact["preshared_key_files"] = sorted(fact["preshared_key_files"] or fact["preshared_key_digests"])
    fact["run"] = run_id
    fact["in_sync"] = fact["in_sync"] is True
    return fact


def install_wanted(explicit, host_vars, role):
    """Whether packages are installed on a host: the role's value when the task gives one, else the
    host's wireguard_<role>_install_packages from the inventory, else true."""
    if explicit is not None:
        return boolean(explicit)
    return boolean(host_vars.get("wireguard_%s_install_packages" % role, True))


def packages_step_runs(task_tags, run_tags, skip_tags):
    """Whether the packages task (tag wgpf_packages, and the tags it inherits with ``task_tags``) runs
    under --tags/--skip-tags, the way Ansible decides it."""
    tags = (set(task_tags or ()) - {"always"}) | {PACKAGES_TAG}
    run_tags, skip_tags = set(run_tags or ["all"]), set(skip_tags or [])
    if tags & skip_tags or "tagged" in skip_tags:
        return False
    return bool({"all", "tagged"} & run_tags or tags & run_tags)


def to_install(fact, role):
    """The packages of a host's role that its read found missing (none on a family the query does not know)."""
    fact = fact or {}
    missing = fact.get("missing_packages")
    if not missing or fact.get("os_family") not in PACKAGES:
        return []
    return [name for name in missing if name in needed_packages(fact["os_family"], role)]


def package_problem(host, role, fact, install):
    """Why a host cannot get its keys made: no ``wg`` there, and this run installs nothing, or cannot."""
    fact = fact or {}
    if fact.get("wg"):
        return None
    if not install:
        return ("%s: wireguard-tools: not installed (no wg), and this run installs no package there "
                "(wireguard_%s_install_packages is false, or --skip-tags %s): install it, or let the run install it"
                % (host_where(host), role, PACKAGES_TAG))
    if fact.get("missing_packages") is None:
        return ("%s: wireguard-tools: not installed (no wg), and installing packages on the %s family is not "
                "supported: install wireguard-tools, nftables and iproute2 yourself and set "
                "wireguard_%s_install_packages to false" % (host_where(host), fact.get("os_family"), role))
    return None
