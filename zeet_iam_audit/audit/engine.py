"""The audit of one role and of many: trust, features, default mode and excess, as pure values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from zeet_iam_audit.audit.action_sets import ActionIndex, Focus, action_index
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.excess import PRIVILEGE_ESCALATION, audit_excess
from zeet_iam_audit.audit.features import FeaturePlan, audit_planned, plan_feature, required_actions
from zeet_iam_audit.audit.policy_checks import invalid_documents, unknown_actions
from zeet_iam_audit.audit.report import (
    AuditReport,
    DefaultModeResult,
    ExcessResult,
    FeatureResult,
    FeatureStatus,
    MissingGroup,
    RoleReport,
    SkippedItem,
)
from zeet_iam_audit.audit.trust import TrustSettings, audit_trust
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.errors import UsageError
from zeet_iam_audit.model import Policy, Role
from zeet_iam_audit.policy.evaluate import Decision
from zeet_iam_audit.rules import FeatureRule, RequiredAction, RuleSet

CLOUD_CONNECTION = "cloud-connection"
TERRAFORM_MODULES = "terraform-modules"
MODES = ("auto", "default", "fine-grained")


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What to audit against: the features and variants chosen, and the configuration."""

    features: tuple[str, ...] | None = None  # None: every feature, as Zeet's default setup enables
    variants: frozenset[str] = frozenset()
    trust: TrustSettings = field(default_factory=TrustSettings)
    plan: str | None = None
    mode: str = "auto"
    template_extras: tuple[RequiredAction, ...] = ()  # Terraform template's own extra actions
    scps: tuple[tuple[Policy, ...], ...] = ()
    scp_unknown_reason: str | None = None
    check_excess: bool = True


def select_rules(rules: RuleSet, options: AuditOptions) -> list[FeatureRule]:
    """The rules for the chosen features, in the guide's order; unknown ids and variants are errors."""
    every = list(rules)
    if options.features is None:
        chosen = every
    else:
        known = {rule.id for rule in every}
        wrong = [f for f in options.features if f not in known]
        if wrong:
            raise UsageError(
                f"--features: unknown feature {', '.join(wrong)} (known: {', '.join(sorted(known))})")
        wanted = set(options.features)
        chosen = [rule for rule in every if rule.id in wanted]
    defined = {variant.name for rule in every for variant in rule.variants}
    unknown_variants = sorted(options.variants - defined)
    if unknown_variants:
        raise UsageError(
            f"--with: unknown variant {', '.join(unknown_variants)} (known: {', '.join(sorted(defined))})")
    if options.mode not in MODES:
        raise UsageError(f"--mode: expected one of {', '.join(MODES)}, got {options.mode!r}")
    return chosen


def _needed(plans: Iterable[FeaturePlan]) -> dict[str, tuple[str, ...]]:
    """Lower-cased action → the selected features that need it."""
    needed: dict[str, list[str]] = {}
    for plan in plans:
        for item in plan.planned:
            needed.setdefault(item.requirement.action.lower(), []).append(plan.rule.id)
    return {action: tuple(dict.fromkeys(ids)) for action, ids in needed.items()}


def _default_mode(
    evaluator: RoleEvaluator, rules: RuleSet, options: AuditOptions
) -> tuple[DefaultModeResult, bool]:
    """The Account Administrator check and the plan rule; the flag says admin is required."""
    admin = evaluator.decide("*", "*").decision
    fine_grained_plans = rules.fine_grained_plans
    findings: list[str] = []
    plan = options.plan.lower() if options.plan else None
    admin_required = options.mode == "default"
    if plan is not None and plan not in fine_grained_plans:
        admin_required = True
        findings.append(
            f"the {options.plan} plan cannot customise permissions (only "
            f"{', '.join(p.title() for p in fine_grained_plans)} can): the role must be an account "
            "administrator")
    if options.mode == "fine-grained" or (options.mode == "auto" and not admin_required):
        mode = "default" if admin is Decision.ALLOWED and options.mode == "auto" else "fine-grained"
    else:
        mode = "default"
    if admin_required and admin is not Decision.ALLOWED:
        findings.append(f"Account Administrator required but \"*\" on \"*\" is {admin.value}")
    return DefaultModeResult(administrator=admin.value, mode=mode, plan=options.plan,
                             findings=tuple(findings)), admin_required


