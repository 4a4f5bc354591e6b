"""Markdown for pull-request comments and job summaries (GitHub-flavoured).

Per role: a summary table (feature, status, what is missing), the trust findings and risky grants,
then the details and the excess in ``<details>`` blocks so a comment stays short. Waived findings are
marked, and waivers needing attention are listed.
"""

from __future__ import annotations

import json

from zeet_iam_audit.audit.findings import Finding, role_findings
from zeet_iam_audit.audit.report import AuditReport, FeatureResult, FeatureStatus, RoleReport, decision_text
from zeet_iam_audit.formats import RenderOptions
from zeet_iam_audit.formats.locate import relative_path
from zeet_iam_audit.formats.printable import markdown_code, markdown_text, printable


def md(text: str) -> str:
    """Text safe in Markdown and in a table cell (see ``printable.markdown_text``)."""
    return markdown_text(text)


def code(text: str) -> str:
    """An inline code span (see ``printable.markdown_code``)."""
    return markdown_code(text)


def _missing_cell(feature: FeatureResult, waived: set[str]) -> str:
    if feature.status is FeatureStatus.OK:
        return (
            f"all {feature.required} required actions allowed"
            if feature.required != 1
            else "the required action allowed"
        )
    if feature.status is FeatureStatus.MISSING:
        parts = []
        for group in feature.missing:
            actions = ", ".join(code(a) + (" (waived)" if a.lower() in waived else "") for a in group.actions)
            parts.append(f"{md(feature.label(group))}: {actions} ({md(group.layer)})")
        return "<br>".join(parts)
    if feature.status is FeatureStatus.UNKNOWN:
        return f"{len(feature.unknown)} of {feature.required} required actions unknown"
    return f"{len(feature.conditional)} of {feature.required} required actions allowed only under conditions"


def _status(feature: FeatureResult, findings: list[Finding], report: AuditReport) -> str:
    mine = [f for f in findings if f.feature == feature.id and f.check != "excess-permission"]
    waived = [f for f in mine if report.waiver_of(f.fingerprint) is not None]
    text = f"**{feature.status.value}**" if feature.status is not FeatureStatus.OK else "ok"
    if mine and len(waived) == len(mine):
        return f"{text} (waived)"
    if waived:
        return f"{text} ({len(waived)} waived)"
    return text


def _feature_details(feature: FeatureResult) -> list[str]:
    lines = [f"**{md(feature.title)}** ({code(feature.id)}): {feature.status.value}", ""]
    for group in feature.missing:
        lines.append(
            f"- lacks {md(feature.label(group))}: {', '.join(code(a) for a in group.actions)} ({md(group.reason)})"
        )
        lines.extend(f"  - {md(str(statement))}" for statement in group.statements)
        if group.fix is not None:
            lines.append(f"  - fix: {md(group.fix.change)}")
            if group.fix.statements:
                # A JSON list, one statement a line: ready for a policy's Statement.
                body = [json.dumps(s.to_json()) for s in group.fix.statements]
                items = [f"      {text}{',' if n < len(body) - 1 else ''}" for n, text in enumerate(body)]
                lines += ["", "    ```json", "    [", *items, "    ]", "    ```", ""]
    for item in feature.conditional:
        lines.append(f"- {code(item.action)} on {code(item.resource)} is allowed only under conditions")
        if item.keys:
            lines.append(f"  - {md(item.condition_text())}")
        lines.extend(f"  - {md(reason)}" for reason in item.reasons)
    if feature.unknown:
        lines.append(f"- {len(feature.unknown)} required actions unknown (the reasons are under *Could not verify*)")
    lines.extend(f"- note: {md(note)}" for note in feature.notes)
    lines.append("")
    return lines


def _checks(role: RoleReport) -> list[str]:
    """Invalid policies, what could not be verified (once per reason), unknown action names."""
    lines: list[str] = []
    if role.invalid_documents:
        lines += ["**Invalid policies** (AWS would refuse them)", ""]
        lines.extend(
            f"- {code(d.policy)}: {code(d.path)} in {code(d.file)}: {md(d.problem)}" for d in role.invalid_documents
        )
        lines.append("")
    if role.unknown:
        titles = {feature.id: feature.title for feature in role.features}
        lines += ["**Could not verify**", ""]
        for group in role.unknown:
            features = ", ".join(md(titles.get(f, f)) for f in group.features)
            lines.append(
                f"- {md(role.reason_text(group.reason))}: {group.actions} required "
                f"action{'s' if group.actions != 1 else ''} unknown, in {features}"
            )
        lines.append("")
    if role.unknown_actions:
        lines += ["**Actions AWS does not know** (they grant nothing)", ""]
        for unknown in role.unknown_actions:
            hint = f"; did you mean {code(unknown.suggestion)}?" if unknown.suggestion else ""
            lines.append(f"- {code(unknown.action)} ({md(str(unknown.statement))}){hint}")
        lines.append("")
    return lines


