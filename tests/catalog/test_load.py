from __future__ import annotations

from pathlib import Path

import pytest

from zeet_iam_audit.catalog import load_catalog, parse_catalog, read_catalog
from zeet_iam_audit.errors import CatalogError

from .support import DATA_FILE


def test_load_catalog_reads_the_packaged_data_once() -> None:
    assert load_catalog() is load_catalog()
    assert len(load_catalog()) == len(parse_catalog(DATA_FILE.read_bytes()))


def test_read_catalog_from_a_path(tmp_path: Path) -> None:
    copy = tmp_path / "actions.tsv"
    copy.write_bytes(DATA_FILE.read_bytes())
    assert read_catalog(copy).get("eks:CreateAccessEntry") is not None


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        pytest.param(lambda d: d / "missing.tsv", "No such file", id="missing"),
        pytest.param(lambda d: d, "cannot read", id="directory"),
    ],
)
def test_unreadable_data_is_a_catalog_error(tmp_path: Path, make: object, problem: str) -> None:
    assert callable(make)
    path = make(tmp_path)
    with pytest.raises(CatalogError, match=problem) as caught:
        read_catalog(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_damaged_file_is_a_catalog_error_naming_it(tmp_path: Path) -> None:
    damaged = tmp_path / "actions.tsv"
    damaged.write_bytes(DATA_FILE.read_bytes()[:-100])
    with pytest.raises(CatalogError, match="checksum mismatch") as caught:
        read_catalog(damaged)
    assert str(caught.value).startswith(f"{damaged}: damaged IAM action catalogue data")
