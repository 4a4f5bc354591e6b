"""How to fix a missing group: the IAM statements that grant exactly what a feature lacks, or, when an
Allow cannot help, what must change instead.

IAM evaluation decides the fix. When no identity-based policy allows the actions, an Allow statement
in a policy of the role grants them: one statement per resource scope and request context of the
rule's requirements (``iam:PassedToService`` values become a ``StringEquals`` condition, which every
one of the rule's requests meets). When an explicit Deny, the permissions boundary or a service
control policy blocks them, no Allow in the role's policies lifts that: the fix names what must
change and proposes no statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from zeet_iam_audit.audit.report import Fix, ProposedStatement
from zeet_iam_audit.rules import RequiredAction

NO_ALLOW = "no allow"
EXPLICIT_DENY = "explicit deny"
BOUNDARY = "permissions boundary"
SCP = "SCP"


def proposed_statements(requirements: Iterable[RequiredAction]) -> tuple[ProposedStatement, ...]:
    """Allow statements granting every requirement on all its resources with its request context."""
    by_scope: dict[tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]], dict[str, None]] = {}
    for requirement in requirements:
        key = (tuple(dict.fromkeys(requirement.resources)), requirement.context)
        by_scope.setdefault(key, {})[requirement.action] = None
    statements = []
    for (resources, context), actions in sorted(by_scope.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        conditions = tuple(("StringEquals", key, values) for key, values in context)
        statements.append(
            ProposedStatement(actions=tuple(sorted(actions, key=str.lower)), resources=resources, conditions=conditions)
        )
    return tuple(statements)


def propose_fix(layer: str, reason: str, deny_statements: Sequence[str], requirements: Sequence[RequiredAction]) -> Fix:
    """The fix for one missing group: ``layer`` and ``reason`` as the group states them,
    ``deny_statements`` the statements that deny, ``requirements`` those of the missing actions."""
    if layer == NO_ALLOW:
        statements = proposed_statements(requirements)
        count = "this statement" if len(statements) == 1 else f"these {len(statements)} statements"
        return Fix(change=f"add {count} to an identity-based policy of the role", statements=statements)
    if layer == EXPLICIT_DENY:
        where = "; ".join(deny_statements) or "the statement that denies them"
        return Fix(
            change=f"remove these actions from {where}, or narrow its Action, Resource or Condition "
            "so that it does not cover Zeet's requests (no Allow overrides an explicit Deny)"
        )
    if layer == BOUNDARY:
        if "denies" in reason:
            return Fix(
                change="remove the Deny of these actions from the permissions boundary policy, or set "
                "a boundary that allows them (no Allow in the role overrides the boundary)"
            )
        return Fix(
            change="allow these actions in the permissions boundary policy too (the boundary caps "
            "what the role's own policies can grant)"
        )
    if layer == SCP:
        return Fix(
            change="the organization's administrator must allow these actions in the service control "
            "policies that apply to this account (nothing in the role can lift an SCP)"
        )
    return Fix(change=f"change what blocks these actions: {reason}")


ADMINISTRATOR = ProposedStatement(actions=("*",), resources=("*",))


def administrator_fix(layer: str, reason: str, deny_statements: Sequence[str]) -> Fix:
    """The fix when the default mode's Account Administrator requirement is missing."""
    if layer == NO_ALLOW:
        return Fix(
            change="attach AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess) or add "
            "this statement to a policy of the role",
            statements=(ADMINISTRATOR,),
        )
    return propose_fix(layer, reason, deny_statements, ())


def trust_fix(statements: Sequence[str]) -> Fix:
    """The fix when Zeet cannot assume the role: the trust policy, not a permission, must change."""
    where = f" ({'; '.join(statements)})" if statements else ""
    return Fix(
        change=f"change the trust policy{where} so that it allows Zeet's account sts:AssumeRole with "
        "the external id Zeet shows, and nothing else (see Trust); no permission statement helps"
    )
