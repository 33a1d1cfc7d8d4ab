# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles learn from a host before planning, in one round trip (the module host_state, Python 3.8+).

The facts the planner reads, which of the needed packages are missing, and the
public keys of the key files that are already exactly as wireguard_key leaves
them. What the roles decide from it is controller-side (plugin_utils/keys.py,
plugin_utils/packages.py).

A key is reported only when wireguard_key would find nothing to do (valid key,
file 0600 owned by root) and it sits in a root-owned 0700 directory, as
wireguard_key creates it: anything else is left to wireguard_key, which fixes
or refuses it, so skipping it changes no outcome.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import packages
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.wg_keys import (
    KEY_DIR_MODE, KEY_FILE_MODE, read_key)
from ansible_collections.wgforward.portforward.plugins.module_utils.core.keys import is_valid_key, key_digest

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
    return sorted(preshared_digests(key_dir))


def preshared_digests(key_dir):
    """{path: core.keys.key_digest of the key} of the preshared key files in ``key_dir`` that hold a valid
    key: the roles carry a key to the other end of its link only when the two ends' digests differ."""
    try:
        entries = sorted(os.listdir(key_dir))
    except OSError:
        return {}
    out = {}
    for entry in entries:
        path = os.path.join(key_dir, entry)
        if entry.endswith(PSK_SUFFIX) and not entry.startswith(".") and os.path.isfile(path) \
                and not os.path.islink(path):
            key = read_key(path)
            if is_valid_key(key):
                out[path] = key_digest(key)
    return out


def missing_packages(os_family, run):
    """The needed packages not installed, or None when the family is not supported.

    ``run(argv) -> stdout`` runs the query (it exits non-zero when some are missing).
    """
    if os_family not in packages.PACKAGES:
        return None
    return packages.not_installed(run(packages.package_query(os_family)).splitlines(), os_family)
