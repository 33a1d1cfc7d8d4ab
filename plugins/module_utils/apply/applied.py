# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the last apply applied, kept on the host, so that the next run's read can tell that nothing would change.

apply_plan runs ``run`` (the one path of the module, check mode or not). After a run that
succeeded, not in check mode, with state present, it keeps the arguments it applied and their
digest in layout.APPLIED_PATH (root only): every argument, less the preshared keys it received
(secrets, written by then, and a settled run carries none). state absent removes the file.

The read (the module host_state) runs that same ``run`` in check mode against the kept
arguments (``in_sync``): true only when it would change nothing, found no drift, every read
answered and every interface's key is settled. The roles' apply action then calls no module when
its own arguments' ``digest`` is the kept one (plugin_utils/verified.py): any difference in any
argument, a preshared key to copy included, gives another digest and the module runs.

Runs on the managed host: Python 3.8+ (ansible-core 2.19's floor).
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import preshared
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_fs import ApplyError
from ansible_collections.wgforward.portforward.plugins.module_utils.apply.apply_host import HostApply
from ansible_collections.wgforward.portforward.plugins.module_utils.core import layout

# apply_plan's options, with their defaults (test_applied checks them against its argument spec).
DEFAULTS = {"state": "present", "files": [], "key_files": {}, "sysctls": {}, "dnat": {}, "preshared_keys": []}


def canonical(args):
    """``args`` with every option of apply_plan, defaults filled in; an unknown one fails (a digest that
    would not cover it could match two different calls)."""
    unknown = sorted(set(args) - set(DEFAULTS))
    if unknown:
        raise ValueError("not an option of apply_plan: %s" % ", ".join(unknown))
    full = dict(DEFAULTS)
    full.update(args)
    return full


def digest(args):
    """SHA-256 of the canonical JSON of ``args`` (every option, sorted keys, no spaces)."""
    text = json.dumps(canonical(args), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def kept_args(params):
    """The arguments kept after a run: every option, without the preshared keys received."""
    args = canonical({key: params[key] for key in DEFAULTS})
    args["preshared_keys"] = []
    return args


def dump(params):
    args = kept_args(params)
    return json.dumps({"digest": digest(args), "args": args}, sort_keys=True) + "\n"


def load(text):
    """(args, digest) of the kept file's ``text``; None when there is none, or it is not one this module
    wrote (malformed, or its digest is not that of its arguments)."""
    if not text:
        return None
    try:
        data = json.loads(text)
        args, kept = data["args"], data["digest"]
        if isinstance(args, dict) and digest(args) == kept:
            return canonical(args), kept
    except (ValueError, TypeError, KeyError):
        pass
    return None


def run(host, fs, params, check_mode):
    """apply_plan's run on ``host`` (apply_host.HostApply over ``fs``) with the module's ``params``."""
    if params["state"] == "absent":
        host.absent()
        return
    host.track_change(preshared.receive(fs, params["preshared_keys"]))
    try:
        host.present(params["files"], params["key_files"], params["sysctls"], check_mode=check_mode,
                     dnat=params["dnat"])
        if not check_mode:
            # The module's own bookkeeping, like the nftables listing: written when it differs, not a change.
            fs.ensure_dir(layout.RECORD_DIR, "0700")
            fs.write(layout.APPLIED_PATH, dump(params), "0600", show=False)
    finally:
        # The listing of a table loaded above ran beside the steps since, this file's JSON too; kept after
        # a later step failed as well (the table was loaded). Kept last, it is safe: without it the next
        # read finds no listing for the file and the run loads the table again (apply_live.nft_drift).
        host.keep_pending()


def in_sync(fs, cmd, settled_keys):
    """{applied_digest, in_sync} for the kept arguments, or {} when none are kept.

    ``fs`` and ``cmd`` are apply_fs.HostFiles and apply_systemd.Commands, both in check mode;
    ``settled_keys`` the interfaces whose private key needs nothing (host_state.settled_keys).
    """
    try:
        kept = load(fs.read(layout.APPLIED_PATH))
    except ApplyError:  # not root: nothing to compare with
        return {}
    if kept is None:
        return {}
    args, kept_digest = kept
    if not (fs.check_mode and cmd.check_mode):
        raise ValueError("the read compares in check mode only")
    host = HostApply(fs, cmd)
    try:
        run(host, fs, args, check_mode=True)
    except (ApplyError, OSError):
        return {"applied_digest": kept_digest, "in_sync": False}
    quiet = not (host.changed or host.drift.lines or host.warnings or cmd.actions or fs.changed_paths)
    settled = args["state"] == "present" and all(name in settled_keys for name in args["key_files"])
    return {"applied_digest": kept_digest, "in_sync": quiet and settled}
