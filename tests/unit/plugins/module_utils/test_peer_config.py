# -*- coding: utf-8 -*-
"""The wg-quick file of a peer Ansible does not manage (issue 19 items 2 and 3): offline, DNS, the full tunnel.

Written from the plan alone it must be impossible to load by mistake while a
server's public key is unknown (wg itself is asked, when installed); with the
keys known its body is the file site.yml always wrote, plus what the
inventory asks for the device: a ``DNS =`` line, the full tunnel as halves.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from builders import seed_direct, seed_hub

from ansible_collections.wgforward.portforward.plugins.module_utils.core.keys import is_valid_key
from ansible_collections.wgforward.portforward.plugins.module_utils.plan.plan import plan_inventory
from ansible_collections.wgforward.portforward.plugins.module_utils.render.peer_config import (
    NOT_READY, PRIVATE_KEY_LINE, peer_config, unknown_keys)
from ansible_collections.wgforward.portforward.plugins.module_utils.render.render import key_placeholder, render_files

PEER_KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
PEER_PRIVATE = "KLjCm4GyPzP9UxXchzWF6o9zzpcIOhaD6VvF7yY4eHo="  # a test key pair's private half, never a real one
PUBLIC1_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
KNOWN = {"public1": PUBLIC1_KEY}

# The body site.yml wrote before issue 19 for the direct peer (no DNS, the full tunnel as /0): unchanged.
BODY = """[Interface]
# The private key never leaves the peer: replace the next line with it.
PrivateKey = <paste this peer's private key here>
Address = 10.0.0.3/24

