"""Output formats: each turns an ``AuditReport`` into text, behind one small interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zeet_iam_audit.audit.report import AuditReport


@dataclass(frozen=True, slots=True)
class RenderOptions:
    color: bool = False
    width: int | None = None


Renderer = Callable[[AuditReport, RenderOptions], str]


def renderer(name: str) -> Renderer:
    """The renderer for a ``--format`` name (imported lazily: rich only when a table is wanted)."""
    if name == "json":
        from zeet_iam_audit.formats.json_format import render_json

        return render_json
    if name == "table":
        from zeet_iam_audit.formats.table import render_table

        return render_table
    raise KeyError(name)


FORMATS = ("table", "json")
