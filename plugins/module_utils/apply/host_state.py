# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles learn from a host before planning, in one round trip, and what they decide from it.

Host side (the module host_state, Python 3.7+): the facts the planner reads,
which of the needed packages are missing, and the public keys of the key files
that are already exactly as wireguard_key leaves them. Controller side (the
filters): which packages to install, which keys still need wireguard_key, and
the public keys a host publishes for its peers.

A key is reported only when wireguard_key would find nothing to do (valid key,
file 0600 owned by root) and it sits in a root-owned 0700 directory, as
wireguard_key creates it: anything else is left to wireguard_key, which fixes
or refuses it, so skipping it changes no outcome.
"""

from __future__ import annotations

import os
import stat

from ansible.module_utils.parsing.convert_bool import boolean

# The package lists and query the roles have always used.
from ansible_collections.wgforward.portforward.plugins.module_utils.apply import apply_prepare
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.wg_keys import (
    KEY_DIR_MODE, KEY_FILE_MODE, read_key)
from ansible_collections.wgforward.portforward.plugins.module_utils.core.keys import is_valid_key

# The collectors the planner reads (interfaces, addresses, default routes) and the OS family.
FACT_SUBSET = ["!all", "!min", "network", "distribution"]
KEY_SUFFIX = ".key"
PSK_SUFFIX = ".psk"


def _root_owned(st, mode, uid, gid):
    return st.st_uid == uid and st.st_gid == gid and stat.S_IMODE(st.st_mode) == mode


def settled_keys(key_dir, pubkey, uid=0, gid=0):
    """{interface: public key} of the keys in ``key_dir`` that wireguard_key would leave as they are.

    ``pubkey(private) -> public or None`` derives a public key (wg pubkey on the host).
    """
    try:
        dir_st = os.lstat(key_dir)
    except OSError:
        return {}
    if not stat.S_ISDIR(dir_st.st_mode) or not _root_owned(dir_st, KEY_DIR_MODE, uid, gid):
        return {}
    out = {}
    for entry in sorted(os.listdir(key_dir)):
        path = os.path.join(key_dir, entry)
        if not entry.endswith(KEY_SUFFIX) or entry.startswith("."):
            continue
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or not _root_owned(st, KEY_FILE_MODE, uid, gid):
            continue
        private = read_key(path)  # None when over wg_keys.MAX_KEY_FILE_SIZE or not text
        public = pubkey(private) if is_valid_key(private) else None
        if is_valid_key(public):
            out[entry[:-len(KEY_SUFFIX)]] = public
    return out


def preshared_files(key_dir):
    """The paths of the preshared key files in ``key_dir`` that hold a valid key (names only: the keys
    are secrets, read by wireguard_key in a no_log task). The roles check a --limit run against them."""
    try:
        entries = sorted(os.listdir(key_dir))
    except OSError:
        return []
    out = []
    for entry in entries:
        path = os.path.join(key_dir, entry)
        if entry.endswith(PSK_SUFFIX) and not entry.startswith(".") and os.path.isfile(path) \
                and not os.path.islink(path) and is_valid_key(read_key(path)):
            out.append(path)
    return out


def missing_packages(os_family, run):
    """The needed packages not installed, or None when the family is not supported.

    ``run(argv) -> stdout`` runs the query (it exits non-zero when some are missing).
    """
    if os_family not in apply_prepare.PACKAGES:
        return None
    lines = run(apply_prepare.package_query(os_family)).splitlines()
    return apply_prepare.missing_packages(lines, os_family)


# ------------------------------------------------------------ controller side


def packages_to_install(state, explicit, host_vars, role):
    """The packages to install on a host: none when installing is off (the role's variable, else the
    host's wireguard_<role>_install_packages, else on), else what host_state found missing of those
    the host's role needs (conntrack on a public server only)."""
    install = boolean(explicit) if explicit is not None else \
        boolean(host_vars.get("wireguard_%s_install_packages" % role, True))
    if not install:
        return []
    if state.get("missing_packages") is None:
        raise apply_prepare.PrepareError(
            "installing packages on the %s family is not supported: install wireguard-tools, nftables and "
            "iproute2 yourself and set wireguard_%s_install_packages to false" % (state.get("os_family"), role))
    needed = apply_prepare.needed_packages(state["os_family"], role)
    return [name for name in state["missing_packages"] if name in needed]


def keys_to_ensure(plan, state, check_mode=False):
    """The plan's interfaces whose key host_state did not report settled: [{name, key_file}] for wireguard_key."""
    if check_mode and not state.get("wg"):
        # In check mode without wireguard-tools (installed by a real run) there is no wg to derive a key with.
        return []
    return [{"name": iface["name"], "key_file": iface["key_file"]} for iface in plan["interfaces"]
            if _settled_key(state, iface) is None]


def _settled_key(state, iface):
    """The public key host_state reported for the plan's interface, if its key file is the one it read."""
    if iface["key_file"] != "%s/%s%s" % (state.get("key_dir"), iface["name"], KEY_SUFFIX):
        return None
    return (state.get("public_keys") or {}).get(iface["name"])


def host_keys(plan, state, ensured=None):
    """{interface: public key} this host publishes: the settled keys of its plan's interfaces, then
    the results of the wireguard_key loop over keys_to_ensure."""
    out = {}
    for iface in plan["interfaces"]:
        key = _settled_key(state, iface)
        if key:
            out[iface["name"]] = key
    for result in ensured or []:
        if isinstance(result, dict) and result.get("public_key"):
            out[result["item"]["name"]] = result["public_key"]
    return out
