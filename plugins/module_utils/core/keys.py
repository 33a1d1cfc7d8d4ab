# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a WireGuard key is: 32 bytes in base64, as ``wg genkey``, ``wg pubkey`` and ``wg genpsk`` print it.

The model checks a peer's public key from the inventory with it and the host side
checks key files with it, so both agree. Standard library only (Python 3.8+, host side too).
"""

from __future__ import annotations

import base64
import binascii
import hashlib

KEY_LEN = 32  # Curve25519 keys are 32 bytes


def is_valid_key(text):
    """Return True if ``text`` is the base64 encoding of a 32-byte key (surrounding whitespace allowed)."""
    if not text:
        return False
    candidate = text.strip()
    if len(candidate) != 44:
        return False
    try:
        raw = base64.b64decode(candidate, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == KEY_LEN


def key_digest(text):
    """A digest of a preshared key, to tell whether two hosts hold the same key without carrying it.

    SHA-256 of the key's 44 characters: a preshared key is 32 random bytes, so the digest tells
    nothing about the key, and it is what host_state reports of each preshared key file.
    """
    return hashlib.sha256(text.strip().encode("ascii")).hexdigest()
