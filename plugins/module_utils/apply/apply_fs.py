# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files on the managed host for the apply step: read, compare, write atomically, remove.

Every path is a host path (``/etc/wgpf/wgpf.nft``) resolved under ``root``
(``/`` on a host, a temporary directory in the unit tests). Each change is
recorded as a diff entry whose texts never hold a key: secret lines are
masked, and key files are never read, only removed.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile

# WireGuard's secret settings; the collection writes none, a stray one is masked.
SECRET_LINE = re.compile(r"^(\s*(?:PrivateKey|PresharedKey)\s*=\s*).*$", re.IGNORECASE | re.MULTILINE)


class ApplyError(Exception):
    """A step failed; the message names the file or unit."""


def redact(text):
    # The cheap test first: a 10,000-forward table has no key line, and the pattern's scan of it is slow.
    if not text or "key" not in text.lower():
        return text
    return SECRET_LINE.sub(r"\1(secret, not shown)", text)


class HostFiles:
    """The host's files as the apply step sees them; check mode changes nothing."""

    def __init__(self, root="/", check_mode=False, chown=None):
        self.root = root
        self.check_mode = check_mode
        # Files are root's on a host; the tests run unprivileged and keep their own owner.
        self.chown = (os.geteuid() == 0) if chown is None else chown
        self.diffs = []
        self.changed_paths = []

    def real(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def exists(self, path):
        return os.path.lexists(self.real(path))

    def read(self, path):
        """The file's text, or None when it does not exist."""
        try:
            with open(self.real(path), encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ApplyError("%s: cannot be read: %s" % (path, exc))

    def mode(self, path):
        return "%04o" % stat.S_IMODE(os.lstat(self.real(path)).st_mode)

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.real(path)))
        except FileNotFoundError:
            return []

    def _record(self, path, before, after, note="", show=True):
        self.changed_paths.append(path)
        if not note and before != after and redact(before or "") == redact(after or ""):
            # Only a masked line differs (a rotated preshared key): say so, or the diff looks empty.
            note = " (a secret line changed, not shown)"
        if show:
            self.diffs.append({"before_header": path + note, "after_header": path + note,
                               "before": redact(before or ""), "after": redact(after or "")})

    def ensure_dir(self, path, mode):
        real = self.real(path)
        if os.path.isdir(real):
            if self.mode(path) == mode:
                return False
            self._record(path, "", "", " (directory mode -> %s)" % mode, show=False)
            if not self.check_mode:
                os.chmod(real, int(mode, 8))
            return True
        self._record(path, "", "", " (directory)", show=False)
        if not self.check_mode:
            os.makedirs(real, int(mode, 8))
            os.chmod(real, int(mode, 8))
        return True

    def write(self, path, content, mode, validate=None, show=True):
        """Make the file hold ``content`` with ``mode``; True when it had to change.

        A new content goes to a temporary file beside the target (mode set
        before any byte is written), is checked by ``validate(temp_path)``
        when given, and replaces the target with one rename.
        """
        before = self.read(path)
        if before == content:
            if self.mode(path) == mode:
                return False
            self._record(path, before, content, " (mode %s -> %s)" % (self.mode(path), mode), show=False)
            if not self.check_mode:
                os.chmod(self.real(path), int(mode, 8))
            return True
        self._record(path, before, content, "", show)
        if self.check_mode:
            return True
        real = self.real(path)
        if not os.path.isdir(os.path.dirname(real)):
            os.makedirs(os.path.dirname(real), 0o755)
        handle, temp = tempfile.mkstemp(dir=os.path.dirname(real), prefix=".%s." % os.path.basename(real))
        try:
            os.fchmod(handle, int(mode, 8))
            if self.chown:
                os.fchown(handle, 0, 0)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            if validate is not None:
                validate(temp)
            os.rename(temp, real)
        finally:
            if os.path.lexists(temp):
                os.unlink(temp)
        return True

    def remove(self, path, secret=False):
        """Remove a file; a secret one (a private key) is never read, its diff says so."""
        if not self.exists(path):
            return False
        before = "(private key, not shown)\n" if secret else self.read(path)
        self._record(path, before, "", " (removed)")
        if not self.check_mode:
            os.unlink(self.real(path))
        return True

    def remove_tree(self, path):
        if not self.exists(path):
            return False
        self._record(path, "", "", " (directory removed)", show=False)
        if not self.check_mode:
            shutil.rmtree(self.real(path))
        return True
