"""Feature audit: for each selected Zeet feature, is every required action allowed on its scope?"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from zeet_iam_audit.audit.action_sets import ActionIndex, Focus, bit_positions
from zeet_iam_audit.audit.evaluator import SEVERITY, RoleDecision, RoleEvaluator
from zeet_iam_audit.audit.fixes import propose_fix
from zeet_iam_audit.audit.report import FeatureResult, FeatureStatus, MissingGroup, MissingLayer, OpenAction
from zeet_iam_audit.audit.resource_fit import NeverUsed, never_used
from zeet_iam_audit.catalog import Catalog, load_catalog
from zeet_iam_audit.catalog.resources import load_resource_catalog
from zeet_iam_audit.memo import IdentityMemo
from zeet_iam_audit.policy.evaluate import Decision, Layer, PolicySet
from zeet_iam_audit.policy.results import StatementRef
from zeet_iam_audit.rules import FeatureRule, RequiredAction

_BLOCK_TEXT = {
    Layer.IDENTITY: (MissingLayer.NO_ALLOW, "no identity-based policy allows them"),
    Layer.BOUNDARY: (MissingLayer.BOUNDARY, "the permissions boundary does not allow them"),
    Layer.SCP: (MissingLayer.SCP, "no service control policy allows them"),
}
_DENY_TEXT = {
    Layer.IDENTITY: (MissingLayer.EXPLICIT_DENY, "an identity-based policy explicitly denies them"),
    Layer.BOUNDARY: (MissingLayer.BOUNDARY, "the permissions boundary explicitly denies them"),
    Layer.SCP: (MissingLayer.SCP, "a service control policy explicitly denies them"),
}


_NEVER_USED_TEXT = {
    Layer.IDENTITY: (MissingLayer.NO_ALLOW, "the only Allow names resources these actions never use"),
    Layer.BOUNDARY: (MissingLayer.BOUNDARY, "the boundary allows them only on resources they never use"),
}


def _worst(decisions: Iterable[tuple[str, RoleDecision]]) -> tuple[str, RoleDecision]:
    """The least favourable of the decisions on a requirement's resources, with its resource."""
    return min(decisions, key=lambda pair: SEVERITY[pair[1].decision])


def required_actions(rule: FeatureRule, variants: Iterable[str]) -> list[RequiredAction]:
    """The rule's required actions plus those of the selected variants it defines."""
    wanted = set(variants)
    actions = list(rule.required)
    for variant in rule.variants:
        if variant.name in wanted:
            actions.extend(variant.actions)
    return actions


def _display(rule: FeatureRule, requirement: RequiredAction) -> tuple[str, str]:
    """(IAM prefix, the guide's display name) for a required action."""
    prefix = requirement.action.split(":", 1)[0].lower()
    for service in rule.services:
        if service.display == requirement.service:
            return prefix, service.display
    return prefix, requirement.service or prefix


def _blocking(decision: RoleDecision) -> tuple[MissingLayer, str, tuple[StatementRef, ...]]:
    result = decision.result
    if decision.decision is Decision.EXPLICIT_DENY:
        assert result.layer is not None
        layer, reason = _DENY_TEXT[result.layer]
        return layer, reason, result.deciding
    layer_of = result.layer or Layer.IDENTITY
    layer, reason = _BLOCK_TEXT[layer_of]
    return layer, reason, ()


def _open_action(
    item: _Planned,
    decision: RoleDecision,
    resource: str,
    policies: PolicySet,
    memo: IdentityMemo[OpenAction | NeverUsed],
) -> OpenAction | NeverUsed:
    """The open action, or for a conditional decision whose only Allows name resources the action
    never uses (see resource_fit) what says so; once per requirement and evaluation result: roles
    that share the policies deciding a requirement share its result (see PolicySet.decide_scope),
    and so its answer here. ``item`` belongs to the run's plan, so it is the same object for every
    role; ``policies`` are the role's, which the result's statements belong to."""
    key = (item, decision.unknown_reasons, resource)
    found = memo.get(decision.result, key)
    if found is None:
        never = (
            never_used(item.requirement.action, decision, policies, load_catalog(), load_resource_catalog())
            if decision.decision is Decision.CONDITIONAL
            else None
        )
        found = (
            never
            if never is not None
            else _make_open_action(item.requirement, item.prefix, item.display, decision, resource)
        )
        memo.put(decision.result, found, key)
    return found


