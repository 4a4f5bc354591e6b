"""A least-privilege role for a feature selection: the trust policy and the permission policies.

**What is granted.** Every required action of the chosen features, plus the actions of the chosen
variants (and, for Terraform Module Management, a template's extra actions), each exactly as the
rules state it: the exact action name (no wildcards, so the audit finds no excess), on the rule's
resource scope (``"*"`` for actions that take no resource-level permissions), with the rule's
request context as a condition (``iam:PassedToService`` for ``iam:PassRole``). A requirement that
another one already covers (the same action on a scope that contains it, with the same or no
condition) is left out.

**How it is grouped.** One statement per feature, service and resource scope (with its condition):
actions that share a scope are merged. Statements keep the guide's feature order.

**How the role is protected.** The IAM writes that could hand Zeet more than it is granted
(iam:CreateRole, AttachRolePolicy, DetachRolePolicy, PutRolePolicy, DeleteRolePolicy,
UpdateAssumeRolePolicy) carry the rules' condition ``iam:PermissionsBoundary``: Zeet may create
and change only roles that carry the permissions boundary. This role has none, so it cannot attach
or put a policy on itself, nor on any other role without the boundary (an administrator role of
the account, say), and every role it creates is capped by the boundary. Without
``--permissions-boundary ARN`` (a boundary of your own), the output includes one,
``<role>-boundary``: the services the roles Zeet's template creates use, and no IAM write beyond
service-linked roles; the condition then names it as ``arn:aws:iam::*:policy/<role>-boundary``
(a boundary is always a policy of the role's own account). Rewriting policy documents
(iam:CreatePolicyVersion) cannot be bounded, so it is left to the variant ``iam-updates``.

**How it is split.** IAM limits a managed policy to 6,144 characters, whitespace not counted, and a
role to 10 attached managed policies by default. Statements are packed in order into policies up to
the limit (next fit, so a feature's statements stay together where they fit); a statement too large
for one policy is cut into parts by actions. If that gives more than 10 policies, the statements are
packed again largest first (first fit decreasing); if that still needs more than 10, generation
stops with one line saying so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zeet_iam_audit.audit.engine import TERRAFORM_MODULES, AuditOptions, select_rules
from zeet_iam_audit.audit.features import required_actions
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.errors import UsageError
from zeet_iam_audit.policy.match import arn_covers
from zeet_iam_audit.rules import RequiredAction, RuleSet

POLICY_SIZE_LIMIT = 6144  # characters of a managed policy, whitespace not counted
MAX_MANAGED_POLICIES = 10  # the default quota of managed policies attached to one role
DEFAULT_ROLE_NAME = "zeet-cloud-connection"
POLICY_VERSION = "2012-10-17"
_ACCOUNT = re.compile(r"^\d{12}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_EMPTY_POLICY = len(json.dumps({"Version": POLICY_VERSION, "Statement": []}, separators=(",", ":")))

Context = tuple[tuple[str, tuple[str, ...]], ...]


def policy_size(document: Any) -> int:
    """A document's size as IAM counts it: its JSON without any whitespace outside strings."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))


@dataclass(frozen=True, slots=True)
class Grant:
    """One action to allow, on its scope, under its condition, for one feature."""

    feature: str
    action: str
    resources: tuple[str, ...]
    context: Context = ()

    @property
    def prefix(self) -> str:
        return self.action.partition(":")[0].lower()

    def covers(self, other: Grant) -> bool:
        """Whether this grant allows everything ``other`` needs."""
        if self.action.lower() != other.action.lower():
            return False
        if self.context and _context_key(self.context) != _context_key(other.context):
            return False
        return all(any(arn_covers(mine, theirs) for mine in self.resources) for theirs in other.resources)


def _context_key(context: Context) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((key.lower(), tuple(sorted(values))) for key, values in context))


@dataclass(frozen=True, slots=True)
class GeneratedPolicy:
    """One managed policy: its name, description, document and size (whitespace not counted)."""

    name: str
    description: str
    document: Mapping[str, Any]
    features: tuple[str, ...]
    size: int


