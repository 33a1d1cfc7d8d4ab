"""Preshared keys, a --limit run, and no secret in any output (test_expect.keys; two_publics).

Reads real host state with `docker exec` (testinfra) and runs the collection's
site playbook against Molecule's inventory:

- every link test_expect.keys lists has the same preshared key at both ends, in the
  running interface (`wg show`), from a 0600 file; the plain links have none;
- a run limited to one host, after its files were damaged, gives it byte for
  byte the files the full run gave it and leaves every other host's files, mtimes
  and running state alone (and reports no change for them);
- a run with -vvv --diff that rotates a preshared key (its file deleted on the
  generating end), and a --check --diff -vvv run, print no private or preshared
  key of any host, nor their base64 without padding.

The heavy checks run in the first verify only (Molecule runs verify again after
the side effect; a marker in Molecule's ephemeral directory says they ran).
"""

import json
import os
import pathlib
import re
import subprocess

import pytest

WIREGUARD_GROUPS = ("wireguard_public", "wireguard_intermediate", "wireguard_private")

# Every file the collection manages on a host, with content digest, mtime and mode.
SNAPSHOT = r"""
import hashlib, json, os
out = {}
for top in ("/etc/wireguard", "/etc/wgpf", "/etc/sysctl.d", "/etc/systemd/system", "/usr/local/sbin"):
    for folder, dirs, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            if top in ("/etc/wireguard", "/etc/wgpf") or "wgpf" in name:
                st = os.lstat(path)
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
                out[path] = [digest, st.st_mtime_ns, oct(st.st_mode & 0o7777)]
print(json.dumps(out, sort_keys=True))
"""
RUNNING = ("wg show all dump | awk -F'\\t' 'NF == 9 { print $1, $2, $3, $4, $5, $9 }'; "
           "nft -s list table inet wgpf; ip rule; ip route show table all; "
           "for u in $(systemctl list-units --all --plain --no-legend 'wg-quick@*' 'wgpf-*' | awk '{print $1}'); do "
           "systemctl show -p Id,ActiveState,ActiveEnterTimestamp,MainPID \"$u\"; done")


@pytest.fixture(scope="module")
def keys(pytestconfig, scenario):
    expect = scenario.get("keys")
    if not expect:
        pytest.skip("test_expect.keys is not set for this scenario")
    if not getattr(pytestconfig.option, "ansible_inventory", None):
        pytest.skip("needs Molecule's Ansible inventory (--ansible-inventory)")
    return expect


@pytest.fixture(scope="module")
def inventory(pytestconfig):
    return pytestconfig.option.ansible_inventory


@pytest.fixture(scope="module")
def hosts(keys, inventory):
    from testinfra.utils.ansible_runner import AnsibleRunner
    runner = AnsibleRunner(inventory)
    return sorted({name for group in WIREGUARD_GROUPS for name in runner.get_hosts(group)})


@pytest.fixture(scope="module")
def first_verify(keys):
    """True once per converge: the heavy checks are skipped in the verify after the side effect."""
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if not ephemeral:
        return True
    marker = pathlib.Path(ephemeral) / "test_keys.done"
    if marker.exists():
        return False
    return marker


def done(first):
    if isinstance(first, pathlib.Path):
        first.write_text("ran\n")