def _make_open_action(
    requirement: RequiredAction, prefix: str, display: str, decision: RoleDecision, resource: str
) -> OpenAction:
    uncertain = decision.result.uncertain
    reasons = list(decision.reasons)
    named: dict[str, StatementRef] = {}
    for item in uncertain:
        reasons.extend(f"unresolved value {u}" for u in item.unresolved)
        if item.partial:
            what = "an Allow covers" if item.gates.value == "Allow" else "a Deny covers"
            reasons.append(f"{what} only part of {resource}: {item.statement}")
            named.setdefault(reasons[-1], item.statement)
    keys = decision.result.condition_keys
    left_out = {key.lower() for key in requirement.unset_keys}
    if requirement.settle_hint and (
        any(item.partial for item in uncertain) or left_out & {key.lower() for key in keys}
    ):
        # The scope is "*", or a context key unknown, only because a setting is not given.
        reasons.append(f"to settle it, {requirement.settle_hint}")
    return OpenAction(
        action=requirement.action,
        service=prefix,
        display=display,
        resource=resource,
        keys=keys,
        gates=tuple(sorted({u.gates.value for u in uncertain})),
        reasons=tuple(dict.fromkeys(reasons)),
        reason_statements=tuple(named.items()),
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Planned:
    requirement: RequiredAction
    prefix: str
    display: str
    resource_level: bool
    position: int | None  # in the action index, when one is used


@dataclass(frozen=True, slots=True)
class FeaturePlan:
    """A feature's requirements prepared once per run: display names, catalogue facts, positions."""

    rule: FeatureRule
    planned: tuple[_Planned, ...]
    # The required actions as a local mask of ``focus`` (see action_sets.Focus); none without one.
    positions: int
    variants: tuple[str, ...]
    # (prefix, display) → its actions' local mask and (local index, name), sorted by name: missing
    # groups by set algebra.
    groups: tuple[tuple[tuple[str, str], int, tuple[tuple[int, str], ...]], ...] = ()
    at: Mapping[int, tuple[_Planned, ...]] = field(default_factory=dict)  # local index → its requirements
    unplaced: tuple[_Planned, ...] = ()  # requirements without a position: always evaluated
    focus: Focus | None = None


def plan_feature(
    rule: FeatureRule,
    variants: Iterable[str] = (),
    extra: Sequence[RequiredAction] = (),
    catalog: Catalog | None = None,
    index: ActionIndex | None = None,
    focus: Focus | None = None,
) -> FeaturePlan:
    """Everything about a feature's requirements that does not depend on the role.

    ``focus`` must hold every required action's position (a run shares one among its features);
    without one, the plan makes its own.
    """
    chosen = set(variants)
    planned = []
    for requirement in required_actions(rule, chosen) + list(extra):
        info = catalog.get(requirement.action) if catalog is not None else None
        prefix, display = _display(rule, requirement)
        position = index.position.get(requirement.action.lower()) if index is not None else None
        planned.append(
            _Planned(requirement, prefix, display, info.resource_level if info is not None else True, position)
        )
    if index is not None and focus is None:
        focus = Focus(index, (item.position for item in planned if item.position is not None))
    by_group: dict[tuple[str, str], dict[int, str]] = {}
    at: dict[int, list[_Planned]] = {}
    for item in planned:
        if item.position is not None and focus is not None:
            local = focus.local[item.position]
            by_group.setdefault((item.prefix, item.display), {})[local] = item.requirement.action
            at.setdefault(local, []).append(item)
    return FeaturePlan(
        rule=rule,
        planned=tuple(planned),
        positions=_mask(at),
        variants=tuple(sorted(v.name for v in rule.variants if v.name in chosen)),
        groups=tuple(
            (key, _mask(names), tuple(sorted(names.items(), key=lambda kv: kv[1].lower())))
            for key, names in by_group.items()
        ),
        at=MappingProxyType({local: tuple(items) for local, items in at.items()}),
        unplaced=tuple(item for item in planned if item.position is None),
        focus=focus,
    )


def audit_feature(
    rule: FeatureRule,
    evaluator: RoleEvaluator,
    variants: Iterable[str] = (),
    extra: Sequence[RequiredAction] = (),
    catalog: Catalog | None = None,
) -> FeatureResult:
    """Evaluate every required action of one feature on its resource scope.

    With a ``catalog``, actions that take no resource-level permissions need an Allow on ``*``.
    """
    return audit_planned(plan_feature(rule, variants, extra, catalog, evaluator.index), evaluator)


def audit_planned(plan: FeaturePlan, evaluator: RoleEvaluator) -> FeatureResult:
    """Evaluate a planned feature for one role (remembering in the evaluator's run memo what other
    roles of the run can reuse)."""
    rule = plan.rule
    memo = evaluator.memo
    groups: dict[tuple[str, str, MissingLayer, str, tuple[StatementRef, ...]], list[str]] = {}
    conditional: list[OpenAction] = []
    unknown: list[OpenAction] = []
    # Required actions no policy of the role names at all: no allow, without evaluating each.
    focus = plan.focus
    # Roles whose policies that name the feature's actions are the same get the same result.
    deciding = evaluator.deciding(focus, plan.positions) if focus is not None and not plan.unplaced else None
    if deciding is not None:
        known = memo.features.get(plan, deciding)
        if known is not None:
            return known
    unnamed = evaluator.unnamed(focus, plan.positions) if focus is not None else 0
    # Required actions allowed everywhere with no condition and no Deny: ok without evaluating.
    allowed = evaluator.surely_allowed(focus, plan.positions) if focus is not None else 0
    rest = plan.positions & ~(unnamed | allowed)
    # With nothing to evaluate the result depends on nothing but which required actions are
    # unnamed (the others are surely allowed), and most roles name few of a feature's actions.
    settles = not rest and not plan.unplaced
    if settles:
        known = memo.settled.get(plan, unnamed)
        if known is not None:
            return known
    if unnamed:
        no_allow = _BLOCK_TEXT[Layer.IDENTITY]
        for (prefix, display), members, names in plan.groups:
            lacking = members & unnamed
            if lacking == members:
                groups[(prefix, display, *no_allow, ())] = [name for _, name in names]
            elif lacking:
                groups[(prefix, display, *no_allow, ())] = [name for p, name in names if lacking >> p & 1]
    evaluated = [item for position in bit_positions(rest) for item in plan.at[position]]
    for item in (*evaluated, *plan.unplaced):
        requirement, prefix, display = item.requirement, item.prefix, item.display
        if requirement.also_resources:
            # Every resource AWS authorises the action against must be allowed: the worst decides.
            resource, decision = _worst(
                (
                    resource,
                    evaluator.decide_requirement(
                        requirement.action, resource, requirement.context, resource_level=item.resource_level
                    ),
                )
                for resource in requirement.resources
            )
        else:
            resource = requirement.resource
            decision = evaluator.decide_requirement(
                requirement.action, resource, requirement.context, resource_level=item.resource_level
            )
        if decision.decision in (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY):
            layer, reason, statements = _blocking(decision)
            groups.setdefault((prefix, display, layer, reason, statements), []).append(requirement.action)
        elif decision.decision is Decision.CONDITIONAL:
            opened = _open_action(item, decision, resource, evaluator.policy_set, memo.open_actions)
            if isinstance(opened, NeverUsed):  # an Allow on resources the action never uses is no allow
                layer, reason = _NEVER_USED_TEXT[opened.layer]
                groups.setdefault((prefix, display, layer, f"{reason}: {'; '.join(opened.statements)}", ()), []).append(
                    requirement.action
                )
            else:
                conditional.append(opened)
        elif decision.decision is Decision.UNKNOWN:
            opened = _open_action(item, decision, resource, evaluator.policy_set, memo.open_actions)
            assert isinstance(opened, OpenAction)
            unknown.append(opened)
    made = []
    for (p, d, layer, reason, statements), a in sorted(groups.items(), key=lambda kv: kv[0][:3]):
        made.append(_group(plan, p, d, layer, reason, statements, tuple(a), memo.groups))
    missing = tuple(made)
    if missing:
        status = FeatureStatus.MISSING
    elif unknown:
        status = FeatureStatus.UNKNOWN
    elif conditional:
        status = FeatureStatus.CONDITIONAL
    else:
        status = FeatureStatus.OK
    result = FeatureResult(
        id=rule.id,
        title=rule.title,
        section=rule.section,
        status=status,
        required=len(plan.planned),
        missing=missing,
        conditional=tuple(sorted(conditional, key=lambda a: a.action.lower())),
        unknown=tuple(sorted(unknown, key=lambda a: a.action.lower())),
        variants=plan.variants,
    )
    if settles:
        memo.settled.put(plan, result, unnamed)
    if deciding is not None:
        memo.features.put(plan, result, deciding)
    return result


def _group(
    plan: FeaturePlan,
    service: str,
    display: str,
    layer: MissingLayer,
    reason: str,
    statements: tuple[StatementRef, ...],
    found_actions: tuple[str, ...],
    memo: IdentityMemo[MissingGroup],
) -> MissingGroup:
    """A missing group with its fix (see fixes.propose_fix), made once per plan and group: many
    roles lack the same actions for the same reason, and one object is held and encoded once.
    ``found_actions``: the actions as the audit found them (in a fixed order for the same answers,
    with repeats when a plan requires an action twice); the group lists each once, by name."""
    key = (service, display, layer, reason, statements, found_actions)
    found = memo.get(plan, key)
    if found is None:
        actions = tuple(sorted(set(found_actions), key=str.lower))
        wanted = {action.lower() for action in actions}
        fix = propose_fix(
            layer,
            reason,
            [str(statement) for statement in statements],
            [item.requirement for item in plan.planned if item.requirement.action.lower() in wanted],
        )
        group = MissingGroup(
            service=service,
            display=display,
            actions=actions,
            layer=layer,
            reason=reason,
            statements=statements,
            fix=fix,
        )
        found = memo.put(plan, group, key)
    return found


def _mask(positions: Iterable[int]) -> int:
    mask = 0
    for position in positions:
        mask |= 1 << position
    return mask