def _role_section(report: AuditReport, role: RoleReport, options: RenderOptions) -> list[str]:
    if role.not_zeet is not None:
        return [f"### Role {code(role.name)}", "", f"Not a Zeet role: {md(role.not_zeet)}.", ""]
    findings = role_findings(role)
    waived_actions = {f.subject.lower() for f in findings if report.waiver_of(f.fingerprint) is not None}
    source = relative_path(role.source, options.root) if role.source in report.inputs else role.source
    arn = f" {code(role.arn)}" if role.arn else ""
    lines = [
        f"### Role {code(role.name)}",
        "",
        f"Source {code(source)}{arn}. Trust: **{role.trust.status.value}**. "
        f"Mode: {md(role.default_mode.mode)} (Account Administrator: "
        f"{md(decision_text(role.default_mode.administrator))}).",
        "",
    ]
    lines.extend(f"- {md(finding)}" for finding in role.default_mode.findings)
    if role.default_mode.findings:
        lines.append("")
    lines += ["| Section | Feature | Status | Missing |", "| --- | --- | --- | --- |"]
    for feature in role.features:
        waived = {
            a for a in waived_actions if any(f.feature == feature.id and f.subject.lower() == a for f in findings)
        }
        lines.append(
            f"| {md(feature.section)} | {md(feature.title)} | {_status(feature, findings, report)} | "
            f"{_missing_cell(feature, waived)} |"
        )
    lines.append("")
    trust = [f for f in role.trust.findings if f.severity != "ok"]
    if trust:
        lines += ["**Trust findings**", ""]
        for item in trust:
            where = f" ({md(str(item.statement))})" if item.statement is not None else ""
            lines.append(f"- **{item.severity}** {md(item.message)}{where}")
        lines.append("")
    if role.excess.risky:
        lines += ["**Risky grants**", ""]
        for grant in role.excess.risky:
            needed = f"; needed by {', '.join(code(n) for n in grant.needed_by)}" if grant.needed_by else ""
            conditional = " (conditional)" if grant.conditional else ""
            where = f" ({md(grant.statement)})" if grant.statement else ""
            lines.append(
                f"- {code(grant.action)} on {code(grant.resource)}{conditional}: {md(grant.reason)}{needed}{where}"
            )
        lines.append("")
    lines += _checks(role)
    attention = [f for f in role.features if f.status is not FeatureStatus.OK or f.notes]
    if attention:
        lines += [
            f"<details><summary>Details: {len(attention)} feature{'s' if len(attention) != 1 else ''} "
            "to look at</summary>",
            "",
        ]
        for feature in attention:
            lines += _feature_details(feature)
        lines += ["</details>", ""]
    excess = role.excess
    if not excess.analysed:
        lines += ["Excess: not analysed (`--no-excess`).", ""]
    elif excess.services:
        lines += [
            f"<details><summary>Excess: {excess.total} allowed actions that no selected feature needs</summary>",
            "",
            "| Service | Actions | By access level |",
            "| --- | --- | --- |",
        ]
        for service in excess.services:
            levels = ", ".join(f"{md(level)} {count}" for level, count in service.by_access_level)
            lines.append(f"| {code(service.service)} | {service.total} | {levels} |")
        lines += ["", "</details>", ""]
    said = {group.reason for group in role.unknown}
    unread = [reason for reason in role.unknown_policies if reason not in said]
    lines.extend(f"- unreadable: {md(reason)}" for reason in unread)
    if unread:
        lines.append("")
    return lines


def _waiver_section(report: AuditReport) -> list[str]:
    if not report.waivers:
        return []
    lines = ["### Waivers", "", "| Waiver | Status | Expires | Findings | Reason |", "| --- | --- | --- | --- | --- |"]
    for note in report.waivers:
        status = f"**{note.status}**" if note.status != "applied" else note.status
        lines.append(
            f"| {md(note.label)} | {status} | {md(note.expires or '-')} | {len(note.fingerprints)} | "
            f"{md(note.reason)} |"
        )
    lines.append("")
    return lines


def render_markdown(report: AuditReport, options: RenderOptions) -> str:
    """The report as Markdown, headed by the verdict when the run's ``--fail-on`` result is known."""
    report = printable(report)  # names from the input may hold control characters
    lines = ["## zeet-iam-audit", ""]
    roles = sum(1 for role in report.roles if role.not_zeet is None)
    others = len(report.roles) - roles
    inputs = ", ".join(
        code(relative_path(i, options.root) if i in {r.source for r in report.roles} else i) for i in report.inputs
    )
    # Roles Zeet cannot assume (--all-roles) are counted apart: they were not audited.
    apart = f" ({others} not Zeet role{'s' if others != 1 else ''}, not audited)" if others else ""
    audited = f"{roles} role{'s' if roles != 1 else ''} audited from {inputs or 'no input'}{apart}."
    if options.reached is not None:
        verdict = f"**fails** on {', '.join(options.reached)}" if options.reached else "**passes**"
        lines.append(f"Result: {verdict}. {audited}")
    else:
        lines.append(audited)
    lines.append("")
    if not report.roles:
        lines += [md(report.no_role) if report.no_role else "No role to audit.", ""]
    for role in report.roles:
        lines += _role_section(report, role, options)
    lines += _waiver_section(report)
    if report.skipped:
        lines += ["### Skipped", ""]
        lines.extend(f"- {md(item.name)}: {md(item.reason)}" for item in report.skipped)
        lines.append("")
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


class MarkdownFormat:
    """Markdown, for a pull-request comment or a job summary."""

    name = "markdown"
    points_at_lines = False

    def render(self, report: AuditReport, options: RenderOptions) -> str:
        return render_markdown(report, options)


FORMAT = MarkdownFormat()
