# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for wgforward.portforward.wireguard_key.

The module runs in-process (patch_module_args + main()) against a real temporary
filesystem. `wg` is a fake script put first on PATH: genkey prints a random valid
key, pubkey derives a deterministic value from stdin, and every call's argv is
logged so the tests can prove the private key never reaches a command line.
One test uses the real `wg` (skipped when wireguard-tools is missing).
"""

from __future__ import annotations

import base64
import grp
import json
import os
import pwd
import shutil
import stat
import sys

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.wgforward.portforward.plugins.modules import wireguard_key

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name

FAKE_WG = r'''#!{python}
import base64, hashlib, os, sys
with open(os.environ["FAKE_WG_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\n")
if os.environ.get("FAKE_WG_FAIL"):
    sys.stderr.write("fake failure\n")
    sys.exit(1)
if sys.argv[1:] in (["genkey"], ["genpsk"]):
    if os.environ.get("FAKE_WG_RACE"):
        # Another run makes the key file between this run's look and its write.
        with open(os.environ["FAKE_WG_RACE"], "w") as other:
            other.write(os.environ["FAKE_WG_RACE_KEY"] + "\n")
    print(base64.b64encode(os.urandom(32)).decode())
elif sys.argv[1:] == ["pubkey"]:
    raw = base64.b64decode(sys.stdin.read().strip(), validate=True)
    assert len(raw) == 32
    print(base64.b64encode(hashlib.sha256(b"pub:" + raw).digest()).decode())
else:
    sys.exit(2)
'''

VALID_KEY = base64.b64encode(b'\x11' * 32).decode()

# A real Curve25519 pair (test-only), checked against the real `wg` below.
REAL_PRIVATE = 'EEWSeEq3jB8emW9R4TctJK1WkCJuvQw3n4EL0Siaenw='
REAL_PUBLIC = 'nmmsgvLRetbzhNg2Esihen4QgWBp6fstbvmec75rxnM='


def fake_public(private):
    import hashlib
    raw = base64.b64decode(private.strip())
    return base64.b64encode(hashlib.sha256(b'pub:' + raw).digest()).decode()


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def fake_wg(tmp_path, monkeypatch):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    script = bindir / 'wg'
    script.write_text(FAKE_WG.format(python=sys.executable))
    script.chmod(0o755)
    log = tmp_path / 'wg.log'
    log.write_text('')
    monkeypatch.setenv('PATH', '%s:%s' % (bindir, os.environ.get('PATH', '')))
    monkeypatch.setenv('FAKE_WG_LOG', str(log))
    return log


@pytest.fixture
def run(capsys):
    def _run(check=False, diff=False, **args):
        args.setdefault('owner', OWNER)
        args.setdefault('group', GROUP)
        args.update(_ansible_check_mode=check, _ansible_diff=diff)
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                wireguard_key.main()
        out = capsys.readouterr().out
        result = json.loads(out)
        result['_rc'] = exc.value.code
        result['_stdout'] = out
        return result
    return _run


def wg_calls(log):
    return [line for line in log.read_text().splitlines() if line]


def assert_no_secret(result, *secrets):
    for secret in secrets:
        if secret:
            assert secret.strip() not in result['_stdout']


# --- table: one run from a prepared state ----------------------------------
#
# pre: file content to write before the run (None = no file, no directory)
# expect: changed, failed, generated, whether the file exists afterwards, whether its
#         content must be unchanged, whether a public key is returned, and the genkey count.

CASES = [
    dict(id='creates-key', pre=None, args={},
         changed=True, failed=False, generated=True, exists=True, same_content=None, pubkey=True, genkeys=1),
    dict(id='existing-valid-key-unchanged', pre=VALID_KEY + '\n', args={},
         changed=False, failed=False, generated=False, exists=True, same_content=True, pubkey=True, genkeys=0),
    dict(id='valid-key-without-newline', pre=VALID_KEY, args={},
         changed=False, failed=False, generated=False, exists=True, same_content=True, pubkey=True, genkeys=0),
    dict(id='check-mode-missing-creates-nothing', pre=None, args={}, check=True,
         changed=True, failed=False, generated=True, exists=False, same_content=None, pubkey=False, genkeys=0),
    dict(id='check-mode-existing-key', pre=VALID_KEY + '\n', args={}, check=True,
         changed=False, failed=False, generated=False, exists=True, same_content=True, pubkey=True, genkeys=0),
    dict(id='invalid-key-without-force-fails', pre='not a key\n', args={},
         changed=False, failed=True, generated=False, exists=True, same_content=True, pubkey=False, genkeys=0),
    dict(id='empty-file-without-force-fails', pre='', args={},
         changed=False, failed=True, generated=False, exists=True, same_content=True, pubkey=False, genkeys=0),
    dict(id='short-key-without-force-fails', pre=base64.b64encode(b'x' * 31).decode() + '\n', args={},
         changed=False, failed=True, generated=False, exists=True, same_content=True, pubkey=False, genkeys=0),
    dict(id='invalid-key-with-force-regenerates', pre='garbage\n', args={'force': True},
         changed=True, failed=False, generated=True, exists=True, same_content=False, pubkey=True, genkeys=1),
    dict(id='empty-file-with-force-regenerates', pre='', args={'force': True},
         changed=True, failed=False, generated=True, exists=True, same_content=False, pubkey=True, genkeys=1),
    dict(id='invalid-key-with-force-check-mode', pre='garbage\n', args={'force': True}, check=True,
         changed=True, failed=False, generated=True, exists=True, same_content=True, pubkey=False, genkeys=0),
    dict(id='valid-key-never-replaced-by-force', pre=VALID_KEY + '\n', args={'force': True},
         changed=False, failed=False, generated=False, exists=True, same_content=True, pubkey=True, genkeys=0),
    dict(id='absent-removes-key', pre=VALID_KEY + '\n', args={'state': 'absent'},
         changed=True, failed=False, generated=False, exists=False, same_content=None, pubkey=False, genkeys=0),
    dict(id='absent-removes-invalid-file', pre='garbage', args={'state': 'absent'},
         changed=True, failed=False, generated=False, exists=False, same_content=None, pubkey=False, genkeys=0),
    dict(id='absent-check-mode-keeps-key', pre=VALID_KEY + '\n', args={'state': 'absent'}, check=True,
         changed=True, failed=False, generated=False, exists=True, same_content=True, pubkey=False, genkeys=0),
    dict(id='absent-when-missing-is-noop', pre=None, args={'state': 'absent'},
         changed=False, failed=False, generated=False, exists=False, same_content=None, pubkey=False, genkeys=0),
]


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_single_run(case, tmp_path, fake_wg, run):
    keydir = tmp_path / 'etc' / 'wireguard' / 'wgpf'
    path = keydir / 'wg0.key'
    if case['pre'] is not None:
        keydir.mkdir(parents=True, mode=0o700)
        keydir.chmod(0o700)
        path.write_text(case['pre'])
        path.chmod(0o600)

    result = run(path=str(path), check=case.get('check', False), **case['args'])

    assert result.get('failed', False) is case['failed'], result
    assert result['_rc'] == (1 if case['failed'] else 0)
    assert result.get('changed', False) is case['changed']
    assert path.exists() is case['exists']
    if case['failed']:
        assert 'force' in result['msg'] and str(path) in result['msg']
    else:
        assert result['generated'] is case['generated']
        assert result['path'] == str(path)
    if case['same_content'] is not None:
        assert (path.read_text() == case['pre']) is case['same_content']
    if case['exists'] and not case['failed'] and not case.get('check'):
        content = path.read_text()
        assert wireguard_key.is_valid_key(content)
        assert content.endswith('\n') or content == case['pre']
        assert mode_of(path) == 0o600
        assert mode_of(keydir) == 0o700
    if case['pubkey']:
        assert result['public_key'] == fake_public(path.read_text())
    elif not case['failed']:
        assert result['public_key'] is None
    if case.get('check') and case['pre'] is None:
        assert not keydir.exists(), 'check mode must not create the directory'
        assert 'would be generated' in result['msg']

    calls = wg_calls(fake_wg)
    assert calls.count('genkey') == case['genkeys']
    assert set(calls) <= {'genkey', 'pubkey'}, 'only bare genkey/pubkey, never a key on argv'
    assert_no_secret(result, path.read_text() if path.exists() else None, case['pre'] if case['pre'] else None)


def test_second_run_is_idempotent(tmp_path, fake_wg, run):
    path = tmp_path / 'wgpf' / 'wg0.key'
    first = run(path=str(path))
    content = path.read_text()
    second = run(path=str(path))

    assert first['changed'] is True and first['generated'] is True
    assert second['changed'] is False and second['generated'] is False
    assert second['public_key'] == first['public_key'] == fake_public(content)
    assert path.read_text() == content
    assert wg_calls(fake_wg).count('genkey') == 1
    assert_no_secret(first, content)
    assert_no_secret(second, content)


def test_creates_missing_ancestors_private(tmp_path, fake_wg, run):
    old = os.umask(0o000)  # a permissive umask must not leak into modes
    try:
        path = tmp_path / 'a' / 'b' / 'wg1.key'
        result = run(path=str(path))
    finally:
        os.umask(old)
    assert result['changed'] is True
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert mode_of(path.parent.parent) == 0o700
    assert not [p for p in path.parent.iterdir() if p.name != 'wg1.key'], 'no temporary file left behind'


@pytest.mark.parametrize('check', [False, True], ids=['apply', 'check-mode'])
def test_fixes_file_permissions_and_leaves_the_directory(tmp_path, fake_wg, run, check):
    keydir = tmp_path / 'wgpf'
    keydir.mkdir()
    keydir.chmod(0o755)
    path = keydir / 'wg0.key'
    path.write_text(VALID_KEY + '\n')
    path.chmod(0o644)

    result = run(path=str(path), check=check)

    assert result['changed'] is True
    assert result['generated'] is False
    assert result['public_key'] == fake_public(VALID_KEY)
    assert path.read_text() == VALID_KEY + '\n'
    assert mode_of(keydir) == 0o755
    if check:
        assert mode_of(path) == 0o644
    else:
        assert mode_of(path) == 0o600
        assert run(path=str(path))['changed'] is False


@pytest.mark.parametrize('pre', [None, VALID_KEY + '\n'], ids=['key-generated', 'key-exists'])
@pytest.mark.parametrize('mode', [0o755, 0o750, 0o711], ids=oct)
def test_never_changes_the_mode_of_an_existing_parent(tmp_path, fake_wg, run, pre, mode):
    """An existing parent (/etc/wireguard, shared with wg-quick's own configs) keeps its mode (issue 10 item 7)."""
    keydir = tmp_path / 'wireguard'
    keydir.mkdir()
    keydir.chmod(mode)
    path = keydir / 'wg0.key'
    if pre is not None:
        path.write_text(pre)
        path.chmod(0o600)

    result = run(path=str(path))

    assert not result.get('failed'), result
    assert result['changed'] is (pre is None)
    assert mode_of(keydir) == mode
    assert mode_of(path) == 0o600
    assert wireguard_key.is_valid_key(path.read_text())


def test_diff_never_shows_private_key(tmp_path, fake_wg, run):
    path = tmp_path / 'wgpf' / 'wg0.key'
    result = run(path=str(path), diff=True)
    content = path.read_text().strip()
    assert result['diff']['before']['state'] == 'absent'
    assert result['diff']['after'] == dict(state='present', mode='0600', public_key=result['public_key'])
    assert_no_secret(result, content)
    again = run(path=str(path), diff=True)
    assert again['diff']['before'] == again['diff']['after']


def test_wg_failure_is_reported(tmp_path, fake_wg, run, monkeypatch):
    monkeypatch.setenv('FAKE_WG_FAIL', '1')
    path = tmp_path / 'wgpf' / 'wg0.key'
    result = run(path=str(path))
    assert result['failed'] is True
    assert 'wg genkey failed' in result['msg']
    assert not path.exists()


def test_missing_wg_binary_fails_clearly(tmp_path, run, monkeypatch):
    monkeypatch.setattr(wireguard_key.AnsibleModule, 'get_bin_path',
                        lambda self, arg, required=False, opt_dirs=None: self.fail_json(msg='Failed to find required executable "%s"' % arg))
    result = run(path=str(tmp_path / 'wg0.key'))
    assert result['failed'] is True and 'wg' in result['msg']


def test_path_is_directory_fails(tmp_path, fake_wg, run):
    path = tmp_path / 'wg0.key'
    path.mkdir()
    result = run(path=str(path))
    assert result['failed'] is True
    assert 'not a regular file' in result['msg']
    assert run(path=str(path), state='absent')['failed'] is True


@pytest.mark.parametrize('text, valid', [
    (VALID_KEY, True),
    (VALID_KEY + '\n', True),
    (REAL_PRIVATE, True),
    ('', False),
    (None, False),
    (VALID_KEY[:-1], False),
    (VALID_KEY.replace('E', '!'), False),
    (base64.b64encode(b'y' * 33).decode(), False),
    ('A' * 44, False),  # 44 chars but no padding: decodes to 33 bytes
])
def test_is_valid_key(text, valid):
    assert wireguard_key.is_valid_key(text) is valid


@pytest.mark.skipif(shutil.which('wg') is None, reason='wireguard-tools (wg) not installed')
def test_real_wg_derives_public_key(tmp_path, run):
    keydir = tmp_path / 'wgpf'
    keydir.mkdir(mode=0o700)
    keydir.chmod(0o700)
    path = keydir / 'wg0.key'
    path.write_text(REAL_PRIVATE + '\n')
    path.chmod(0o600)
    result = run(path=str(path))
    assert result['changed'] is False
    assert result['public_key'] == REAL_PUBLIC
    assert_no_secret(result, REAL_PRIVATE)

    fresh = tmp_path / 'new' / 'wg1.key'
    created = run(path=str(fresh))
    assert created['changed'] is True
    assert wireguard_key.is_valid_key(fresh.read_text())
    assert wireguard_key.is_valid_key(created['public_key'])
    assert created['public_key'] != fresh.read_text().strip()
    assert_no_secret(created, fresh.read_text())


# --- kind=preshared: one end generates and returns it, the other gets value= ---------------------

OTHER_KEY = base64.b64encode(b'\x22' * 32).decode()


def test_preshared_generated_once_returned_and_never_on_a_command_line(tmp_path, fake_wg, run):
    path = tmp_path / 'wgpf' / 'wg0.peer.psk'
    first = run(path=str(path), kind='preshared', diff=True)
    assert first['changed'] and first['generated'] and first['_rc'] == 0
    key = path.read_text().strip()
    assert first['preshared_key'] == key and wireguard_key.is_valid_key(key)
    assert mode_of(str(path)) == 0o600
    assert wg_calls(fake_wg) == ['genpsk']
    assert key not in json.dumps(first['diff'])
    again = run(path=str(path), kind='preshared')
    assert not again['changed'] and again['preshared_key'] == key
    assert wg_calls(fake_wg) == ['genpsk'], 'an existing preshared key was generated again'


def test_preshared_value_is_written_masked_and_replaces_an_old_copy(tmp_path, fake_wg, run):
    path = tmp_path / 'wg1.public1.psk'
    path.write_text(OTHER_KEY + '\n')
    result = run(path=str(path), kind='preshared', value=VALID_KEY, diff=True)
    assert result['changed'] and not result['generated']
    assert path.read_text().strip() == VALID_KEY and mode_of(str(path)) == 0o600
    assert 'preshared_key' not in result
    assert_no_secret(result, VALID_KEY, OTHER_KEY)
    assert not run(path=str(path), kind='preshared', value=VALID_KEY)['changed']
    assert wg_calls(fake_wg) == []


def test_preshared_check_mode_writes_nothing(tmp_path, fake_wg, run):
    path = tmp_path / 'wg0.x.psk'
    result = run(path=str(path), kind='preshared', check=True)
    assert result['changed'] and 'preshared_key' not in result and not path.exists()
    result = run(path=str(path), kind='preshared', value=VALID_KEY, check=True)
    assert result['changed'] and not path.exists()


def test_create_false_reads_but_never_makes_a_key(tmp_path, fake_wg, run):
    path = tmp_path / 'wg0.x.psk'
    failed = run(path=str(path), kind='preshared', create=False)
    assert failed.get('failed') and 'create=false' in failed['msg'] and not path.exists()
    failed = run(path=str(tmp_path / 'wg0.key'), create=False)
    assert failed.get('failed') and not (tmp_path / 'wg0.key').exists()
    path.write_text(VALID_KEY + '\n')
    path.chmod(0o600)
    read = run(path=str(path), kind='preshared', create=False, check=True)
    assert not read['changed'] and read['preshared_key'] == VALID_KEY
    assert wg_calls(fake_wg) == []


def test_value_needs_kind_preshared_and_a_valid_key(tmp_path, fake_wg, run):
    assert run(path=str(tmp_path / 'k'), value=VALID_KEY).get('failed')
    bad = run(path=str(tmp_path / 'k'), kind='preshared', value='not-a-key')
    assert bad.get('failed') and not (tmp_path / 'k').exists()


@pytest.mark.parametrize('kind', ['private', 'preshared'])
def test_two_runs_at_once_never_leave_two_keys(tmp_path, fake_wg, run, monkeypatch, kind):
    """A key file another run writes while this one generates wins: this run returns that key
    (its public key, or the preshared key to carry), so both runs agree on one key."""
    path = tmp_path / 'wgpf' / ('wg0.key' if kind == 'private' else 'wg0.peer.psk')
    path.parent.mkdir(mode=0o700)
    monkeypatch.setenv('FAKE_WG_RACE', str(path))
    monkeypatch.setenv('FAKE_WG_RACE_KEY', VALID_KEY)
    result = run(path=str(path), kind=kind)
    assert result['_rc'] == 0 and not result['generated'], result
    assert path.read_text().strip() == VALID_KEY
    if kind == 'private':
        assert result['public_key'] == fake_public(VALID_KEY)
    else:
        assert result['preshared_key'] == VALID_KEY
    assert [p for p in os.listdir(path.parent) if p.startswith('.')] == []
