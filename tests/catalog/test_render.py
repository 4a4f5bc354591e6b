from __future__ import annotations

import json

import pytest

from zeet_iam_audit.catalog import Catalog, parse_catalog
from zeet_iam_audit.catalog.render import catalog_report
from zeet_iam_audit.errors import UsageError

from .support import small_catalog_bytes


def test_table_for_a_small_catalogue() -> None:
    small = parse_catalog(small_catalog_bytes())
    assert catalog_report(small, "table") == (
        "IAM action catalogue\n"
        "\n"
        "source  version  data date   actions\n"
        "fresh   2.0      2026-01-02        5\n"
        "old     1.0      unknown           3\n"
        "\n"
        "6 actions in 3 services (the union of the sources)\n"
        "data date: 2026-01-02\n"
    )


def test_table_names_every_source(catalog: Catalog) -> None:
    text = catalog_report(catalog, "table")
    for source in catalog.sources:
        row = next(line for line in text.splitlines() if line.startswith(source.name + " "))
        assert row.split() == [
            source.name,
            source.version,
            source.data_date or "unknown",
            str(source.count),
        ]
    assert f"{len(catalog)} actions in {len(catalog.services())} services" in text
    assert f"data date: {catalog.data_date}" in text


def test_json_is_the_summary(catalog: Catalog) -> None:
    text = catalog_report(catalog, "json")
    assert text.endswith("}\n")
    assert json.loads(text) == catalog.summary()


def test_unknown_format_is_a_usage_error(catalog: Catalog) -> None:
    with pytest.raises(UsageError, match="unknown format 'yaml'"):
        catalog_report(catalog, "yaml")
