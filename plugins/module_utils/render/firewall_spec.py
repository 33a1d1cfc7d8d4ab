# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host's own firewall must let through: the plan's side of the firewall hooks.

The planner knows the forwarded flows (the same ones its forward chain accepts)
and the WireGuard listen ports; which firewall the host runs, and whether it
drops them, only the host can say (apply/firewall_hooks.py decides that there, each
time). Only public and intermediate servers forward or listen for the links.
"""

from __future__ import annotations

import json

ROLES = ("public", "intermediate")


def firewall_spec(plan):
    """The plan's firewall data, or None when the host forwards nothing and listens for no link."""
    if plan["role"] not in ROLES:
        return None
    nft = plan["nftables"]
    iifs = list(nft.get("accept_iifs") or [])
    forward = {}
    for version, flows in sorted((nft.get("accept") or {}).items()):
        forward[version] = [{"addr": f["addr"], "proto": f["proto"], "port": f["port"], "iifs": iifs,
                             "dnat": bool(nft.get("accept_dnat_only"))} for f in flows]
    spec = {
        "forward": forward if iifs else {},
        "outbound": [{"iif": o["iif"], "oif": o["oif"]} for o in nft.get("masquerade_out") or []],
        "listen_ports": sorted({i["listen_port"] for i in plan["interfaces"] if i.get("listen_port")}),
    }
    if not (spec["forward"] or spec["outbound"] or spec["listen_ports"]):
        return None
    return spec


def firewall_file(plan, header):
    """The spec as the file wgpf-firewall.service reads: a header comment line, then JSON."""
    spec = firewall_spec(plan)
    if spec is None:
        return None
    return header + json.dumps(spec, indent=1, sort_keys=True) + "\n"
