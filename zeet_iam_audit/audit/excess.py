"""Excess: what the role allows that no selected feature needs, and which grants are risky."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.report import ExcessResult, ExcessService, RiskyGrant
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.model import Effect, Unresolved
from zeet_iam_audit.policy.evaluate import Decision, Layer

# Actions that let a principal raise its own privileges when granted on every resource.
PRIVILEGE_ESCALATION = (
    "iam:PassRole", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachRolePolicy",
    "iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:PutRolePolicy", "iam:PutUserPolicy",
    "iam:PutGroupPolicy", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
    "iam:UpdateAssumeRolePolicy", "iam:AddUserToGroup", "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary", "iam:CreateRole", "sts:AssumeRole",
    "lambda:UpdateFunctionCode", "lambda:CreateFunction", "ec2:RunInstances",
    "cloudformation:CreateStack", "glue:UpdateDevEndpoint", "ssm:SendCommand",
)
_ACCESS_ORDER = ("Permissions management", "Write", "Tagging", "Read", "List", "Unknown")
_SAMPLE = 5


def _allowed_candidates(
    evaluator: RoleEvaluator, catalog: Catalog
) -> tuple[set[str], list[tuple[str, str, str]]]:
    """Every catalogue action some identity Allow statement names, and the risky wildcard grants."""
    candidates: set[str] = set()
    wildcard_grants: list[tuple[str, str, str]] = []
    for compiled in evaluator.policy_set.identity:
        for statement in compiled.policy.statements:
            if statement.effect is not Effect.ALLOW:
                continue
            if statement.actions is not None:
                patterns = [p for p in statement.actions if not isinstance(p, Unresolved)]
                for pattern in patterns:
                    candidates.update(info.full for info in catalog.expand(pattern))
                    if pattern in ("*", "*:*") or pattern.lower() == "iam:*":
                        policy_name = compiled.statements[0].ref.policy
                        wildcard_grants.append((pattern, policy_name, statement.label))
            elif statement.not_actions is not None:
                resolved = [p for p in statement.not_actions if not isinstance(p, Unresolved)]
                candidates.update(info.full for info in catalog.expand_not_action(resolved))
    return candidates, wildcard_grants


def audit_excess(
    evaluator: RoleEvaluator,
    catalog: Catalog,
    needed: Mapping[str, tuple[str, ...]],
) -> ExcessResult:
    """``needed`` maps lower-cased actions to the ids of the selected features that need them."""
    candidates, wildcard_grants = _allowed_candidates(evaluator, catalog)
    per_service: dict[str, Counter[str]] = defaultdict(Counter)
    conditional: Counter[str] = Counter()
    scoped: Counter[str] = Counter()
    samples: dict[str, list[str]] = defaultdict(list)
    total = 0
    for action in sorted(candidates, key=str.lower):
        if action.lower() in needed:
            continue
        decision = evaluator.decide(action, "*")
        if decision.decision in (Decision.EXPLICIT_DENY,):
            continue
        if decision.decision is Decision.IMPLICIT_DENY:
            if decision.result.blocking_layers != (Layer.IDENTITY,):
                continue  # a boundary or SCP removes it: not effective
            kind = "scoped"  # named by an Allow limited to some resources
        elif decision.decision is Decision.ALLOWED:
            kind = "allowed"
        else:
            kind = "conditional"
        service = action.split(":", 1)[0]
        info = catalog.get(action)
        per_service[service][info.access_level if info else "Unknown"] += 1
        if kind == "conditional":
            conditional[service] += 1
        elif kind == "scoped":
            scoped[service] += 1
        if len(samples[service]) < _SAMPLE:
            samples[service].append(action)
        total += 1
    services = tuple(
        ExcessService(
            service=service,
            total=sum(levels.values()),
            by_access_level=tuple((level, levels[level]) for level in _ACCESS_ORDER if levels[level]),
            conditional=conditional[service],
            scoped=scoped[service],
            sample=tuple(samples[service]),
        )
        for service, levels in sorted(per_service.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    )
    return ExcessResult(
        total=total,
        services=services,
        risky=_risky(evaluator, needed, wildcard_grants),
        unknown_reasons=evaluator.unknown_reasons,
    )


def _risky(
    evaluator: RoleEvaluator,
    needed: Mapping[str, tuple[str, ...]],
    wildcard_grants: Iterable[tuple[str, str, str]],
) -> tuple[RiskyGrant, ...]:
    risky: list[RiskyGrant] = []
    for pattern, policy, label in dict.fromkeys(wildcard_grants):
        what = "every action of every service" if pattern in ("*", "*:*") else "every IAM action"
        risky.append(RiskyGrant(action=pattern, resource="*", reason=f"grants {what}",
                                statement=f"{policy} {label}"))
    for action in PRIVILEGE_ESCALATION:
        decision = evaluator.decide(action, "*")
        if decision.decision not in (Decision.ALLOWED, Decision.CONDITIONAL):
            continue
        refs = decision.result.deciding
        risky.append(RiskyGrant(
            action=action,
            resource="*",
            reason="privilege escalation: allowed on every resource",
            needed_by=needed.get(action.lower(), ()),
            statement=str(refs[0]) if refs else None,
            conditional=decision.decision is Decision.CONDITIONAL,
        ))
    return tuple(risky)
