"""Trust audit: can Zeet's management account assume the role, safely, and can anyone else?

The AWS policy simulator ignores trust policies for ``sts:AssumeRole``; this module evaluates them
itself: Allow and Deny statements, Principal and NotPrincipal, Action and NotAction, and the
conditions Zeet can meet (``sts:ExternalId``) versus those it cannot be assumed to meet.

What Zeet's AssumeRole request carries, as far as is known (``zeet cloud aws console`` calls
``sts:AssumeRole {RoleArn, ExternalId, RoleSessionName, DurationSeconds}``): always an external id;
Zeet's account as ``aws:PrincipalAccount``; HTTPS. It carries no MFA, no session tags, no source
identity, and it does not come through the customer's VPC or VPC endpoints. So a condition that needs
MFA, a VPC or VPC endpoint, a private source address, a request or principal tag, or the external id
to be absent (``Null sts:ExternalId = true``, as the CDK bootstrap roles have) can never hold for
Zeet: the role cannot be assumed by it. A condition that accepts every external id (``StringLike
"*"``, ``Null ... = false`` alone) or holds without one (``...IfExists``) protects nothing against
the confused-deputy problem.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from zeet_iam_audit.audit.report import TrustFinding, TrustResult, TrustSeverity, TrustStatementRef, TrustStatus
from zeet_iam_audit.memo import IdentityMemo
from zeet_iam_audit.model import Condition, Effect, Policy, Principal, Role, Statement, Unresolved
from zeet_iam_audit.policy.conditions import ConditionUnknown, evaluate_condition
from zeet_iam_audit.policy.match import any_action_matches
from zeet_iam_audit.policy.parse import split_operator

ASSUME_ACTION = "sts:AssumeRole"
EXTERNAL_ID_KEY = "sts:externalid"
# Condition keys that tie a wildcard principal to known callers.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:userid",
        "aws:username",
    )
)
# Keys whose value Zeet's AssumeRole call carries or that do not depend on the caller's setup.
_ZEET_SUPPLIES = frozenset({EXTERNAL_ID_KEY, "aws:principalaccount", "aws:securetransport"})
# Keys Zeet's AssumeRole never carries, and why (a condition that needs them never holds for Zeet).
_NEVER_SENT = {
    "aws:multifactorauthpresent": "Zeet's AssumeRole is an automated call made without MFA",
    "aws:multifactorauthage": "Zeet's AssumeRole is an automated call made without MFA",
    "aws:sourcevpc": "Zeet calls AWS STS from its own network, never through this account's VPCs",
    "aws:sourcevpce": "Zeet calls AWS STS from its own network, never through this account's VPC endpoints",
    "aws:vpcsourceip": "Zeet calls AWS STS from its own network, never through this account's VPC endpoints",
    "aws:tagkeys": "Zeet's AssumeRole passes no session tags",
    "sts:transitivetagkeys": "Zeet's AssumeRole passes no session tags",
    "sts:sourceidentity": "Zeet's AssumeRole sets no source identity",
    "aws:sourceidentity": "Zeet's AssumeRole sets no source identity",
    # Present only when an AWS service calls on a resource's behalf; Zeet calls STS itself.
    "aws:sourcearn": "Zeet calls AWS STS itself, not through an AWS service acting for a resource",
    "aws:sourceaccount": "Zeet calls AWS STS itself, not through an AWS service acting for a resource",
    "aws:sourceorgid": "Zeet calls AWS STS itself, not through an AWS service acting for a resource",
    "aws:sourceorgpaths": "Zeet calls AWS STS itself, not through an AWS service acting for a resource",
}
_NEVER_SENT_PREFIXES = {
    "aws:requesttag/": "Zeet's AssumeRole passes no session tags",
    "aws:principaltag/": "Zeet's principal carries no tag this role could rely on",
}
_MFA_KEY = "aws:multifactorauthpresent"
_SOURCE_IP_KEY = "aws:sourceip"
# External ids no policy would name: a condition that holds for both accepts any external id
# (AWS accepts ids of 2 to 1,224 characters).
_ANY_EXTERNAL_IDS = ("Qz", "zeet-audit-probe-7c1e5a90-3f4b-4d2e-b8a6-0d9f1e2c3b4a")
_ACCOUNT_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):(.*)$")
MIN_SESSION_SECONDS = 3600


def _account_of(identifier: str) -> str | None:
    """The account an AWS principal identifier names (``123456789012``, ``arn:...:root``, a role)."""
    if re.fullmatch(r"\d{12}", identifier):
        return identifier
    match = _ACCOUNT_ARN.match(identifier)
    return match.group(1) if match else None


def _is_wildcard(principal: Principal) -> bool:
    return principal.wildcard or "*" in principal.identifiers("AWS")


def _statement_assumes(statement: Statement) -> bool:
    if statement.actions is not None:
        return any_action_matches(statement.actions, ASSUME_ACTION)
    assert statement.not_actions is not None
    return not any_action_matches(statement.not_actions, ASSUME_ACTION)


def _unresolved_parts(statement: Statement) -> list[str]:
    """Reasons for the unresolved values in a statement's Action and Principal elements."""
    values: list[str] = [*(statement.actions or ()), *(statement.not_actions or ())]
    for principal in (statement.principal, statement.not_principal):
        if principal is not None:
            values.extend(identifier for _, identifiers in principal.entries for identifier in identifiers)
    return [value.reason for value in values if isinstance(value, Unresolved)]