BOUNDARY_SUFFIX = "-boundary"
# The permissions boundary for the roles Zeet creates, when the user brings none: what those roles
# use (the cluster role's and node roles' AWS managed policies, and the IRSA roles of the
# in-cluster controllers: load balancer controller, external-dns, cert-manager, cluster-autoscaler,
# EBS CSI driver, fluent-bit), and of IAM only service-linked roles and reads. A boundary grants
# nothing by itself; it caps what a role's own policies can grant.
CREATED_ROLES_BOUNDARY: tuple[dict[str, Any], ...] = (
    {
        "Sid": "WhatZeetsRolesUse",
        "Effect": "Allow",
        "Action": [
            "acm:DescribeCertificate",
            "acm:ListCertificates",
            "autoscaling:*",
            "cloudwatch:*",
            "cognito-idp:DescribeUserPoolClient",
            "ec2:*",
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:DescribeImages",
            "ecr:DescribeRepositories",
            "ecr:GetAuthorizationToken",
            "ecr:GetDownloadUrlForLayer",
            "ecr:ListImages",
            "eks:DescribeCluster",
            "eks:DescribeNodegroup",
            "eks:ListNodegroups",
            "eks-auth:AssumeRoleForPodIdentity",
            "elasticloadbalancing:*",
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey*",
            "kms:ListGrants",
            "kms:ReEncrypt*",
            "kms:RevokeGrant",
            "logs:*",
            "route53:*",
            "shield:*",
            "ssm:GetParameter",
            "tag:GetResources",
            "tag:TagResources",
            "waf-regional:*",
            "wafv2:*",
            "iam:GetServerCertificate",
            "iam:ListServerCertificates",
        ],
        "Resource": "*",
    },
    {
        "Sid": "ServiceLinkedRolesOnly",
        "Effect": "Allow",
        "Action": "iam:CreateServiceLinkedRole",
        "Resource": "arn:aws:iam::*:role/aws-service-role/*",
    },
)


def own_boundary_arn(role_name: str) -> str:
    """How the condition names the boundary ``generate`` writes (its account is the role's own)."""
    return f"arn:aws:iam::*:policy/{role_name}{BOUNDARY_SUFFIX}"


def needs_boundary(grants: Sequence[Grant]) -> bool:
    """Whether a grant is conditioned on the permissions boundary of the roles Zeet creates."""
    return any(key.lower() == "iam:permissionsboundary" for grant in grants for key, _ in grant.context)


@dataclass(frozen=True, slots=True)
class GeneratedRole:
    """The generated role: trust policy and managed policies, and what they were generated for.

    ``boundary`` is the permissions boundary for the roles Zeet creates, when ``generate`` wrote
    one (not attached to this role).
    """

    role_name: str
    zeet_account_id: str
    external_id: str
    trust_policy: Mapping[str, Any]
    policies: tuple[GeneratedPolicy, ...]
    features: tuple[str, ...]
    variants: tuple[str, ...]
    max_session_duration: int
    actions: int
    notes: tuple[str, ...] = field(default=())
    boundary: GeneratedPolicy | None = None

    @property
    def description(self) -> str:
        return f"Zeet cloud connection, least privilege for: {', '.join(self.features)}"[:1000]


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def collect_grants(
    rules: RuleSet,
    catalog: Catalog,
    features: Sequence[str] | None,
    variants: Iterable[str],
    template_extras: Sequence[RequiredAction] = (),
) -> tuple[list[Grant], tuple[str, ...]]:
    """Every grant the selection needs, in the guide's order, and the chosen feature ids."""
    chosen_variants = frozenset(variants)
    chosen = select_rules(
        rules, AuditOptions(features=tuple(features) if features is not None else None, variants=chosen_variants)
    )
    grants: list[Grant] = []
    for rule in chosen:
        requirements = required_actions(rule, chosen_variants)
        if rule.id == TERRAFORM_MODULES:
            requirements += list(template_extras)
        for requirement in requirements:
            info = catalog.get(requirement.action)
            resources = requirement.resources if info is None or info.resource_level else ("*",)
            grants.append(Grant(rule.id, info.full if info else requirement.action, resources, requirement.context))
    return grants, tuple(rule.id for rule in chosen)


def drop_covered(grants: Sequence[Grant]) -> list[Grant]:
    """The grants that no other grant covers (of two identical grants, the first stays)."""
    kept: list[Grant] = []
    for position, grant in enumerate(grants):
        covered = False
        for other_position, other in enumerate(grants):
            if other_position == position or not other.covers(grant):
                continue
            identical = grant.covers(other)
            if not identical or other_position < position:
                covered = True
                break
        if not covered:
            kept.append(grant)
    return kept


def _condition(context: Context) -> dict[str, dict[str, Any]]:
    condition: dict[str, dict[str, Any]] = {}
    for key, values in context:
        operator = "StringLike" if any("*" in v or "?" in v for v in values) else "StringEquals"
        condition.setdefault(operator, {})[key] = values[0] if len(values) == 1 else list(values)
    return condition


