"""JSON for machines: the versioned shape of ``AuditReport.to_json`` (schema_version 1)."""

from __future__ import annotations

import json

from zeet_iam_audit.audit.report import AuditReport
from zeet_iam_audit.formats import RenderOptions


def render_json(report: AuditReport, options: RenderOptions) -> str:
    """The report as indented JSON with a trailing newline."""
    return json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n"