def _names_account(principal: Principal, account: str) -> bool:
    return any(_account_of(identifier) == account for identifier in principal.identifiers("AWS"))


def _external_accounts(principal: Principal, own_account: str | None, zeet: str | None) -> set[str]:
    accounts = set()
    for identifier in principal.identifiers("AWS"):
        account = _account_of(identifier)
        if account and account not in (own_account, zeet):
            accounts.add(account)
    return accounts


@dataclass(frozen=True, slots=True)
class TrustSettings:
    """The configuration the trust audit checks against (never guessed)."""

    zeet_account_id: str | None = None
    external_id: str | None = None


def mask_external_id(value: str) -> str:
    """Show only the last four characters of an external id."""
    return ("*" * max(len(value) - 4, 4)) + value[-4:] if len(value) > 4 else "****"


def _external_id_conditions(statement: Statement) -> list[Condition]:
    return [c for c in statement.conditions if c.key.lower() == EXTERNAL_ID_KEY]


def _external_ids(statement: Statement) -> tuple[list[str], list[str]]:
    """(values an external id is compared with, operators used) in a statement's conditions; a
    ``Null`` condition tests presence and names no external id."""
    values: list[str] = []
    operators: list[str] = []
    for condition in _external_id_conditions(statement):
        operators.append(condition.operator)
        if split_operator(condition.operator)[1] != "Null":
            values.extend(condition.values)
    return values, operators


def unresolved_words(value: Unresolved) -> str:
    """How a trust finding speaks of a value the input does not resolve: its reason, as the source
    gave it (a template parameter's says which ``--parameter NAME=VALUE`` resolves it)."""
    return f"a value the input does not resolve: {value.reason}"


def _shown(condition: Condition) -> str:
    """A condition as findings quote it; values are shown only when they cannot be a secret (only
    wildcards, or a Null/Bool test)."""
    base = split_operator(condition.operator)[1]
    if base in ("Null", "Bool") or all(set(v) <= {"*", "?"} for v in condition.values):
        values = ", ".join(f'"{v}"' for v in condition.values)
        return f"{condition.operator} {condition.key} = {values}"
    return f"{condition.operator} {condition.key}"


def _holds(condition: Condition, context: dict[str, tuple[str, ...]]) -> bool | None:
    """Whether a condition holds for ``context`` (None: AWS documents no answer, e.g. a value not of
    the operator's type)."""
    try:
        return evaluate_condition(condition, context, variables=False)
    except ConditionUnknown:
        return None


def _private(network: str) -> bool:
    try:
        return not ipaddress.ip_network(network.strip(), strict=False).is_global
    except ValueError:
        return False


