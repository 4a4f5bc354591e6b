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
    if len(report.roles) <= INDENT_UP_TO_ROLES:
        return json.dumps(report.to_json(all_findings=options.all_findings), indent=2) + "\n"
    # Role by role, so that only one role's dictionaries exist at a time next to the text.
    head = report.to_json(all_findings=options.all_findings, roles=False)
    head["roles"] = _ROLES_MARK
    text = json.dumps(head, separators=(",", ":"))
    encode = json.JSONEncoder(separators=(",", ":")).encode
    roles = ",".join(encode(role.to_json()) for role in report.roles)
    before, _, after = text.partition(json.dumps(_ROLES_MARK))
    return f"{before}[{roles}]{after}\n"


_ROLES_MARK = "\x00roles\x00"
