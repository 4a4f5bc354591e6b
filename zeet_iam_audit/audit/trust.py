"""Trust audit: can Zeet's management account assume the role, safely, and can anyone else?

The AWS policy simulator ignores trust policies for ``sts:AssumeRole``; this module evaluates them
itself: Allow and Deny statements, Principal and NotPrincipal, Action and NotAction, and the
conditions Zeet can meet (``sts:ExternalId``) versus those it cannot be assumed to meet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from zeet_iam_audit.audit.report import TrustFinding, TrustResult, TrustStatus
from zeet_iam_audit.model import Effect, Policy, Principal, Role, Statement, Unresolved
from zeet_iam_audit.policy.conditions import evaluate_condition
from zeet_iam_audit.policy.match import any_action_matches

ASSUME_ACTION = "sts:AssumeRole"
EXTERNAL_ID_KEY = "sts:externalid"
# Condition keys that tie a wildcard principal to known callers.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
        "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths",
        "aws:userid", "aws:username",
    )
)
# Keys whose value Zeet's AssumeRole call carries or that do not depend on the caller's setup.
_ZEET_SUPPLIES = frozenset({EXTERNAL_ID_KEY, "aws:principalaccount", "aws:securetransport"})
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


def _external_ids(statement: Statement) -> tuple[list[str], list[str]]:
    """(values required for sts:ExternalId, operators used) in a statement's conditions."""
    values: list[str] = []
    operators: list[str] = []
    for condition in statement.conditions:
        if condition.key.lower() == EXTERNAL_ID_KEY:
            values.extend(condition.values)
            operators.append(condition.operator)
    return values, operators


def _other_condition_keys(statement: Statement) -> list[str]:
    return sorted({c.key for c in statement.conditions if c.key.lower() not in _ZEET_SUPPLIES},
                  key=str.lower)


def _zeet_context(settings: TrustSettings, external_id: str | None) -> dict[str, tuple[str, ...]]:
    context: dict[str, tuple[str, ...]] = {}
    if settings.zeet_account_id:
        context["aws:principalaccount"] = (settings.zeet_account_id,)
    if external_id is not None:
        context[EXTERNAL_ID_KEY] = (external_id,)
    context["aws:securetransport"] = ("true",)
    return context


def _conditions_hold(statement: Statement, context: dict[str, tuple[str, ...]]) -> bool | None:
    """Whether the statement's conditions on keys Zeet supplies hold (None: an unresolved value)."""
    for condition in statement.conditions:
        if condition.key.lower() not in _ZEET_SUPPLIES:
            continue
        if any(isinstance(v, Unresolved) for v in condition.values):
            return None
        if not evaluate_condition(condition, context, variables=False):
            return False
    return True


def _role_account(role: Role) -> str | None:
    return _account_of(role.arn) if role.arn else None


# The result depends on the statements, the role's account, the settings and the session length;
# an account's roles share a few trust documents (one parsed value each, see sources/gaad.py).
_RESULTS: dict[tuple[int, str | None, TrustSettings, int | None], tuple[Policy, TrustResult]] = {}
_RESULTS_LIMIT = 4096


def audit_trust(role: Role, settings: TrustSettings) -> TrustResult:
    """Check the role's trust policy against the configured Zeet account and external id."""
    policy = role.trust_policy
    if policy is None:
        reason = role.trust_unknown_reason or "the input holds no trust policy for this role"
        finding = TrustFinding("trust-unknown", "unknown", f"trust policy not known: {reason}")
        return TrustResult(TrustStatus.UNKNOWN, (finding,))
    key = (id(policy.statements), _role_account(role), settings, role.max_session_duration)
    hit = _RESULTS.get(key)
    if hit is not None and hit[0].statements is policy.statements:
        return hit[1]
    result = _audit_trust_policy(role, policy, settings)
    if len(_RESULTS) >= _RESULTS_LIMIT:
        _RESULTS.clear()
    _RESULTS[key] = (policy, result)  # the policy keeps its statements' id from being reused
    return result


def _audit_trust_policy(role: Role, policy: Policy, settings: TrustSettings) -> TrustResult:
    findings: list[TrustFinding] = []
    findings.extend(_wildcard_findings(policy))
    findings.extend(_external_principal_findings(policy, _role_account(role), settings.zeet_account_id))
    if settings.zeet_account_id is None:
        findings.append(TrustFinding(
            "zeet-account-not-configured", "unknown",
            "no Zeet management account id configured (--zeet-account-id, "
            "ZEET_IAM_AUDIT_ZEET_ACCOUNT_ID or the config file): cannot check that Zeet can assume the role",
        ))
    else:
        findings.extend(_zeet_findings(policy, settings))
    if role.max_session_duration is not None and role.max_session_duration < MIN_SESSION_SECONDS:
        findings.append(TrustFinding(
            "short-session", "info",
            f"MaxSessionDuration is {role.max_session_duration} s, under {MIN_SESSION_SECONDS} s: "
            "long Zeet operations may need to assume the role again",
        ))
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
            findings.append(TrustFinding(
                "not-principal-allow", "fail",
                "Allow with NotPrincipal lets every principal not listed assume the role",
                statement.label,
            ))
            continue
        if statement.principal is None or not _is_wildcard(statement.principal):
            continue
        restricting = [c.key for c in statement.conditions if c.key.lower() in RESTRICTING_KEYS]
        if restricting:
            findings.append(TrustFinding(
                "wildcard-principal-restricted", "warn",
                f"principal \"*\" restricted only by conditions on {', '.join(sorted(set(restricting)))}",
                statement.label,
            ))
        else:
            only_external = bool(_external_ids(statement)[0])
            detail = " (an external id is a shared secret, not an identity check)" if only_external else ""
            findings.append(TrustFinding(
                "wildcard-principal", "fail",
                f"any AWS account can assume the role: principal \"*\" without a restricting condition{detail}",
                statement.label,
            ))
    return findings


