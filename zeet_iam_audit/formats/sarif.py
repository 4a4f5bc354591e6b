"""SARIF 2.1.0 for code scanning: one rule per check (its help inside), one result per finding.

Results point at the input file (a URI relative to ``%SRCROOT%``, the working directory, when the file
is inside it; a ``file://`` URI otherwise) and, when the file's text is at hand, at the line of the
statement behind the finding or of the role. ``partialFingerprints`` carry the finding's fingerprint
(check, role, feature, action; never a line), so code scanning follows an alert across edits. Waived
findings are results with an external, accepted suppression; expired and unmatched waivers and
skipped roles are notifications.

A report of several roles (an account-wide run) has one result per role, feature and check, listing
the actions, and a log keeps at most ``RESULTS_CAP`` results, errors first (code scanning accepts
25,000 results per run and shows the 5,000 most severe); ``run.properties`` records the cap and the
total.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from zeet_iam_audit.audit.findings import (
    CHECKS,
    FINGERPRINT_VERSION,
    Check,
    Finding,
    fingerprint,
    role_findings,
)
from zeet_iam_audit.audit.report import AuditReport, RoleReport
from zeet_iam_audit.formats import RenderOptions
from zeet_iam_audit.formats.json_format import INDENT_UP_TO_ROLES
from zeet_iam_audit.formats.locate import SourceIndex, finding_line, index_source
from zeet_iam_audit.formats.printable import printable, sarif_text

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
_RULE_INDEX = {check.id: position for position, check in enumerate(CHECKS)}
# GitHub code scanning ranks security alerts by this score (0-10); feature gaps are not security issues.
_SECURITY_SEVERITY = {"trust-policy": "8.0", "risky-permission": "7.0", "excess-permission": "3.0"}
# Code scanning displays the 5,000 most severe results of a run (and rejects runs of over 25,000).
RESULTS_CAP = 5000
_LEVEL_ORDER = {"error": 0, "warning": 1, "note": 2}
_SUBJECTS_LISTED = 30  # actions named in an account-wide result's message; the rest are counted


def _help(check: Check) -> dict[str, str]:
    """The rule's help, whole: its text and AWS's documentation on the subject."""
    text = check.help + "".join(f"\n- {title}: {url}" for title, url in check.references)
    markdown = (
        check.help + "\n\nAWS documentation:\n\n" + "".join(f"- [{title}]({url})\n" for title, url in check.references)
    )
    return {"text": text, "markdown": markdown}


def _rules() -> list[dict[str, Any]]:
    rules = []
    for check in CHECKS:
        tags = ["iam", "aws", "zeet"]
        properties: dict[str, Any] = {"precision": "high"}
        if check.id in _SECURITY_SEVERITY:
            tags.insert(0, "security")
            properties["security-severity"] = _SECURITY_SEVERITY[check.id]
        properties["tags"] = tags
        rules.append(
            {
                "id": check.id,
                "name": check.name,
                "shortDescription": {"text": check.title + "."},
                "fullDescription": {"text": check.help},
                "help": _help(check),
                "helpUri": check.help_uri,
                "defaultConfiguration": {"level": check.level},
                "properties": properties,
            }
        )
    return rules


def _uri(path: str) -> str:
    return quote(path, safe="/:@!$&'()*+,;=-._~")


def artifact_location(source: str, root: Path | None) -> dict[str, str]:
    """Where the input file is: relative to ``%SRCROOT%`` (``root``) when it lies inside it, else an
    absolute ``file://`` URI (a relative URI may not climb out of its base with ``..``)."""
    path = Path(source)
    if root is None:
        if not path.is_absolute() and ".." not in path.parts:
            return {"uri": _uri(PurePosixPath(*path.parts).as_posix()), "uriBaseId": SRCROOT}
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    base = Path(os.path.normpath(root.absolute()))
    full = Path(os.path.normpath(base / path))  # an absolute path stays as it is
    try:
        inside = full.relative_to(base)
    except ValueError:
        return {"uri": full.as_uri()}
    return {"uri": _uri(PurePosixPath(*inside.parts).as_posix()), "uriBaseId": SRCROOT}


def _location(
    report: AuditReport,
    role: RoleReport,
    finding: Finding,
    index: SourceIndex | None,
    options: RenderOptions,
) -> dict[str, Any]:
    logical = {
        "name": role.name,
        "kind": "resource",
        "fullyQualifiedName": f"{role.name}/{finding.feature}" if finding.feature else role.name,
    }
    location: dict[str, Any] = {}
    if role.source in report.inputs:
        physical: dict[str, Any] = {"artifactLocation": artifact_location(role.source, options.root)}
        line = finding_line(index, role, finding) if index is not None else None
        if line is not None:
            physical["region"] = {"startLine": line}
        location["physicalLocation"] = physical
    location["logicalLocations"] = [logical]
    return location


