# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a WireGuard key file is, for the two modules that read one on a host.

wireguard_key creates and fixes key files; host_state reports the ones
wireguard_key would leave as they are. Both must agree on what a readable key
file is (and, with core/keys.py, a valid key), so both read them here. Python
3.8+, host side.
"""

from __future__ import annotations

from ansible.module_utils.common.text.converters import to_text

KEY_FILE_MODE = 0o600
KEY_DIR_MODE = 0o700
MAX_KEY_FILE_SIZE = 4096  # never read a big file someone pointed us at


def read_key(path):
    """Read the key file. Returns the stripped text, or None when the file is unreadable as a key."""
    with open(path, 'rb') as f:
        data = f.read(MAX_KEY_FILE_SIZE + 1)
    if len(data) > MAX_KEY_FILE_SIZE:
        return None
    try:
        return to_text(data, errors='strict').strip()
    except UnicodeError:
        return None
