#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the wgforward.portforward collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_key
short_description: Ensure a WireGuard private key, or a preshared key, exists on the managed host
version_added: "0.1.0"
description:
  - Ensures a WireGuard private key file exists at O(path) on the managed host and returns its public key.
  - The key is generated on the managed host with C(wg genkey) and never leaves it. The private key is never
    returned, logged or put on a command line; the public key is derived with C(wg pubkey), which reads the
    private key on its standard input.
  - An existing valid key is never replaced. A file that exists but does not hold a valid key (empty, truncated,
    not base64 of 32 bytes) makes the module fail unless O(force=true), because replacing a key silently breaks
    every peer that knows the old public key.
  - The key file is kept at mode C(0600), owned by O(owner) and O(group). Missing parent directories are created
    with mode C(0700) and the same owner; an existing parent directory is never changed (mode, owner or group), as
    it may be shared, such as C(/etc/wireguard).
  - The roles of this collection keep one key per interface at C(/etc/wireguard/wgpf/<interface>.key).
  - With O(kind=preshared) the file holds a preshared key of one link (C(wg genpsk)), under the same rules (0600,
    never replaced when valid). The end of the link that generates it gets it back in RV(preshared_key), to carry it
    to the other end, which passes it in O(value). The tasks must set C(no_log) on both.
author:
  - wgforward.portforward maintainers (@wgforward)
