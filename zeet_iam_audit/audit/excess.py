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
from dataclasses import dataclass

from zeet_iam_audit.audit.action_sets import (
    ActionIndex,
    Focus,
    PolicyActions,
    ServiceSpan,
    statement_kind,
    union,
)
from zeet_iam_audit.audit.administrator import check_administrator
from zeet_iam_audit.audit.evaluator import RoleDecision, RoleEvaluator
from zeet_iam_audit.audit.report import ExcessResult, ExcessService, RiskyGrant
from zeet_iam_audit.model import Effect, Unresolved
from zeet_iam_audit.policy.evaluate import Decision, Layer
from zeet_iam_audit.policy.results import StatementRef

ROLES = "arn:aws:iam::*:role/*"
USERS = "arn:aws:iam::*:user/*"
GROUPS = "arn:aws:iam::*:group/*"
POLICIES = "arn:aws:iam::*:policy/*"
INSTANCES = "arn:aws:ec2:*:*:instance/*"


@dataclass(frozen=True, slots=True)
class Escalation:
    """A known privilege-escalation path: every action in ``actions`` allowed, the first on a scope
    that covers every principal or resource of its kind (``scope``; the evaluator puts the role's
    own account in), the others on anything."""

    actions: tuple[str, ...]
    scope: str
    reason: str


