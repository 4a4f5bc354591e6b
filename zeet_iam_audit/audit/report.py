"""The audit's result values: what every output format renders, and what the JSON contract exposes.

All frozen, all sorted deterministically. ``to_json`` gives the versioned JSON shape (keys may be
added in later versions, never renamed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from zeet_iam_audit.model import Origin, Route, Statement, route_text
from zeet_iam_audit.policy.results import StatementRef

if TYPE_CHECKING:
    from zeet_iam_audit.audit.findings import Finding

SCHEMA_VERSION = 1


class TrustStatus(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"


class FeatureStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    CONDITIONAL = "conditional"
    UNKNOWN = "unknown"


class TrustSeverity(StrEnum):
    """How much one observation about the trust policy weighs (``TrustStatus`` is the worst of them)."""

    FAIL = "fail"
    WARN = "warn"
    UNKNOWN = "unknown"
    INFO = "info"
    OK = "ok"


class MissingLayer(StrEnum):
    """What blocks a missing group, as reports name it."""

    NO_ALLOW = "no allow"
    EXPLICIT_DENY = "explicit deny"
    BOUNDARY = "permissions boundary"
    SCP = "SCP"
    TRUST = "trust policy"


@dataclass(frozen=True, slots=True)
class TrustStatementRef:
    """A statement of the role's trust policy: ``str(ref)`` is its label (``Statement[0] (Sid "Zeet")``);
    formats find its line from the trust policy's place in the input and ``index``."""

    index: int
    sid: str | None = None

    @classmethod
    def of(cls, statement: Statement) -> TrustStatementRef:
        return cls(statement.index, statement.sid)

    def route(self, trust: Origin | None) -> Route | None:
        """The route to this statement, given where the trust policy is written."""
        if trust is None or trust.route is None:
            return None
        return (*trust.route, "Statement", self.index)

    def __str__(self) -> str:
        return f'Statement[{self.index}] (Sid "{self.sid}")' if self.sid else f"Statement[{self.index}]"


@dataclass(frozen=True, slots=True)
class TrustFinding:
    """One observation about the trust policy, and the statement it is about when there is one."""

    code: str
    severity: TrustSeverity
    message: str
    statement: TrustStatementRef | None = None

    def to_json(self) -> dict[str, Any]:
        statement = str(self.statement) if self.statement is not None else None
        return {"code": self.code, "severity": self.severity, "message": self.message, "statement": statement}


@dataclass(frozen=True, slots=True)
class TrustResult:
    status: TrustStatus
    findings: tuple[TrustFinding, ...]

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "findings": [f.to_json() for f in self.findings]}


