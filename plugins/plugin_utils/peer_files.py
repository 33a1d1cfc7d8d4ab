# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wg-quick files of the peers Ansible does not manage, written on the controller once their servers'
public keys are known (the file's text is render/peer_config.py's).
"""

from __future__ import annotations

from ansible_collections.wgforward.portforward.plugins.module_utils.render.peer_config import peer_config
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import peer_key
from ansible_collections.wgforward.portforward.plugins.plugin_utils.keys import peer_keys

FILE_MODE = "0600"
DIR_MODE = "0700"


def peer_files(plans, hostvars, fact):
    """[{host, dir, path, content}] of every unmanaged peer whose peers' public keys are all known.

    A peer whose servers published no key in this run (a public role applied alone to
    other hosts) is left for the run that prepares them: never a file with a placeholder key.
    """
    out = []
    for host in sorted(plans):
        plan = plans[host]
        if plan.get("peer_config") is None or plan["state"] != "present" or not plan["interfaces"]:
            continue
        keys = peer_keys(plan, hostvars, fact)
        if any(not peer_key(p, keys) for p in plan["interfaces"][0]["peers"]):
            continue
        out.append({"host": host, "dir": plan["peer_config"]["dir"], "path": plan["peer_config"]["path"],
                    "dir_mode": DIR_MODE, "mode": FILE_MODE, "content": peer_config(plan, keys)})
    return out