# The privilege-escalation paths documented by Rhino Security Labs ("AWS IAM Privilege Escalation -
# Methods and Mitigation", 2018: CreatePolicyVersion, SetDefaultPolicyVersion, PassRole with
# RunInstances / Lambda / Glue / CloudFormation / Data Pipeline, CreateAccessKey, CreateLoginProfile,
# UpdateLoginProfile, Attach/Put User/Group/Role Policy, AddUserToGroup, UpdateAssumeRolePolicy,
# UpdateFunctionCode, UpdateDevEndpoint), listed by cloudsplaining's privilege-escalation check and
# by pathfinding.cloud (which adds SSM SendCommand / StartSession, EC2 Instance Connect,
# SageMaker notebooks and training jobs, CodeBuild, ECS tasks and App Runner with PassRole), plus
# the permissions-boundary writes and sts:AssumeRole on every role (any role that trusts the
# account can then be assumed).
ESCALATIONS: tuple[Escalation, ...] = (
    Escalation(
        ("iam:CreatePolicyVersion",),
        POLICIES,
        "can publish a new default version of any customer managed policy, those attached to this role included",
    ),
    Escalation(
        ("iam:SetDefaultPolicyVersion",),
        POLICIES,
        "can make an older, broader version of any customer managed policy the default",
    ),
    Escalation(
        ("iam:AttachRolePolicy",),
        ROLES,
        "can attach any managed policy (AdministratorAccess) to any role, this one included",
    ),
    Escalation(
        ("iam:PutRolePolicy",),
        ROLES,
        "can write an inline policy that allows anything into any role, this one included",
    ),
    Escalation(("iam:AttachUserPolicy",), USERS, "can attach any managed policy to any user"),
    Escalation(("iam:PutUserPolicy",), USERS, "can write an inline policy that allows anything into any user"),
    Escalation(("iam:AttachGroupPolicy",), GROUPS, "can attach any managed policy to any group"),
    Escalation(("iam:PutGroupPolicy",), GROUPS, "can write an inline policy that allows anything into any group"),
    Escalation(("iam:AddUserToGroup",), GROUPS, "can add a user to any group, an administrators group included"),
    Escalation(
        ("iam:UpdateAssumeRolePolicy",),
        ROLES,
        "can rewrite any role's trust policy so that anyone chosen can assume it",
    ),
    Escalation(("iam:CreateAccessKey",), USERS, "can create access keys for any user and act as that user"),
    Escalation(
        ("iam:CreateLoginProfile",), USERS, "can give any user without one a console password and sign in as that user"
    ),
    Escalation(("iam:UpdateLoginProfile",), USERS, "can change any user's console password and sign in as that user"),
    Escalation(
        ("iam:PutRolePermissionsBoundary",), ROLES, "can replace any role's permissions boundary, this one's included"
    ),
    Escalation(
        ("iam:DeleteRolePermissionsBoundary",), ROLES, "can remove any role's permissions boundary, this one's included"
    ),
    Escalation(("sts:AssumeRole",), ROLES, "can assume any role whose trust policy trusts this account"),
    Escalation(
        ("lambda:UpdateFunctionCode",),
        "arn:aws:lambda:*:*:function:*",
        "can replace any Lambda function's code and run it with the function's role",
    ),
    Escalation(
        ("glue:UpdateDevEndpoint",),
        "arn:aws:glue:*:*:devEndpoint/*",
        "can add an SSH key to any Glue development endpoint and use its role",
    ),
    Escalation(
        ("ec2-instance-connect:SendSSHPublicKey",),
        INSTANCES,
        "can log in to any EC2 instance over SSH and use its instance profile's role",
    ),
    Escalation(("ssm:SendCommand",), INSTANCES, "can run commands on any managed EC2 instance and use its role"),
    Escalation(("ssm:StartSession",), INSTANCES, "can open a shell on any managed EC2 instance and use its role"),
    Escalation(
        ("sagemaker:CreatePresignedNotebookInstanceUrl",),
        "arn:aws:sagemaker:*:*:notebook-instance/*",
        "can open any SageMaker notebook instance and use its execution role",
    ),
    Escalation(
        ("iam:PassRole", "ec2:RunInstances"),
        ROLES,
        "can launch an EC2 instance with any role and use that role's credentials from it",
    ),
    Escalation(
        ("iam:PassRole", "lambda:CreateFunction"),
        ROLES,
        "can create a Lambda function with any role and run code as that role",
    ),
    Escalation(
        ("iam:PassRole", "glue:CreateDevEndpoint"),
        ROLES,
        "can create a Glue development endpoint with any role and use it over SSH",
    ),
    Escalation(("iam:PassRole", "glue:CreateJob"), ROLES, "can create a Glue job that runs code as any role"),
    Escalation(
        ("iam:PassRole", "cloudformation:CreateStack"),
        ROLES,
        "can create a CloudFormation stack that runs as any role and creates whatever that role may",
    ),
    Escalation(
        ("iam:PassRole", "datapipeline:CreatePipeline"),
        ROLES,
        "can create a Data Pipeline that runs commands as any role",
    ),
    Escalation(
        ("iam:PassRole", "codebuild:CreateProject"),
        ROLES,
        "can create a CodeBuild project that runs commands as any role",
    ),
    Escalation(
        ("iam:PassRole", "sagemaker:CreateNotebookInstance"),
        ROLES,
        "can create a SageMaker notebook instance with any role and use it",
    ),
    Escalation(
        ("iam:PassRole", "sagemaker:CreateTrainingJob"),
        ROLES,
        "can create a SageMaker training job that runs code as any role",
    ),
    Escalation(
        ("iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"),
        ROLES,
        "can run an ECS task with any role as its task role",
    ),
    Escalation(
        ("iam:PassRole", "apprunner:CreateService"),
        ROLES,
        "can create an App Runner service that runs code as any role",
    ),
)
# Writes to the role's own trust policy, policies or boundary: the role can make itself anything.
SELF_WRITES: tuple[tuple[str, str], ...] = (
    ("iam:UpdateAssumeRolePolicy", "can rewrite this role's own trust policy so that anyone chosen can assume it"),
    ("iam:PutRolePolicy", "can write an inline policy that allows anything into this role itself"),
    ("iam:AttachRolePolicy", "can attach any managed policy (AdministratorAccess) to this role itself"),
    ("iam:PutRolePermissionsBoundary", "can replace this role's own permissions boundary"),
    ("iam:DeleteRolePermissionsBoundary", "can remove this role's own permissions boundary"),
)
# Every action the risky-grant check may evaluate (the engine's focus holds them).
PRIVILEGE_ESCALATION: tuple[str, ...] = tuple(
    dict.fromkeys(
        [action for escalation in ESCALATIONS for action in escalation.actions] + [action for action, _ in SELF_WRITES]
    )
)
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
    identity = [evaluator.summary(p, index) for p in evaluator.policy_set.identity]
    restricting: list[Sequence[PolicyActions]] = []
    if evaluator.policy_set.boundary is not None:
        restricting.append([evaluator.summary(evaluator.policy_set.boundary, index)])
    restricting.extend([evaluator.summary(p, index) for p in level] for level in evaluator.policy_set.scps)
    # Masks are up to 3 kB: an empty set (most policies deny nothing) is skipped rather than joined.
    allowed = conditional = named = denied = maybe_denied = 0
    for s in identity:
        named |= s.mentions  # allowed on every resource, under a condition or on some resources
        if s.allow_all:
            allowed |= s.allow_all
        if s.allow_conditional:
            conditional |= s.allow_conditional
    for s in (*identity, *(s for layer in restricting for s in layer)):
        if s.deny_all:
            denied |= s.deny_all
        if s.deny_some:
            maybe_denied |= s.deny_some
    if any(s.unresolved for s in identity):
        conditional |= named  # an unresolved action element might name any of them
    effective = named & ~denied if denied else named
    for layer in restricting:
        certain, possible = _layer_allows(layer, index)
        effective &= possible
        conditional |= allowed & ~certain  # that layer allows them only on conditions
        allowed &= certain
    if maybe_denied:
        conditional |= allowed & maybe_denied
        allowed &= ~maybe_denied
    allowed &= effective
    conditional &= effective
    if allowed and conditional:
        conditional &= ~allowed
    if evaluator.unknown_layers:
        # A policy that could not be read might deny any of these or allow the rest.
        conditional = conditional | effective
        allowed = 0
    scoped = effective & ~(allowed | conditional) if allowed or conditional else effective
    return allowed, conditional, scoped