@dataclass(frozen=True, slots=True)
class ProposedStatement:
    """An IAM statement that would grant what a feature lacks: Allow ``actions`` on ``resources``,
    under ``conditions`` (``((operator, key, values), ...)``) when the rule's requests carry them."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def to_json(self) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": self.actions[0] if len(self.actions) == 1 else list(self.actions),
            "Resource": self.resources[0] if len(self.resources) == 1 else list(self.resources),
        }
        if self.conditions:
            block: dict[str, dict[str, Any]] = {}
            for operator, key, values in self.conditions:
                block.setdefault(operator, {})[key] = values[0] if len(values) == 1 else list(values)
            statement["Condition"] = block
        return statement


@dataclass(frozen=True, slots=True)
class Fix:
    """How to make a missing group allowed: the statements to add to an identity-based policy of the
    role, or (when a Deny, the permissions boundary or an SCP blocks it) what must change instead, with
    no statement (adding an Allow cannot lift those)."""

    change: str  # the sentence reports print
    statements: tuple[ProposedStatement, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "statements": [s.to_json() for s in self.statements]}


@dataclass(frozen=True, slots=True)
class MissingGroup:
    """Required actions of one service that the role does not allow, and the layer that blocks them."""

    service: str  # IAM prefix, e.g. "sqs"
    display: str  # the guide's name, e.g. "SQS"
    actions: tuple[str, ...]
    layer: MissingLayer
    reason: str  # the sentence the report prints, e.g. "no identity-based policy allows them"
    # The deny statements when a deny blocks (the trust policy's failing ones for Cloud Connection).
    statements: tuple[StatementRef | TrustStatementRef, ...] = ()
    fix: Fix | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "display": self.display,
            "actions": list(self.actions),
            "layer": self.layer,
            "reason": self.reason,
            "statements": [str(statement) for statement in self.statements],
            "fix": self.fix.to_json() if self.fix is not None else None,
        }


def service_label(display: str, prefix: str) -> str:
    """A guide's display name, told apart from others sharing it: ``"CloudWatch"`` for ``cloudwatch``,
    ``"CloudWatch (events)"`` for ``events``."""
    if not prefix or prefix == "*" or prefix in display.lower().replace(" ", ""):
        return display
    return f"{display} ({prefix})"


@dataclass(frozen=True, slots=True)
class OpenAction:
    """A required action whose answer depends on something the audit does not know."""

    action: str
    service: str
    display: str
    resource: str
    keys: tuple[str, ...] = ()  # condition keys it depends on
    gates: tuple[str, ...] = ()  # "Allow" and/or "Deny": what those conditions gate
    reasons: tuple[str, ...] = ()  # unreadable policies, unresolved values, partial denies
    # The statement each reason names, for the reasons that name one (an Allow or a Deny covering
    # part of the scope): (reason, statement).
    reason_statements: tuple[tuple[str, StatementRef], ...] = ()

    def statement_of(self, reason: str) -> StatementRef | None:
        """The statement ``reason`` names, if it names one."""
        for text, statement in self.reason_statements:
            if text == reason:
                return statement
        return None

    def condition_text(self) -> str:
        """ "condition keys aws:RequestedRegion decide an Allow" (empty without keys)."""
        if not self.keys:
            return ""
        decided = " and ".join("an Allow" if gate == "Allow" else "a Deny" for gate in self.gates) or "it"
        noun = "condition key" if len(self.keys) == 1 else "condition keys"
        return f"{noun} {', '.join(self.keys)} decide{'s' if len(self.keys) == 1 else ''} {decided}"

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "service": self.service,
            "display": self.display,
            "resource": self.resource,
            "condition_keys": list(self.keys),
            "gates": list(self.gates),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class FeatureResult:
    id: str
    title: str
    section: str
    status: FeatureStatus
    required: int
    missing: tuple[MissingGroup, ...] = ()
    conditional: tuple[OpenAction, ...] = ()
    unknown: tuple[OpenAction, ...] = ()
    variants: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def label(self, group: MissingGroup) -> str:
        """The group's service as people read it: its display name, with the IAM prefix when the name
        does not say it ("CloudWatch (events)" for CloudWatch Events beside CloudWatch metrics)."""
        return service_label(group.display, group.service)

    def summary(self) -> str:
        """One line: "Cluster Capacity Monitoring lacks SQS: sqs:CreateQueue (no identity-based ...)"."""
        if self.status is FeatureStatus.MISSING:
            parts = [f"{self.label(g)}: {', '.join(g.actions)} ({g.reason})" for g in self.missing]
            return f"{self.title} lacks " + "; ".join(parts)
        return self.short_summary()

    def short_summary(self) -> str:
        """One line without the action lists: "Cluster Capacity Monitoring lacks SQS (7, explicit deny)"."""
        if self.status is FeatureStatus.OK:
            plural = "s" if self.required != 1 else ""
            return f"{self.title}: ok ({self.required} required action{plural} allowed)"
        if self.status is FeatureStatus.MISSING:
            parts = [f"{self.label(g)} ({len(g.actions)}, {g.layer})" for g in self.missing]
            return f"{self.title} lacks " + ", ".join(parts)
        items = self.unknown if self.status is FeatureStatus.UNKNOWN else self.conditional
        what = "unknown" if self.status is FeatureStatus.UNKNOWN else "conditional"
        return f"{self.title}: {len(items)} required actions {what}"

    def to_json(self, *, missing: bool = True) -> dict[str, Any]:
        """The feature as JSON; without ``missing`` its missing list is left empty (for a renderer that
        splices in group texts it keeps)."""
        return {
            "id": self.id,
            "title": self.title,
            "section": self.section,
            "status": self.status.value,
            "required_actions": self.required,
            "variants": list(self.variants),
            "summary": self.short_summary(),
            "missing": [g.to_json() for g in self.missing] if missing else [],
            "conditional": [a.to_json() for a in self.conditional],
            "unknown": [a.to_json() for a in self.unknown],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class ExcessService:
    service: str
    total: int
    by_access_level: tuple[tuple[str, int], ...]
    conditional: int = 0
    scoped: int = 0  # allowed on some resources only
    sample: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "total": self.total,
            "by_access_level": dict(self.by_access_level),
            "conditional": self.conditional,
            "resource_scoped": self.scoped,
            "sample": list(self.sample),
        }


@dataclass(frozen=True, slots=True)
class RiskyGrant:
    action: str
    resource: str
    reason: str
    needed_by: tuple[str, ...] = ()
    statement: str | None = None  # the granting statements, joined with "; "
    conditional: bool = False
    statements: tuple[StatementRef, ...] = ()  # the granting statements, one by one

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "resource": self.resource,
            "reason": self.reason,
            "needed_by": list(self.needed_by),
            "statement": self.statement,
            "conditional": self.conditional,
            "statements": [str(statement) for statement in self.statements],
        }


@dataclass(frozen=True, slots=True)
class ExcessResult:
    total: int
    services: tuple[ExcessService, ...]
    risky: tuple[RiskyGrant, ...]
    unknown_reasons: tuple[str, ...] = ()
    analysed: bool = True  # False with --no-excess: the counts mean nothing then

    def to_json(self, *, services: bool = True) -> dict[str, Any]:
        """The result as JSON; without ``services`` its service list is left empty (for a renderer
        that splices in service texts it keeps)."""
        return {
            "total_actions": self.total,
            "services": [s.to_json() for s in self.services] if services else [],
            "risky": [r.to_json() for r in self.risky],
            "unknown_reasons": list(self.unknown_reasons),
            "analysed": self.analysed,
        }


# Decision values (policy.evaluate.Decision) as reports say them to people.
DECISION_TEXT = {
    "allowed": "allowed",
    "implicit_deny": "no policy allows it",
    "explicit_deny": "explicitly denied",
    "conditional": "allowed only under conditions",
    "unknown": "unknown",
}


def decision_text(value: str) -> str:
    """A Decision value in words: ``implicit_deny`` → "no policy allows it"."""
    return DECISION_TEXT.get(value, value.replace("_", " "))


@dataclass(frozen=True, slots=True)
class DefaultModeResult:
    """Whether the role meets the guide's default mode (Account Administrator)."""

    administrator: str  # a Decision value for "*" on "*"
    mode: str  # "default" | "fine-grained"
    plan: str | None
    findings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "administrator": self.administrator,
            "mode": self.mode,
            "plan": self.plan,
            "findings": list(self.findings),
        }