options:
  path:
    description:
      - Path of the private key file on the managed host.
      - Missing parent directories are created with mode C(0700); an existing one is left as it is.
      - The roles of this collection use C(/etc/wireguard/wgpf/<interface>.key).
    type: path
    required: true
  state:
    description:
      - V(present) ensures a valid key exists, generating one if the file is missing.
      - V(absent) removes the key file. The parent directory is left in place.
    type: str
    choices: [present, absent]
    default: present
  kind:
    description:
      - V(private) is a WireGuard private key (C(wg genkey)); the module returns its public key.
      - V(preshared) is a link's preshared key (C(wg genpsk)); the module returns it in RV(preshared_key) unless
        O(value) is given.
    type: str
    choices: [private, preshared]
    default: private
  value:
    description:
      - Only with O(kind=preshared) on the end that does not generate the key. The key the file must hold (a copy of
        the generating end's). A different valid key in the file is replaced by it.
    type: str
  create:
    description:
      - Generate a key when the file is missing. With V(false) a missing file fails the module instead, naming it
        (a key that must be read, never made, as the roles do for hosts outside C(--limit)).
    type: bool
    default: true
  force:
    description:
      - Replace the file with a newly generated key when it exists but does not hold a valid WireGuard private key.
      - A valid key is never replaced, whatever this option says.
    type: bool
    default: false
  owner:
    description:
      - Owner of the key file and of the parent directories the module creates.
    type: str
    default: root
  group:
    description:
      - Group of the key file and of the parent directories the module creates.
    type: str
    default: root
requirements:
  - C(wg) from wireguard-tools on the managed host (only for O(state=present)).
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - When the key does not exist yet, check mode reports a change and cannot return a public key.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff shows the key file's state, mode and public key; never the private key.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
notes:
  - Only the file's content is validated (base64 of 32 bytes). It is not compared with any running interface.
seealso:
  - name: WireGuard quick start
    description: How WireGuard keys are generated and used.
    link: https://www.wireguard.com/quickstart/
"""

EXAMPLES = r"""
- name: Ensure wg0 has a private key and learn its public key
  wgforward.portforward.wireguard_key:
    path: /etc/wireguard/wgpf/wg0.key
  register: wg0_key

- name: Show the public key
  ansible.builtin.debug:
    msg: "{{ wg0_key.public_key }}"

- name: Replace a corrupted (empty or invalid) key file with a new key
  wgforward.portforward.wireguard_key:
    path: /etc/wireguard/wgpf/wg0.key
    force: true

- name: Remove the key
  wgforward.portforward.wireguard_key:
    path: /etc/wireguard/wgpf/wg0.key
    state: absent
"""

RETURN = r"""
public_key:
  description:
    - Base64 public key matching the private key in O(path).
    - Null when O(state=absent), and in check mode when the key would first be generated.
  returned: always
  type: str
  sample: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
path:
  description: Path of the private key file.
  returned: always
  type: str
  sample: /etc/wireguard/wgpf/wg0.key
preshared_key:
  description:
    - The preshared key in O(path), for O(kind=preshared) without O(value). A secret, so register it only in a task with
      C(no_log), to carry it to the other end of the link.
  returned: with O(kind=preshared) and no O(value), once the key exists (not in check mode before it does)
  type: str
generated:
  description: Whether a new private key was generated (or would be, in check mode).
  returned: always
  type: bool
  sample: false
msg:
  description: Human-readable summary of what was done or would be done.
  returned: always
  type: str
  sample: key exists
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.wgforward.portforward.plugins.module_utils.apply.wg_keys import (
    KEY_DIR_MODE, KEY_FILE_MODE, read_key)
from ansible_collections.wgforward.portforward.plugins.module_utils.core.keys import is_valid_key


class WireguardKey(object):

    def __init__(self, module):
        self.module = module
        self.path = module.params['path']
        self.parent = os.path.dirname(self.path) or '.'
        self.owner = module.params['owner']
        self.group = module.params['group']
        self.force = module.params['force']
        self.kind = module.params['kind']
        self.value = module.params['value']
        self.create = module.params['create']
        self.check_mode = module.check_mode
        self._wg = None

    # -- wg helpers -------------------------------------------------------

    @property
    def wg(self):
        if self._wg is None:
            self._wg = self.module.get_bin_path('wg', required=True)
        return self._wg

    def genkey(self, verb='genkey', mask=True):
        rc, out, err = self.module.run_command([self.wg, verb])
        key = to_text(out).strip()
        if key and mask:
            # Mask the key in anything this module might print from here on.
            self.module.no_log_values.add(key)
        if rc != 0 or not is_valid_key(key):
            self.module.fail_json(msg='wg %s failed or printed no valid key' % verb, rc=rc, stderr=err, path=self.path)
        return key

    def pubkey(self, private_key):
        # The private key goes on stdin, never on the command line.
        rc, out, err = self.module.run_command([self.wg, 'pubkey'], data=private_key)
        public = to_text(out).strip()
        if rc != 0 or not is_valid_key(public):
            self.module.fail_json(msg='wg pubkey could not derive a public key from %s' % self.path,
                                  rc=rc, stderr=err, path=self.path)
        return public

    # -- filesystem helpers ------------------------------------------------

    def ensure_parent(self):
        """Create missing directories 0700, owned by owner/group. Returns changed.

        An existing directory is left exactly as it is: it may be shared (/etc/wireguard, a home
        directory), and the key file's own 0600 is what keeps the key private.
        """
        if os.path.exists(self.parent):
            if not os.path.isdir(self.parent):
                self.module.fail_json(msg='parent of %s exists and is not a directory' % self.path, path=self.path)
            return False
        if not self.check_mode:
            missing = []
            d = self.parent
            while d and not os.path.exists(d):
                missing.append(d)
                d = os.path.dirname(d)
            for d in reversed(missing):
                os.mkdir(d, KEY_DIR_MODE)
                # mkdir applies the umask; a created directory is 0700 whatever it is.
                os.chmod(d, KEY_DIR_MODE)
                self.module.set_owner_if_different(d, self.owner, True)
                self.module.set_group_if_different(d, self.group, True)
        return True

    def fix_file_attrs(self, changed):
        changed = self.module.set_owner_if_different(self.path, self.owner, changed)
        changed = self.module.set_group_if_different(self.path, self.group, changed)
        changed = self.module.set_mode_if_different(self.path, '0600', changed)
        return changed

    def write_key(self, key, exclusive=False, mask=True):
        """Write ``key`` to path atomically; the file is 0600 from the moment it exists.

        ``exclusive`` (the file did not exist): the new file is linked into place, which fails when
        another run made one meanwhile; that one is kept and returned, so two runs at once never
        leave two different keys for one interface or link. Otherwise None.
        """
        tmp = os.path.join(self.parent, '.%s.%d.tmp' % (os.path.basename(self.path), os.getpid()))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
        try:
            try:
                os.fchmod(fd, KEY_FILE_MODE)
                os.write(fd, to_bytes(key + '\n'))
                os.fsync(fd)
            finally:
                os.close(fd)
            self.module.set_owner_if_different(tmp, self.owner, False)
            self.module.set_group_if_different(tmp, self.group, False)
            if not exclusive:
                os.rename(tmp, self.path)
                return None
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                return self.read_valid(mask)
            return None
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)

    def read_valid(self, mask=True):
        """The valid key another run wrote at path (masked unless it is a preshared key to return); failing
        when it is not one."""
        key = read_key(self.path)
        if not is_valid_key(key):
            self.module.fail_json(msg='%s was written by another run meanwhile and holds no valid key' % self.path,
                                  path=self.path)
        if mask:
            self.module.no_log_values.add(key)
        return key.strip()

    # -- states --------------------------------------------------------------

    def present(self):
        result = dict(changed=False, path=self.path, generated=False, public_key=None)
        before = dict(state='absent')
        exists = os.path.lexists(self.path)

        if exists and not os.path.isfile(self.path):
            self.module.fail_json(msg='%s exists and is not a regular file' % self.path, path=self.path)

        key = None
        if exists:
            key = read_key(self.path)
            if key and len(key) >= 16:
                # Mask it (even a damaged key is a secret); short junk is not worth masking.
                self.module.no_log_values.add(key)
            if is_valid_key(key):
                st = os.stat(self.path)
                before = dict(state='present', mode='%04o' % stat.S_IMODE(st.st_mode))
            else:
                if not self.force:
                    self.module.fail_json(
                        msg='%s exists but does not hold a valid WireGuard private key. Refusing to replace it: a new '
                            'key changes the public key and breaks every peer configured with the old one. Fix or '
                            'remove the file, or set force=true to generate a new key.' % self.path,
                        path=self.path)
                before = dict(state='invalid')
                key = None

        if key is None and not self.create:
            self.module.fail_json(msg='%s: no valid private key on this host, and create=false' % self.path,
                                  path=self.path)
        result['changed'] = self.ensure_parent()

        if key is None:
            result['changed'] = True
            result['generated'] = True
            if self.check_mode:
                result['msg'] = 'a new key would be generated; its public key is known only after a real run'
                after = dict(state='present', mode='0600', public_key='(generated on apply)')
            else:
                key = self.genkey()
                found = self.write_key(key, exclusive=before['state'] == 'absent')
                if found is not None:
                    # Another run generated it first: that key stays, nothing was generated here.
                    key, result['generated'] = found, False
                result['public_key'] = self.pubkey(key)
                result['msg'] = 'key regenerated (force)' if before['state'] == 'invalid' else \
                    'key generated' if result['generated'] else 'key generated by another run meanwhile'
                after = dict(state='present', mode='0600', public_key=result['public_key'])
        else:
            result['public_key'] = self.pubkey(key)
            before['public_key'] = result['public_key']
            result['changed'] = self.fix_file_attrs(result['changed'])
            result['msg'] = 'key exists' if not result['changed'] else 'key exists; permissions fixed'
            after = dict(state='present', mode='0600', public_key=result['public_key'])

        result['diff'] = dict(before=before, after=after, before_header=self.path, after_header=self.path)
        return result

    def preshared(self):
        """A link's preshared key: made here (returned to carry it), or the copy O(value) says."""
        result = dict(changed=False, path=self.path, generated=False, public_key=None)
        if os.path.lexists(self.path) and not os.path.isfile(self.path):
            self.module.fail_json(msg='%s exists and is not a regular file' % self.path, path=self.path)
        key = read_key(self.path) if os.path.lexists(self.path) else None
        if key and len(key) >= 16 and self.value is not None:
            # The old copy is a secret too; a generating end's key is returned, so not masked.
            self.module.no_log_values.add(key)
        before = dict(state='absent' if key is None else 'present' if is_valid_key(key) else 'invalid')
        if before['state'] == 'invalid' and not self.force and self.value is None:
            self.module.fail_json(msg='%s exists but does not hold a valid preshared key. Refusing to replace it: '
                                      'remove the file (a new key is made) or set force=true.' % self.path,
                                  path=self.path)
        if key is None and not self.create:
            self.module.fail_json(msg='%s: no preshared key on this host, and create=false: it is made only when both '
                                      'ends of the link are in the run (run without --limit, or include this host)'
                                  % self.path, path=self.path)
        wanted = self.value if self.value is not None else (key if before['state'] == 'present' else None)
        result['changed'] = self.ensure_parent()
        if wanted is None or wanted != key:
            result['changed'] = True
            result['generated'] = wanted is None
            if not self.check_mode:
                made = wanted is None
                wanted = wanted or self.genkey('genpsk', mask=self.value is not None)
                found = self.write_key(wanted, exclusive=made and key is None, mask=self.value is not None)
                if found is not None:
                    # Another run made this link's key first: carry that one.
                    wanted, result['generated'] = found, False
        result['changed'] = self.fix_file_attrs(result['changed']) if os.path.exists(self.path) else result['changed']
        if self.value is None and wanted is not None:
            result['preshared_key'] = wanted
        result['msg'] = 'preshared key %s' % ('generated' if result['generated'] else
                                              'written' if result['changed'] else 'exists')
        result['diff'] = dict(before=before, after=dict(state='present', mode='0600'), before_header=self.path,
                              after_header=self.path)
        return result

    def absent(self):
        result = dict(changed=False, path=self.path, generated=False, public_key=None, msg='key absent')
        before = dict(state='absent')
        if os.path.lexists(self.path):
            if os.path.isdir(self.path) and not os.path.islink(self.path):
                self.module.fail_json(msg='%s is a directory, not a key file' % self.path, path=self.path)
            before = dict(state='present')
            result['changed'] = True
            result['msg'] = 'key would be removed' if self.check_mode else 'key removed'
            if not self.check_mode:
                os.unlink(self.path)
        result['diff'] = dict(before=before, after=dict(state='absent'), before_header=self.path,
                              after_header=self.path)
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            force=dict(type='bool', default=False),
            owner=dict(type='str', default='root'),
            group=dict(type='str', default='root'),
            kind=dict(type='str', default='private', choices=['private', 'preshared']),
            value=dict(type='str', no_log=True),
            create=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    keyfile = WireguardKey(module)
    if module.params['value'] is not None and (module.params['kind'] != 'preshared' or
                                               not is_valid_key(module.params['value'])):
        module.fail_json(msg='value is only for kind=preshared, and must be a valid key (base64 of 32 bytes)')
    if module.params['state'] == 'present' and module.params['kind'] == 'preshared':
        result = keyfile.preshared()
    elif module.params['state'] == 'present':
        result = keyfile.present()
    else:
        result = keyfile.absent()
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