def _for_zeet(condition: Condition, context: dict[str, tuple[str, ...]]) -> tuple[str, str]:
    """Whether Zeet's AssumeRole (``context``: what it is known to carry) meets one condition:
    ("holds" | "never" | "maybe" | "unknown", why)."""
    unresolved = [v for v in condition.values if isinstance(v, Unresolved)]
    if unresolved:
        return "unknown", unresolved_words(unresolved[0])
    key = condition.key.lower()
    if key in _ZEET_SUPPLIES:
        try:
            return ("holds" if evaluate_condition(condition, context, variables=False) else "never"), ""
        except ConditionUnknown as error:
            return "unknown", error.reason
    why = _NEVER_SENT.get(key) or next(
        (text for prefix, text in _NEVER_SENT_PREFIXES.items() if key.startswith(prefix)), None
    )
    if why is not None:
        outcomes = {_holds(condition, {})}
        if key == _MFA_KEY:  # absent for some callers, "false" for others: neither is MFA
            outcomes.add(_holds(condition, {key: ("false",)}))
        if outcomes == {True}:
            return "holds", ""
        return ("never", why) if outcomes == {False} else ("maybe", "")
    if key == _SOURCE_IP_KEY and split_operator(condition.operator)[1] == "IpAddress":
        if all(_private(v) for v in condition.values):
            return "never", (
                "AWS sees Zeet's calls come from public addresses (or from none, through a "
                "VPC endpoint), never from these private ranges"
            )
        return "unknown", (
            "Zeet publishes no addresses it calls AWS from: whether these ranges hold them cannot be told"
        )
    return "maybe", ""


def _zeet_context(settings: TrustSettings, external_id: str | None) -> dict[str, tuple[str, ...]]:
    context: dict[str, tuple[str, ...]] = {}
    if settings.zeet_account_id:
        context["aws:principalaccount"] = (settings.zeet_account_id,)
    if external_id is not None:
        context[EXTERNAL_ID_KEY] = (external_id,)
    context["aws:securetransport"] = ("true",)
    return context


def _probe(statement: Statement, settings: TrustSettings) -> str:
    """The external id Zeet is taken to send: the configured one, else the one a positive
    condition names (the customer copied it from Zeet), else any."""
    if settings.external_id is not None:
        return settings.external_id
    for condition in _external_id_conditions(statement):
        _, base, _ = split_operator(condition.operator)
        if base in ("StringEquals", "StringEqualsIgnoreCase", "StringLike") and condition.values:
            return condition.values[0]
    return _ANY_EXTERNAL_IDS[1]


def _role_account(role: Role) -> str | None:
    return _account_of(role.arn) if role.arn else None


def audit_trust(role: Role, settings: TrustSettings, memo: IdentityMemo[TrustResult] | None = None) -> TrustResult:
    """Check the role's trust policy against the configured Zeet account and external id.

    ``memo`` (a run's, see audit/memo.py): the verdict depends on the statements, the role's account,
    the settings and the session length, and an account's roles share a few trust documents (one
    parsed value each, see sources/gaad.py), so it is worked out once per document and facts.
    """
    policy = role.trust_policy
    if policy is None:
        reason = role.trust_unknown_reason or "the input holds no trust policy for this role"
        finding = TrustFinding("trust-unknown", TrustSeverity.UNKNOWN, f"trust policy not known: {reason}")
        return TrustResult(TrustStatus.UNKNOWN, (finding,))
    if memo is None:
        return _audit_trust_policy(role, policy, settings)
    key = (_role_account(role), settings, role.max_session_duration)
    found = memo.get(policy.statements, key)
    if found is None:
        found = memo.put(policy.statements, _audit_trust_policy(role, policy, settings), key)
    return found


