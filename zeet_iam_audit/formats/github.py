"""GitHub Actions annotations: workflow commands (``::error file=F,line=L,title=T::message``).

Printed in a workflow step, each line becomes an annotation on the file and line, shown inline in a
pull request's diff. Findings that read better together (the actions of one service a feature lacks)
make one annotation. Values are escaped as the runner expects: in the message ``%``, CR and LF; in
properties also ``:`` and ``,``. Waived findings are notices that say so; an expired waiver is an
error, an unmatched one a warning.

GitHub shows at most 10 error, 10 warning and 10 notice annotations of a step and drops the rest
silently, so at most ``ANNOTATIONS_PER_LEVEL`` of each are printed (waivers needing attention first,
then the roles' findings in the report's order); the rest are counted in a final notice that says
where the full list is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from zeet_iam_audit.audit.findings import Finding, role_findings
from zeet_iam_audit.audit.report import AuditReport, RoleReport
from zeet_iam_audit.formats import RenderOptions
from zeet_iam_audit.formats.locate import SourceIndex, finding_line, index_source, relative_path
from zeet_iam_audit.formats.printable import github_data, github_property, printable

_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}
ANNOTATIONS_PER_LEVEL = 10  # what GitHub shows of each level per step
Annotation = tuple[str, str]  # (command: error, warning or notice; the whole line)


def escape_data(text: str) -> str:
    """A workflow command's message (see ``printable.github_data``)."""
    return github_data(text)


def escape_property(text: str) -> str:
    """A workflow command's property value (see ``printable.github_property``)."""
    return github_property(text)


def workflow_command(command: str, message: str, **properties: str | int | None) -> str:
    """One ``::command key=value,...::message`` line; properties that are None are left out."""
    given = [f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None]
    return f"::{command}{' ' + ','.join(given) if given else ''}::{escape_data(message)}"


def _groups(findings: list[Finding]) -> Iterator[list[Finding]]:
    """Findings grouped by ``group``, in the order groups first appear."""
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.group, []).append(finding)
    yield from grouped.values()


def _message(role: RoleReport, group: list[Finding]) -> str:
    first = group[0]
    fix = f"\nFix: {first.fix}" if first.fix else ""
    if len(group) == 1:
        return f"Role {role.name}: {first.message}{fix}"
    return f"Role {role.name}: {first.headline}: {', '.join(f.subject for f in group)}{fix}"


def _title(role: RoleReport, finding: Finding) -> str:
    titles = {feature.id: feature.title for feature in role.features}
    where = titles.get(finding.feature or "", "trust policy" if finding.check == "trust-policy" else role.name)
    return f"zeet-iam-audit {finding.check}: {where}"


def _role_lines(
    report: AuditReport, role: RoleReport, index: SourceIndex | None, options: RenderOptions
) -> list[Annotation]:
    file = relative_path(role.source, options.root) if role.source in report.inputs else None
    findings = role_findings(role)
    active = [f for f in findings if report.waiver_of(f.fingerprint) is None and f.check != "excess-permission"]
    waived = [f for f in findings if report.waiver_of(f.fingerprint) is not None]
    lines = []
    for group in _groups(active):
        first = group[0]
        line = finding_line(index, role, first) if index is not None and file else None
        command = _COMMAND[first.level]
        lines.append(
            (command, workflow_command(command, _message(role, group), file=file, line=line, title=_title(role, first)))
        )
    excess = [f for f in findings if f.check == "excess-permission" and report.waiver_of(f.fingerprint) is None]
    if excess:
        counts = {service.service: service.total for service in role.excess.services}
        listed = ", ".join(f"{f.subject} {counts.get(f.subject, 0)}" for f in excess)
        total = sum(counts.get(f.subject, 0) for f in excess)
        line = finding_line(index, role, excess[0]) if index is not None and file else None
        lines.append(
            (
                "notice",
                workflow_command(
                    "notice",
                    f"Role {role.name}: {total} allowed actions that no selected feature needs ({listed})",
                    file=file,
                    line=line,
                    title=f"zeet-iam-audit excess-permission: {role.name}",
                ),
            )
        )
    for group in _groups(waived):
        first = group[0]
        note = report.waiver_of(first.fingerprint)
        assert note is not None
        line = finding_line(index, role, first) if index is not None and file else None
        lines.append(
            (
                "notice",
                workflow_command(
                    "notice",
                    f"{_message(role, group)} (waived by {note.label}: {note.reason})",
                    file=file,
                    line=line,
                    title=f"waived {_title(role, first)}",
                ),
            )
        )
    return lines