[Peer]
# public1
PublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=
Endpoint = 203.0.113.2:51820
AllowedIPs = 0.0.0.0/0
PersistentKeepalive = 25
"""


def plans_of(private=None, **forward):
    pv = {"public_key": PEER_KEY}
    pv.update(private or {})
    inv = seed_direct(private_vars=pv)
    fwd = {"name": "game", "public": "public1", "port": 2000, "protocols": ["tcp", "udp"], "to": "private1",
           "to_port": 8080}
    fwd.update(forward)
    inv.forward(**fwd)
    return plan_inventory(inv.data())


def text_of(private=None, keys=None, **forward):
    return peer_config(plans_of(private, **forward)["private1"], KNOWN if keys is None else keys)


def body(text):
    return text[text.index("[Interface]"):]


def header(text):
    return text[:text.index("[Interface]")]


def line_of(text, start):
    return next(line for line in text.splitlines() if line.startswith(start))


# ------------------------------------------------------------------ offline: a server key not known yet


def test_keys_known_the_body_is_what_site_yml_wrote_before():
    text = text_of()
    assert body(text) == BODY
    assert NOT_READY not in text and "not known yet" not in text


def test_offline_file_says_it_is_not_ready_and_names_the_server():
    plan = plans_of()["private1"]
    assert unknown_keys(plan, {}) == ["public1"] and unknown_keys(plan, KNOWN) == []
    text = peer_config(plan, {})
    assert text.startswith(NOT_READY + ": written offline; the public key of public1 is not known yet. site.yml")
    lines = text.splitlines()
    where = lines.index("PublicKey = %s" % key_placeholder("public1"))
    assert lines[where - 1].startswith("# Not known yet: site.yml writes it."), lines
    assert not is_valid_key(key_placeholder("public1"))
    # Everything else is the complete file's.
    assert body(text).replace(key_placeholder("public1"), PUBLIC1_KEY).replace(lines[where - 1] + "\n", "") == BODY


def test_hub_spoke_offline_names_the_hub():
    inv = seed_hub(private_vars={"public_key": PEER_KEY})
    inv.forward(name="game", public="public1", port=2000, to="private1", to_port=8080)
    plan = plan_inventory(inv.data())["private1"]
    assert unknown_keys(plan, {}) == ["inter1"]
    assert "the public key of inter1 is not known yet" in peer_config(plan, {})


def _wg_parses(text, tmp_path):
    """(parsed, stderr): wg-quick strip then wg setconf, as wg-quick up would, on an interface that does not
    exist: a file wg can parse fails only at the interface, one it cannot fails with a parsing error."""
    path = tmp_path / "wgpft0.conf"
    path.write_text(text.replace(PRIVATE_KEY_LINE, "PrivateKey = %s" % PEER_PRIVATE))
    path.chmod(0o600)
    strip = subprocess.run(["wg-quick", "strip", str(path)], capture_output=True, text=True, check=True)
    stripped = tmp_path / "stripped.conf"
    stripped.write_text(strip.stdout)
    run = subprocess.run(["wg", "setconf", "wgpft0", str(stripped)], capture_output=True, text=True, check=False)
    assert run.returncode != 0  # no such interface, or the parse
    return "Configuration parsing error" not in run.stderr, run.stderr


@pytest.mark.skipif(not (shutil.which("wg") and shutil.which("wg-quick") and shutil.which("bash")),
                    reason="wireguard-tools (wg, wg-quick) not installed: `make deps` installs them")
def test_wg_refuses_the_offline_file_even_with_the_private_key_pasted(tmp_path):
    parsed, stderr = _wg_parses(text_of(keys={}), tmp_path)
    assert not parsed and "Key is not the correct length or format" in stderr, stderr
    parsed, stderr = _wg_parses(text_of(), tmp_path)
    assert parsed, stderr
    parsed, stderr = _wg_parses(text_of({"dns": "9.9.9.9", "peer_default_route": "halves"}), tmp_path)
    assert parsed, stderr


# ------------------------------------------------------------------ wgpf_dns


@pytest.mark.parametrize("dns,line", [
    ("9.9.9.9", "DNS = 9.9.9.9"),
    (["9.9.9.9", "2620:fe::fe", "9.9.9.9"], "DNS = 9.9.9.9, 2620:fe::fe"),
    (["2620:00fe:0000::00fe"], "DNS = 2620:fe::fe"),
])
def test_dns_line_follows_the_addresses(dns, line):
    text = text_of({"dns": dns})
    lines = body(text).splitlines()
    assert lines[lines.index("Address = 10.0.0.3/24") + 1] == line
    assert body(text).replace(line + "\n", "") == BODY
    assert "resolvconf" in header(text)


def test_no_dns_line_without_wgpf_dns():
    text = text_of()
    assert "DNS =" not in text and "resolvconf" not in text


def test_dns_goes_only_into_the_peers_file():
    plans = plans_of({"dns": "9.9.9.9"})
    public_files = "".join(f["content"] for f in render_files(plans["public1"], {"private1": PEER_KEY}))
    assert "9.9.9.9" not in public_files


# ------------------------------------------------------------------ the full tunnel: whole or halves


def test_halves_spell_each_default_route_as_two_halves():
    text = text_of({"peer_default_route": "halves", "address": ["10.0.0.3/24", "fd00::3/64"]})
    assert line_of(body(text), "AllowedIPs") == "AllowedIPs = 0.0.0.0/1, 128.0.0.0/1, ::/1, 8000::/1"
    whole = text_of({"address": ["10.0.0.3/24", "fd00::3/64"]})
    assert line_of(body(whole), "AllowedIPs") == "AllowedIPs = 0.0.0.0/0, ::/0"
    # Nothing else in the file changes, and the plan (what the public server and the check read) keeps the /0.
    assert body(text).replace("0.0.0.0/1, 128.0.0.0/1, ::/1, 8000::/1", "0.0.0.0/0, ::/0") == body(whole)
    plans = plans_of({"peer_default_route": "halves"})
    assert plans["private1"]["interfaces"][0]["peers"][0]["allowed_ips"] == ["0.0.0.0/0"]
    assert plans["public1"]["interfaces"][0]["peers"][0]["allowed_ips"] == ["10.0.0.3/32"]


def test_halves_leave_allowed_ips_that_are_no_default_route():
    text = text_of({"peer_default_route": "halves"}, preserve_source=False)
    assert line_of(body(text), "AllowedIPs") == line_of(body(text_of(preserve_source=False)), "AllowedIPs")
    assert "/1" not in text and "kill-switch" not in text


def test_whole_full_tunnel_header_names_the_kill_switch_and_its_way_out():
    head = header(text_of())
    assert "all of private1's traffic goes through public1" in head
    assert '"Block untunneled' in head and "kill-switch" in head
    assert "wgpf_peer_default_route: halves" in head


def test_halves_header_warns_linux_off():
    head = header(text_of({"peer_default_route": "halves"}))
    assert "wgpf_peer_default_route: whole for wg-quick" in head
    assert "systemctl enable" not in head and '"Block untunneled' not in head


def test_no_full_tunnel_note_where_the_default_route_lives_in_a_table():
    """wgpf_peer_hooks with policy_routing: the /0 is in a table of its own (Table=), no default route."""
    text = text_of({"peer_hooks": True})
    assert "Table = " in text and "AllowedIPs = 0.0.0.0/0" in text
    assert "Full tunnel" not in text


# ------------------------------------------------------------------ the header: how to import it


def test_header_says_how_to_import_it_on_each_kind_of_device():
    head = header(text_of())
    for device in ("Windows, macOS:", "Android, iOS:", "Linux:"):
        assert device in head, head
    assert "/etc/wireguard/wg0.conf" in head and "wg-quick@wg0" in head
    assert "qrencode -t ansiutf8 < private1.conf" in head
    assert all(line.startswith("#") for line in head.splitlines())
    # A short header: what to do, not a manual.
    assert len(head.splitlines()) <= 12