@dataclass(frozen=True, slots=True)
class _Placed:
    """The risky-grant checks laid over a focus: each check's actions with their local bits (all
    must be named by some policy for the check to be worth evaluating) and whether they take
    resource-level permissions."""

    wanted: int  # every escalation action's local bit
    escalations: tuple[tuple[Escalation, int, tuple[tuple[str, bool], ...]], ...]
    self_writes: tuple[tuple[str, str, int, bool], ...]


@dataclass(frozen=True, slots=True)
class ExcessPlan:
    """What the excess check needs that does not depend on the role, worked out once per run."""

    index: ActionIndex
    needed: Mapping[str, tuple[str, ...]]  # lower-cased action → the selected features needing it
    needed_mask: int  # their catalogue positions
    unneeded: int  # every other catalogue position
    focus: Focus  # holds every PRIVILEGE_ESCALATION action (see action_sets.Focus)
    placed: _Placed


def plan_excess(index: ActionIndex, needed: Mapping[str, tuple[str, ...]], focus: Focus | None = None) -> ExcessPlan:
    """``needed`` maps lower-cased actions to the ids of the selected features that need them;
    ``focus``, when given, must hold the PRIVILEGE_ESCALATION actions (a run shares one with its
    feature plans); without one, the plan makes its own."""
    if focus is None:
        positions = (index.position.get(action.lower()) for action in PRIVILEGE_ESCALATION)
        focus = Focus(index, (p for p in positions if p is not None))
    needed_mask = index.mask_of(index.position[a] for a in needed if a in index.position)
    return ExcessPlan(
        index=index,
        needed=needed,
        needed_mask=needed_mask,
        unneeded=index.everything & ~needed_mask,
        focus=focus,
        placed=_place(focus),
    )