@dataclass(frozen=True, slots=True)
class Disagreement:
    """An action on which iam:SimulatePrincipalPolicy and this tool disagree."""

    action: str
    resource: str
    ours: str  # a Decision value
    aws: str  # EvalDecision as AWS returned it: allowed, explicitDeny, implicitDeny

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "resource": self.resource, "ours": self.ours, "aws": self.aws}


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """The --simulate cross-check of one role."""

    checked: int
    disagreements: tuple[Disagreement, ...] = ()
    error: str | None = None  # why the simulation could not run, when it could not

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "disagreements": [d.to_json() for d in self.disagreements],
            "error": self.error,
        }


class LocationKind(StrEnum):
    """What a ``SourceLocation`` places: the role, its trust policy, a policy or its boundary."""

    ROLE = "role"
    TRUST = "trust"
    POLICY = "policy"
    BOUNDARY = "boundary"


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where, inside its input file, a role or one of its policies is written.

    ``route`` is the source's own route to it (``("$", "RoleDetailList", 1)``, ``("Resources",
    "ZeetRole")``, a Terraform address), ``path`` the same as text; ``name`` is the policy's name as
    findings quote it (the role's name for ``role`` and ``trust``). Formats turn routes into lines.
    """

    kind: LocationKind
    name: str
    route: Route

    @property
    def path(self) -> str:
        return route_text(self.route)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "path": self.path}


class WaiverStatus(StrEnum):
    """What a waiver did in a run (see ``WaiverNote``)."""

    APPLIED = "applied"
    EXPIRED = "expired"
    UNMATCHED = "unmatched"


@dataclass(frozen=True, slots=True)
class WaiverNote:
    """One configured waiver and what it did in this run.

    ``status`` is ``applied`` (it waived ``fingerprints``), ``expired`` (its date has passed: it waives
    nothing and fails the gate) or ``unmatched`` (it matched no finding).
    """

    label: str  # "waivers[0] (check=missing-permission, action=sqs:*)"
    reason: str
    status: WaiverStatus
    expires: str | None = None  # ISO date
    origin: str = ""  # the config file it came from
    fingerprints: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "waiver": self.label,
            "reason": self.reason,
            "status": self.status,
            "expires": self.expires,
            "origin": self.origin,
            "findings": list(self.fingerprints),
        }


@dataclass(frozen=True, slots=True)
class InvalidDocument:
    """A policy document of the role that AWS would refuse: which file, which policy, where, and why."""

    file: str
    policy: str
    path: str  # the JSON path of the problem inside the file
    problem: str

    @property
    def text(self) -> str:
        """As verdicts it leaves unknown give their reason: ``"<file>: <path>: <problem>"``."""
        return f"{self.file}: {self.path or '$'}: {self.problem}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "policy": self.policy, "path": self.path, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class UnknownAction:
    """An action a policy of the role names that the catalogue does not know (a typo, most often)."""

    action: str
    policy: str
    statement: StatementRef  # reads "identity-based policy 'X' Statement[1]"
    suggestion: str | None = None  # the nearest known name of that service

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "policy": self.policy,
            "statement": str(self.statement),
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True, slots=True)
class UnknownGroup:
    """One reason verdicts could not be told, with what it affects (shown once per role)."""

    reason: str
    actions: int  # distinct required actions it leaves unknown
    features: tuple[str, ...]  # the ids of the features they belong to
    statement: StatementRef | None = None  # the statement the reason names, if it names one

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "actions": self.actions, "features": list(self.features)}


NO_REASON = "the answer depends on something the input does not say"


def unknown_groups(features: tuple[FeatureResult, ...]) -> tuple[UnknownGroup, ...]:
    """The features' unknown verdicts grouped by reason, in the order the reasons first appear."""
    actions: dict[str, set[str]] = {}
    owners: dict[str, dict[str, None]] = {}
    statements: dict[str, StatementRef] = {}
    for feature in features:
        for item in feature.unknown:
            for reason in item.reasons or (NO_REASON,):
                actions.setdefault(reason, set()).add(item.action.lower())
                owners.setdefault(reason, {})[feature.id] = None
            for reason, statement in item.reason_statements:
                statements.setdefault(reason, statement)
    return tuple(
        UnknownGroup(reason, len(names), tuple(owners[reason]), statements.get(reason))
        for reason, names in actions.items()
    )


@dataclass(frozen=True, slots=True)
class RoleReport:
    name: str
    arn: str | None
    source: str
    trust: TrustResult
    features: tuple[FeatureResult, ...]
    excess: ExcessResult
    default_mode: DefaultModeResult
    unknown_policies: tuple[str, ...] = ()
    scps: str = "not evaluated"
    simulation: SimulationResult | None = None
    locations: tuple[SourceLocation, ...] = ()  # where the role and its policies are in the input
    invalid_documents: tuple[InvalidDocument, ...] = ()
    unknown_actions: tuple[UnknownAction, ...] = ()
    # With --all-roles, a role whose trust policy does not let Zeet in is not audited: who it trusts
    # instead ("lambda.amazonaws.com"), and no features.
    not_zeet: str | None = None

    @property
    def unknown(self) -> tuple[UnknownGroup, ...]:
        """The features' unknown verdicts grouped by reason (derived from the features, never stored, so
        a copy with other features cannot carry stale groups; ``to_json(features=False)`` keeps them)."""
        return unknown_groups(self.features)

    def reason_text(self, reason: str) -> str:
        """An unknown verdict's reason for people: an invalid policy is named as such."""
        for document in self.invalid_documents:
            if reason == document.text:
                return (
                    f"policy {document.policy!r} is invalid (AWS would refuse it): {document.path}: {document.problem}"
                )
        return reason

    def to_json(self, *, features: bool = True, excess_services: bool = True) -> dict[str, Any]:
        """The role as JSON; without ``features`` its feature list is left empty, without
        ``excess_services`` its excess's service list (for a renderer that splices in texts it keeps),
        while everything derived from them is still there."""
        return {
            "name": self.name,
            "arn": self.arn,
            "source": self.source,
            "trust": self.trust.to_json(),
            "mode": self.default_mode.to_json(),
            "features": [f.to_json() for f in self.features] if features else [],
            "excess": self.excess.to_json(services=excess_services),
            "unknown_policies": list(self.unknown_policies),
            "scps": self.scps,
            "simulation": self.simulation.to_json() if self.simulation else None,
            "locations": [location.to_json() for location in self.locations],
            "unknown_groups": [group.to_json() for group in self.unknown],
            "invalid_policies": [document.to_json() for document in self.invalid_documents],
            "unknown_actions": [action.to_json() for action in self.unknown_actions],
            "not_zeet_role": self.not_zeet,
        }


@dataclass(frozen=True, slots=True)
class SkippedItem:
    name: str
    reason: str
    origin: str = ""
    unread: bool = False  # it should have been audited but could not be read: unknown for the gate

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"name": self.name, "reason": self.reason, "origin": self.origin}
        if self.unread:
            shown["unread"] = True
        return shown


