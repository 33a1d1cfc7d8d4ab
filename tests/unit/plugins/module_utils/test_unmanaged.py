# -*- coding: utf-8 -*-
"""Hosts the run never contacts (issue 9 item 5, issue 10 item 1): container targets and unmanaged peers.

Planned from the inventory alone; a container needs its address and is found on the
intermediate's bridge from the intermediate's facts; an unmanaged peer gets only the
techniques its wg-quick file can express, and that file is rendered without hooks unless
wgpf_peer_hooks says the peer is a Linux host.
"""

from __future__ import annotations

import pytest
from builders import Inv, seed_direct, seed_hub

from ansible_collections.wgforward.portforward.plugins.module_utils.core.problems import PlanError
from ansible_collections.wgforward.portforward.plugins.module_utils.model.unmanaged import contacted
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import explain_inventory, plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.firewall_spec import firewall_spec
from ansible_collections.wgforward.portforward.plugins.module_utils.render.peer_config import PRIVATE_KEY_LINE
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import render_files
from ansible_collections.wgforward.portforward.plugins.plugin_utils import key_steps
from ansible_collections.wgforward.portforward.plugins.plugin_utils.planning import summary
from ansible_collections.wgforward.portforward.plugins.plugin_utils.render_out import PEER_DIR_MODE, PEER_FILE_MODE
from ansible_collections.wgforward.portforward.plugins.plugin_utils.render_out import peer_files as _peer_files

PEER_KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
PUBLIC1_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

BRIDGE_FACTS = {
    "interfaces": ["lo", "eth0", "docker0", "wg0"],
    "eth0": {"ipv4": {"address": "203.0.113.5", "netmask": "255.255.255.0"}, "macaddress": "02:00:00:00:00:05"},
    "docker0": {"ipv4": {"address": "172.17.0.1", "netmask": "255.255.0.0"}, "macaddress": "02:42:00:00:00:01",
                "ipv6": [{"address": "fd00:17::1", "prefix": "64", "scope": "global"},
                         {"address": "fe80::1", "prefix": "64", "scope": "link"}]},
}


def container_inv(private=None, inter_facts=None, **forward):
    inv = Inv()
    inv.host("public1", "public", address="10.0.0.2/24", endpoint="203.0.113.2:51822", wan_interface="eth0")
    inv.host("inter1", "intermediate", address="10.0.0.1/24",
             ansible_facts=BRIDGE_FACTS if inter_facts is None else inter_facts)
    pv = {"intermediate": "inter1", "attachment": "container", "lan_address": "172.17.0.2"}
    pv.update(private or {})
    inv.host("ct1", "private", **{k: v for k, v in pv.items() if v is not None})
    fwd = {"name": "app", "public": "public1", "port": 2000, "protocols": ["tcp", "udp"], "to": "ct1",
           "to_port": 8080}
    fwd.update(forward)
    inv.forward(**fwd)
    return inv


def problems_of(inv):
    with pytest.raises(PlanError) as err:
        plan_inventory(inv.data())
    return err.value.problems


# ------------------------------------------------------------------ which hosts are contacted


@pytest.mark.parametrize("hv,expected", [
    ({}, True),
    ({"wgpf_attachment": "lan"}, True),
    ({"wgpf_attachment": "container"}, False),
    ({"wgpf_public_key": PEER_KEY}, False),
    ({"wgpf_public_key": ""}, True),
])
def test_contacted_is_decided_from_the_variables_alone(hv, expected):
    assert contacted(hv) is expected


# ------------------------------------------------------------------ container targets


def test_container_is_planned_without_facts_and_needs_nothing_on_itself():
    plans = plan_inventory(container_inv().data())
    ct, inter = plans["ct1"], plans["inter1"]
    assert ct["contacted"] is False and inter["contacted"] is True
    assert render_files(ct) == []
    # The bridge is found from the intermediate's facts: the interface whose network holds 172.17.0.2.
    assert plans["public1"]["nftables"]["dnat"]["4"][0]["daddr"] == "172.17.0.2"
    assert inter["forwards"][0]["technique"] == "policy_routing"


def test_container_facts_are_never_used():
    """A fact cache holding the container's facts changes nothing: its address must still be given."""
    inv = container_inv(private={"lan_address": None})
    inv.hosts["ct1"]["ansible_facts"] = {"default_ipv4": {"address": "172.17.0.9", "interface": "eth0"}}
    assert "host 'ct1': wgpf_lan_address: required for wgpf_attachment: container: the container is never " \
        "contacted, so there are no facts to find its address in" in problems_of(inv)


