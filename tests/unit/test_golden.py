# -*- coding: utf-8 -*-
"""Every file rendered for inventory.example and the Molecule inventories, byte for byte as kept in tests/golden/.

A deliberate change of output regenerates them: `make golden` (WGPF_GOLDEN_UPDATE=1), then review
`git diff tests/golden` and commit it with the change that explains it.
"""

from __future__ import annotations

import golden
import pytest

INVENTORIES = golden.inventories()


def test_every_inventory_is_covered():
    names = set(INVENTORIES)
    assert "inventory.example" in names
    assert {"molecule-masquerade", "molecule-two_publics", "molecule-demo"} <= names
    kept = {p.name for p in golden.GOLDEN.iterdir() if p.is_dir()} if golden.GOLDEN.is_dir() else set()
    assert kept == names, "tests/golden/ and the inventories differ: run `make golden`"


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_rendered_files_match_the_golden_files(name):
    files = golden.rendered(INVENTORIES[name])
    assert files, "%s renders no file at all" % name
    if golden.updating():
        golden.write(name, files)
    kept = golden.stored(name)
    assert sorted(kept) == sorted(files), "files added or gone for %s: run `make golden` if deliberate" % name
    for rel, (_mode, _kind, content) in files.items():
        assert content.encode() == kept[rel], "%s/%s differs from tests/golden: run `make golden` if deliberate" % (
            name, rel)
    assert (golden.GOLDEN / name / "MANIFEST").read_text() == golden.manifest(files)


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_every_golden_table_passes_nft_check(name, nft_check, tmp_path):
    tables = [content for rel, (_m, kind, content) in golden.rendered(INVENTORIES[name]).items() if kind == "nftables"]
    assert tables, "%s renders no nftables table" % name
    for text in tables:
        nft_check(text, tmp_path)
