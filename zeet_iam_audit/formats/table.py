"""The table for people: one summary line per feature, then the details.

Laid out as plain text within the width (``textlayout``): long lines wrap with their indent kept, the
features table's Summary and Feature columns narrow before anything overflows. Colour, when asked
for, is ANSI SGR codes around the styled words. (This used rich; its layout engine cost ten times the
audit on an account-wide report.)
"""

from __future__ import annotations

import json

from zeet_iam_audit.audit.report import (
    AuditReport,
    FeatureResult,
    FeatureStatus,
    RoleReport,
    decision_text,
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
        return f"{feature.required} required action{'s' if feature.required != 1 else ''} allowed"
    if feature.status is FeatureStatus.MISSING:
        return "lacks " + ", ".join(f"{feature.label(g)} ({len(g.actions)}: {g.layer})" for g in feature.missing)
    if feature.status is FeatureStatus.UNKNOWN:
        return f"{len(feature.unknown)} of {feature.required} required actions unknown (reasons below)"
    keys = sorted({k for item in feature.conditional for k in item.keys}, key=str.lower)
    tail = f" on {', '.join(keys)}" if keys else ""
    return f"{len(feature.conditional)} of {feature.required} required actions allowed only under conditions{tail}"


def _features_table(role: RoleReport, width: int, color: bool) -> list[str]:
    """Section, Feature, Status, Summary; Summary narrows first, then Feature."""
    rows = [
        (feature.section, feature.title, feature.status.value, _feature_summary(feature)) for feature in role.features
    ]
    return render_columns(
        ("Section", "Feature", "Status", "Summary"),
        rows,
        width,
        shrink={3: 12, 1: 10},
        styles={2: lambda text: _status(text, color)},
        header_style=lambda text: _paint(text, _BOLD, color),
    )


def _feature_details(role: RoleReport) -> list[tuple[int, str]]:
    """(indent, text) lines; wrapped text keeps its indent."""
    lines: list[tuple[int, str]] = []
    for feature in role.features:
        if feature.status is FeatureStatus.OK and not feature.notes:
            continue
        if feature.status is FeatureStatus.UNKNOWN and not feature.notes:
            continue  # said once per reason, below the details
        lines.append((2, f"{feature.title} ({feature.id}): {feature.status.value}"))
        for group in feature.missing:
            lines.append(
                (4, f"{feature.title} lacks {feature.label(group)}: {', '.join(group.actions)} ({group.reason})")
            )
            lines.extend((6, str(statement)) for statement in group.statements)
            if group.fix is not None:
                tail = ":" if group.fix.statements else ""
                lines.append((6, f"fix: {group.fix.change}{tail}"))
                lines.extend((8, json.dumps(statement.to_json())) for statement in group.fix.statements)
        for item in feature.conditional:
            lines.append((4, f"{item.action} on {item.resource} is allowed only under conditions:"))
            if item.keys:
                lines.append((6, item.condition_text()))
            lines.extend((6, reason) for reason in item.reasons)
        lines.extend((4, f"note: {note}") for note in feature.notes)
    return lines


def _checks_lines(role: RoleReport) -> list[tuple[int, str]]:
    """(indent, text) lines: invalid policies, what could not be verified, unknown action names."""
    lines: list[tuple[int, str]] = []
    if role.invalid_documents:
        lines.append((0, "Invalid policies (AWS would refuse them):"))
        lines.extend((2, f"{d.policy}: {d.file}: {d.path}: {d.problem}") for d in role.invalid_documents)
    groups = role.unknown
    if groups:
        titles = {feature.id: feature.title for feature in role.features}
        lines.append((0, "Could not verify (unknown):"))
        for group in groups:
            features = ", ".join(titles.get(f, f) for f in group.features)
            count = f"{group.actions} required action{'s' if group.actions != 1 else ''}"
            lines.append((2, role.reason_text(group.reason)))
            lines.append((4, f"leaves {count} unknown, in {features}"))
    if role.unknown_actions:
        lines.append((0, "Actions AWS does not know (they grant nothing):"))
        for unknown in role.unknown_actions:
            hint = f"; did you mean {unknown.suggestion}?" if unknown.suggestion else ""
            lines.append((2, f"{unknown.action} [{unknown.statement}]{hint}"))
    return lines


def _excess_lines(role: RoleReport) -> list[tuple[int, str]]:
    """(indent, text) lines for the excess and the risky grants."""
    excess = role.excess
    if not excess.analysed:
        return [(0, "Excess: not analysed (--no-excess)")]
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
        lines[0] = _paint("Role ", _BOLD, color) + _paint(role.name, _NAME, color) + lines[0][5 + len(role.name) :]
    if role.not_zeet is not None:
        return [*lines, *wrap(f"not a Zeet role: {role.not_zeet}", width, 0, 2)]
    lines.extend(wrap(f"source: {role.source}", width, 0, 2))
    lines.append("Trust: " + _status(role.trust.status.value, color))
    for finding in role.trust.findings:
        where = f" [{finding.statement}]" if finding.statement else ""
        text = wrap(f"{finding.severity}  {finding.message}{where}", width, 2, 2 + len(finding.severity) + 2)
        text[0] = "  " + _status(finding.severity, color) + text[0][2 + len(finding.severity) :]
        lines.extend(text)
    mode = role.default_mode
    plan = f", plan {mode.plan}" if mode.plan else ""
    lines.extend(
        wrap(f"Mode: {mode.mode}{plan} (Account Administrator: {decision_text(mode.administrator)})", width, 0, 2)
    )
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
    checks = _checks_lines(role)
    if checks:
        lines.append("")
        for indent, line in checks:
            lines.extend(wrap(line, width, indent))
    lines.append("")
    for indent, line in _excess_lines(role):
        lines.extend(wrap(line, width, indent))
    said = {group.reason for group in role.unknown}
    for reason in role.unknown_policies:
        if reason not in said:
            lines.extend(_paint(part, _STATUS_STYLE["unknown"], color) for part in wrap(f"Unreadable: {reason}", width))
    lines.extend(wrap(f"SCPs: {role.scps}", width))
    return lines


def render_table(report: AuditReport, options: RenderOptions) -> str:
    """The report as text within ``options.width`` (default 110); styled only when ``options.color``.

    ``report`` is already printable (``TableFormat.render`` makes it so: walking a large report
    twice cost as much as laying it out)."""
    width = options.width or _DEFAULT_WIDTH
    color = options.color
    lines: list[str] = []
    if not report.roles:
        lines.extend(wrap(report.no_role or "No role to audit.", width))
    for position, role in enumerate(report.roles):
        if position:
            lines.append("\u2500" * width)
        lines.extend(_role_block(role, width, color))
    for item in report.skipped:
        lines.extend(wrap(f"Skipped {item.name}: {item.reason}", width))
    return "".join(line.rstrip() + "\n" for line in lines)


class TableFormat:
    """The table, followed by the waivers and what they did (the other formats show them inline)."""

    name = "table"
    points_at_lines = False

    def render(self, report: AuditReport, options: RenderOptions) -> str:
        from zeet_iam_audit.formats.printable import printable
        from zeet_iam_audit.waivers import waiver_report_lines

        report = printable(report)  # names from the input may hold control characters
        return render_table(report, options) + "".join(line + "\n" for line in waiver_report_lines(report))


FORMAT = TableFormat()