def test_container_bridge_from_the_intermediate_facts_sets_its_lan_side():
    inter = plan_inventory(container_inv().data())["inter1"]
    # policy_routing makes the bridge loose (asymmetric flows): the interface the facts gave.
    assert inter["sysctls"]["net.ipv4.conf.docker0.rp_filter"] == "2"


def test_container_bridge_found_by_ipv6_network():
    inv = container_inv(private={"lan_address": "fd00:17::2"}, technique="masquerade", families=["ipv6"])
    inv.hosts["public1"]["wgpf_address"] = ["10.0.0.2/24", "fd00::2/64"]
    inv.hosts["inter1"]["wgpf_address"] = ["10.0.0.1/24", "fd00::1/64"]
    plans = plan_inventory(inv.data())
    assert plans["public1"]["nftables"]["dnat"]["6"][0]["daddr"] == "fd00:17::2"
    assert plans["ct1"]["contacted"] is False


def test_container_on_no_interface_of_the_intermediate_names_both_hosts():
    problems = problems_of(container_inv(private={"lan_address": "192.168.77.2"}))
    assert "host 'ct1': wgpf_lan_address: 192.168.77.2 is on none of inter1's interfaces (its facts): set " \
        "wgpf_lan_interface on ct1 to the bridge it is attached to" in problems


def test_container_names_its_bridge_without_intermediate_facts():
    inv = container_inv(private={"lan_interface": "br-app"}, inter_facts={})
    inv.hosts["inter1"]["wgpf_lan_address"] = "172.17.0.1"
    plans = plan_inventory(inv.data())
    inter = plans["inter1"]
    assert plans["ct1"]["contacted"] is False
    assert "net.ipv4.conf.br-app.rp_filter" in inter["sysctls"], inter["sysctls"]


def test_container_refuses_wireguard_variables():
    problems = problems_of(container_inv(private={"address": "10.0.0.9/24"}))
    assert any(p.startswith("host 'ct1': wgpf_attachment: a container is reached over its host's bridge") for p in
               problems), problems


def test_intermediate_firewall_hooks_cover_the_flows_to_the_bridge():
    """Docker's FORWARD DROP: the intermediate's hooks accept the forwarded flows from the link to the container."""
    spec = firewall_spec(plan_inventory(container_inv().data())["inter1"])
    flows = {(f["addr"], f["proto"], f["port"]["from"], tuple(f["iifs"])) for f in spec["forward"]["4"]}
    assert flows == {("172.17.0.2", "tcp", 8080, ("wg0",)), ("172.17.0.2", "udp", 8080, ("wg0",))}


# ------------------------------------------------------------------ unmanaged peers


def peer_inv(private=None, **forward):
    pv = {"public_key": PEER_KEY}
    pv.update(private or {})
    inv = seed_direct(private_vars=pv)
    inv.hosts["private1"]["inventory_dir"] = "/srv/inventory"
    fwd = {"name": "game", "public": "public1", "port": 2000, "protocols": ["tcp", "udp"], "to": "private1",
           "to_port": 8080}
    fwd.update(forward)
    inv.forward(**fwd)
    return inv


def technique_of(inv):
    return explain_inventory(inv.data())[0]


@pytest.mark.parametrize("forward,tree", [({}, "policy_routing"), ({"only_via_public": False}, "connmark_private")])
def test_peer_without_hooks_takes_the_full_tunnel_and_explain_says_why(forward, tree):
    dec = technique_of(peer_inv(**forward))
    assert (dec["technique"], dec["tree_technique"]) == ("default_route", tree)
    assert any(n.startswith("default_route instead of %s: 'private1' is a WireGuard peer Ansible does not manage"
                            % tree) and "no PostUp/Table=" in n for n in dec["notes"]), dec["notes"]


@pytest.mark.parametrize("forward,technique", [
    ({"preserve_source": False}, "masquerade"),
    ({"sources": ["198.51.100.0/24"]}, "static_routes"),
])
def test_peer_without_hooks_keeps_what_allowed_ips_express(forward, technique):
    assert technique_of(peer_inv(**forward))["technique"] == technique