def audit_excess(evaluator: RoleEvaluator, plan: ExcessPlan, administrator: Decision | None = None) -> ExcessResult:
    """The role's excess and risky grants; ``administrator``, when known, is the Account
    Administrator decision (see administrator.py)."""
    index, unneeded = plan.index, plan.unneeded
    allowed, conditional, scoped = classify_excess(evaluator, index)
    conditional &= unneeded
    scoped &= unneeded
    everything = (allowed | conditional | scoped) & unneeded
    # Each service's share of the masks: counted by access level, its first actions (by name) kept.
    known = evaluator.memo.excess_services
    found = []
    for span, bits, (conditional_bits, scoped_bits) in index.service_shares(everything, conditional, scoped):
        # Roles granting the same actions of a service (a shared managed policy) share its entry.
        key = (span.start, bits, conditional_bits, scoped_bits)
        service = known.get(key)
        if service is None:
            service = known.put(key, _excess_service(index, span, bits, conditional_bits, scoped_bits))
        found.append(service)
    services = tuple(sorted(found, key=_by_size))
    return ExcessResult(
        total=everything.bit_count(),
        services=services,
        risky=_risky(evaluator, plan, administrator),
        unknown_reasons=evaluator.unknown_reasons,
    )


def _by_size(service: ExcessService) -> tuple[int, str]:
    """Services in the order reports list them: the most actions first, then by name."""
    return -service.total, service.service


def _excess_service(index: ActionIndex, span: ServiceSpan, bits: int, conditional: int, scoped: int) -> ExcessService:
    """A service's share of the excess (``bits`` and the others are its actions, shifted to 0)."""
    sample: list[int] = []  # positions of the first actions
    rest = bits
    while rest and len(sample) < _SAMPLE:
        low = rest & -rest
        sample.append(span.start + low.bit_length() - 1)
        rest ^= low
    counts = [(level, (bits & level_bits).bit_count()) for level, level_bits in span.levels]
    return ExcessService(
        service=span.service,
        total=bits.bit_count(),
        by_access_level=tuple((level, count) for level, count in counts if count),  # in ACCESS_LEVELS order
        conditional=conditional.bit_count(),
        scoped=scoped.bit_count(),
        sample=tuple(map(index.full_name, sample)),
    )


def _place(focus: Focus) -> _Placed:
    """The risky-grant checks over ``focus``."""
    index = focus.index

    def bit(action: str) -> int:
        at = focus.local.get(index.position.get(action.lower(), -1))
        return 0 if at is None else 1 << at

    def level(action: str) -> bool:
        info = index.catalog.get(action)
        return info.resource_level if info is not None else True

    return _Placed(
        wanted=union(bit(action) for action in PRIVILEGE_ESCALATION),
        escalations=tuple(
            (e, union(bit(a) for a in e.actions), tuple((a, level(a)) for a in e.actions)) for e in ESCALATIONS
        ),
        self_writes=tuple((action, reason, bit(action), level(action)) for action, reason in SELF_WRITES),
    )


def _risky(evaluator: RoleEvaluator, plan: ExcessPlan, administrator: Decision | None) -> tuple[RiskyGrant, ...]:
    """The role's risky grants, each as the evaluator decides it (every layer weighed)."""
    risky: list[RiskyGrant] = []
    index, focus, needed = plan.index, plan.focus, plan.needed
    if administrator is None:
        administrator = check_administrator(evaluator, index, detail=False).decision
    if administrator in (Decision.ALLOWED, Decision.CONDITIONAL):
        everything = _everything_statements(evaluator, index)
        risky.append(
            RiskyGrant(
                action="*",
                resource="*",
                reason="grants every action of every service on every resource",
                statement="; ".join(map(str, everything)) or None,
                statements=everything,
                conditional=administrator is Decision.CONDITIONAL,
            )
        )
    placed = plan.placed
    unnamed = evaluator.unnamed(focus, placed.wanted)  # no policy names them: not allowed, nothing to decide
    if placed.wanted and unnamed == placed.wanted:
        return tuple(risky)  # the usual role: no escalation action named at all
    flagged: set[str] = set()
    for escalation, bits, actions in placed.escalations:
        if bits & unnamed:
            continue
        (first, first_level), *partners = actions
        parts = []
        for action, scope, resource_level in (
            (first, escalation.scope, first_level),
            *((a, "*", lvl) for a, lvl in partners),
        ):
            decision = evaluator.decide_requirement(action, scope, resource_level=resource_level)
            part = _granted(decision, whole=scope != "*")
            if part is None:
                break
            parts.append(part)
        else:
            if not partners:
                flagged.add(first)
            granting = _distinct(s for _, statements in parts for s in statements)
            risky.append(
                RiskyGrant(
                    action=" + ".join(escalation.actions),
                    resource=_in_account(escalation.scope, evaluator.role.arn),
                    reason=f"privilege escalation: {escalation.reason}",
                    needed_by=tuple(dict.fromkeys(f for a in escalation.actions for f in needed.get(a.lower(), ()))),
                    statement="; ".join(map(str, granting)) or None,
                    statements=granting,
                    conditional=any(conditional for conditional, _ in parts),
                )
            )
    own = evaluator.role.arn
    if own:
        for action, reason, bit, resource_level in placed.self_writes:
            if action in flagged or bit & unnamed:
                continue  # already risky on every role (this one included), or named by no policy
            self_grant = _granted(evaluator.decide_requirement(action, own, resource_level=resource_level), whole=True)
            if self_grant is None:
                continue
            conditional, statements = self_grant
            risky.append(
                RiskyGrant(
                    action=action,
                    resource=own,
                    reason=f"self-escalation: {reason}",
                    needed_by=needed.get(action.lower(), ()),
                    statement="; ".join(map(str, statements)) or None,
                    statements=statements,
                    conditional=conditional,
                )
            )
    return tuple(risky)


