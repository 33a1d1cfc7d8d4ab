# -*- coding: utf-8 -*-
"""A lab for the live check's unit tests: the expectations of a shipped inventory, and probe results of it as
planned (its links up with a recent handshake, its services listening, its routes as planned, and the real
``nft -j`` listing of each public server's rendered table, loaded in an unprivileged network namespace, its map
elements one string each as forward_probe returns them).

test_check.py breaks one thing at a time in these results; test_metrics.py turns their verdicts into metrics.
"""

from __future__ import annotations

import copy
import json
import subprocess

import shipped_inventories as S

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_expect import expectations
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files
from ansible_collections.wgforward.portforward.plugins.modules.forward_probe import compact_maps

_CACHE = {}


def scenario(name):
    if name not in _CACHE:
        inv = S.example() if name == "example" else S.scenario(name)
        _CACHE[name] = (inv, expectations(inv))
    return copy.deepcopy(_CACHE[name][1])


def listed_table(inv, host, tmp_path):
    """What `nft -j list table inet wgpf` prints once the host's rendered table is loaded."""
    files = render_files(plan_inventory(inv)[host])
    text = next(f["content"] for f in files if f["path"].endswith(".nft"))
    path = tmp_path / ("%s.nft" % host)
    path.write_text(text)
    run = subprocess.run(["unshare", "-rn", "sh", "-c", "nft -f %s && nft -j list table inet wgpf" % path],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout)["nftables"]


def healthy(name, tmp_path):
    """(expectations, {host: probe result}) of a lab where everything is as planned."""
    inv, expect = _CACHE[name][0], scenario(name)
    results = {}
    for fwd in expect["forwards"]:
        for hop in fwd["hops"]:
            res = results.setdefault(hop["host"], {"interfaces": {}, "nft": None, "listening": None, "routes": []})
            for link in hop["links"]:
                iface = res["interfaces"].setdefault(link["iface"], {
                    "exists": True, "up": True, "error": None, "peers": [],
                    "public_key": "key-%s-%s" % (hop["host"], link["iface"])})
                iface["peers"].append({"public_key": "key-%s-%s" % (link["peer"], link["peer_iface"]),
                                       "allowed_ips": link["allowed_ips"], "handshake_age": 7})
            if hop["dnat"] and res["nft"] is None:
                # As forward_probe returns it: each map element one string.
                res["nft"] = {"table": compact_maps(listed_table(inv, hop["host"], tmp_path)), "error": None}
            if hop["listen"]:
                res["listening"] = res["listening"] or {"tcp": [], "udp": [], "error": None}
                for item in hop["listen"]:
                    res["listening"][item["proto"]].extend([item["addr"], p] for p in range(item["ports"][0],
                                                                                            item["ports"][1] + 1))
            for route in hop["routes"]:
                table = route["expect"]["table"]
                res["routes"].append(dict(route, error=None, route={
                    "dev": route["expect"]["dev"], "gateway": route["expect"]["via"],
                    **({"table": str(table)} if table else {})}))
    return expect, results