def _with_admin_requirement(feature: FeatureResult, admin: Decision) -> FeatureResult:
    if admin is Decision.ALLOWED:
        return feature
    group = MissingGroup(service="*", display="Account Administrator", actions=("*",),
                         layer="no allow", reason="the default mode needs \"*\" on \"*\"")
    return FeatureResult(
        id=feature.id, title=feature.title, section=feature.section, status=FeatureStatus.MISSING,
        required=feature.required + 1, missing=(*feature.missing, group),
        conditional=feature.conditional, unknown=feature.unknown, variants=feature.variants,
        notes=(*feature.notes, "default mode: the role must be an account administrator"),
    )


_Selection = tuple[tuple[FeaturePlan, ...], dict[str, tuple[str, ...]], Focus]
_PLANS: dict[tuple[int, ...], tuple[object, _Selection]] = {}


def _plans(
    chosen: Sequence[FeatureRule], options: AuditOptions, catalog: Catalog, index: ActionIndex
) -> _Selection:
    """The feature plans for this selection and the actions they need, made once per run."""
    key = (id(options), id(catalog), *(id(rule) for rule in chosen))
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is options:
        return hit[1]
    extras = [options.template_extras if rule.id == TERRAFORM_MODULES else () for rule in chosen]
    # One focus for every required action of the run and the privilege-escalation list, so that a
    # role's policies are summarised over them once (see action_sets.Focus).
    actions = [*(requirement.action for rule, extra in zip(chosen, extras, strict=True)
                 for requirement in (*required_actions(rule, options.variants), *extra)),
               *PRIVILEGE_ESCALATION]
    focus = Focus(index, (p for a in actions if (p := index.position.get(a.lower())) is not None))
    plans = tuple(plan_feature(rule, options.variants, extra, catalog, index, focus)
                  for rule, extra in zip(chosen, extras, strict=True))
    selection = (plans, _needed(plans), focus)
    _PLANS.clear()
    _PLANS[key] = (options, selection)
    return selection


def audit_role(role: Role, rules: RuleSet, catalog: Catalog, options: AuditOptions) -> RoleReport:
    """Audit one role: trust, every selected feature, the default-mode rule and the excess."""
    chosen = select_rules(rules, options)
    index = action_index(catalog)
    evaluator = RoleEvaluator(role, options.scps, scp_unknown_reason=options.scp_unknown_reason, index=index)
    default_mode, admin_required = _default_mode(evaluator, rules, options)
    admin = evaluator.decide("*", "*").decision
    features = []
    plans, needed, focus = _plans(chosen, options, catalog, index)
    for plan in plans:
        rule = plan.rule
        result = audit_planned(plan, evaluator)
        if rule.id == CLOUD_CONNECTION and admin_required:
            result = _with_admin_requirement(result, admin)
        features.append(result)
    excess = (audit_excess(evaluator, index, needed, focus) if options.check_excess
              else ExcessResult(total=0, services=(), risky=(), analysed=False))
    if options.scps:
        scps = "evaluated"
    elif options.scp_unknown_reason:
        scps = f"unknown: {options.scp_unknown_reason}"
    else:
        scps = "not evaluated (none given)"
    return RoleReport(
        name=role.name,
        arn=role.arn,
        source=role.source,
        trust=audit_trust(role, options.trust),
        features=tuple(features),
        excess=excess,
        default_mode=default_mode,
        unknown_policies=evaluator.unknown_reasons,
        scps=scps,
        invalid_documents=invalid_documents(role),
        unknown_actions=unknown_actions(role, catalog),
    )


def audit_roles(
    roles: Sequence[Role],
    rules: RuleSet,
    catalog: Catalog,
    options: AuditOptions,
    *,
    tool_version: str,
    skipped: Sequence[SkippedItem] = (),
    inputs: Sequence[str] = (),
) -> AuditReport:
    """Audit every role given, in order."""
    select_rules(rules, options)  # fail on bad selections even when there is no role
    return AuditReport(
        tool_version=tool_version,
        roles=tuple(audit_role(role, rules, catalog, options) for role in roles),
        skipped=tuple(skipped),
        inputs=tuple(inputs),
    )
