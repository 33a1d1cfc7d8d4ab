"""The roles in a playbook of a user's (issue 21; test_expect.user_playbook, two_publics).

The scenario converges with its own converge.yml, a playbook written the way users write
one (plays per group, the private server's first, tasks and a handler of the user's,
serial: 1, include_role and import_role). Here:

- site.yml with --tags wgpf_render writes, on the controller, every host's files as it makes
  them for this inventory (the public keys read in the run filled in), the user's playbook
  with the same tag writes the very same files, and neither changes anything on any host;
- every file on every host is byte for byte what site.yml rendered, keys aside (the render
  holds a reference where the host holds its preshared key);
- the user's handler ran.

test_forward.py sends traffic through every forward; test_keys.py's --limit run of site.yml
gives the limited host the same files as this converge.
"""

import os
import pathlib
import re
import subprocess

import pytest

from test_keys import WIREGUARD_GROUPS, snapshot

KEY_LINE = re.compile(r"^(PublicKey|PresharedKey) = .*$", re.M)


@pytest.fixture(scope="module")
def user(scenario, pytestconfig):
    if "user_playbook" not in scenario:
        pytest.skip("test_expect.user_playbook is not set for this scenario")
    if not getattr(pytestconfig.option, "ansible_inventory", None):
        pytest.skip("needs Molecule's Ansible inventory (--ansible-inventory)")
    return scenario["user_playbook"]


@pytest.fixture(scope="module")
def managed(user, pytestconfig):
    from testinfra.utils.ansible_runner import AnsibleRunner
    runner = AnsibleRunner(pytestconfig.option.ansible_inventory)
    hosts = sorted({name for group in WIREGUARD_GROUPS for name in runner.get_hosts(group)})
    return [h for h in hosts if "test_no_connection" not in runner.get_variables(h)]


def render_with(playbook, inventory, out):
    """{host: {path on the host: content}} that ``playbook`` run with --tags wgpf_render writes into ``out``."""
    run = subprocess.run(["ansible-playbook", "-i", inventory, playbook, "--tags", "wgpf_render",
                          "-e", "wgpf_render_dir=%s" % out],
                         capture_output=True, text=True, timeout=600, check=False,
                         env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1"))
    assert run.returncode == 0, "%s:\n%s%s" % (playbook, run.stdout[-4000:], run.stderr[-2000:])
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            host, rel = path.relative_to(out).parts[0], "/" + "/".join(path.relative_to(out).parts[1:])
            files.setdefault(host, {})[rel] = path.read_text()
    return files


@pytest.fixture(scope="module")
def rendered(user, managed, container, pytestconfig, tmp_path_factory):
    """{host: {path on the host: content}} that site.yml renders for this inventory, once the user's
    playbook was seen to render the very same. Once per converge: Molecule's verify after the side
    effect (a restart) does not run it again."""
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    marker = pathlib.Path(ephemeral) / "test_user_playbook.done" if ephemeral else None
    if marker is not None and marker.exists():
        pytest.skip("compared in the first verify of this converge")
    scenario_dir = pathlib.Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "."))
    inventory = pytestconfig.option.ansible_inventory
    before = {h: snapshot(container(h)) for h in managed}
    site = render_with("wgforward.portforward.site", inventory, tmp_path_factory.mktemp("site"))
    users = render_with(str(scenario_dir / user["playbook"]), inventory, tmp_path_factory.mktemp("users"))
    assert {h: snapshot(container(h)) for h in managed} == before, "a --tags wgpf_render run changed a host"
    assert site and users == site, "the user's playbook renders other files than site.yml: %s" % sorted(
        (h, p) for h in set(site) | set(users) for p in set(site.get(h, {})) | set(users.get(h, {}))
        if site.get(h, {}).get(p) != users.get(h, {}).get(p))
    if marker is not None:
        marker.write_text("ran\n")
    return site


def keys_aside(text):
    return KEY_LINE.sub(lambda m: "%s = (key)" % m.group(1), text)


def test_every_file_on_every_host_is_what_render_writes_keys_aside(rendered, managed, container):
    for host in managed:
        assert rendered.get(host), "render wrote nothing for %s" % host
        for path, text in sorted(rendered[host].items()):
            on_host = container(host).file(path)
            assert on_host.exists, "%s: %s is not on the host" % (host, path)
            assert keys_aside(on_host.content_string) == keys_aside(text), "%s: %s differs" % (host, path)
            # Only the preshared key differs: the render carries every public key read in the run.
            assert [line for line in on_host.content_string.splitlines() if line.startswith("PublicKey")] == \
                [line for line in text.splitlines() if line.startswith("PublicKey")], "%s: %s" % (host, path)


def test_the_users_handler_ran(user, container):
    handler = user["handler"]
    assert container(handler["host"]).file(handler["file"]).exists, "the user's handler did not run"
