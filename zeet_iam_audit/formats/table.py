"""The table for people: one summary line per feature, then the details.

Laid out as plain text within the width (``textlayout``): long lines wrap with their indent kept, the
features table's Summary and Feature columns narrow before anything overflows. Colour, when asked
for, is ANSI SGR codes around the styled words. (This used rich; its layout engine cost ten times the
audit on an account-wide report.)
"""

from __future__ import annotations

from zeet_iam_audit.audit.report import (
    AuditReport,
    FeatureResult,
    FeatureStatus,
    RoleReport,
)
from zeet_iam_audit.formats import RenderOptions
from zeet_iam_audit.textlayout import DEFAULT_WIDTH, render_columns, wrap

# ANSI SGR parameters: 1 bold; 31 red, 32 green, 33 yellow, 35 magenta, 36 cyan.
_STATUS_STYLE = {
    "ok": "1;32",
    "warn": "1;33",
    "conditional": "1;33",
    "missing": "1;31",
    "fail": "1;31",
    "unknown": "1;35",
    "info": "36",
}
_BOLD = "1"
_NAME = "1;36"
_DEFAULT_WIDTH = DEFAULT_WIDTH


def _paint(text: str, style: str | None, color: bool) -> str:
    return f"\x1b[{style}m{text}\x1b[0m" if color and style and text else text


def _status(value: str, color: bool) -> str:
    return _paint(value, _STATUS_STYLE.get(value), color)


def _feature_summary(feature: FeatureResult) -> str:
    if feature.status is FeatureStatus.OK:
        if not feature.required:
            return "no permission required in this mode (see Trust)"
        return f"{feature.required} required actions allowed"
    if feature.status is FeatureStatus.MISSING:
        return "lacks " + ", ".join(
            f"{g.display} ({len(g.actions)}: {g.layer})" for g in feature.missing)
    items = feature.unknown if feature.status is FeatureStatus.UNKNOWN else feature.conditional
    keys = sorted({k for item in items for k in item.keys}, key=str.lower)
    tail = f" on {', '.join(keys)}" if keys else ""
    return f"{len(items)} of {feature.required} required actions {feature.status.value}{tail}"


def _features_table(role: RoleReport, width: int, color: bool) -> list[str]:
    """Section, Feature, Status, Summary; Summary narrows first, then Feature."""
    rows = [(feature.section, feature.title, feature.status.value, _feature_summary(feature))
            for feature in role.features]
    return render_columns(("Section", "Feature", "Status", "Summary"), rows, width,
                          shrink={3: 12, 1: 10}, styles={2: lambda text: _status(text, color)},
                          header_style=lambda text: _paint(text, _BOLD, color))


def _feature_details(role: RoleReport) -> list[tuple[int, str]]:
    """(indent, text) lines; wrapped text keeps its indent."""
    lines: list[tuple[int, str]] = []
    for feature in role.features:
        if feature.status is FeatureStatus.OK and not feature.notes:
            continue
        lines.append((2, f"{feature.title} ({feature.id}): {feature.status.value}"))
        for group in feature.missing:
            lines.append((4, f"{feature.title} lacks {group.display}: {', '.join(group.actions)} "
                             f"({group.reason})"))
            lines.extend((6, statement) for statement in group.statements)
        for item in (*feature.conditional, *feature.unknown):
            verdict = "unknown" if item in feature.unknown else "conditional"
            lines.append((4, f"{item.action} on {item.resource} is {verdict}:"))
            if item.keys:
                lines.append((6, f"condition keys {', '.join(item.keys)} gate an {'/'.join(item.gates)}"))
            lines.extend((6, reason) for reason in item.reasons)
        lines.extend((4, f"note: {note}") for note in feature.notes)
    return lines


def _excess_lines(role: RoleReport) -> list[tuple[int, str]]:
    """(indent, text) lines for the excess and the risky grants."""
    excess = role.excess
    lines = [(0, f"Excess: {excess.total} allowed actions that no selected feature needs")]
    for service in excess.services[:15]:
        levels = ", ".join(f"{level} {count}" for level, count in service.by_access_level)
        extra = []
        if service.conditional:
            extra.append(f"{service.conditional} conditional")
        if service.scoped:
            extra.append(f"{service.scoped} on some resources")
        tail = f" [{'; '.join(extra)}]" if extra else ""
        lines.append((2, f"{service.service}: {service.total} ({levels}){tail}"))
    if len(excess.services) > 15:
        rest = excess.services[15:]
        lines.append((2, f"... and {sum(s.total for s in rest)} more in {len(rest)} other services"))
    if excess.risky:
        lines.append((0, "Risky grants:"))
        for grant in excess.risky:
            needed = f"; needed by {', '.join(grant.needed_by)}" if grant.needed_by else ""
            cond = " (conditional)" if grant.conditional else ""
            where = f" [{grant.statement}]" if grant.statement else ""
            lines.append((2, f"{grant.action} on {grant.resource}{cond}: {grant.reason}{needed}{where}"))
    return lines


def _role_block(role: RoleReport, width: int, color: bool) -> list[str]:
    lines = wrap(f"Role {role.name}" + (f"  {role.arn}" if role.arn else ""), width, 0, 2)
    if color and lines[0].startswith(f"Role {role.name}"):
        lines[0] = _paint("Role ", _BOLD, color) + _paint(role.name, _NAME, color) + lines[0][5 + len(role.name):]
    lines.extend(wrap(f"source: {role.source}", width, 0, 2))
    lines.append("Trust: " + _status(role.trust.status.value, color))
    for finding in role.trust.findings:
        where = f" [{finding.statement}]" if finding.statement else ""
        text = wrap(f"{finding.severity}  {finding.message}{where}", width, 2, 2 + len(finding.severity) + 2)
        text[0] = "  " + _status(finding.severity, color) + text[0][2 + len(finding.severity):]
        lines.extend(text)
    mode = role.default_mode
    plan = f", plan {mode.plan}" if mode.plan else ""
    lines.extend(wrap(f"Mode: {mode.mode}{plan} (Account Administrator: {mode.administrator})", width, 0, 2))
    for note in mode.findings:
        lines.extend(wrap(note, width, 2, 2))
    lines.append("")
    lines.extend(_features_table(role, width, color))
    details = _feature_details(role)
    if details:
        lines.append("")
        lines.append(_paint("Details", _BOLD, color))
        for indent, line in details:
            lines.extend(wrap(line, width, indent))
    lines.append("")
    for indent, line in _excess_lines(role):
        lines.extend(wrap(line, width, indent))
    for reason in role.unknown_policies:
        lines.extend(_paint(part, _STATUS_STYLE["unknown"], color)
                     for part in wrap(f"Unreadable: {reason}", width))
    lines.extend(wrap(f"SCPs: {role.scps}", width))
    return lines


def render_table(report: AuditReport, options: RenderOptions) -> str:
    """The report as text within ``options.width`` (default 110); styled only when ``options.color``.

    ``report`` is already printable (``render_table_with_waivers`` makes it so: walking a large report
    twice cost as much as laying it out)."""
    width = options.width or _DEFAULT_WIDTH
    color = options.color
    lines: list[str] = []
    if not report.roles:
        lines.append("No role to audit.")
    for position, role in enumerate(report.roles):
        if position:
            lines.append("\u2500" * width)
        lines.extend(_role_block(role, width, color))
    for item in report.skipped:
        lines.extend(wrap(f"Skipped {item.name}: {item.reason}", width))
    return "".join(line.rstrip() + "\n" for line in lines)
