"""JSON for machines: the versioned shape of ``AuditReport.to_json`` (schema_version 1)."""

from __future__ import annotations

import json

from zeet_iam_audit.audit.report import AuditReport
from zeet_iam_audit.formats import RenderOptions

# Up to this many roles the JSON is indented for people; beyond it, compact (Python's C encoder only
# runs without indentation, and an account-wide report is read by programs, not eyes).
INDENT_UP_TO_ROLES = 20


def render_json(report: AuditReport, options: RenderOptions) -> str:
    """The report as JSON with a trailing newline; indented for small reports."""
    indent = 2 if len(report.roles) <= INDENT_UP_TO_ROLES else None
    separators = None if indent else (",", ":")
    document = report.to_json(all_findings=options.all_findings)
    return json.dumps(document, indent=indent, separators=separators) + "\n"
