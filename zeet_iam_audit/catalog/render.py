"""What ``zeet-iam-audit catalog`` prints: the catalogue's sources, their dates and counts."""

from __future__ import annotations

import json

from zeet_iam_audit.catalog.index import Catalog
from zeet_iam_audit.errors import UsageError

REPORT_FORMATS = ("table", "json")


def catalog_report(catalog: Catalog, fmt: str) -> str:
    """The report for ``fmt`` (``"table"`` or ``"json"``), ending in a newline."""
    if fmt == "json":
        return json.dumps(catalog.summary(), indent=2) + "\n"
    if fmt == "table":
        return _table(catalog)
    expected = ", ".join(REPORT_FORMATS)
    raise UsageError(f"catalog: unknown format {fmt!r}; expected one of {expected}")


def _table(catalog: Catalog) -> str:
    header = ("source", "version", "data date", "actions")
    rows = [(s.name, s.version, s.data_date or "unknown", str(s.count)) for s in catalog.sources]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, str, str, str]) -> str:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=False)]
        return "  ".join([*cells, row[3].rjust(widths[3])]).rstrip()

    services = len(catalog.services())
    return "\n".join(
        [
            "IAM action catalogue",
            "",
            line(header),
            *(line(row) for row in rows),
            "",
            f"{len(catalog)} actions in {services} services (the union of the sources)",
            f"data date: {catalog.data_date or 'unknown'}",
            "",
        ]
    )
