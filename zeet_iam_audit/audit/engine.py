"""The audit of one role and of many: trust, features, default mode and excess, as pure values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from zeet_iam_audit.audit.action_sets import ActionIndex, Focus, action_index
from zeet_iam_audit.audit.administrator import AdministratorCheck, check_administrator
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.excess import PRIVILEGE_ESCALATION, ExcessPlan, audit_excess, plan_excess
from zeet_iam_audit.audit.features import FeaturePlan, audit_planned, plan_feature, required_actions
from zeet_iam_audit.audit.fixes import trust_fix
from zeet_iam_audit.audit.memo import AuditMemo
from zeet_iam_audit.audit.policy_checks import invalid_documents, unknown_actions
from zeet_iam_audit.audit.report import (
    AuditReport,
    DefaultModeResult,
    ExcessResult,
    FeatureResult,
    FeatureStatus,
    MissingGroup,
    MissingLayer,
    Mode,
    OpenAction,
    RoleReport,
    SkippedItem,
    SourceLocation,
    TrustResult,
    TrustStatus,
)
from zeet_iam_audit.audit.trust import ASSUME_ACTION, TrustSettings, audit_trust
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.errors import UsageError
from zeet_iam_audit.model import Policy, Role
from zeet_iam_audit.policy.evaluate import Decision
from zeet_iam_audit.rules import FeatureRule, RequiredAction, RuleSet

CLOUD_CONNECTION = "cloud-connection"
TERRAFORM_MODULES = "terraform-modules"
MODES = tuple(Mode)


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What to audit against: the features and variants chosen, and the configuration."""

    features: tuple[str, ...] | None = None  # None: every feature, as Zeet's default setup enables
    variants: frozenset[str] = frozenset()
    trust: TrustSettings = field(default_factory=TrustSettings)
    plan: str | None = None
    mode: Mode = Mode.AUTO
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
            raise UsageError(f"--features: unknown feature {', '.join(wrong)} (known: {', '.join(sorted(known))})")
        wanted = set(options.features)
        chosen = [rule for rule in every if rule.id in wanted]
    defined = {variant.name for rule in every for variant in rule.variants}
    unknown_variants = sorted(options.variants - defined)
    if unknown_variants:
        raise UsageError(f"--with: unknown variant {', '.join(unknown_variants)} (known: {', '.join(sorted(defined))})")
    if options.mode not in MODES:
        raise UsageError(f"--mode: expected one of {', '.join(MODES)}, got {str(options.mode)!r}")
    return chosen


def _needed(plans: Iterable[FeaturePlan]) -> dict[str, tuple[str, ...]]:
    """Lower-cased action → the selected features that need it."""
    needed: dict[str, list[str]] = {}
    for plan in plans:
        for item in plan.planned:
            needed.setdefault(item.requirement.action.lower(), []).append(plan.rule.id)
    return {action: tuple(dict.fromkeys(ids)) for action, ids in needed.items()}


def _administrator_required(rules: RuleSet, options: AuditOptions) -> tuple[bool, list[str]]:
    """Whether the mode or the plan makes the role an account administrator, and the findings why."""
    fine_grained_plans = rules.fine_grained_plans
    findings: list[str] = []
    plan = options.plan.lower() if options.plan else None
    required = options.mode == Mode.DEFAULT
    if plan is not None and plan not in fine_grained_plans:
        required = True
        findings.append(
            f"the {options.plan} plan cannot customise permissions (only "
            f"{', '.join(p.title() for p in fine_grained_plans)} can): the role must be an account "
            "administrator"
        )
    return required, findings


def _default_mode(
    admin: AdministratorCheck, required: bool, findings: list[str], options: AuditOptions
) -> DefaultModeResult:
    """The Account Administrator verdict and the mode it leads to."""
    allowed = admin.decision is Decision.ALLOWED
    if options.mode == Mode.FINE_GRAINED or (options.mode == Mode.AUTO and not required):
        mode = Mode.DEFAULT if allowed and options.mode == Mode.AUTO else Mode.FINE_GRAINED
    else:
        mode = Mode.DEFAULT
    if required and not allowed:
        findings = [*findings, f"Account Administrator required but the role is not one: {_why_not(admin)}"]
    return DefaultModeResult(administrator=admin.decision, mode=mode, plan=options.plan, findings=tuple(findings))


def _why_not(admin: AdministratorCheck) -> str:
    """One line on what keeps the role from being an account administrator."""
    if admin.missing:
        return "; ".join(f"{', '.join(group.actions)} ({group.reason})" for group in admin.missing)
    if admin.unknown:
        return "it cannot be told: " + "; ".join(admin.unknown[0].reasons)
    if admin.conditional:
        keys = ", ".join(admin.conditional[0].keys)
        return f"every action is allowed only under conditions on {keys}" if keys else "conditions apply"
    return admin.decision.value


def _status(
    missing: Sequence[MissingGroup], unknown: Sequence[OpenAction], conditional: Sequence[OpenAction]
) -> FeatureStatus:
    if missing:
        return FeatureStatus.MISSING
    if unknown:
        return FeatureStatus.UNKNOWN
    if conditional:
        return FeatureStatus.CONDITIONAL
    return FeatureStatus.OK


