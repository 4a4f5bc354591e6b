"""Output formats: each turns an ``AuditReport`` into text, behind one small interface."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from zeet_iam_audit.audit.report import AuditReport


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How to render. ``sources`` maps an input's path (``RoleReport.source``) to its text, for the
    formats that point at lines (SARIF, GitHub annotations); ``root`` is the directory paths are made
    relative to; ``reached`` the ``--fail-on`` conditions the run met (None: not known)."""

    color: bool = False
    width: int | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    root: Path | None = None
    reached: tuple[str, ...] | None = None
    all_findings: bool = False  # JSON: list every finding, not only the waived ones (--findings)


Renderer = Callable[[AuditReport, RenderOptions], str]


def render_table_with_waivers(report: AuditReport, options: RenderOptions) -> str:
    """The table, followed by the waivers and what they did (the other formats show them inline)."""
    from zeet_iam_audit.formats.printable import printable
    from zeet_iam_audit.formats.table import render_table
    from zeet_iam_audit.waivers import waiver_report_lines

    report = printable(report)  # names from the input may hold control characters
    return render_table(report, options) + "".join(line + "\n" for line in waiver_report_lines(report))


# --format name → (module, function); each imported only when its format is wanted.
_RENDERERS = {
    "table": ("zeet_iam_audit.formats", "render_table_with_waivers"),
    "json": ("zeet_iam_audit.formats.json_format", "render_json"),
    "sarif": ("zeet_iam_audit.formats.sarif", "render_sarif"),
    "markdown": ("zeet_iam_audit.formats.markdown", "render_markdown"),
    "github": ("zeet_iam_audit.formats.github", "render_github"),
}
FORMATS = tuple(_RENDERERS)
# Formats that point at lines of the input file, so the CLI reads it for them.
LINE_FORMATS = frozenset({"sarif", "github"})


def renderer(name: str) -> Renderer:
    """The renderer for a ``--format`` name."""
    module, function = _RENDERERS[name]
    found: Renderer = getattr(importlib.import_module(module), function)
    return found
