"""What several verifier tests share about the Molecule run they are in: its Ansible inventory, and
steps that run once per test sequence (the verify after side_effect's restart skips them)."""

import os
import pathlib

import pytest


def molecule_inventory(pytestconfig, folder=False):
    """Molecule's Ansible inventory (its folder with ``folder``, so that more -i sources can join it);
    skips the test outside Molecule."""
    path = getattr(pytestconfig.option, "ansible_inventory", None)
    if not path:
        pytest.skip("needs Molecule's Ansible inventory (--ansible-inventory)")
    if folder and os.path.isfile(path):
        return str(pathlib.Path(path).parent)
    return path


def first_verify_only(marker):
    """Skip when this test sequence's first verify ran the step; else leave ``marker`` in Molecule's
    ephemeral folder (which destroy empties) and go on. Outside Molecule: always run."""
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if ephemeral:
        path = pathlib.Path(ephemeral) / marker
        if path.exists():
            pytest.skip("ran in this test sequence's first verify")
        path.write_text("")
