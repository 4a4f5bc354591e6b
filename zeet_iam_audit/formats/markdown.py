"""Markdown for pull-request comments and job summaries (GitHub-flavoured).

Per role: a summary table (feature, status, what is missing), the trust findings and risky grants,
then the details and the excess in ``<details>`` blocks so a comment stays short. Waived findings are
marked, and waivers needing attention are listed.
"""

from __future__ import annotations

from zeet_iam_audit.audit.findings import Finding, role_findings
from zeet_iam_audit.audit.report import AuditReport, FeatureResult, FeatureStatus, RoleReport
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
        return f"all {feature.required} required actions allowed"
    if feature.status is FeatureStatus.MISSING:
        parts = []
        for group in feature.missing:
            actions = ", ".join(code(a) + (" (waived)" if a.lower() in waived else "") for a in group.actions)
            parts.append(f"{md(group.display)}: {actions} ({md(group.layer)})")
        return "<br>".join(parts)
    items = feature.unknown if feature.status is FeatureStatus.UNKNOWN else feature.conditional
    return f"{len(items)} of {feature.required} required actions {feature.status.value}"


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
        lines.append(f"- lacks {md(group.display)}: {', '.join(code(a) for a in group.actions)} "
                     f"({md(group.reason)})")
        lines.extend(f"  - {md(statement)}" for statement in group.statements)
    for verdict, items in (("conditional", feature.conditional), ("unknown", feature.unknown)):
        for item in items:
            lines.append(f"- {code(item.action)} on {code(item.resource)} is {verdict}")
            if item.keys:
                lines.append(f"  - condition keys {', '.join(code(k) for k in item.keys)} gate an "
                             f"{'/'.join(item.gates)}")
            lines.extend(f"  - {md(reason)}" for reason in item.reasons)
    lines.extend(f"- note: {md(note)}" for note in feature.notes)
    lines.append("")
    return lines


def _role_section(report: AuditReport, role: RoleReport, options: RenderOptions) -> list[str]:
    findings = role_findings(role)
    waived_actions = {f.subject.lower() for f in findings if report.waiver_of(f.fingerprint) is not None}
    source = relative_path(role.source, options.root) if role.source in report.inputs else role.source
    arn = f" {code(role.arn)}" if role.arn else ""
    lines = [f"### Role {code(role.name)}", "",
             f"Source {code(source)}{arn}. Trust: **{role.trust.status.value}**. "
             f"Mode: {md(role.default_mode.mode)} (Account Administrator: {md(role.default_mode.administrator)}).",
             ""]
    lines.extend(f"- {md(finding)}" for finding in role.default_mode.findings)
    if role.default_mode.findings:
        lines.append("")
    lines += ["| Section | Feature | Status | Missing |", "| --- | --- | --- | --- |"]
    for feature in role.features:
        waived = {a for a in waived_actions
                  if any(f.feature == feature.id and f.subject.lower() == a for f in findings)}
        lines.append(f"| {md(feature.section)} | {md(feature.title)} | {_status(feature, findings, report)} | "
                     f"{_missing_cell(feature, waived)} |")
    lines.append("")
    trust = [f for f in role.trust.findings if f.severity != "ok"]
    if trust:
        lines += ["**Trust findings**", ""]
        for item in trust:
            where = f" ({md(item.statement)})" if item.statement else ""
            lines.append(f"- **{item.severity}** {md(item.message)}{where}")
        lines.append("")
    if role.excess.risky:
        lines += ["**Risky grants**", ""]
        for grant in role.excess.risky:
            needed = f"; needed by {', '.join(code(n) for n in grant.needed_by)}" if grant.needed_by else ""
            conditional = " (conditional)" if grant.conditional else ""
            where = f" ({md(grant.statement)})" if grant.statement else ""
            lines.append(f"- {code(grant.action)} on {code(grant.resource)}{conditional}: {md(grant.reason)}"
                         f"{needed}{where}")
        lines.append("")
    attention = [f for f in role.features if f.status is not FeatureStatus.OK or f.notes]
    if attention:
        lines += [f"<details><summary>Details: {len(attention)} feature{'s' if len(attention) != 1 else ''} "
                  "to look at</summary>", ""]
        for feature in attention:
            lines += _feature_details(feature)
        lines += ["</details>", ""]
    excess = role.excess
    if excess.services:
        lines += [f"<details><summary>Excess: {excess.total} allowed actions that no selected feature "
                  "needs</summary>", "", "| Service | Actions | By access level |", "| --- | --- | --- |"]
        for service in excess.services:
            levels = ", ".join(f"{md(level)} {count}" for level, count in service.by_access_level)
            lines.append(f"| {code(service.service)} | {service.total} | {levels} |")
        lines += ["", "</details>", ""]
    for reason in role.unknown_policies:
        lines.append(f"- unreadable: {md(reason)}")
    if role.unknown_policies:
        lines.append("")
    return lines


def _waiver_section(report: AuditReport) -> list[str]:
    if not report.waivers:
        return []
    lines = ["### Waivers", "", "| Waiver | Status | Expires | Findings | Reason |", "| --- | --- | --- | --- | --- |"]
    for note in report.waivers:
        status = f"**{note.status}**" if note.status != "applied" else note.status
        lines.append(f"| {md(note.label)} | {status} | {md(note.expires or '-')} | {len(note.fingerprints)} | "
                     f"{md(note.reason)} |")
    lines.append("")
    return lines


def render_markdown(report: AuditReport, options: RenderOptions) -> str:
    """The report as Markdown, headed by the verdict when the run's ``--fail-on`` result is known."""
    report = printable(report)  # names from the input may hold control characters
    lines = ["## zeet-iam-audit", ""]
    roles = len(report.roles)
    inputs = ", ".join(code(relative_path(i, options.root) if i in {r.source for r in report.roles} else i)
                       for i in report.inputs)
    if options.reached is not None:
        verdict = f"**fails** on {', '.join(options.reached)}" if options.reached else "**passes**"
        lines.append(f"Result: {verdict}. {roles} role{'s' if roles != 1 else ''} audited from {inputs or 'no input'}.")
    else:
        lines.append(f"{roles} role{'s' if roles != 1 else ''} audited from {inputs or 'no input'}.")
    lines.append("")
    if not report.roles:
        lines += ["No role to audit.", ""]
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