@dataclass(frozen=True, slots=True)
class AuditReport:
    tool_version: str
    roles: tuple[RoleReport, ...]
    skipped: tuple[SkippedItem, ...] = ()
    inputs: tuple[str, ...] = ()
    waivers: tuple[WaiverNote, ...] = ()
    # With --all-roles on an input that holds no IAM role: what was looked for, e.g.
    # "zeet.yaml: no IAM role found (looked for AWS::IAM::Role resources)".
    no_role: str | None = None

    def waiver_of(self, fingerprint: str) -> WaiverNote | None:
        """The applied waiver that waives the finding with this fingerprint, if any."""
        for note in self.waivers:
            if note.status == WaiverStatus.APPLIED and fingerprint in note.fingerprints:
                return note
        return None

    def to_json(
        self, *, all_findings: bool = False, roles: bool = True, findings: Sequence[Finding] | None = None
    ) -> dict[str, Any]:
        """The versioned JSON shape.

        ``findings`` lists every finding with its fingerprint when ``all_findings`` (``--findings``);
        otherwise only the waived ones, so that an account-wide report stays the size of its verdicts
        (every missing action of every role would otherwise be listed twice). A caller that has the
        report's findings already (``report_findings``) passes them.
        """
        # Imported here: findings are derived from these values, so that module imports this one.
        from zeet_iam_audit.audit.findings import report_findings

        listed = []
        if all_findings or self.waivers:
            for finding in findings if findings is not None else report_findings(self):
                waiver = self.waiver_of(finding.fingerprint)
                if waiver is None and not all_findings:
                    continue
                listed.append(
                    {**finding.to_json(), "waived": waiver is not None, "waiver": waiver.label if waiver else None}
                )
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "zeet-iam-audit", "version": self.tool_version},
            "inputs": list(self.inputs),
            "roles": [r.to_json() for r in self.roles] if roles else [],
            "skipped": [s.to_json() for s in self.skipped],
            "findings_listed": "all" if all_findings else "waived",
            "findings": listed,
            "waivers": [note.to_json() for note in self.waivers],
            "no_role": self.no_role,
        }
