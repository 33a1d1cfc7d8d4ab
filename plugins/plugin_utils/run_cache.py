# -*- coding: utf-8 -*-
# Copyright: wgforward.portforward contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's actions keep on the controller for one ansible-playbook run.

Every task of every host runs in a worker process of its own, so a result kept in
memory dies with its task. The actions keep what must be made once per run (the plan,
the live check's expectations) in a folder of their own inside Ansible's local temporary
folder of the run (``DEFAULT_LOCAL_TMP``: ``~/.ansible/tmp/ansible-local-<pid>...``, made
0700 by Ansible when the run starts and removed when it ends), under a lock, so workers
running at once compute a thing once and every later task, play or batch of the run reads
it. Nothing kept here is a secret (plans hold public keys at most, never a private or a
preshared key). The same folder's name is the run's identity (``run_id``), which the host
read stamps into its fact so a later play can tell a read of this run from a cached one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from urllib.parse import quote

from ansible import constants as C

NAME = "wgforward.portforward"


def run_id():
    """This run's identity: the name of Ansible's local temporary folder, unique per run."""
    return os.path.basename(os.path.normpath(C.DEFAULT_LOCAL_TMP))


def run_dir(*parts):
    """``<local tmp of the run>/wgforward.portforward[/parts]``, created 0700."""
    path = os.path.join(C.DEFAULT_LOCAL_TMP, NAME)
    for part in ("",) + parts:
        path = os.path.join(path, part) if part else path
        # One level at a time: makedirs gives its mode to the last folder only.
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
    return path


def file_name(text):
    """A file name for any host name or key (a host name may hold '/' or ':'); a long one by its digest."""
    name = quote(str(text), safe="-_.") or "_"
    return name if len(name) <= 120 else hashlib.sha256(str(text).encode("utf-8")).hexdigest()


@contextlib.contextmanager
def locked(*parts):
    """An exclusive lock, across the run's worker processes, named by ``parts``."""
    path = os.path.join(run_dir("locks"), file_name("-".join(parts)) + ".lock")
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_json(path, data):
    """Write ``data`` as JSON at ``path`` in one rename (readers never see half a file), mode 0600."""
    handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            # dumps, not dump: json.dump streams through the encoder written in Python, 5 times slower
            # (the check's 15 MB of expectations at 10,000 forwards: 3.0 s against 0.6 s).
            out.write(json.dumps(data, sort_keys=True))
        os.rename(temp, path)
    finally:
        if os.path.lexists(temp):
            os.unlink(temp)


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def path_of(kind, key):
    """Where once() keeps (kind, key)."""
    return os.path.join(run_dir(kind), file_name(key) + ".json")


def once(kind, key, compute):
    """``(value, computed)``: ``compute()``'s JSON result for (kind, key), computed once per run.

    The first worker to ask computes it under the lock while the others wait, then all
    read the file; ``computed`` says whether this call did the work (tests and reports).
    """
    path = path_of(kind, key)
    if os.path.exists(path):
        return read_json(path), False
    with locked(kind, key):
        if os.path.exists(path):
            return read_json(path), False
        value = compute()
        write_json(path, value)
        return value, True


def first_to_report(text, host):
    """The host that reported ``text`` first in this run: ``host`` itself when none did before.

    A problem every host finds (the inventory's) is shown once, by whichever host's
    task gets there first; the others refer to it.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    folder = run_dir("reported")
    path = os.path.join(folder, digest)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(host)
        # link() fails when the name exists: the first reporter's file appears whole, never half-written.
        os.link(temp, path)
        return host
    except FileExistsError:
        with open(path, encoding="utf-8") as existing:
            return existing.read()
    finally:
        os.unlink(temp)
