"""Excess: what the role allows that no selected feature needs, and which grants are risky.

Worked out with set algebra over each policy's action sets (``action_sets``), which gives the same
classification as evaluating every action on ``*``:

- allowed: an Allow on every resource with no condition, in every layer present, and no Deny that
  might apply;
- conditional: allowed only under a condition, or a Deny applies under one, or a policy could not
  be read;
- on some resources: named only by Allows limited to some resources.

Actions that a Deny removes on every resource, or that the permissions boundary or an SCP does not
allow, are not effective and so are not excess.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from zeet_iam_audit.audit.action_sets import ActionIndex, PolicyActions
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.report import ExcessResult, ExcessService, RiskyGrant
from zeet_iam_audit.policy.evaluate import CompiledPolicy, Decision

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
_ACCESS_ORDER = ("Permissions management", "Write", "Tagging", "Read", "List")
_SAMPLE = 5
_EMPTY: frozenset[int] = frozenset()


def _union(sets: Iterable[frozenset[int]]) -> frozenset[int]:
    return _EMPTY.union(*sets)


def _layer_allows(summaries: Sequence[PolicyActions], index: ActionIndex) -> tuple[frozenset[int], frozenset[int]]:
    """(allowed for certain, allowed at all on every resource) by one restricting layer."""
    if any(s.unresolved for s in summaries):
        return _EMPTY, index.everything
    certain = _union(s.allow_all for s in summaries)
    return certain, certain | _union(s.allow_conditional for s in summaries)


def classify_excess(
    evaluator: RoleEvaluator, index: ActionIndex
) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
    """(allowed, conditional, on some resources) catalogue positions the role effectively grants."""
    identity = [index.summary(p) for p in evaluator.policy_set.identity]
    restricting: list[Sequence[PolicyActions]] = []
    if evaluator.policy_set.boundary is not None:
        restricting.append([index.summary(evaluator.policy_set.boundary)])
    restricting.extend([index.summary(p) for p in level] for level in evaluator.policy_set.scps)
    everyone = [*identity, *(s for layer in restricting for s in layer)]

    denied = _union(s.deny_all for s in everyone)
    maybe_denied = _union(s.deny_some for s in everyone)
    allowed = _union(s.allow_all for s in identity)
    conditional = _union(s.allow_conditional for s in identity)
    named = allowed | conditional | _union(s.allow_scoped for s in identity)
    if any(s.unresolved for s in identity):
        conditional = conditional | named  # an unresolved action element might name any of them
    effective = named - denied
    for layer in restricting:
        certain, possible = _layer_allows(layer, index)
        effective &= possible
        conditional = conditional | (allowed - certain)  # that layer allows them only on conditions
        allowed &= certain
    conditional = conditional | (allowed & maybe_denied)
    allowed = (allowed - maybe_denied) & effective
    conditional = (conditional & effective) - allowed
    if evaluator.unknown_layers:
        # A policy that could not be read might deny any of these or allow the rest.
        conditional = conditional | allowed | (effective - allowed)
        allowed = _EMPTY
    scoped = effective - allowed - conditional
    return allowed, conditional, scoped


def audit_excess(
    evaluator: RoleEvaluator,
    index: ActionIndex,
    needed: Mapping[str, tuple[str, ...]],
) -> ExcessResult:
    """``needed`` maps lower-cased actions to the ids of the selected features that need them."""
    allowed, conditional, scoped = classify_excess(evaluator, index)
    needed_positions = _needed_positions(index, needed)
    allowed, conditional, scoped = (s - needed_positions for s in (allowed, conditional, scoped))
    everything = sorted(allowed | conditional | scoped)  # catalogue order: by service, then name
    groups, service_of = index.groups, index.service_of
    levels = {groups[group]: count for group, count in Counter(map(index.group_id.__getitem__, everything)).items()}
    totals: Counter[str] = Counter()
    for (service, _), count in levels.items():
        totals[service] += count
    conditional_count = Counter(map(service_of.__getitem__, conditional))
    scoped_count = Counter(map(service_of.__getitem__, scoped))
    samples: dict[str, list[str]] = {}
    start = 0
    for service, total in sorted(totals.items()):
        samples[service] = [index.full_names[p] for p in everything[start:start + min(total, _SAMPLE)]]
        start += total
    services = tuple(
        ExcessService(
            service=service,
            total=total,
            by_access_level=tuple((lvl, levels[(service, lvl)]) for lvl in _ACCESS_ORDER if (service, lvl) in levels),
            conditional=conditional_count[service],
            scoped=scoped_count[service],
            sample=tuple(samples[service]),
        )
        for service, total in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return ExcessResult(
        total=sum(totals.values()),
        services=services,
        risky=_risky(evaluator, index, needed),
        unknown_reasons=evaluator.unknown_reasons,
    )


_NEEDED: dict[int, tuple[object, frozenset[int]]] = {}


def _needed_positions(index: ActionIndex, needed: Mapping[str, tuple[str, ...]]) -> frozenset[int]:
    hit = _NEEDED.get(id(needed))
    if hit is None or hit[0] is not needed:
        hit = (needed, frozenset(index.position[a] for a in needed if a in index.position))
        _NEEDED.clear()
        _NEEDED[id(needed)] = hit
    return hit[1]


def _wildcard_grants(identity: Iterable[CompiledPolicy]) -> list[tuple[str, str, str]]:
    grants = []
    for compiled in identity:
        grants.extend(_policy_wildcards(compiled))
    return grants


# A compiled policy → its Allows of "*" or "iam:*" (one look per policy, not one per role).
_WILDCARDS: dict[int, tuple[CompiledPolicy, tuple[tuple[str, str, str], ...]]] = {}


def _policy_wildcards(compiled: CompiledPolicy) -> tuple[tuple[str, str, str], ...]:
    hit = _WILDCARDS.get(id(compiled))
    if hit is not None and hit[0] is compiled:
        return hit[1]
    grants = []
    for statement in compiled.statements:
        source = statement.statement
        if source.effect.value != "Allow" or source.actions is None:
            continue
        for pattern in source.actions:
            if pattern in ("*", "*:*") or pattern.lower() == "iam:*":
                grants.append((pattern, statement.ref.policy, source.label))
    if len(_WILDCARDS) >= _WILDCARDS_LIMIT:
        _WILDCARDS.clear()
    _WILDCARDS[id(compiled)] = (compiled, tuple(grants))
    return tuple(grants)


_WILDCARDS_LIMIT = 16384


_ESCALATION: dict[int, tuple[ActionIndex, frozenset[int], tuple[tuple[str, int | None], ...]]] = {}


def _escalation(index: ActionIndex) -> tuple[frozenset[int], tuple[tuple[str, int | None], ...]]:
    """PRIVILEGE_ESCALATION's catalogue positions, and each action with its position (or None)."""
    hit = _ESCALATION.get(id(index))
    if hit is None or hit[0] is not index:
        placed = tuple((action, index.position.get(action.lower())) for action in PRIVILEGE_ESCALATION)
        hit = (index, frozenset(p for _, p in placed if p is not None), placed)
        _ESCALATION[id(index)] = hit
    return hit[1], hit[2]


def _risky(
    evaluator: RoleEvaluator, index: ActionIndex, needed: Mapping[str, tuple[str, ...]]
) -> tuple[RiskyGrant, ...]:
    risky: list[RiskyGrant] = []
    for pattern, policy, label in dict.fromkeys(_wildcard_grants(evaluator.policy_set.identity)):
        what = "every action of every service" if pattern in ("*", "*:*") else "every IAM action"
        risky.append(RiskyGrant(action=pattern, resource="*", reason=f"grants {what}",
                                statement=f"{policy} {label}"))
    positions, placed = _escalation(index)
    unnamed = evaluator.unnamed(positions)  # no policy names them: not allowed, nothing to decide
    for action, position in placed:
        if position in unnamed:
            continue
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