def playbook(inventory, *args):
    run = subprocess.run(["ansible-playbook", "-i", inventory, *args, "wgforward.portforward.site"],
                         capture_output=True, text=True, timeout=900, check=False,
                         env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1"))
    return run.returncode, run.stdout + run.stderr


def interfaces(host):
    """{interface: (public key, {peer public key: preshared key})} from the running WireGuard."""
    out = {}
    for line in host.check_output("wg show all dump").splitlines():
        fields = line.split("\t")
        if len(fields) == 5:
            out[fields[0]] = (fields[2], {})
        elif len(fields) == 9:
            out[fields[0]][1][fields[1]] = fields[2]
    return out


def link_psk(container, a, b):
    """(preshared key a uses for b, the one b uses for a), as the running interfaces have them."""
    ifs_a, ifs_b = interfaces(container(a)), interfaces(container(b))
    pubs_a = {pub for pub, dummy in ifs_a.values()}
    pubs_b = {pub for pub, dummy in ifs_b.values()}
    at_a = [psk for dummy, peers in ifs_a.values() for pub, psk in peers.items() if pub in pubs_b]
    at_b = [psk for dummy, peers in ifs_b.values() for pub, psk in peers.items() if pub in pubs_a]
    assert len(at_a) == 1 and len(at_b) == 1, "%s and %s are not peers of each other" % (a, b)
    return at_a[0], at_b[0]


def snapshot(host):
    return json.loads(host.check_output("python3 -c '%s'" % SNAPSHOT.replace("'", "'\"'\"'")))


def recap(output):
    """{host: changed count} of the PLAY RECAP."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", output, re.M)}


# ------------------------------------------------------------------ preshared keys in place


def check_links(container, keys):
    for a, b in keys["preshared_links"]:
        psk_a, psk_b = link_psk(container, a, b)
        assert psk_a != "(none)", "%s has no preshared key for %s" % (a, b)
        assert psk_a == psk_b, "%s and %s hold different preshared keys" % (a, b)
    for a, b in keys["plain_links"]:
        assert link_psk(container, a, b) == ("(none)", "(none)"), "the plain link %s-%s has a preshared key" % (a, b)


def test_each_listed_link_has_one_preshared_key_at_both_ends_and_the_others_none(container, keys, hosts):
    check_links(container, keys)
    for name in hosts:
        modes = container(name).check_output("stat -c '%a %U' /etc/wireguard/wgpf/*.psk 2>/dev/null || true")
        for line in modes.splitlines():
            assert line == "600 root", "%s: a preshared key file is %s, not 600 root" % (name, line)
    assert container(keys["rotate"]["host"]).file(keys["rotate"]["file"]).exists


# ------------------------------------------------------------------ --limit


def test_a_limited_run_gives_the_host_the_full_runs_files_and_touches_no_other(
        container, keys, hosts, inventory, first_verify):
    if not first_verify:
        pytest.skip("ran in the first verify")
    limited = keys["limit"]
    others = [h for h in hosts if h != limited]
    full = {h: snapshot(container(h)) for h in hosts}
    running = {h: container(h).check_output(RUNNING) for h in others}
    target = container(limited)
    # Damage: a peer section edited by hand, the nftables file gone, a copy of a preshared key gone.
    psk_copy = sorted(p for p in full[limited] if p.endswith(".psk") and "public1" in p)[0]
    target.check_output("echo '# edited by hand' >> /etc/wireguard/wg1.conf && rm /etc/wgpf/wgpf.nft %s" % psk_copy)
    assert snapshot(target) != full[limited]

    rc, output = playbook(inventory, "--limit", limited)
    assert rc == 0, "site.yml --limit %s failed:\n%s" % (limited, output[-4000:])
    counts = recap(output)
    assert counts.get(limited, 0) > 0, "the limited run repaired nothing on %s:\n%s" % (limited, output[-2000:])
    for name in others:
        assert counts.get(name, 0) == 0, "%s is outside --limit but reported changed" % name

    after = snapshot(target)
    assert sorted(after) == sorted(full[limited])
    for path, (digest, dummy, mode) in full[limited].items():
        assert after[path][0] == digest and after[path][2] == mode, "%s: %s differs from the full run's" % (
            limited, path)
    for name in others:
        assert snapshot(container(name)) == full[name], "%s's files changed (content or mtime)" % name
        assert container(name).check_output(RUNNING) == running[name], "%s's running state changed" % name
    check_links(container, keys)


# ------------------------------------------------------------------ no secret in any output


def secrets(container, hosts):
    """Every private and preshared key of the hosts, as the running interfaces and key files hold them."""
    found = set()
    for name in hosts:
        host = container(name)
        for line in host.check_output("wg show all private-keys; wg show all preshared-keys").splitlines():
            value = line.split("\t")[-1]
            if value != "(none)":
                found.add(value)
        found.update(host.check_output("cat /etc/wireguard/wgpf/*.key; cat /etc/wireguard/wgpf/*.psk 2>/dev/null; "
                                       "true").split())
    return found


def assert_no_secret(output, keys, what):
    for key in keys:
        assert key not in output and key.rstrip("=") not in output, "a key of a host appears in the %s output" % what


def test_no_private_or_preshared_key_in_vvv_diff_or_check_diff_output(
        container, keys, hosts, inventory, first_verify):
    if not first_verify:
        pytest.skip("ran in the first verify")
    before = secrets(container, hosts)
    assert len(before) > len(hosts), "found too few keys to look for"
    rotate = keys["rotate"]
    a, b = keys["preshared_links"][0]
    old = link_psk(container, a, b)[0]
    container(rotate["host"]).check_output("rm %s" % rotate["file"])

    rc, output = playbook(inventory, "-vvv", "--diff")
    assert rc == 0, "site.yml -vvv --diff failed:\n" + output[-4000:]
    # The diff says the config changed where only the masked key line differs.
    assert "wg0.conf (a secret line changed, not shown)" in output, (
        "--diff did not show the rotated key:\n" + output[-3000:])
    new = link_psk(container, a, b)
    assert new[0] == new[1] and new[0] not in (old, "(none)"), "the preshared key of %s-%s was not rotated" % (a, b)
    check_links(container, keys)
    after = secrets(container, hosts)
    assert_no_secret(output, before | after, "-vvv --diff")

    rc, output = playbook(inventory, "-vvv", "--check", "--diff", "-e", "wgpf_keepalive=17")
    assert rc == 0, "site.yml --check --diff failed:\n" + output[-4000:]
    assert "+PersistentKeepalive = 17" in output, "--check --diff showed no change:\n" + output[-3000:]
    assert_no_secret(output, before | after, "--check --diff -vvv")
    assert secrets(container, hosts) == after, "check mode changed a key"
    done(first_verify)
