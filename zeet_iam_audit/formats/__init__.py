"""Output formats: each turns an ``AuditReport`` into text, behind one small interface (``interface``)."""

from __future__ import annotations

from zeet_iam_audit.formats.interface import Format, OutputFormat, RenderOptions

__all__ = ["FORMATS", "Format", "OutputFormat", "RenderOptions"]

# The --format names, in the order the help lists them.
FORMATS: tuple[str, ...] = tuple(OutputFormat)
