"""The report as a flat list of findings: one per check, role, feature and action, each with a stable
fingerprint.

The CI formats (SARIF, GitHub annotations, Markdown), the waivers and ``--fail-on`` all work on
these. A fingerprint hashes the check id, the role, the feature and the subject (the action, the
trust finding's code, or the service); never a line number, so it survives edits elsewhere in the
file. The texts that explain each check live here, apart from the code that detects them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from zeet_iam_audit.audit.report import (
    AuditReport,
    FeatureResult,
    Fix,
    RoleReport,
    TrustSeverity,
    TrustStatementRef,
)
from zeet_iam_audit.policy.results import StatementRef

FINGERPRINT_VERSION = "zeetIamAudit/v1"  # the SARIF partialFingerprints key
_IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"  # AWS's IAM User Guide


class FindingLevel(StrEnum):
    """A finding's weight, as SARIF names its levels."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Gate(StrEnum):
    """The ``--fail-on`` value a finding counts toward (``never`` is no finding's)."""

    MISSING = "missing"
    CONDITIONAL = "conditional"
    UNKNOWN = "unknown"
    INVALID_POLICY = "invalid-policy"
    TRUST = "trust"
    EXCESS_RISKY = "excess-risky"
    EXCESS = "excess"


@dataclass(frozen=True, slots=True)
class Check:
    """One kind of finding: a stable id, its documentation and the ``--fail-on`` value it counts toward."""

    id: str
    name: str  # PascalCase, as SARIF's reportingDescriptor.name wants
    title: str
    help: str
    level: FindingLevel
    references: tuple[tuple[str, str], ...] = ()  # (title, URL) of AWS's documentation on the subject

    @property
    def help_uri(self) -> str:
        """The first AWS documentation page on the check's subject."""
        return self.references[0][1]