def _external_principal_findings(policy: Policy, own: str | None, zeet: str | None) -> list[TrustFinding]:
    findings = []
    for statement in _allow_statements(policy):
        if statement.principal is None:
            continue
        others = _external_accounts(statement.principal, own, zeet)
        if others:
            findings.append(TrustFinding(
                "other-external-principals", "warn",
                f"accounts other than Zeet's can assume the role: {', '.join(sorted(others))}",
                statement.label,
            ))
    return findings


def _zeet_findings(policy: Policy, settings: TrustSettings) -> list[TrustFinding]:
    zeet = settings.zeet_account_id
    assert zeet is not None
    candidates = [
        s for s in _allow_statements(policy)
        if s.principal is not None and (_names_account(s.principal, zeet) or _is_wildcard(s.principal))
    ]
    if not candidates:
        # An Allow whose action or principal the input does not resolve might be the one for Zeet.
        maybe = [s for s in policy.statements if s.effect is Effect.ALLOW and _unresolved_parts(s)]
        if maybe:
            return [TrustFinding(
                "trust-unresolved", "unknown",
                "whether Zeet's account can assume the role depends on a value the input does not "
                f"resolve: {_unresolved_parts(maybe[0])[0]}", maybe[0].label,
            )]
        return [TrustFinding(
            "zeet-cannot-assume", "fail",
            f"Zeet's management account {zeet} cannot assume the role: no statement allows "
            f"{ASSUME_ACTION} to it",
        )]
    findings: list[TrustFinding] = []
    usable: list[Statement] = []
    for statement in candidates:
        values, _ = _external_ids(statement)
        probe = settings.external_id if settings.external_id is not None else (values[0] if values else None)
        holds = _conditions_hold(statement, _zeet_context(settings, probe))
        if holds is None:
            findings.append(TrustFinding(
                "trust-unresolved", "unknown",
                "the trust condition holds a value the input does not resolve", statement.label,
            ))
            continue
        if not holds:
            if settings.external_id is not None and values:
                shown = ", ".join(mask_external_id(v) for v in values)
                findings.append(TrustFinding(
                    "external-id-mismatch", "fail",
                    f"the sts:ExternalId condition requires {shown}, not the configured "
                    f"{mask_external_id(settings.external_id)}",
                    statement.label,
                ))
            continue
        usable.append(statement)
        if not values:
            findings.append(TrustFinding(
                "external-id-missing", "warn",
                "no sts:ExternalId condition: the role is open to the confused-deputy problem "
                "(any Zeet customer's connection could name it)",
                statement.label,
            ))
        other = _other_condition_keys(statement)
        if other:
            findings.append(TrustFinding(
                "trust-conditional", "warn",
                f"Zeet's AssumeRole also depends on {', '.join(other)}, which Zeet's call may not meet",
                statement.label,
            ))
    denies = _zeet_denies(policy, settings)
    findings.extend(denies)
    if usable and not denies:
        findings.append(TrustFinding(
            "zeet-can-assume", "ok", f"Zeet's management account {zeet} can assume the role",
            usable[0].label,
        ))
    elif not usable and not any(f.code in ("external-id-mismatch", "trust-unresolved") for f in findings):
        findings.append(TrustFinding(
            "zeet-cannot-assume", "fail",
            f"Zeet's management account {zeet} cannot assume the role: the conditions do not hold",
        ))
    return findings


def _zeet_denies(policy: Policy, settings: TrustSettings) -> list[TrustFinding]:
    zeet = settings.zeet_account_id
    assert zeet is not None
    findings = []
    for statement in policy.statements:
        if statement.effect is not Effect.DENY:
            continue
        unresolved = _unresolved_parts(statement)
        if not _statement_assumes(statement) and not unresolved:
            continue
        holds = _conditions_hold(statement, _zeet_context(settings, settings.external_id))
        if holds is False:
            continue
        principal = statement.principal
        applies = _statement_assumes(statement) and principal is not None and (
            _is_wildcard(principal) or _names_account(principal, zeet))
        if statement.not_principal is not None:
            applies = _statement_assumes(statement) and not _names_account(statement.not_principal, zeet)
        if not applies:
            if unresolved:  # its action or principal may turn out to cover Zeet: not known to pass
                findings.append(TrustFinding(
                    "trust-unresolved", "unknown",
                    f"a Deny statement may block {ASSUME_ACTION} for Zeet's account {zeet}: it "
                    f"depends on a value the input does not resolve: {unresolved[0]}",
                    statement.label,
                ))
            continue
        severity = "fail" if not _other_condition_keys(statement) and holds else "warn"
        findings.append(TrustFinding(
            "zeet-denied", severity,
            f"a Deny statement blocks {ASSUME_ACTION} for Zeet's account {zeet}"
            + ("" if severity == "fail" else " under some conditions"),
            statement.label,
        ))
    return findings


def role_trusts_account(role: Role, account: str) -> bool:
    """Whether an Allow statement of the role's trust policy names ``account`` (or any principal)."""
    if role.trust_policy is None:
        return False
    return any(
        s.principal is not None and (_names_account(s.principal, account) or _is_wildcard(s.principal))
        for s in _allow_statements(role.trust_policy)
    )