def _connection(
    feature: FeatureResult, trust: TrustResult, role: Role, admin: AdministratorCheck | None
) -> FeatureResult:
    """Cloud Connection follows the connection: Zeet must be able to assume the role (the trust
    verdict) and, when the default mode applies (``admin`` given), the role must be an account
    administrator."""
    missing = list(feature.missing)
    conditional = list(feature.conditional)
    unknown = list(feature.unknown)
    notes = list(feature.notes)
    required = feature.required + 1
    if trust.status is TrustStatus.FAIL:
        fails = [f for f in trust.findings if f.severity == "fail"]
        refs = tuple(dict.fromkeys(f.statement for f in fails if f.statement is not None))
        missing.append(
            MissingGroup(
                service="sts",
                display="Trust",
                actions=(ASSUME_ACTION,),
                layer=MissingLayer.TRUST,
                reason="the trust policy fails: " + "; ".join(f.message for f in fails),
                statements=refs,
                fix=trust_fix([str(ref) for ref in refs]),
            )
        )
    elif trust.status is TrustStatus.UNKNOWN:
        unknown.append(
            OpenAction(
                action=ASSUME_ACTION,
                service="sts",
                display="Trust",
                resource=role.arn or "*",
                reasons=tuple(f.message for f in trust.findings if f.severity == "unknown"),
            )
        )
    elif trust.status is TrustStatus.WARN:
        notes.append("Zeet can assume the role, but the trust policy has warnings (see Trust)")
    if admin is not None:
        required += 1
        missing.extend(admin.missing)
        conditional.extend(admin.conditional)
        unknown.extend(admin.unknown)
        notes.append("default mode: the role must be an account administrator")
    return FeatureResult(
        id=feature.id,
        title=feature.title,
        section=feature.section,
        status=_status(missing, unknown, conditional),
        required=required,
        missing=tuple(missing),
        conditional=tuple(conditional),
        unknown=tuple(unknown),
        variants=feature.variants,
        notes=tuple(notes),
    )


def _plans(
    chosen: Sequence[FeatureRule], options: AuditOptions, catalog: Catalog, index: ActionIndex
) -> tuple[tuple[FeaturePlan, ...], ExcessPlan]:
    """The feature plans for this selection, and the excess plan with the actions they need."""
    extras = [options.template_extras if rule.id == TERRAFORM_MODULES else () for rule in chosen]
    # One focus for every required action of the run and the privilege-escalation list, so that a
    # role's policies are summarised over them once (see action_sets.Focus).
    actions = [
        *(
            requirement.action
            for rule, extra in zip(chosen, extras, strict=True)
            for requirement in (*required_actions(rule, options.variants), *extra)
        ),
        *PRIVILEGE_ESCALATION,
    ]
    focus = Focus(index, (p for a in actions if (p := index.position.get(a.lower())) is not None))
    plans = tuple(
        plan_feature(rule, options.variants, extra, catalog, index, focus)
        for rule, extra in zip(chosen, extras, strict=True)
    )
    return plans, plan_excess(index, _needed(plans), focus)


class Auditor:
    """The audit of a run's roles: the selection checked and planned once (the rules chosen, the feature and
    excess plans, the action index), and the memo its roles share (see audit/memo.py). Made for a
    run and dropped with it: nothing it remembers outlives it."""

    def __init__(self, rules: RuleSet, catalog: Catalog, options: AuditOptions) -> None:
        chosen = select_rules(rules, options)  # fails on a wrong --features or --with
        self.options = options
        self.catalog = catalog
        self.index = action_index(catalog)
        self.admin_required, self.mode_findings = _administrator_required(rules, options)
        self.plans, self.excess_plan = _plans(chosen, options, catalog, self.index)
        self.memo = AuditMemo()

    def audit(self, role: Role, locations: tuple[SourceLocation, ...] = ()) -> RoleReport:
        """Audit one role: trust, every selected feature, the default-mode rule and the excess;
        ``locations``: where the role and its policies are in the input, for the report."""
        options, index = self.options, self.index
        evaluator = RoleEvaluator(
            role, options.scps, scp_unknown_reason=options.scp_unknown_reason, index=index, memo=self.memo
        )
        admin = check_administrator(evaluator, index, detail=self.admin_required)
        default_mode = _default_mode(admin, self.admin_required, self.mode_findings, options)
        trust = audit_trust(role, options.trust, self.memo.trust)
        features = []
        for plan in self.plans:
            result = audit_planned(plan, evaluator)
            if plan.rule.id == CLOUD_CONNECTION:
                result = _connection(result, trust, role, admin if self.admin_required else None)
            features.append(result)
        excess = (
            audit_excess(evaluator, self.excess_plan, admin.decision)
            if options.check_excess
            else ExcessResult(total=0, services=(), risky=(), analysed=False)
        )
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
            trust=trust,
            features=tuple(features),
            excess=excess,
            default_mode=default_mode,
            unknown_policies=evaluator.unknown_reasons,
            scps=scps,
            invalid_documents=invalid_documents(role),
            unknown_actions=unknown_actions(role, self.catalog),
            locations=locations,
        )


def audit_role(role: Role, rules: RuleSet, catalog: Catalog, options: AuditOptions) -> RoleReport:
    """Audit one role (a run of its own; ``Auditor`` audits many with one plan and memo)."""
    return Auditor(rules, catalog, options).audit(role)


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
    auditor = Auditor(rules, catalog, options)  # fails on bad selections even when there is no role
    return AuditReport(
        tool_version=tool_version,
        roles=tuple(auditor.audit(role) for role in roles),
        skipped=tuple(skipped),
        inputs=tuple(inputs),
    )