CHECKS: tuple[Check, ...] = (
    Check(
        "missing-permission",
        "MissingPermission",
        "A Zeet feature needs an action the role is not allowed",
        "A feature selected for the audit needs this action, and the role's policies do not allow it "
        "(no identity-based policy allows it, or a Deny, the permissions boundary or an SCP blocks it). "
        "Zeet's operations for the feature will fail with AccessDenied. Grant the action on the "
        "resources the rule names, remove the blocking statement, or deselect the feature "
        "(--features) if you do not use it.",
        FindingLevel.ERROR,
        (
            ("Policy evaluation logic", f"{_IAM_GUIDE}reference_policies_evaluation-logic.html"),
            ("Troubleshoot access denied error messages", f"{_IAM_GUIDE}troubleshoot_access-denied.html"),
        ),
    ),
    Check(
        "conditional-permission",
        "ConditionalPermission",
        "A Zeet feature needs an action the role allows only under conditions",
        "The action is allowed only when a condition holds, or on part of the resources the feature "
        "needs. Whether Zeet's request meets it depends on the request, so the audit cannot promise it "
        "works. Check the condition keys and resource scopes named in the finding.",
        FindingLevel.WARNING,
        (
            ("IAM JSON policy elements: Condition", f"{_IAM_GUIDE}reference_policies_elements_condition.html"),
            ("Policy evaluation logic", f"{_IAM_GUIDE}reference_policies_evaluation-logic.html"),
        ),
    ),
    Check(
        "unknown-permission",
        "UnknownPermission",
        "Whether the role allows actions a Zeet feature needs cannot be told",
        "The answer depends on something the input does not say: a policy that could not be read "
        "(an AWS managed policy offline, a document known only after deployment), an unresolved "
        "template value, or SCPs that could not be listed. One finding per reason and role, naming how "
        "many required actions and which features it leaves unverified. Pass the missing values "
        "(--parameter), include the policy documents, or audit the live role; to accept it knowingly, "
        "waive the finding or leave unknown out of --fail-on (--fail-on missing,invalid-policy,trust).",
        FindingLevel.WARNING,
        (
            ("Policy evaluation logic", f"{_IAM_GUIDE}reference_policies_evaluation-logic.html"),
            (
                "Service control policies (SCPs)",
                "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html",
            ),
        ),
    ),
    Check(
        "invalid-policy",
        "InvalidPolicy",
        "A policy document of the role is one AWS would refuse",
        "The document does not follow the IAM policy grammar (an Effect other than Allow or Deny, an "
        "element IAM does not know, an action name with spaces, a Resource that is not an ARN): AWS "
        "rejects it when the template is deployed or the policy is created, so the role will not have "
        "it. The verdicts it could change are unknown. Fix the document at the path named.",
        FindingLevel.ERROR,
        (
            ("Grammar of the IAM JSON policy language", f"{_IAM_GUIDE}reference_policies_grammar.html"),
            ("Validate IAM policies", f"{_IAM_GUIDE}access_policies_policy-validator.html"),
        ),
    ),
    Check(
        "unknown-action",
        "UnknownAction",
        "A policy names an action AWS does not know",
        "IAM accepts an action name it does not know and matches nothing with it, so a misspelt action "
        "grants nothing. The finding names the nearest known action of the service.",
        FindingLevel.WARNING,
        (
            ("IAM JSON policy elements: Action", f"{_IAM_GUIDE}reference_policies_elements_action.html"),
            (
                "Actions, resources, and condition keys for AWS services",
                "https://docs.aws.amazon.com/service-authorization/latest/reference/"
                "reference_policies_actions-resources-contextkeys.html",
            ),
        ),
    ),
    Check(
        "trust-policy",
        "TrustPolicy",
        "The role's trust policy does not let Zeet assume it safely",
        "The trust policy decides who can assume the role. A failing finding means Zeet's account "
        "cannot assume it, or that principals other than Zeet can (a wildcard principal, NotPrincipal); "
        "a warning means a weaker setup, such as no sts:ExternalId condition (the confused-deputy "
        "problem) or other accounts trusted too.",
        FindingLevel.ERROR,
        (
            (
                "Access to AWS accounts owned by third parties (external ID)",
                f"{_IAM_GUIDE}id_roles_common-scenarios_third-party.html",
            ),
            ("The confused deputy problem", f"{_IAM_GUIDE}confused-deputy.html"),
        ),
    ),
    Check(
        "excess-permission",
        "ExcessPermission",
        "The role allows actions that no selected Zeet feature needs",
        "These actions are allowed but no selected feature needs them. They widen what anyone holding "
        "the role can do; remove them unless something else uses the role.",
        FindingLevel.NOTE,
        (
            (
                "Security best practices in IAM: apply least-privilege permissions",
                f"{_IAM_GUIDE}best-practices.html#grant-least-privilege",
            ),
        ),
    ),
    Check(
        "risky-permission",
        "RiskyPermission",
        "The role allows an action that can escalate privileges or act on every resource",
        "Actions such as iam:PassRole, iam:CreatePolicyVersion or a wildcard on every resource let a "
        "holder of the role gain more access than it was given. Scope them to the resources Zeet "
        "creates (the zeet-* names the rules list) or add conditions.",
        FindingLevel.WARNING,
        (
            ("Grant a user permissions to pass a role to an AWS service", f"{_IAM_GUIDE}id_roles_use_passrole.html"),
            (
                "Security best practices in IAM: apply least-privilege permissions",
                f"{_IAM_GUIDE}best-practices.html#grant-least-privilege",
            ),
        ),
    ),
)
CHECK_IDS: tuple[str, ...] = tuple(check.id for check in CHECKS)


