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

from collections.abc import Iterable, Mapping, Sequence

from zeet_iam_audit.audit.action_sets import ActionIndex, Focus, PolicyActions, ServiceSpan, union
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


def _layer_allows(summaries: Sequence[PolicyActions], index: ActionIndex) -> tuple[int, int]:
    """(allowed for certain, allowed at all on every resource) by one restricting layer."""
    if any(s.unresolved for s in summaries):
        return 0, index.everything
    certain = union(s.allow_all for s in summaries)
    return certain, certain | union(s.allow_conditional for s in summaries)


def classify_excess(evaluator: RoleEvaluator, index: ActionIndex) -> tuple[int, int, int]:
    """(allowed, conditional, on some resources): masks of the catalogue positions the role
    effectively grants (see ``action_sets``)."""
    identity = [index.summary(p) for p in evaluator.policy_set.identity]
    restricting: list[Sequence[PolicyActions]] = []
    if evaluator.policy_set.boundary is not None:
        restricting.append([index.summary(evaluator.policy_set.boundary)])
    restricting.extend([index.summary(p) for p in level] for level in evaluator.policy_set.scps)
    everyone = [*identity, *(s for layer in restricting for s in layer)]

    denied = union(s.deny_all for s in everyone)
    maybe_denied = union(s.deny_some for s in everyone)
    allowed = union(s.allow_all for s in identity)
    conditional = union(s.allow_conditional for s in identity)
    named = allowed | conditional | union(s.allow_scoped for s in identity)
    if any(s.unresolved for s in identity):
        conditional |= named  # an unresolved action element might name any of them
    effective = named & ~denied
    for layer in restricting:
        certain, possible = _layer_allows(layer, index)
        effective &= possible
        conditional |= allowed & ~certain  # that layer allows them only on conditions
        allowed &= certain
    conditional |= allowed & maybe_denied
    allowed = allowed & ~maybe_denied & effective
    conditional = conditional & effective & ~allowed
    if evaluator.unknown_layers:
        # A policy that could not be read might deny any of these or allow the rest.
        conditional = conditional | effective
        allowed = 0
    scoped = effective & ~(allowed | conditional)
    return allowed, conditional, scoped


def audit_excess(
    evaluator: RoleEvaluator,
    index: ActionIndex,
    needed: Mapping[str, tuple[str, ...]],
    focus: Focus | None = None,
) -> ExcessResult:
    """``needed`` maps lower-cased actions to the ids of the selected features that need them;
    ``focus``, when given, must hold the PRIVILEGE_ESCALATION actions (see action_sets.Focus)."""
    allowed, conditional, scoped = classify_excess(evaluator, index)
    not_needed = ~_needed_positions(index, needed)
    conditional &= not_needed
    scoped &= not_needed
    everything = (allowed | conditional | scoped) & not_needed
    # Each service's share of the masks: counted by access level, its first actions (by name) kept.
    # Every granted action is named by an identity-based Allow: only those policies' services count.
    spans = union(index.summary(p).spans for p in evaluator.policy_set.identity)
    conditional_count = {span.service: bits.bit_count() for span, bits in index.service_slices(conditional, spans)}
    scoped_count = {span.service: bits.bit_count() for span, bits in index.service_slices(scoped, spans)}
    full_names = index.full_names
    found = []
    for span, bits in index.service_slices(everything, spans):
        sample: list[str] = []
        rest = bits
        while rest and len(sample) < _SAMPLE:
            low = rest & -rest
            sample.append(full_names[span.start + low.bit_length() - 1])
            rest ^= low
        found.append(ExcessService(
            service=span.service,
            total=bits.bit_count(),
            by_access_level=tuple((level, count) for level, level_bits in _by_access_order(span)
                                  if (count := (bits & level_bits).bit_count())),
            conditional=conditional_count.get(span.service, 0),
            scoped=scoped_count.get(span.service, 0),
            sample=tuple(sample),
        ))
    services = tuple(sorted(found, key=lambda service: (-service.total, service.service)))
    return ExcessResult(
        total=sum(service.total for service in services),
        services=services,
        risky=_risky(evaluator, focus or _escalation_focus(index), needed),
        unknown_reasons=evaluator.unknown_reasons,
    )


_LEVELS: dict[int, tuple[ServiceSpan, tuple[tuple[str, int], ...]]] = {}


def _by_access_order(span: ServiceSpan) -> tuple[tuple[str, int], ...]:
    """The service's (access level, its bits) in the order reports list them."""
    hit = _LEVELS.get(id(span))
    if hit is None or hit[0] is not span:
        levels = dict(span.levels)
        hit = (span, tuple((level, levels[level]) for level in _ACCESS_ORDER if level in levels))
        _LEVELS[id(span)] = hit
    return hit[1]


_NEEDED: dict[int, tuple[object, int]] = {}


def _needed_positions(index: ActionIndex, needed: Mapping[str, tuple[str, ...]]) -> int:
    hit = _NEEDED.get(id(needed))
    if hit is None or hit[0] is not needed:
        hit = (needed, index.mask_of(index.position[a] for a in needed if a in index.position))
        _NEEDED.clear()
        _NEEDED[id(needed)] = hit
    return hit[1]


def _wildcard_grants(identity: Iterable[CompiledPolicy]) -> list[tuple[str, str, str]]:
    grants: list[tuple[str, str, str]] = []
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


_ESCALATION: dict[int, tuple[ActionIndex, Focus]] = {}


def _escalation_focus(index: ActionIndex) -> Focus:
    """A focus of PRIVILEGE_ESCALATION's actions, for audits that do not bring their own."""
    hit = _ESCALATION.get(id(index))
    if hit is None or hit[0] is not index:
        positions = (index.position.get(action.lower()) for action in PRIVILEGE_ESCALATION)
        hit = (index, Focus(index, (p for p in positions if p is not None)))
        _ESCALATION[id(index)] = hit
    return hit[1]


_PLACED: dict[int, tuple[Focus, tuple[tuple[str, int | None], ...], int]] = {}


def _placed(focus: Focus) -> tuple[tuple[tuple[str, int | None], ...], int]:
    """Each PRIVILEGE_ESCALATION action with its local index in ``focus`` (None: not in the
    catalogue), and their local mask."""
    hit = _PLACED.get(id(focus))
    if hit is None or hit[0] is not focus:
        position_of, local = focus.index.position, focus.local
        placed = tuple((action, local.get(position_of.get(action.lower(), -1))) for action in PRIVILEGE_ESCALATION)
        hit = (focus, placed, union(1 << at for _, at in placed if at is not None))
        if len(_PLACED) >= 64:
            _PLACED.clear()
        _PLACED[id(focus)] = hit
    return hit[1], hit[2]


def _risky(
    evaluator: RoleEvaluator, focus: Focus, needed: Mapping[str, tuple[str, ...]]
) -> tuple[RiskyGrant, ...]:
    risky: list[RiskyGrant] = []
    for pattern, policy, label in dict.fromkeys(_wildcard_grants(evaluator.policy_set.identity)):
        what = "every action of every service" if pattern in ("*", "*:*") else "every IAM action"
        risky.append(RiskyGrant(action=pattern, resource="*", reason=f"grants {what}",
                                statement=f"{policy} {label}"))
    placed, wanted = _placed(focus)
    unnamed = evaluator.unnamed(focus, wanted)  # no policy names them: not allowed, nothing to decide
    for action, at in placed:
        if at is not None and unnamed >> at & 1:
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
