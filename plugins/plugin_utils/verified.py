# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the apply step can take the host's read as its answer, and call no module (one round trip per
no-change host).

The read (module host_state) ran apply_plan's own run, in check mode, against the arguments the
host's last apply kept (module_utils/apply/applied.py), and filed ``in_sync`` and their digest in the
host's fact. When it found nothing to change and this run's arguments, every one of them, have that
digest, apply_plan would change nothing: the result is the one a no-change apply_plan returns, with
``verified_by``. Anything else (another argument, a preshared key to copy, drift, a package or key
made in this run, state absent, no kept arguments) calls the module as before.
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.apply import applied

VERIFIED_BY = "read_state"


def settled_result(fact, args):
    """apply_plan's no-change result for ``args``, or None when the module must run."""
    fact = fact or {}
    if fact.get("in_sync") is not True or not fact.get("applied_digest") or args.get("state") != "present":
        return None
    try:
        if applied.digest(args) != fact["applied_digest"]:
            return None
    except (TypeError, ValueError):  # an option apply_plan does not know, or a value JSON cannot hold
        return None
    return {"changed": False, "actions": [], "files": [], "drift": [], "verified_by": VERIFIED_BY,
            "msg": "the read found this host running exactly these arguments (digest %s): apply_plan not called"
                   % fact["applied_digest"][:12]}


def spent(fact):
    """The fact to file after the apply step, or None to leave it: the read's verdict serves once a run, since
    the host may change after this step (a later play, the user's tasks) and is not read again in the run."""
    if fact and fact.get("in_sync"):
        return dict(fact, in_sync=False)
    return None