def _audit_trust_policy(role: Role, policy: Policy, settings: TrustSettings) -> TrustResult:
    findings: list[TrustFinding] = []
    findings.extend(_wildcard_findings(policy))
    findings.extend(_external_principal_findings(policy, _role_account(role), settings.zeet_account_id))
    if settings.zeet_account_id is None:
        findings.append(
            TrustFinding(
                "zeet-account-not-configured",
                TrustSeverity.UNKNOWN,
                "no Zeet management account id configured (--zeet-account-id, "
                "ZEET_IAM_AUDIT_ZEET_ACCOUNT_ID or the config file): cannot check that Zeet can assume the role",
            )
        )
    else:
        findings.extend(_zeet_findings(policy, settings))
    if role.max_session_duration is not None and role.max_session_duration < MIN_SESSION_SECONDS:
        findings.append(
            TrustFinding(
                "short-session",
                TrustSeverity.INFO,
                f"MaxSessionDuration is {role.max_session_duration} s, under {MIN_SESSION_SECONDS} s: "
                "long Zeet operations may need to assume the role again",
            )
        )
    severities = {f.severity for f in findings}
    if "fail" in severities:
        status = TrustStatus.FAIL
    elif "unknown" in severities:
        status = TrustStatus.UNKNOWN
    elif "warn" in severities:
        status = TrustStatus.WARN
    else:
        status = TrustStatus.OK
    return TrustResult(status, tuple(findings))


def _allow_statements(policy: Policy) -> Iterable[Statement]:
    return (s for s in policy.statements if s.effect is Effect.ALLOW and _statement_assumes(s))


def _wildcard_findings(policy: Policy) -> list[TrustFinding]:
    findings = []
    for statement in _allow_statements(policy):
        if statement.not_principal is not None:
            findings.append(
                TrustFinding(
                    "not-principal-allow",
                    TrustSeverity.FAIL,
                    "Allow with NotPrincipal lets every principal not listed assume the role",
                    TrustStatementRef.of(statement),
                )
            )
            continue
        if statement.principal is None or not _is_wildcard(statement.principal):
            continue
        restricting = [c.key for c in statement.conditions if c.key.lower() in RESTRICTING_KEYS]
        if restricting:
            findings.append(
                TrustFinding(
                    "wildcard-principal-restricted",
                    TrustSeverity.WARN,
                    f'principal "*" restricted only by conditions on {", ".join(sorted(set(restricting)))}',
                    TrustStatementRef.of(statement),
                )
            )
        else:
            only_external = bool(_external_ids(statement)[0])
            detail = " (an external id is a shared secret, not an identity check)" if only_external else ""
            findings.append(
                TrustFinding(
                    "wildcard-principal",
                    TrustSeverity.FAIL,
                    f'any AWS account can assume the role: principal "*" without a restricting condition{detail}',
                    TrustStatementRef.of(statement),
                )
            )
    return findings


def _external_principal_findings(policy: Policy, own: str | None, zeet: str | None) -> list[TrustFinding]:
    findings = []
    for statement in _allow_statements(policy):
        if statement.principal is None:
            continue
        others = _external_accounts(statement.principal, own, zeet)
        if others:
            findings.append(
                TrustFinding(
                    "other-external-principals",
                    TrustSeverity.WARN,
                    f"accounts other than Zeet's can assume the role: {', '.join(sorted(others))}",
                    TrustStatementRef.of(statement),
                )
            )
    return findings


def _zeet_findings(policy: Policy, settings: TrustSettings) -> list[TrustFinding]:
    zeet = settings.zeet_account_id
    assert zeet is not None
    candidates = [
        s
        for s in _allow_statements(policy)
        if s.principal is not None and (_names_account(s.principal, zeet) or _is_wildcard(s.principal))
    ]
    if not candidates:
        # An Allow whose action or principal the input does not resolve might be the one for Zeet.
        maybe = [s for s in policy.statements if s.effect is Effect.ALLOW and _unresolved_parts(s)]
        if maybe:
            return [
                TrustFinding(
                    "trust-unresolved",
                    TrustSeverity.UNKNOWN,
                    "whether Zeet's account can assume the role depends on a value the input does not "
                    f"resolve: {_unresolved_parts(maybe[0])[0]}",
                    TrustStatementRef.of(maybe[0]),
                )
            ]
        return [
            TrustFinding(
                "zeet-cannot-assume",
                TrustSeverity.FAIL,
                f"Zeet's management account {zeet} cannot assume the role: no statement allows {ASSUME_ACTION} to it",
            )
        ]
    findings: list[TrustFinding] = []
    blocked: list[TrustFinding] = []
    open_questions: list[TrustFinding] = []
    usable: list[Statement] = []
    for statement in candidates:
        state, found = _assess(statement, settings)
        if state == "usable":
            usable.append(statement)
            findings.extend(found)
        elif state == "blocked":
            blocked.extend(found)
        else:
            open_questions.extend(found)
    denies = _zeet_denies(policy, settings)
    findings.extend(denies)
    if usable:
        if not denies:
            findings.append(
                TrustFinding(
                    "zeet-can-assume",
                    TrustSeverity.OK,
                    f"Zeet's management account {zeet} can assume the role",
                    TrustStatementRef.of(usable[0]),
                )
            )
    elif open_questions:
        findings.extend(open_questions)  # one statement might let Zeet in: not known to fail
    else:
        findings.extend(blocked)
    return findings