def test_peer_with_hooks_keeps_policy_routing_but_not_nftables_marks():
    assert technique_of(peer_inv({"peer_hooks": True}))["technique"] == "policy_routing"
    assert technique_of(peer_inv({"peer_hooks": True}, only_via_public=False))["technique"] == "default_route"


@pytest.mark.parametrize("private,technique,message", [
    ({}, "policy_routing", "forward 'game': technique: policy_routing needs PostUp rules on 'private1', a peer "
     "Ansible does not manage: its config must stay valid for the official WireGuard apps, so it takes "
     "AllowedIPs but no PostUp/Table= (wgpf_peer_hooks is false)"),
    ({"peer_hooks": True}, "connmark_private", "forward 'game': technique: connmark_private needs an nftables "
     "table on 'private1', a peer Ansible does not manage: its wg-quick file takes AllowedIPs, Table= and PostUp "
     "rules (wgpf_peer_hooks) but no nftables table"),
])
def test_forced_technique_the_peer_file_cannot_express_is_refused(private, technique, message):
    assert message in problems_of(peer_inv(private, technique=technique))


@pytest.mark.parametrize("private,field,start", [
    ({"public_key": "not-a-key"}, "wgpf_public_key", "must be a WireGuard public key"),
    ({"public_key": PEER_KEY[:-2]}, "wgpf_public_key", "must be a WireGuard public key"),
    # Set, even to false: a peer Ansible does not manage (never contacted), with a key to fix.
    ({"public_key": False}, "wgpf_public_key", "must be a WireGuard public key"),
    ({"address": None}, "wgpf_address", "required for a peer Ansible does not manage"),
    ({"peer_hooks": "yes please"}, "wgpf_peer_hooks", "must be true or false"),
    ({"public_key": None, "peer_hooks": True}, "wgpf_peer_hooks", "only for a peer Ansible does not manage"),
    ({"peer_config_dir": ""}, "wgpf_peer_config_dir", "must be a folder on the controller"),
])
def test_peer_fields_are_checked(private, field, start):
    inv = peer_inv({k: v for k, v in private.items() if v is not None})
    for key, value in private.items():
        if value is None:
            inv.hosts["private1"].pop("wgpf_" + key)
    prefix = "host 'private1': %s: %s" % (field, start)
    assert any(p.startswith(prefix) for p in problems_of(inv)), problems_of(inv)


def test_public_key_only_on_private_servers():
    inv = peer_inv()
    inv.hosts["public1"]["wgpf_public_key"] = PEER_KEY
    assert "host 'public1': wgpf_public_key: only a private server can be a peer Ansible does not manage" in \
        problems_of(inv)


def test_public_server_side_is_normal_and_uses_the_given_key():
    plans = plan_inventory(peer_inv().data())
    pub = plans["public1"]
    peer = pub["interfaces"][0]["peers"][0]
    assert (peer["host"], peer["public_key"], peer["allowed_ips"]) == ("private1", PEER_KEY, ["10.0.0.3/32"])
    assert pub["nftables"]["dnat"]["4"][0]["daddr"] == "10.0.0.3"
    conf = next(f for f in render_files(pub, {}) if f["kind"] == "wireguard")["content"]
    assert "PublicKey = %s" % PEER_KEY in conf
    # No key is generated for the peer, and no task is delegated to it: it is no link of the key steps.
    summaries = {name: summary(plan) for name, plan in plans.items()}
    assert list(key_steps.links(summaries, "public1")) == []
    assert key_steps.key_hosts("public1", summaries, lambda h: None, lambda h: False, lambda h, p: False) == ["public1"]


def peer_files(plans, keys):
    """render_out.peer_files as dicts; only the complete ones (what the roles write where the inventory says)."""
    return [{"host": host, "dir": folder, "path": path, "content": content, "mode": PEER_FILE_MODE,
             "dir_mode": PEER_DIR_MODE} for host, folder, path, content, complete in _peer_files(plans, keys)
            if complete]


def peer_file(inv, hostvars=None):
    plans = plan_inventory(inv.data())
    files = peer_files(plans, hostvars or {"public1": {"wg0": PUBLIC1_KEY}})
    assert [f["host"] for f in files] == ["private1"]
    return files[0]


