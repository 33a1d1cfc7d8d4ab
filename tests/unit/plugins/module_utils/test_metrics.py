# -*- coding: utf-8 -*-
"""The live check's verdicts as Prometheus metrics (issue 19 item 5), read back with prometheus_client's parser.

The reports are the verdicts check_verdict.py draws from the probe results of
a shipped lab (check_lab.py), healthy or with one thing broken; the file is
parsed as Prometheus parses node_exporter's textfile collector input.
"""

from __future__ import annotations

import math
import os
import re
import stat

import golden
import pytest
import yaml
from check_lab import healthy, scenario
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.wgforward.portforward.plugins.module_utils.check.check_verdict import verdicts
from ansible_collections.wgforward.portforward.plugins.module_utils.check.metrics import (
    CHECK_TIME, FORWARD_OK, HANDSHAKE_AGE, escape_label, metrics_text, write_metrics)
from ansible_collections.wgforward.portforward.plugins.module_utils.model.knobs import metrics_path_problem

NOW = 1733140000.25


def families(text):
    """{name: (type, help, [(labels, value)])}; the parser raises on anything the format does not allow."""
    return {f.name: (f.type, f.documentation, [(s.labels, s.value) for s in f.samples])
            for f in text_string_to_metric_families(text)}


def report_of(name, tmp_path, breakage=None):
    scenario(name)
    expect, results = healthy(name, tmp_path)
    if breakage:
        breakage(results)
    return verdicts(expect, results)


def test_a_healthy_lab_reports_every_forward_ok_and_every_link_age(tmp_path):
    report = report_of("connmark_private", tmp_path)
    found = families(metrics_text(report, NOW))
    assert set(found) == {FORWARD_OK[0], HANDSHAKE_AGE[0], CHECK_TIME[0]}
    assert all(kind == "gauge" and doc for kind, doc, _s in found.values())
    forwards = found[FORWARD_OK[0]][2]
    assert sorted((s["forward"], s["public"], s["to"], s["hop"], v) for s, v in forwards) == sorted(
        (f["forward"], f["public"], f["to"], "", 1.0) for f in report)
    links = {(s["host"], s["interface"], s["peer"]): v for s, v in found[HANDSHAKE_AGE[0]][2]}
    wanted = {(h["host"], link["iface"], link["peer"]) for f in scenario("connmark_private")["forwards"]
              for h in f["hops"] if h["contacted"] for link in h["links"]}
    assert set(links) == wanted and set(links.values()) == {7.0}
    assert found[CHECK_TIME[0]][2] == [({}, NOW)]


def test_a_broken_tunnel_names_the_failing_hop_and_its_age(tmp_path):
    def stale(results):
        results["intermediate1"]["interfaces"]["wg0"]["peers"][0]["handshake_age"] = 312
    report = report_of("connmark_private", tmp_path, stale)
    found = families(metrics_text(report, NOW))
    ok = {s["forward"]: (s["hop"], v) for s, v in found[FORWARD_OK[0]][2]}
    assert ok["lan"] == ("intermediate1", 0.0) and ok["peer"] == ("", 1.0)
    ages = {(s["host"], s["peer"]): v for s, v in found[HANDSHAKE_AGE[0]][2]}
    assert ages[("intermediate1", "public1")] == 312.0


def test_never_a_handshake_is_infinite_and_an_unread_link_has_no_sample(tmp_path):
    def broken(results):
        results["intermediate1"]["interfaces"]["wg0"]["peers"][0]["handshake_age"] = None
        results["public1"]["interfaces"]["wg0"].update(up=False)
    found = families(metrics_text(report_of("connmark_private", tmp_path, broken), NOW))
    ages = {(s["host"], s["peer"]): v for s, v in found[HANDSHAKE_AGE[0]][2]}
    assert math.isinf(ages[("intermediate1", "public1")])
    assert not any(host == "public1" for host, _peer in ages)
    assert {s["hop"] for s, v in found[FORWARD_OK[0]][2] if v == 0} == {"public1"}


@pytest.mark.parametrize("result", [
    {"unreachable": True, "msg": "ssh: timed out"},
    # A probe that failed half-way: what it read before is not trusted, as the verdict does not.
    {"failed": True, "msg": "ss: not found"},
])
def test_an_unprobed_host_fails_its_forwards_and_has_no_link_samples(result, tmp_path):
    def gone(results):
        results["intermediate1"].update(result)
    found = families(metrics_text(report_of("connmark_private", tmp_path, gone), NOW))
    assert not any(s["host"] == "intermediate1" for s, _v in found[HANDSHAKE_AGE[0]][2])
    assert ("intermediate1", 0.0) in {(s["hop"], v) for s, v in found[FORWARD_OK[0]][2]}