def _within_limits(annotations: list[Annotation]) -> list[str]:
    """At most ``ANNOTATIONS_PER_LEVEL`` lines of each command, and a notice counting the rest (it
    takes the last notice's place)."""
    totals = Counter(command for command, _ in annotations)
    if all(count <= ANNOTATIONS_PER_LEVEL for count in totals.values()):
        return [line for _, line in annotations]
    limits = {"error": ANNOTATIONS_PER_LEVEL, "warning": ANNOTATIONS_PER_LEVEL, "notice": ANNOTATIONS_PER_LEVEL - 1}
    shown: Counter[str] = Counter()
    kept = []
    for command, line in annotations:
        if shown[command] < limits[command]:
            shown[command] += 1
            kept.append(line)
    left = totals - shown
    counts = ", ".join(
        f"{left[c]} {'errors' if c == 'error' else c + 's'}" for c in ("error", "warning", "notice") if left[c]
    )
    kept.append(
        workflow_command(
            "notice",
            f"{left.total()} more annotations not shown ({counts}): GitHub shows "
            f"{ANNOTATIONS_PER_LEVEL} of each level per step. The full list is in the job summary "
            "(--markdown), the SARIF report (--sarif) and the table (--format table).",
            title="zeet-iam-audit: more findings",
        )
    )
    return kept


def render_github(report: AuditReport, options: RenderOptions) -> str:
    """One workflow command per finding group (waivers needing attention first, skipped roles last),
    within GitHub's limits."""
    report = printable(report)  # names from the input may hold control characters
    annotations: list[Annotation] = []
    for note in report.waivers:
        file = note.origin or None
        if note.status == "expired":
            annotations.append(
                (
                    "error",
                    workflow_command(
                        "error",
                        f"{note.label} expired on {note.expires}: it waives nothing and fails the gate "
                        f"(reason given: {note.reason})",
                        file=file,
                        title="zeet-iam-audit: expired waiver",
                    ),
                )
            )
        elif note.status == "unmatched":
            annotations.append(
                (
                    "warning",
                    workflow_command(
                        "warning",
                        f"{note.label} matches no finding; remove it if it is stale",
                        file=file,
                        title="zeet-iam-audit: unmatched waiver",
                    ),
                )
            )
    indexes: dict[str, SourceIndex | None] = {}
    for role in report.roles:
        if role.source not in indexes:
            text = options.sources.get(role.source)
            indexes[role.source] = index_source(text) if text is not None else None
        annotations.extend(_role_lines(report, role, indexes[role.source], options))
    for item in report.skipped:
        annotations.append(
            (
                "notice",
                workflow_command("notice", f"skipped {item.name}: {item.reason}", title="zeet-iam-audit: not audited"),
            )
        )
    return "".join(line + "\n" for line in _within_limits(annotations))


class GithubFormat:
    """GitHub Actions workflow commands, annotating the input's lines."""

    name = "github"
    points_at_lines = True

    def render(self, report: AuditReport, options: RenderOptions) -> str:
        return render_github(report, options)

    def render_pieces(self, report: AuditReport, options: RenderOptions) -> tuple[str]:
        return (self.render(report, options),)


FORMAT = GithubFormat()
