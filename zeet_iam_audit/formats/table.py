"""The table for people: one summary line per feature, then the details, rendered with rich."""

from __future__ import annotations

import io
import json

from rich.console import Console, Group
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from zeet_iam_audit.audit.report import (
    AuditReport,
    FeatureResult,
    FeatureStatus,
    RoleReport,
    decision_text,
)
from zeet_iam_audit.formats import RenderOptions
from zeet_iam_audit.formats.printable import printable

_STATUS_STYLE = {
    "ok": "bold green",
    "warn": "bold yellow",
    "conditional": "bold yellow",
    "missing": "bold red",
    "fail": "bold red",
    "unknown": "bold magenta",
    "info": "cyan",
}
_DEFAULT_WIDTH = 110


def _status(value: str) -> Text:
    return Text(value, style=_STATUS_STYLE.get(value, ""))


def _feature_summary(feature: FeatureResult) -> str:
    if feature.status is FeatureStatus.OK:
        return f"{feature.required} required action{'s' if feature.required != 1 else ''} allowed"
    if feature.status is FeatureStatus.MISSING:
        return "lacks " + ", ".join(
            f"{feature.label(g)} ({len(g.actions)}: {g.layer})" for g in feature.missing)
    if feature.status is FeatureStatus.UNKNOWN:
        return f"{len(feature.unknown)} of {feature.required} required actions unknown (reasons below)"
    keys = sorted({k for item in feature.conditional for k in item.keys}, key=str.lower)
    tail = f" on {', '.join(keys)}" if keys else ""
    return f"{len(feature.conditional)} of {feature.required} required actions allowed only under conditions{tail}"


def _features_table(role: RoleReport) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
    table.add_column("Section", no_wrap=True)
    table.add_column("Feature", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Summary")
    for feature in role.features:
        table.add_row(feature.section, feature.title, _status(feature.status.value),
                      escape(_feature_summary(feature)))
    return table


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
            lines.append((4, f"{feature.title} lacks {feature.label(group)}: {', '.join(group.actions)} "
                             f"({group.reason})"))
            lines.extend((6, statement) for statement in group.statements)
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


def _role_block(role: RoleReport) -> Group:
    header = Text.assemble(("Role ", "bold"), (role.name, "bold cyan"))
    if role.arn:
        header.append(f"  {role.arn}")
    if role.not_zeet is not None:
        return Group(header, Text(f"not a Zeet role: {role.not_zeet}"))
    parts: list[Text | Table | Padding] = [header, Text(f"source: {role.source}")]
    trust = Text.assemble("Trust: ", _status(role.trust.status.value))
    parts.append(trust)
    for finding in role.trust.findings:
        line = Text("  ")
        line.append_text(_status(finding.severity))
        line.append(f"  {finding.message}")
        if finding.statement:
            line.append(f" [{finding.statement}]")
        parts.append(line)
    mode = role.default_mode
    plan = f", plan {mode.plan}" if mode.plan else ""
    parts.append(Text(f"Mode: {mode.mode}{plan} (Account Administrator: {decision_text(mode.administrator)})"))
    parts.extend(Text(f"  {finding}") for finding in mode.findings)
    parts.append(Text(""))
    parts.append(_features_table(role))
    details = _feature_details(role)
    if details:
        parts.append(Text(""))
        parts.append(Text("Details", style="bold"))
        parts.extend(Padding(Text(line), (0, 0, 0, indent)) for indent, line in details)
    checks = _checks_lines(role)
    if checks:
        parts.append(Text(""))
        parts.extend(Padding(Text(line), (0, 0, 0, indent)) for indent, line in checks)
    parts.append(Text(""))
    parts.extend(Padding(Text(line), (0, 0, 0, indent)) for indent, line in _excess_lines(role))
    said = {group.reason for group in role.unknown}
    for reason in role.unknown_policies:
        if reason not in said:
            parts.append(Text(f"Unreadable: {reason}", style=_STATUS_STYLE["unknown"]))
    parts.append(Text(f"SCPs: {role.scps}"))
    return Group(*parts)


def render_table(report: AuditReport, options: RenderOptions) -> str:
    """The report as text; styled only when ``options.color``."""
    report = printable(report)  # names from the input may hold control characters
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=options.width or _DEFAULT_WIDTH,
        color_system="standard" if options.color else None,
        force_terminal=options.color,
        no_color=not options.color,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        legacy_windows=False,
    )
    if not report.roles:
        console.print(Text(report.no_role or "No role to audit."))
    for position, role in enumerate(report.roles):
        if position:
            console.rule()
        console.print(_role_block(role))
    for item in report.skipped:
        console.print(Text(f"Skipped {item.name}: {item.reason}"))
    # rich pads table cells to the width; trailing blanks only make diffs and golden files noisy.
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