def test_peer_file_without_hooks_is_valid_for_the_wireguard_apps():
    out = peer_file(peer_inv())
    assert (out["path"], out["dir"], out["mode"], out["dir_mode"]) == (
        "/srv/inventory/wgpf-peers/private1.conf", "/srv/inventory/wgpf-peers", "0600", "0700")
    text = out["content"]
    assert PRIVATE_KEY_LINE in text.splitlines()
    for word in ("PostUp", "PreDown", "Table", "SaveConfig", "ListenPort"):
        assert word not in text, text
    assert "Address = 10.0.0.3/24" in text
    assert "PublicKey = %s" % PUBLIC1_KEY in text and "Endpoint = 203.0.113.2:51820" in text
    assert "AllowedIPs = 0.0.0.0/0" in text and "PersistentKeepalive = 25" in text
    assert "<public key of" not in text


def test_peer_file_with_hooks_carries_the_routing_of_policy_routing():
    text = peer_file(peer_inv({"peer_hooks": True, "listen_port": 51830}))["content"]
    assert "Table = 51900" in text and "ListenPort = 51830" in text
    assert "PostUp = while ip -4 rule del from 10.0.0.3 ipproto 6 sport 8080 lookup 51900" in text, text
    assert "PreDown = " in text and PRIVATE_KEY_LINE in text


def test_peer_config_dir_is_relative_to_the_inventory():
    assert peer_file(peer_inv({"peer_config_dir": "../peers"}))["path"] == "/srv/peers/private1.conf"
    assert peer_file(peer_inv({"peer_config_dir": "/tmp/p/"}))["path"] == "/tmp/p/private1.conf"


def test_no_peer_file_while_a_server_key_is_unknown():
    """A public role applied alone to other hosts: never a file with a placeholder key."""
    plans = plan_inventory(peer_inv().data())
    assert peer_files(plans, {}) == []
    # The preview (render) writes it anyway, with a placeholder WireGuard refuses for the key not known.
    (_host, _dir, _path, text, complete), = _peer_files(plans, {})
    assert not complete and "PublicKey = <public key of public1, not known yet>" in text


def test_spoke_of_a_hub_can_be_an_unmanaged_peer():
    inv = seed_hub(private_vars={"public_key": PEER_KEY})
    inv.forward(name="game", public="public1", port=2000, to="private1", to_port=8080)
    plans = plan_inventory(inv.data())
    hub_peer = next(p for p in plans["inter1"]["interfaces"][0]["peers"] if p["host"] == "private1")
    assert hub_peer["public_key"] == PEER_KEY
    assert plans["inter1"]["forwards"][0]["technique"] == "default_route"
    text = peer_files(plans, {"inter1": {"wg0": PUBLIC1_KEY}})[0]["content"]
    assert "# inter1" in text and "AllowedIPs = 0.0.0.0/0" in text and "PostUp" not in text


@pytest.mark.parametrize("inventory_dir,sources,expected", [
    ("/srv/inventory", ["/srv/inventory/hosts.yml"], "/srv/inventory/wgpf-peers"),  # -i a file
    ("/srv/inventory", ["/srv/inventory"], "/srv/wgpf-peers"),  # -i a folder: beside it, never inside
    ("/srv/inventory/prod", ["/srv/inventory"], "/srv/wgpf-peers"),  # a file deeper in that folder
    ("/srv/inventory", ["/srv/other", "/srv/inventory/hosts.ini"], "/srv/inventory/wgpf-peers"),
])
def test_default_peer_config_dir_is_never_inside_an_inventory_folder(inventory_dir, sources, expected):
    inv = peer_inv()
    inv.hosts["private1"].update(inventory_dir=inventory_dir, ansible_inventory_sources=sources)
    assert peer_file(inv)["dir"] == expected


# ------------------------------------------------------------------ issue 16 item 2: preshared keys never dropped in silence

PSK_REFUSED = ("host 'private1': wgpf_preshared_key: its link to '%s' asks for a preshared key (wgpf_preshared_key: "
               "true on %s), but 'private1' is a peer Ansible does not manage, which the collection cannot hand a "
               "key: set wgpf_preshared_key: false on 'private1' to run that link without one")