def _one_or_list(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def build_statements(grants: Sequence[Grant]) -> list[tuple[str, dict[str, Any]]]:
    """(feature, statement) per feature, service and scope, actions merged and sorted."""
    groups: dict[tuple[str, str, tuple[str, ...], Context], list[str]] = {}
    for grant in grants:
        key = (grant.feature, grant.prefix, grant.resources, grant.context)
        actions = groups.setdefault(key, [])
        if grant.action not in actions:
            actions.append(grant.action)
    sids: dict[str, int] = {}
    statements: list[tuple[str, dict[str, Any]]] = []
    for (feature, prefix, resources, context), actions in groups.items():
        base = _camel(feature) + _camel(prefix)
        sids[base] = sids.get(base, 0) + 1
        sid = base if sids[base] == 1 else f"{base}{sids[base]}"
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Action": _one_or_list(sorted(actions, key=str.lower)),
            "Resource": _one_or_list(resources),
        }
        if context:
            statement["Condition"] = _condition(context)
        statements.append((feature, statement))
    return statements


def _split_statement(feature: str, statement: dict[str, Any], room: int) -> list[tuple[str, dict[str, Any]]]:
    """A statement cut by actions into parts that each fit in ``room`` characters."""
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    parts: list[list[str]] = [[]]
    for action in actions:
        trial = {**statement, "Sid": statement["Sid"] + "Part99", "Action": [*parts[-1], action]}
        if parts[-1] and policy_size(trial) > room:
            parts.append([])
        parts[-1].append(action)
    if any(policy_size({**statement, "Action": [a]}) > room for a in actions):
        raise UsageError(
            f"statement {statement['Sid']} cannot fit in one managed policy of "
            f"{POLICY_SIZE_LIMIT} characters even with a single action"
        )
    return [
        (feature, {**statement, "Sid": f"{statement['Sid']}Part{n}", "Action": _one_or_list(part)})
        for n, part in enumerate(parts, 1)
    ]


def _fit(statements: list[tuple[str, dict[str, Any]]], limit: int) -> list[tuple[str, dict[str, Any]]]:
    room = limit - _EMPTY_POLICY
    fitted: list[tuple[str, dict[str, Any]]] = []
    for feature, statement in statements:
        if policy_size(statement) > room:
            fitted.extend(_split_statement(feature, statement, room))
        else:
            fitted.append((feature, statement))
    return fitted


def _next_fit(statements: Sequence[tuple[str, dict[str, Any]]], limit: int) -> list[list[tuple[str, dict[str, Any]]]]:
    bins: list[list[tuple[str, dict[str, Any]]]] = []
    size = 0
    for item in statements:
        cost = policy_size(item[1]) + 1  # the comma between statements
        if not bins or size + cost > limit:
            bins.append([])
            size = _EMPTY_POLICY - 1
        bins[-1].append(item)
        size += cost
    return bins


def _first_fit_decreasing(
    statements: Sequence[tuple[str, dict[str, Any]]], limit: int
) -> list[list[tuple[str, dict[str, Any]]]]:
    bins: list[list[tuple[str, dict[str, Any]]]] = []
    sizes: list[int] = []
    for item in sorted(statements, key=lambda pair: -policy_size(pair[1])):
        cost = policy_size(item[1]) + 1
        for position, used in enumerate(sizes):
            if used + cost <= limit:
                bins[position].append(item)
                sizes[position] += cost
                break
        else:
            bins.append([item])
            sizes.append(_EMPTY_POLICY - 1 + cost)
    return bins


def pack(
    statements: Sequence[tuple[str, dict[str, Any]]],
    *,
    limit: int = POLICY_SIZE_LIMIT,
    max_policies: int = MAX_MANAGED_POLICIES,
) -> list[list[tuple[str, dict[str, Any]]]]:
    """Statements into policies under ``limit`` characters each, at most ``max_policies`` of them."""
    fitted = _fit(list(statements), limit)
    bins = _next_fit(fitted, limit)
    if len(bins) > max_policies:
        bins = _first_fit_decreasing(fitted, limit)
    if len(bins) > max_policies:
        raise UsageError(
            f"the selection needs {len(bins)} managed policies of at most {limit} characters, more than "
            f"the {max_policies} IAM attaches to a role by default: select fewer features or variants, or "
            "raise the quota and split the selection"
        )
    return bins


def trust_policy(rules: RuleSet, zeet_account_id: str, external_id: str) -> dict[str, Any]:
    """The trust policy the rules ask for: Zeet's account may assume the role with the external id."""
    trust = rules.trust
    if trust is None:
        raise UsageError("the rules define no trust requirement (cloud-connection's [trust])")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": trust.principals_for(zeet_account_id)[0]},
                "Action": trust.action,
                "Condition": {trust.external_id_operators[0]: {trust.external_id_key: external_id}},
            }
        ],
    }