def fingerprint(check: str, role: str, feature: str | None, subject: str, extra: str = "") -> str:
    """The stable id of a finding: 16 hex digits of a SHA-256 over what identifies it."""
    text = "\x1f".join((check, role, feature or "", subject.lower(), extra))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the audit reports about one role.

    ``subject`` is the action (missing, conditional, unknown and risky findings), the trust finding's
    code, or the service prefix (excess). ``gate`` is the ``--fail-on`` value the finding counts
    toward (None: it never fails the gate, e.g. a trust warning). ``statement`` is the text reports
    show for its cause (a statement, ``identity-based policy 'X' Statement[2]`` or a trust
    ``Statement[0]``, or a reason); ``ref`` the statement itself when one caused it, which formats
    resolve to a line. Findings with the same ``group`` read better as one line (the actions of one
    service missing for one feature); ``headline`` is that line's text without the subjects.
    """

    check: str
    level: FindingLevel
    gate: Gate | None
    role: str
    feature: str | None
    subject: str
    message: str
    headline: str
    group: str
    statement: str | None = None
    fingerprint: str = ""
    fix: str | None = None  # how to fix it, in words (and the statement to add, as JSON text)
    path: str | None = None  # where in the input the problem is, when it is not a statement
    ref: StatementRef | TrustStatementRef | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "check": self.check,
            "level": self.level,
            "role": self.role,
            "feature": self.feature,
            "subject": self.subject,
            "message": self.message,
            "statement": self.statement,
            "fix": self.fix,
        }


def _make(
    check: str,
    level: FindingLevel,
    gate: Gate | None,
    role: RoleReport,
    feature: FeatureResult | None,
    subject: str,
    message: str,
    *,
    headline: str | None = None,
    group: str | None = None,
    statement: str | None = None,
    ref: StatementRef | TrustStatementRef | None = None,
    extra: str = "",
    fix: str | None = None,
    path: str | None = None,
) -> Finding:
    feature_id = feature.id if feature else None
    key = fingerprint(check, role.name, feature_id, subject, extra)
    return Finding(
        check=check,
        level=level,
        gate=gate,
        role=role.name,
        feature=feature_id,
        subject=subject,
        message=message,
        headline=headline or message,
        group=group or key,
        statement=statement,
        fingerprint=key,
        fix=fix,
        path=path,
        ref=ref,
    )


def fix_text(fix: Fix | None) -> str | None:
    """A fix in one line: what to change, and the statements to add as compact JSON."""
    if fix is None:
        return None
    if not fix.statements:
        return fix.change
    # ", " between items, so that a table can wrap a long statement between actions
    statements = [json.dumps(s.to_json()) for s in fix.statements]
    return f"{fix.change}: {' '.join(statements)}"


def _singular(reason: str) -> str:
    """The engine's reasons speak of a group ("... allows them"); a finding is one action."""
    return reason[: -len("them")] + "it" if reason.endswith(" them") else reason


def _feature_findings(role: RoleReport, feature: FeatureResult) -> Iterator[Finding]:
    for group in feature.missing:
        ref = group.statements[0] if group.statements else None
        statement = str(ref) if ref is not None else None
        label = feature.label(group)
        fix = fix_text(group.fix)
        for action in group.actions:
            yield _make(
                "missing-permission",
                FindingLevel.ERROR,
                Gate.MISSING,
                role,
                feature,
                action,
                f"{feature.title} lacks {label}: {action} ({_singular(group.reason)})",
                headline=f"{feature.title} lacks {label} ({group.reason})",
                group=f"missing/{feature.id}/{group.service}/{group.layer}",
                statement=statement,
                ref=ref,
                fix=fix,
            )
    for item in feature.conditional:
        detail = [item.condition_text()] if item.keys else []
        detail.extend(item.reasons)
        tail = f": {'; '.join(detail)}" if detail else ""
        first = item.reasons[0] if item.reasons else None
        yield _make(
            "conditional-permission",
            FindingLevel.WARNING,
            Gate.CONDITIONAL,
            role,
            feature,
            item.action,
            f"{feature.title}: {item.action} on {item.resource} is allowed only under conditions{tail}",
            headline=f"{feature.title}: required actions allowed only under conditions",
            group=f"conditional/{feature.id}",
            statement=first,
            ref=item.statement_of(first) if first is not None else None,
        )


def _unknown_findings(role: RoleReport) -> Iterator[Finding]:
    """One finding per reason: the reason once, with how many actions and which features it affects."""
    titles = {feature.id: feature.title for feature in role.features}
    for group in role.unknown:
        count = f"{group.actions} required action{'s' if group.actions != 1 else ''}"
        features = ", ".join(titles.get(f, f) for f in group.features)
        yield _make(
            "unknown-permission",
            FindingLevel.WARNING,
            Gate.UNKNOWN,
            role,
            None,
            group.reason,
            f"cannot verify {count} of {features}: {role.reason_text(group.reason)}",
            statement=group.reason,
            ref=group.statement,
        )