@pytest.mark.parametrize("public,peer,asking", [
    (True, None, "'public1'"),
    (None, True, "'private1'"),
    (True, True, "'public1' and 'private1'"),  # group_vars/all turns it on everywhere
], ids=["public-server-asks", "peer-asks", "both-ask"])
def test_preshared_key_asked_on_a_link_to_an_unmanaged_peer_is_refused(public, peer, asking):
    """The peer never receives a copy (the run never contacts it), so the key cannot be made: refused, in
    explain too, rather than a link without the key it asked for."""
    inv = peer_inv({"preshared_key": peer} if peer is not None else None)
    if public is not None:
        inv.hosts["public1"]["wgpf_preshared_key"] = public
    assert problems_of(inv) == [PSK_REFUSED % ("public1", asking)]
    with pytest.raises(PlanError, match="wgpf_preshared_key: its link to 'public1' asks"):
        explain_inventory(inv.data())


def test_preshared_key_refused_on_a_spoke_s_link_to_its_hub():
    inv = seed_hub(private_vars={"public_key": PEER_KEY, "preshared_key": True})
    inv.forward(name="game", public="public1", port=2000, to="private1", to_port=8080, preserve_source=False)
    assert problems_of(inv) == [PSK_REFUSED % ("inter1", "'private1'")]


def test_an_unmanaged_peer_that_opts_out_runs_without_a_key_and_explain_says_so():
    inv = peer_inv({"preshared_key": False})
    inv.hosts["public1"]["wgpf_preshared_key"] = True
    plans = plan_inventory(inv.data())
    assert [p["preshared_key"] for p in plans["public1"]["interfaces"][0]["peers"]] == [None]
    assert "PresharedKey" not in peer_file(inv)["content"]
    assert "no preshared key on the link between 'private1' and 'public1', though 'public1' asks for one: " \
        "'private1' is a peer Ansible does not manage and sets wgpf_preshared_key: false" in technique_of(inv)["notes"]


def test_no_note_when_nobody_asks_for_a_preshared_key():
    assert not any("preshared" in n for n in technique_of(peer_inv({"preshared_key": False}))["notes"])


# ------------------------------------------------------------------ issue 16 item 2: a direct peer without forwards

def test_a_direct_peer_without_forwards_is_refused_not_dropped():
    """Its [Peer] would leave the public server's config with nothing said (the issue's unmanaged peer whose
    forwards were all removed); the same for a direct peer Ansible manages."""
    inv = peer_inv(to="private2")
    inv.host("private2", "private", address="10.0.0.4/24")
    inv.host("private3", "private", address="10.0.0.5/24")
    assert problems_of(inv) == [
        "host 'private1': wgpf_forwards: no forward goes to this direct peer of a public server, so it would have no "
        "tunnel (a direct peer's link comes from its forwards: its [Peer] would leave the public server's config). "
        "Give it a forward, reach it through an intermediate (wgpf_intermediate), or take it out of "
        "wireguard_private",
        "host 'private3': wgpf_forwards: no forward goes to this direct peer of a public server, so it would have no "
        "tunnel (a direct peer's link comes from its forwards: its [Peer] would leave the public server's config). "
        "Give it a forward, reach it through an intermediate (wgpf_intermediate), or take it out of "
        "wireguard_private (after a run with wgpf_state: absent, which removes what the collection put on it)"]
    inv.hosts["private3"]["wgpf_state"] = "absent"
    inv.hosts["private1"]["wgpf_intermediate"] = "inter1"  # a spoke keeps its link to its hub
    inv.host("inter1", "intermediate", address="10.0.0.1/24", endpoint="192.0.2.1:51820")
    plans = plan_inventory(inv.data())
    assert [p["host"] for p in plans["inter1"]["interfaces"][0]["peers"]] == ["private1"]


# ------------------------------------------------------------------ issue 16 item 3: the backstop names the forwards

@pytest.mark.parametrize("stage", [plan_inventory, explain_inventory], ids=["plan", "explain"])
def test_what_a_technique_would_put_on_a_host_never_contacted_names_its_forwards(stage, monkeypatch):
    """The rules before it keep techniques off such hosts; should one still put something there, the problem
    names the forwards and their techniques, and explain refuses it as the roles would."""
    from ansible_collections.wgforward.portforward.plugins.module_utils.techniques import masquerade

    def behind(self, job):
        job.private_draft.add_route(4, "192.0.2.0/24", "172.17.0.1", "eth0")
    monkeypatch.setattr(masquerade.Masquerade, "behind_intermediate", behind)
    with pytest.raises(PlanError) as err:
        stage(container_inv(preserve_source=False).data())
    assert err.value.problems == ["host 'ct1': wgpf_forwards: is never contacted (a container), but its forwards "
                                  "'app' (masquerade) need routes on it"]