def _assess(statement: Statement, settings: TrustSettings) -> tuple[str, list[TrustFinding]]:
    """Whether an Allow naming Zeet's account (or anyone) lets Zeet's AssumeRole in: ("usable",
    its warnings), ("blocked", why not) or ("unknown", what it depends on)."""
    context = _zeet_context(settings, _probe(statement, settings))
    never: list[TrustFinding] = []
    unknown: list[TrustFinding] = []
    maybe: list[Condition] = []
    for condition in statement.conditions:
        verdict, why = _for_zeet(condition, context)
        if verdict == "never":
            never.append(_cannot_meet(condition, why, settings, statement))
        elif verdict == "unknown":
            code = (
                "trust-unresolved"
                if any(isinstance(v, Unresolved) for v in condition.values)
                else "trust-condition-unknown"
            )
            unknown.append(
                TrustFinding(
                    code,
                    TrustSeverity.UNKNOWN,
                    f"whether Zeet can assume the role depends on the condition {_shown(condition)}: {why}",
                    TrustStatementRef.of(statement),
                )
            )
        elif verdict == "maybe":
            maybe.append(condition)
    if never:
        return "blocked", never
    if unknown:
        return "unknown", unknown
    found = []
    weakness = _external_id_weakness(statement)
    if weakness is not None:
        found.append(weakness)
    if maybe:
        keys = sorted({c.key for c in maybe}, key=str.lower)
        found.append(
            TrustFinding(
                "trust-conditional",
                TrustSeverity.WARN,
                f"Zeet's AssumeRole also depends on {', '.join(keys)}, which Zeet's call may not meet",
                TrustStatementRef.of(statement),
            )
        )
    return "usable", found


def _cannot_meet(condition: Condition, why: str, settings: TrustSettings, statement: Statement) -> TrustFinding:
    """The failure for a condition Zeet's AssumeRole does not meet, worded for that condition."""
    key = condition.key.lower()
    base = split_operator(condition.operator)[1]
    if key == EXTERNAL_ID_KEY and base == "Null":
        message = (
            f"Zeet cannot assume this role: its condition {_shown(condition)} lets the role be "
            "assumed only when no external id is sent, and Zeet always sends one"
        )
    elif key == EXTERNAL_ID_KEY and settings.external_id is not None:
        shown = ", ".join(mask_external_id(v) for v in condition.values)
        return TrustFinding(
            "external-id-mismatch",
            TrustSeverity.FAIL,
            f"the sts:ExternalId condition ({condition.operator}) requires {shown}, not the configured "
            f"{mask_external_id(settings.external_id)}: Zeet cannot assume this role",
            TrustStatementRef.of(statement),
        )
    elif key in _ZEET_SUPPLIES:
        message = f"Zeet cannot assume this role: its condition {_shown(condition)} does not hold for Zeet's call"
    else:
        message = f"Zeet cannot assume this role: its condition {_shown(condition)} never holds for Zeet: {why}"
    return TrustFinding("zeet-cannot-assume", TrustSeverity.FAIL, message, TrustStatementRef.of(statement))


