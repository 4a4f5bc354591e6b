"""SARIF 2.1.0 for code scanning: one rule per check, one result per finding.

Results point at the input file (a URI relative to ``%SRCROOT%``, the working directory) and, when
the file's text is at hand, at the line of the statement behind the finding or of the role.
``partialFingerprints`` carry the finding's fingerprint (check, role, feature, action; never a line),
so code scanning follows an alert across edits. Waived findings are results with an external,
accepted suppression; expired and unmatched waivers and skipped roles are notifications.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from zeet_iam_audit.audit.findings import (
    CHECKS,
    DOCS_URL,
    FINGERPRINT_VERSION,
    Finding,
    role_findings,
)
from zeet_iam_audit.audit.report import AuditReport, RoleReport
from zeet_iam_audit.formats import RenderOptions
from zeet_iam_audit.formats.locate import SourceIndex, finding_line, index_source, relative_path
from zeet_iam_audit.formats.printable import printable, sarif_text

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
_RULE_INDEX = {check.id: position for position, check in enumerate(CHECKS)}
# GitHub code scanning ranks security alerts by this score (0-10); feature gaps are not security issues.
_SECURITY_SEVERITY = {"trust-policy": "8.0", "risky-permission": "7.0", "excess-permission": "3.0"}


def _rules() -> list[dict[str, Any]]:
    rules = []
    for check in CHECKS:
        tags = ["iam", "aws", "zeet"]
        properties: dict[str, Any] = {"precision": "high"}
        if check.id in _SECURITY_SEVERITY:
            tags.insert(0, "security")
            properties["security-severity"] = _SECURITY_SEVERITY[check.id]
        properties["tags"] = tags
        rules.append({
            "id": check.id,
            "name": check.name,
            "shortDescription": {"text": check.title + "."},
            "fullDescription": {"text": check.help},
            "help": {"text": f"{check.help} See {check.help_uri}",
                     "markdown": f"{check.help}\n\n[Documentation]({check.help_uri})"},
            "helpUri": check.help_uri,
            "defaultConfiguration": {"level": check.level},
            "properties": properties,
        })
    return rules


def _uri(path: str) -> str:
    return quote(path, safe="/:@!$&'()*+,;=-._~")


def _location(
    report: AuditReport, role: RoleReport, finding: Finding, index: SourceIndex | None,
    options: RenderOptions,
) -> dict[str, Any]:
    logical = {"name": role.name, "kind": "resource",
               "fullyQualifiedName": f"{role.name}/{finding.feature}" if finding.feature else role.name}
    location: dict[str, Any] = {}
    if role.source in report.inputs:
        uri = _uri(relative_path(role.source, options.root))
        physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": SRCROOT}}
        line = finding_line(index, role, finding) if index is not None else None
        if line is not None:
            physical["region"] = {"startLine": line}
        location["physicalLocation"] = physical
    location["logicalLocations"] = [logical]
    return location


def _result(
    report: AuditReport, role: RoleReport, finding: Finding, index: SourceIndex | None,
    options: RenderOptions,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.check,
        "ruleIndex": _RULE_INDEX[finding.check],
        "level": finding.level,
        "message": {"text": f"Role {role.name}: {finding.message}"},
        "locations": [_location(report, role, finding, index, options)],
        "partialFingerprints": {FINGERPRINT_VERSION: finding.fingerprint},
        "properties": {"role": role.name, "feature": finding.feature, "subject": finding.subject,
                       "fingerprint": finding.fingerprint},
    }
    waiver = report.waiver_of(finding.fingerprint)
    if waiver is not None:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{waiver.label}: {waiver.reason}"}]
    return result


def _notifications(report: AuditReport) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(configuration notifications: waivers needing attention, execution notifications: skipped)."""
    configuration = []
    for note in report.waivers:
        where = f"{note.origin}: " if note.origin else ""
        if note.status == "expired":
            configuration.append({"level": "error", "message": {
                "text": f"{where}{note.label} expired on {note.expires}: it waives nothing and fails the gate "
                        f"(reason given: {note.reason})"}})
        elif note.status == "unmatched":
            configuration.append({"level": "warning", "message": {
                "text": f"{where}{note.label} matches no finding"}})
    execution = [{"level": "note", "message": {"text": f"skipped {item.name}: {item.reason}"}}
                 for item in report.skipped]
    return configuration, execution


def render_sarif(report: AuditReport, options: RenderOptions) -> str:
    """The report as a SARIF 2.1.0 log with one run."""
    sources = {printable(path, sarif_text): text for path, text in options.sources.items()}
    report = printable(report, sarif_text)  # names from the input, as a viewer will show them
    indexes: dict[str, SourceIndex | None] = {}
    results = []
    for role in report.roles:
        if role.source not in indexes:
            text = sources.get(role.source)
            indexes[role.source] = index_source(text) if text is not None else None
        for finding in role_findings(role):
            results.append(_result(report, role, finding, indexes[role.source], options))
    configuration, execution = _notifications(report)
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if configuration:
        invocation["toolConfigurationNotifications"] = configuration
    if execution:
        invocation["toolExecutionNotifications"] = execution
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "zeet-iam-audit",
            "version": report.tool_version,
            "informationUri": DOCS_URL,
            "rules": _rules(),
        }},
        "invocations": [invocation],
    }
    if options.root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": options.root.as_uri().rstrip("/") + "/"}}
    run["results"] = results
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"