def _in_account(scope: str, role_arn: str | None) -> str:
    """``scope`` with the role's own account in place of ``*``, as the evaluator decides it."""
    parts = (role_arn or "").split(":")
    account = parts[4] if len(parts) > 4 and parts[4].isdigit() else None
    head = scope.split(":", 5)
    if account is None or len(head) != 6 or head[4] != "*":
        return scope
    head[4] = account
    return ":".join(head)


def _granted(decision: RoleDecision, *, whole: bool) -> tuple[bool, tuple[StatementRef, ...]] | None:
    """(conditional, the statements that grant it) when the decision allows the action on the
    whole scope, surely or under a condition; None when it does not (a denial, an Allow of only
    part of the scope, an answer the input cannot give). What the readable policies allow stays a
    grant when a policy could not be read: conditional, since that policy might deny it."""
    result = decision.result
    unread = decision.decision is Decision.UNKNOWN and bool(decision.unknown_reasons)
    verdict = result.decision if unread else decision.decision
    if verdict is Decision.ALLOWED:
        conditional = unread
    elif verdict is Decision.CONDITIONAL:
        # An Allow of only part of the scope (role/zeet-* for every role) does not cover it: unless a
        # condition or a Deny is what is open, it is not a grant on every resource.
        if whole and all(u.gates is Effect.ALLOW and u.partial for u in result.uncertain):
            return None
        conditional = True
    else:
        return None
    refs = [*result.deciding, *(u.statement for u in result.uncertain if u.gates is Effect.ALLOW)]
    identity = [ref for ref in refs if ref.layer is Layer.IDENTITY and ref.effect is Effect.ALLOW]
    return conditional, _distinct(identity or refs)


def _distinct(refs: Iterable[StatementRef]) -> tuple[StatementRef, ...]:
    """The statements, each named once (two equal names read as one statement in the report)."""
    named: dict[str, StatementRef] = {}
    for ref in refs:
        named.setdefault(str(ref), ref)
    return tuple(named.values())


def _everything_statements(evaluator: RoleEvaluator, index: ActionIndex) -> tuple[StatementRef, ...]:
    """The identity-based Allow statements that allow every action on every resource."""
    found: list[StatementRef] = []
    for compiled in evaluator.policy_set.identity:
        for statement in compiled.statements:
            if statement.statement.effect is not Effect.ALLOW or statement_kind(statement) == "allow_scoped":
                continue
            patterns = [p for p in statement.actions.patterns if not isinstance(p, Unresolved)]
            if index.action_element(patterns, negate=statement.actions.negate) == index.everything:
                found.append(statement.ref)
    return tuple(found)