def test_a_link_shared_by_forwards_is_one_sample(tmp_path):
    report = report_of("example", tmp_path)
    text = metrics_text(report, NOW)
    keys = [(s["host"], s["interface"], s["peer"]) for s, _v in families(text)[HANDSHAKE_AGE[0]][2]]
    assert len(keys) == len(set(keys)) and ("public1", "wg0", "intermediate1") in keys
    assert sum(len(f["hops"]) for f in report) > len(keys)


def test_labels_are_escaped():
    report = [{"forward": 'we"b', "public": "pub\\1", "to": "line\nfeed", "ok": False, "path": [],
               "hops": [{"host": 'h"1', "problem": "down", "lines": [], "links": [
                   {"iface": "wg0", "peer": 'p\\"q', "read": True, "handshake_age": 3}]}]}]
    found = families(metrics_text(report, NOW))
    labels, value = found[FORWARD_OK[0]][2][0]
    assert labels == {"forward": 'we"b', "public": "pub\\1", "to": "line\nfeed", "hop": 'h"1'} and value == 0
    assert found[HANDSHAKE_AGE[0]][2][0][0]["peer"] == 'p\\"q'
    assert escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'


def test_the_file_is_replaced_atomically_in_its_own_folder(tmp_path, monkeypatch):
    path = tmp_path / "wgpf.prom"
    path.write_text("old\n")
    renames = []
    real_replace = os.replace

    def watch(src, dst):
        renames.append((src, dst, open(src, encoding="utf-8").read()))
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", watch)
    write_metrics(str(path), "new\n")
    (src, dst, content), = renames
    assert os.path.dirname(src) == str(tmp_path) and dst == str(path) and content == "new\n"
    assert not src.endswith(".prom")  # never read by the collector while it is written
    assert path.read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["wgpf.prom"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "wgpf.prom"
    path.write_text("old\n")

    def refuse(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_metrics(str(path), "new\n")
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["wgpf.prom"]


@pytest.mark.parametrize("path,fragment", [
    ("relative/wgpf.prom", "must be an absolute path"),
    ("/var/lib/node_exporter/wgpf.txt", "must name a *.prom file"),
    ("/var/lib/node_exporter/.prom", "must name a *.prom file"),
    ("/var/lib/node_exporter/wg\npf.prom", "must be the path of a file"),
    (["/a.prom"], "must be the path of a file"),
])
def test_a_path_the_collector_would_not_read_is_refused(path, fragment, tmp_path):
    assert fragment in metrics_path_problem(path)
    with pytest.raises(ValueError):
        write_metrics(path, "x\n")


def test_the_model_checks_the_path_before_any_host_is_touched():
    from builders import seed_direct
    from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
    from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
    inv = seed_direct()
    inv.forward(name="web", public="public1", port=2000, to="private1", to_port=8080)
    for host in inv.hosts.values():
        host["wgpf_check_metrics_path"] = "metrics.txt"
    with pytest.raises(PlanError) as err:
        plan_inventory(inv.data())
    assert "host 'public1': wgpf_check_metrics_path: must be an absolute path" in str(err.value)
    for host in inv.hosts.values():
        host["wgpf_check_metrics_path"] = "/var/lib/node_exporter/wgpf.prom"
    assert plan_inventory(inv.data())


def test_the_readme_sample_parses_and_uses_the_metrics_written():
    readme = (golden.ROOT / "README.md").read_text()
    block = re.search(r"```\n(# HELP wgpf_forward_ok .*?)```\n", readme, re.S).group(1)
    found = families(block)
    assert set(found) == {FORWARD_OK[0], HANDSHAKE_AGE[0], CHECK_TIME[0]}
    assert set(found[FORWARD_OK[0]][2][0][0]) == {"forward", "public", "to", "hop"}
    assert set(found[HANDSHAKE_AGE[0]][2][0][0]) == {"host", "interface", "peer"}
    assert all(found[name][1] == doc for name, doc in (FORWARD_OK, HANDSHAKE_AGE, CHECK_TIME))
    rules = yaml.safe_load(re.search(r"```yaml\n(groups:.*?)```\n", readme, re.S).group(1))
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert all(rule["alert"] for group in rules["groups"] for rule in group["rules"])
    assert {name for e in exprs for name in re.findall(r"wgpf_\w+", e)} == {FORWARD_OK[0], CHECK_TIME[0]}