def _result(
    report: AuditReport,
    role: RoleReport,
    findings: list[Finding],
    index: SourceIndex | None,
    options: RenderOptions,
) -> dict[str, Any]:
    """One result for one finding, or for several of one role, feature, check and level (grouped)."""
    first = findings[0]
    if len(findings) == 1:
        message = f"Role {role.name}: {first.message}" + (f" Fix: {first.fix}" if first.fix else "")
        key = first.fingerprint
        properties: dict[str, Any] = {
            "role": role.name,
            "feature": first.feature,
            "subject": first.subject,
            "fingerprint": key,
            "fix": first.fix,
        }
    else:
        message = f"Role {role.name}: {_grouped_text(findings)}"
        key = fingerprint(first.check, role.name, first.feature, "*", first.level)
        properties = {
            "role": role.name,
            "feature": first.feature,
            "subjects": [finding.subject for finding in findings],
            "fingerprint": key,
            "fingerprints": [finding.fingerprint for finding in findings],
            "fixes": [finding.fix for finding in findings if finding.fix],
        }
    result: dict[str, Any] = {
        "ruleId": first.check,
        "ruleIndex": _RULE_INDEX[first.check],
        "level": first.level,
        "message": {"text": message},
        "locations": [_location(report, role, first, index, options)],
        "partialFingerprints": {FINGERPRINT_VERSION: key},
        "properties": properties,
    }
    waivers = [report.waiver_of(finding.fingerprint) for finding in findings]
    if waivers[0] is not None:
        labels = dict.fromkeys(f"{w.label}: {w.reason}" for w in waivers if w is not None)
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": "; ".join(labels)}]
    return result


def _grouped_text(findings: list[Finding]) -> str:
    """``headline: a, b, c; headline: d`` with at most ``_SUBJECTS_LISTED`` subjects named."""
    by_headline: dict[str, list[str]] = {}
    for finding in findings:
        by_headline.setdefault(finding.headline, []).append(finding.subject)
    parts = []
    listed = 0
    for headline, subjects in by_headline.items():
        shown = subjects[: max(0, _SUBJECTS_LISTED - listed)]
        listed += len(shown)
        rest = len(subjects) - len(shown)
        named = (", ".join(shown) + (f" and {rest} more" if rest else "")) if shown else f"{rest} actions"
        parts.append(f"{headline}: {named}")
    return "; ".join(parts)


def _result_groups(report: AuditReport, role: RoleReport, grouped: bool) -> list[list[Finding]]:
    """The role's findings, one per result; grouped by check, feature, level and waiver."""
    findings = role_findings(role)
    if not grouped:
        return [[finding] for finding in findings]
    groups: dict[tuple[str, str | None, str, bool], list[Finding]] = {}
    for finding in findings:
        waived = report.waiver_of(finding.fingerprint) is not None
        groups.setdefault((finding.check, finding.feature, finding.level, waived), []).append(finding)
    return list(groups.values())


def _notifications(report: AuditReport) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(configuration notifications: waivers needing attention, execution notifications: skipped)."""
    configuration = []
    for note in report.waivers:
        where = f"{note.origin}: " if note.origin else ""
        if note.status == "expired":
            configuration.append(
                {
                    "level": "error",
                    "message": {
                        "text": f"{where}{note.label} expired on {note.expires}: it waives nothing and fails the gate "
                        f"(reason given: {note.reason})"
                    },
                }
            )
        elif note.status == "unmatched":
            configuration.append({"level": "warning", "message": {"text": f"{where}{note.label} matches no finding"}})
    execution = [
        {"level": "note", "message": {"text": f"skipped {item.name}: {item.reason}"}} for item in report.skipped
    ]
    return configuration, execution


def render_sarif(report: AuditReport, options: RenderOptions) -> str:
    """The report as a SARIF 2.1.0 log with one run."""
    sources = {printable(path, sarif_text): text for path, text in options.sources.items()}
    report = printable(report, sarif_text)  # names from the input, as a viewer will show them
    indexes: dict[str, SourceIndex | None] = {}
    grouped = len(report.roles) > 1
    # Findings first, sorted errors first; results are built only for the ones kept.
    chosen: list[tuple[RoleReport, list[Finding]]] = []
    for role in report.roles:
        chosen.extend((role, group) for group in _result_groups(report, role, grouped))
    total = len(chosen)
    if total > RESULTS_CAP:
        chosen.sort(key=lambda pair: _LEVEL_ORDER.get(pair[1][0].level, 3))
        del chosen[RESULTS_CAP:]
    results = []
    for role, group in chosen:
        if role.source not in indexes:
            text = sources.get(role.source)
            indexes[role.source] = index_source(text) if text is not None else None
        results.append(_result(report, role, group, indexes[role.source], options))
    configuration, execution = _notifications(report)
    if total > RESULTS_CAP:
        execution.insert(
            0,
            {
                "level": "warning",
                "message": {
                    "text": f"{total - RESULTS_CAP} of {total} results left out: code scanning shows at most "
                    f"{RESULTS_CAP:,} per run (the most severe are kept); the JSON report with --findings "
                    "lists every finding"
                },
            },
        )
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if configuration:
        invocation["toolConfigurationNotifications"] = configuration
    if execution:
        invocation["toolExecutionNotifications"] = execution
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "zeet-iam-audit",
                "version": report.tool_version,
                "rules": _rules(),
            }
        },
        "invocations": [invocation],
    }
    if options.root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": options.root.as_uri().rstrip("/") + "/"}}
    run["results"] = results
    run["properties"] = {
        "resultsTotal": total,
        "resultsCap": RESULTS_CAP,
        "resultsOmitted": max(0, total - RESULTS_CAP),
        "resultsGrouped": "role, feature and check" if grouped else "none",
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    if len(report.roles) > INDENT_UP_TO_ROLES:  # compact, as the JSON report: code scanning takes 10 MB
        return json.dumps(log, separators=(",", ":")) + "\n"
    return json.dumps(log, indent=2) + "\n"


class SarifFormat:
    """SARIF 2.1.0 for code scanning, its results pointing at the input's lines."""

    name = "sarif"
    points_at_lines = True

    def render(self, report: AuditReport, options: RenderOptions) -> str:
        return render_sarif(report, options)

    def render_pieces(self, report: AuditReport, options: RenderOptions) -> tuple[str]:
        return (self.render(report, options),)


FORMAT = SarifFormat()