# A trust finding's severity → (its level, the --fail-on value it counts toward); ok: not reported.
_TRUST_LEVEL = {
    TrustSeverity.FAIL: (FindingLevel.ERROR, Gate.TRUST),
    TrustSeverity.WARN: (FindingLevel.WARNING, None),
    TrustSeverity.UNKNOWN: (FindingLevel.WARNING, Gate.UNKNOWN),
    TrustSeverity.INFO: (FindingLevel.NOTE, None),
}


def role_findings(role: RoleReport) -> list[Finding]:
    """Every finding about one role, in the report's order, without duplicates."""
    found: dict[str, Finding] = {}

    def add(finding: Finding) -> None:
        found.setdefault(finding.fingerprint, finding)

    for trust in role.trust.findings:
        if trust.severity not in _TRUST_LEVEL:
            continue  # "ok": nothing to report
        level, gate = _TRUST_LEVEL[trust.severity]
        statement = str(trust.statement) if trust.statement is not None else None
        add(
            _make(
                "trust-policy",
                level,
                gate,
                role,
                None,
                trust.code,
                f"trust policy: {trust.message}",
                statement=statement,
                ref=trust.statement,
                extra=statement or "",
            )
        )
    if role.not_zeet is not None:
        return []  # not audited: the role is not one Zeet uses
    for document in role.invalid_documents:
        add(
            _make(
                "invalid-policy",
                FindingLevel.ERROR,
                Gate.INVALID_POLICY,
                role,
                None,
                document.policy,
                f"policy {document.policy!r} is invalid ({document.file}: {document.path}: "
                f"{document.problem}); AWS would refuse it",
                extra=document.path,
                path=document.path,
                fix=f"correct the document at {document.path}: {document.problem}",
            )
        )
    for feature in role.features:
        for finding in _feature_findings(role, feature):
            add(finding)
    for finding in _unknown_findings(role):
        add(finding)
    for unknown in role.unknown_actions:
        hint = f"; did you mean {unknown.suggestion}?" if unknown.suggestion else ""
        add(
            _make(
                "unknown-action",
                FindingLevel.WARNING,
                None,
                role,
                None,
                unknown.action,
                f"{unknown.action} is not an action AWS knows: it grants nothing{hint}",
                statement=str(unknown.statement),
                ref=unknown.statement,
                extra=str(unknown.statement),
                fix=f"replace it with {unknown.suggestion}" if unknown.suggestion else None,
            )
        )
    for grant in role.excess.risky:
        needed = f"; needed by {', '.join(grant.needed_by)}" if grant.needed_by else ""
        conditional = " (conditional)" if grant.conditional else ""
        add(
            _make(
                "risky-permission",
                FindingLevel.WARNING,
                Gate.EXCESS_RISKY,
                role,
                None,
                grant.action,
                f"{grant.action} on {grant.resource}{conditional}: {grant.reason}{needed}",
                statement=grant.statement,
                ref=grant.statements[0] if grant.statements else None,
                extra=grant.resource,
            )
        )
    for service in role.excess.services:
        levels = ", ".join(f"{level} {count}" for level, count in service.by_access_level)
        sample = f"; e.g. {', '.join(service.sample)}" if service.sample else ""
        add(
            _make(
                "excess-permission",
                FindingLevel.NOTE,
                Gate.EXCESS,
                role,
                None,
                service.service,
                f"{service.total} {service.service} actions allowed that no selected feature needs ({levels}){sample}",
            )
        )
    return list(found.values())


def report_findings(report: AuditReport) -> list[Finding]:
    """Every finding of the report, role by role (computed anew: a caller that needs them more than
    once keeps the list and passes it on)."""
    return [finding for role in report.roles for finding in role_findings(role)]