def check_identity(zeet_account_id: str | None, external_id: str | None, role_name: str) -> tuple[str, str]:
    """The Zeet account id and external id, validated; a one-line error names what is missing."""
    if not zeet_account_id:
        raise UsageError(
            "generate: the trust policy needs Zeet's account id: --zeet-account-id, "
            "ZEET_IAM_AUDIT_ZEET_ACCOUNT_ID or zeet_account_id in the config file"
        )
    if not _ACCOUNT.match(zeet_account_id):
        raise UsageError(f"--zeet-account-id: expected 12 digits, got {zeet_account_id!r}")
    if not external_id:
        raise UsageError(
            "generate: the trust policy needs the external id Zeet passes: --external-id, "
            "ZEET_IAM_AUDIT_EXTERNAL_ID or external_id in the config file"
        )
    if not _EXTERNAL_ID.match(external_id):
        raise UsageError("--external-id: 2 to 1224 characters of letters, digits and +=,.@:/-_")
    if not _ROLE_NAME.match(role_name):
        raise UsageError(f"--role-name: 1 to 64 characters of letters, digits and +=,.@-_, got {role_name!r}")
    return zeet_account_id, external_id


def generate_role(
    rules: RuleSet,
    catalog: Catalog,
    *,
    zeet_account_id: str | None,
    external_id: str | None,
    features: Sequence[str] | None = None,
    variants: Iterable[str] = (),
    role_name: str = DEFAULT_ROLE_NAME,
    template_extras: Sequence[RequiredAction] = (),
    limit: int = POLICY_SIZE_LIMIT,
    max_policies: int = MAX_MANAGED_POLICIES,
    write_boundary: bool = False,
) -> GeneratedRole:
    """The least-privilege role for the selection (see the module docstring).

    ``write_boundary``: the rules were loaded with ``own_boundary_arn(role_name)`` as the
    permissions boundary, so the output includes that boundary policy (when a grant needs it).
    """
    account, external = check_identity(zeet_account_id, external_id, role_name)
    chosen_variants = tuple(sorted(set(variants)))
    grants, chosen = collect_grants(rules, catalog, features, chosen_variants, template_extras)
    notes = []
    defined_here = {v.name for rule_id in chosen if (rule := rules.get(rule_id)) for v in rule.variants}
    unused = [v for v in chosen_variants if v not in defined_here]
    if unused:
        notes.append(f"--with {', '.join(unused)}: no selected feature defines it; ignored")
    kept = drop_covered(grants)
    bins = pack(build_statements(kept), limit=limit, max_policies=max_policies)
    policies = []
    for number, items in enumerate(bins, 1):
        document = {"Version": POLICY_VERSION, "Statement": [statement for _, statement in items]}
        covered = tuple(dict.fromkeys(feature for feature, _ in items))
        policies.append(
            GeneratedPolicy(
                name=f"{role_name}-{number}"[:128],
                description=f"Zeet: {', '.join(covered)} (zeet-iam-audit generate, part {number} of {len(bins)})"[
                    :1000
                ],
                document=document,
                features=covered,
                size=policy_size(document),
            )
        )
    boundary = None
    if write_boundary and needs_boundary(kept):
        document = {"Version": POLICY_VERSION, "Statement": [dict(item) for item in CREATED_ROLES_BOUNDARY]}
        boundary = GeneratedPolicy(
            name=f"{role_name}{BOUNDARY_SUFFIX}"[:128],
            description=(
                "Zeet: the permissions boundary of the IAM roles Zeet creates; "
                f"{role_name} may create and change only roles carrying it (zeet-iam-audit generate)"
            ),
            document=document,
            features=(),
            size=policy_size(document),
        )
        notes.append(
            f"roles Zeet creates must carry the permissions boundary {boundary.name} (in the "
            "cloudformation and terraform output); Zeet's template sets it with "
            "iam_role_permissions_boundary"
        )
    trust = rules.trust
    return GeneratedRole(
        role_name=role_name,
        zeet_account_id=account,
        external_id=external,
        trust_policy=trust_policy(rules, account, external),
        policies=tuple(policies),
        features=chosen,
        variants=chosen_variants,
        max_session_duration=max(3600, trust.min_session_duration or 3600) if trust else 3600,
        actions=len({grant.action.lower() for grant in kept}),
        notes=tuple(notes),
        boundary=boundary,
    )
