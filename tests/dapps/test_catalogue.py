"""What every dapp of the catalogue shares: a manifest that loads, a README with an example,
pinned requirements, and one PNG writer kept identical wherever it is copied."""

import re

import pytest

from nuage.apps import MANIFEST, load_manifest
from tests.dapps.conftest import DAPPS

CATALOGUE = sorted(path.parent.name for path in DAPPS.glob(f"*/{MANIFEST}"))


def test_the_catalogue_has_the_six_dapps_of_the_store() -> None:
    assert set(CATALOGUE) >= {
        "factorial",
        "sudoku",
        "vanitygen",
        "wordcloud",
        "image-transform",
        "plot",
    }


@pytest.mark.parametrize("name", CATALOGUE)
def test_each_dapp_has_a_manifest_a_readme_and_pinned_requirements(name: str) -> None:
    manifest = load_manifest((DAPPS / name / MANIFEST).read_text())
    assert manifest.name == name
    assert (DAPPS / name / manifest.entrypoint).is_file()
    assert f"nuage run {name}" in (DAPPS / name / "README.md").read_text()
    for requirement in manifest.requirements:  # an unpinned one would change the bundle
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.]+", requirement), requirement


def test_the_png_writer_copies_are_identical() -> None:
    copies = {path.parent.name: path.read_bytes() for path in DAPPS.glob("*/deterministic_png.py")}
    assert set(copies) >= {"wordcloud", "image-transform", "plot"}
    assert len(set(copies.values())) == 1, f"deterministic_png.py differs between {sorted(copies)}"
