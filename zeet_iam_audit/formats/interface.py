"""The output formats' one small interface: ``Format``, and ``OutputFormat`` naming each one.

A format turns an ``AuditReport`` into text. Each lives in its own module and exposes ``FORMAT``, an
object satisfying ``Format``; ``OutputFormat(name).implementation()`` imports that module only when
its format is wanted, so a JSON run never imports the SARIF or table code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class Format(Protocol):
    """One output format."""

    @property
    def name(self) -> str:
        """The ``--format`` name (an ``OutputFormat`` value)."""
        ...

    @property
    def points_at_lines(self) -> bool:
        """Whether it points at lines of the input file, so the CLI reads the file's text for it."""
        ...

    def render(self, report: AuditReport, options: RenderOptions) -> str:
        """The report as this format's text."""
        ...

    def render_pieces(self, report: AuditReport, options: RenderOptions) -> Sequence[str]:
        """The same text in pieces, written one after the other: what the command line writes, so
        that a format can give an account-wide report without also holding it as one string."""
        ...


class OutputFormat(StrEnum):
    """The ``--format`` names; each maps to its ``Format``, imported on first use."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    GITHUB = "github"

    def implementation(self) -> Format:
        """This format's implementation (its module imported now, not before)."""
        return _IMPLEMENTATIONS[self]()


def _table() -> Format:
    from zeet_iam_audit.formats.table import FORMAT

    return FORMAT


def _json() -> Format:
    from zeet_iam_audit.formats.json_format import FORMAT

    return FORMAT


def _sarif() -> Format:
    from zeet_iam_audit.formats.sarif import FORMAT

    return FORMAT


def _markdown() -> Format:
    from zeet_iam_audit.formats.markdown import FORMAT

    return FORMAT


def _github() -> Format:
    from zeet_iam_audit.formats.github import FORMAT

    return FORMAT


# One loader per member: each imports its module only when called (a table of functions, not of
# module-name strings, so mypy checks every implementation against ``Format``).
_IMPLEMENTATIONS: Mapping[OutputFormat, Callable[[], Format]] = {
    OutputFormat.TABLE: _table,
    OutputFormat.JSON: _json,
    OutputFormat.SARIF: _sarif,
    OutputFormat.MARKDOWN: _markdown,
    OutputFormat.GITHUB: _github,
}