def _external_id_weakness(statement: Statement) -> TrustFinding | None:
    """The warning for an Allow whose sts:ExternalId condition is missing, accepts any external id,
    or holds without one (None: it requires a particular one)."""
    conditions = _external_id_conditions(statement)
    if not conditions:
        return TrustFinding(
            "external-id-missing",
            TrustSeverity.WARN,
            "no sts:ExternalId condition: the role is open to the confused-deputy problem "
            "(any Zeet customer's connection could name it)",
            TrustStatementRef.of(statement),
        )

    def holds(context: dict[str, tuple[str, ...]]) -> bool:
        return all(_holds(c, context) is True for c in conditions)

    shown = "; ".join(_shown(c) for c in conditions)
    if all(holds({EXTERNAL_ID_KEY: (probe,)}) for probe in _ANY_EXTERNAL_IDS):
        return TrustFinding(
            "external-id-any",
            TrustSeverity.WARN,
            f"the sts:ExternalId condition ({shown}) accepts any external id, so it protects nothing: "
            "the role is open to the confused-deputy problem (any Zeet customer's connection could name it)",
            TrustStatementRef.of(statement),
        )
    if holds({}):
        return TrustFinding(
            "external-id-optional",
            TrustSeverity.WARN,
            f"the sts:ExternalId condition ({shown}) also holds when no external id is sent, so it "
            "protects nothing against a caller that omits it",
            TrustStatementRef.of(statement),
        )
    return None


def _zeet_denies(policy: Policy, settings: TrustSettings) -> list[TrustFinding]:
    zeet = settings.zeet_account_id
    assert zeet is not None
    context = _zeet_context(settings, settings.external_id)
    findings = []
    for statement in policy.statements:
        if statement.effect is not Effect.DENY:
            continue
        unresolved = _unresolved_parts(statement)
        if not _statement_assumes(statement) and not unresolved:
            continue
        verdicts = [_deny_condition(condition, context, settings) for condition in statement.conditions]
        if "never" in verdicts:
            continue  # the Deny cannot apply to Zeet's call
        principal = statement.principal
        applies = (
            _statement_assumes(statement)
            and principal is not None
            and (_is_wildcard(principal) or _names_account(principal, zeet))
        )
        if statement.not_principal is not None:
            applies = _statement_assumes(statement) and not _names_account(statement.not_principal, zeet)
        if not applies:
            if unresolved:  # its action or principal may turn out to cover Zeet: not known to pass
                findings.append(
                    TrustFinding(
                        "trust-unresolved",
                        TrustSeverity.UNKNOWN,
                        f"a Deny statement may block {ASSUME_ACTION} for Zeet's account {zeet}: it "
                        f"depends on a value the input does not resolve: {unresolved[0]}",
                        TrustStatementRef.of(statement),
                    )
                )
            continue
        if "unknown" in verdicts:
            findings.append(
                TrustFinding(
                    "trust-unresolved",
                    TrustSeverity.UNKNOWN,
                    f"a Deny statement may block {ASSUME_ACTION} for Zeet's account {zeet}: its condition "
                    "depends on a value the input does not resolve",
                    TrustStatementRef.of(statement),
                )
            )
            continue
        severity = TrustSeverity.FAIL if all(v == "holds" for v in verdicts) else TrustSeverity.WARN
        findings.append(
            TrustFinding(
                "zeet-denied",
                severity,
                f"a Deny statement blocks {ASSUME_ACTION} for Zeet's account {zeet}"
                + ("" if severity == "fail" else " under some conditions"),
                TrustStatementRef.of(statement),
            )
        )
    return findings


def _deny_condition(condition: Condition, context: dict[str, tuple[str, ...]], settings: TrustSettings) -> str:
    """Whether a Deny's condition holds for Zeet's call; without a configured external id, only
    whether one is sent is known (Zeet always sends one)."""
    key = condition.key.lower()
    if (
        key == EXTERNAL_ID_KEY
        and settings.external_id is None
        and not any(isinstance(v, Unresolved) for v in condition.values)
    ):
        if split_operator(condition.operator)[1] != "Null":
            return "maybe"
        context = {**context, EXTERNAL_ID_KEY: (_ANY_EXTERNAL_IDS[1],)}
    return _for_zeet(condition, context)[0]


def role_trusts_account(role: Role, account: str) -> bool:
    """Whether an Allow statement of the role's trust policy names ``account`` (or any principal)."""
    if role.trust_policy is None:
        return False
    return any(
        s.principal is not None and (_names_account(s.principal, account) or _is_wildcard(s.principal))
        for s in _allow_statements(role.trust_policy)
    )
