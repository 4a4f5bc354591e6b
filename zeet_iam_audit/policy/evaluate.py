"""The decision: does a set of policies allow an action on a resource, as AWS IAM decides it.

The logic follows AWS's documented evaluation for a principal in its own account:

1. An explicit Deny in any policy of any layer (identity-based, permissions boundary, SCPs) wins.
2. Otherwise every layer present must allow: some identity-based policy; the permissions boundary,
   when the role has one; and every level of SCPs from the root down to the account.
3. Otherwise the request is implicitly denied.

This module combines the layers into that decision; ``compiled.py`` turns each policy into matchers
and finds the statements that apply to a request, and ``results.py`` holds the answer's values.

Each statement applies, does not apply, or — when it depends on a condition with no context, a policy
variable with no context, or an unresolved template value — might apply. A statement that might
apply makes the answer ``conditional`` (or ``unknown`` for unresolved values) unless a certain
answer is reached without it, so "allowed" is only ever said when it holds for every request.

Two questions, two names:

- ``evaluate`` / ``PolicySet.decide``: one request, as AWS receives it. The resource is literal text:
  a ``*`` or ``?`` in it is a character, never a wildcard. An action that takes no resource-level
  permissions (``ec2:DescribeVpcs``, ``s3:ListAllMyBuckets``) is requested on the literal resource
  ``*``: a ``Resource`` entry applies to it only when the entry, as a pattern, matches the one-
  character text ``*`` (``"*"`` does; ``"arn:aws:s3:::*"`` does not), and a ``NotResource`` entry
  such as ``"arn:aws:s3:::zeet-*"`` does not match it, so that statement applies.
- ``evaluate_scope`` / ``PolicySet.decide_scope``: is the action allowed on *every* resource a scope
  pattern stands for (``arn:aws:sqs:*:111122223333:zeet-*``)? An Allow counts only when its Resource
  covers the whole scope; a Deny is certain when it covers the whole scope and uncertain when it
  covers part of it. The audit asks this of actions that take resources, and the literal request of
  actions that take none.

Answers decided outside the statements (``EvaluationResult.notes``):

- ``sts:GetCallerIdentity`` is allowed whatever the policies say: "No permissions are required to
  perform this operation", and an explicit Deny does not block it (STS API reference).
- An action of ``kms`` on a KMS key (a key ARN, or a scope that holds keys) is never plainly allowed
  by identity-based policies: access to a key needs its key policy too, which these policies cannot
  show, so an allow becomes ``conditional`` ("the key policy must also allow this account"). A deny
  stays a deny.

Corners AWS's documentation does not settle, and the choice made for each. Where the documentation
is silent the choice is the one that cannot turn into a false "allowed": the statement *might*
apply, and the answer is ``unknown`` with the reason (``Uncertainty.undecided``).

- Short ARNs (``arn:aws:sqs``, ``arn:aws:sqs:us-east-1``: fewer than six fields) in identity-based
  policies and boundaries: read as written (a glob over the whole ARN) and with the missing fields as
  wildcards; where the two readings differ for the request, undecided. In SCPs they are read as
  written (they name no resource).
- Commas or spaces inside an action name (``"s3:GetObject,PutObject"``, ``"s3:Get Object"``): the
  document is refused when parsed (see ``parse.py``), as AWS refuses such names at upload; reading
  them as matching nothing could make a Deny or a NotAction grant too much.
- A wildcard in an action's service prefix (``"*:GetBucketPolicy"``; the Action element page
  documents wildcards in the action name only): undecided where it would match; ``"*"`` alone is
  every action, as documented.
- A negated operator on a value that is not of its type (``NotIpAddress`` on ``"office"``,
  ``NumericNotEquals`` on ``"ten"``): undecided, since true (the negation of no match) and false (a
  type error) each could miss a Deny or apply an Allow. A positive operator on such a value does not
  match, which can never make an Allow apply.
- ``ForAllValues:Null`` / ``ForAnyValue:Null``: read as plain ``Null`` (a key's presence is one
  fact; a set operator adds nothing to it).
- A single-valued operator on a key with several values in the request: AWS says such keys "require a
  condition set operator"; where any value would match, undecided (AWS may match none).
- ``""`` as a context value under ``ForAllValues``/``ForAnyValue``: a null data set, as documented
  (``ForAllValues`` true, ``ForAnyValue`` false). See ``conditions.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zeet_iam_audit.model import Policy, PolicyKind
from zeet_iam_audit.policy.compiled import CompiledPolicy, EvaluationMemo, Part, Request, Tri, evaluate_layer
from zeet_iam_audit.policy.conditions import normalise_context
from zeet_iam_audit.policy.match import arns_intersect
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.policy.results import Decision, EvaluationResult, Layer, StatementRef, Uncertainty
from zeet_iam_audit.policy.variables import (
    LITERAL_QUESTION,
    LITERAL_STAR,
    literal_resource,
    literal_text,
)

__all__ = [
    "GET_CALLER_IDENTITY_NOTE",
    "KEY_POLICY_NOTE",
    "CompiledPolicy",
    "Decision",
    "EvaluationMemo",
    "EvaluationResult",
    "Layer",
    "PolicyInput",
    "PolicySet",
    "StatementRef",
    "Tri",
    "Uncertainty",
    "compile_policy",
    "evaluate",
    "evaluate_scope",
]


# ---------------------------------------------------------------------------------------------
# Inputs: documents, strings or parsed policies; with a memo, each parsed policy compiled once.

PolicyInput = Policy | Mapping[str, Any] | str


def compile_policy(
    policy: PolicyInput,
    layer: Layer = Layer.IDENTITY,
    *,
    name: str = "",
    scp_level: int | None = None,
    memo: EvaluationMemo | None = None,
) -> CompiledPolicy:
    """Parse (if needed) and compile one policy; with a ``memo``, a parsed ``Policy`` value is
    compiled once per layer (the memo holds it)."""
    if not isinstance(policy, Policy):
        parsed = parse_policy(policy, kind=PolicyKind.IDENTITY, name=name)
        return CompiledPolicy(parsed, layer, name or parsed.name, scp_level, memo)
    if memo is None:
        return CompiledPolicy(policy, layer, name or policy.name or "policy", scp_level)
    key = (layer, scp_level)
    found = memo.compiled.get(policy, key)
    if found is None:
        found = memo.compiled.put(
            policy, CompiledPolicy(policy, layer, name or policy.name or "policy", scp_level, memo), key
        )
    return found


def _compile_all(
    policies: Iterable[PolicyInput], layer: Layer, memo: EvaluationMemo, scp_level: int | None = None
) -> list[CompiledPolicy]:
    compiled = []
    for position, policy in enumerate(policies):
        label = policy.name if isinstance(policy, Policy) and policy.name else f"policy[{position}]"
        compiled.append(compile_policy(policy, layer, name=label, scp_level=scp_level, memo=memo))
    return compiled


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every layer that applies to one principal, compiled: reuse it for many decisions."""

    identity: tuple[CompiledPolicy, ...]
    boundary: CompiledPolicy | None = None
    scps: tuple[tuple[CompiledPolicy, ...], ...] = ()
    # Shared with other policy sets of the same run when the caller passes one (see ``build``).
    memo: EvaluationMemo = field(default_factory=EvaluationMemo, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        identity_policies: Iterable[PolicyInput] = (),
        permissions_boundary: PolicyInput | None = None,
        scps: Sequence[Sequence[PolicyInput]] = (),
        *,
        memo: EvaluationMemo | None = None,
    ) -> PolicySet:
        """Compile the layers. Principals evaluated in one run share a ``memo`` (policies compiled
        once, decisions shared); without one the set has its own, dropped with it."""
        memo = memo if memo is not None else EvaluationMemo()
        boundary = None
        if permissions_boundary is not None:
            boundary = _compile_all([permissions_boundary], Layer.BOUNDARY, memo)[0]
        return cls(
            identity=tuple(_compile_all(identity_policies, Layer.IDENTITY, memo)),
            boundary=boundary,
            scps=tuple(tuple(_compile_all(level, Layer.SCP, memo, i)) for i, level in enumerate(scps)),
            memo=memo,
        )

    def decide(
        self,
        action: str,
        resource: str = "*",
        context: Mapping[str, tuple[str, ...]] | None = None,
        *,
        complete_context: bool = True,
        named: tuple[CompiledPolicy, ...] | None = None,
    ) -> EvaluationResult:
        """The decision for one request: ``action`` on the literal ``resource`` (a ``*`` or ``?`` in
        it is a character, not a wildcard; ``*`` is what AWS evaluates for an action that takes no
        resource-level permissions). ``context`` keys must be lower-cased.

        ``complete_context=False`` treats keys absent from ``context`` as unknown (the audit knows
        some keys, e.g. ``iam:PassedToService``, and nothing else). ``named`` as for ``decide_scope``.
        """
        # A literal resource is a scope without wildcards: its own are escaped (see literal_text).
        return self.decide_scope(
            action, literal_text(resource), context, complete_context=complete_context, named=named
        )

    def decide_scope(
        self,
        action: str,
        scope: str,
        context: Mapping[str, tuple[str, ...]] | None = None,
        *,
        complete_context: bool = True,
        partial_allows: bool = False,
        named: tuple[CompiledPolicy, ...] | None = None,
    ) -> EvaluationResult:
        """Whether ``action`` is allowed on every resource the ``scope`` pattern stands for
        (``*`` and ``?`` in it are wildcards): the audit's question for a rule's resource scope.

        A Deny that covers part of the scope makes the answer conditional. ``partial_allows=True``
        makes an Allow that covers only part of the scope an uncertainty instead of no allow.
        ``context`` and ``complete_context`` as for ``decide``. ``named``: the identity-based
        policies whose statements name the action (``CompiledPolicy.candidates``), in order, when the
        caller knows them already (the audit does, from its action sets).
        """
        complete = complete_context or context is None
        context_key = None if context is None else tuple(sorted(context.items()))
        lowered = action.lower()
        request_key = (lowered, scope, context_key, complete, partial_allows)
        # The decision depends on the request and on the policies that name the action (the others
        # contribute nothing): roles sharing those policies share it.
        if named is None:
            named = tuple([policy for policy in self.identity if policy.candidates(lowered)])
        shared_key = (action, request_key, self.boundary, self.scps, named)
        decisions = self.memo.decisions
        known = decisions.get(shared_key)
        if known is not None:
            return known
        resource = literal_resource(scope) if LITERAL_STAR in scope or LITERAL_QUESTION in scope else scope
        if lowered == "sts:getcalleridentity":
            result = EvaluationResult(action, resource, Decision.ALLOWED, notes=(GET_CALLER_IDENTITY_NOTE,))
        else:
            request = Request(lowered, scope, context, complete, partial_allows, request_key)
            result = self._decide(action, resource, request, named)
            if lowered.startswith("kms:") and arns_intersect(_KMS_KEYS, scope):
                result = _with_key_policy(result)
        return decisions.put(shared_key, result)

    def _decide(
        self, action: str, resource: str, request: Request, named: tuple[CompiledPolicy, ...]
    ) -> EvaluationResult:
        """``named``: the identity-based policies that name the action (the others add nothing)."""
        # Per layer: (certain allows, possible allows, certain denies, possible denies).
        layers: list[tuple[Layer, Part]] = []
        for level in self.scps:
            layers.append((Layer.SCP, evaluate_layer(level, request)))
        layers.append((Layer.IDENTITY, evaluate_layer(named, request)))
        if self.boundary is not None:
            layers.append((Layer.BOUNDARY, evaluate_layer((self.boundary,), request)))

        denies = [ref for _, part in layers for ref in part[2]]
        if denies:
            return EvaluationResult(
                action, resource, Decision.EXPLICIT_DENY, layer=denies[0].layer, deciding=tuple(denies)
            )

        blocking = tuple(layer for layer, part in layers if not part[0] and not part[1])
        if blocking:
            return EvaluationResult(
                action, resource, Decision.IMPLICIT_DENY, layer=blocking[0], blocking_layers=blocking
            )

        uncertain: list[Uncertainty] = []
        allows: list[StatementRef] = []
        for _, (certain_allows, possible_allows, _denies, possible_denies) in layers:
            uncertain.extend(possible_denies)
            if certain_allows:
                allows.extend(certain_allows)
            else:
                uncertain.extend(possible_allows)
        if not uncertain:
            return EvaluationResult(action, resource, Decision.ALLOWED, deciding=tuple(allows))
        unresolved = any(u.unresolved or u.undecided for u in uncertain)
        return EvaluationResult(
            action,
            resource,
            Decision.UNKNOWN if unresolved else Decision.CONDITIONAL,
            deciding=tuple(allows),
            uncertain=tuple(uncertain),
        )


GET_CALLER_IDENTITY_NOTE = (
    "sts:GetCallerIdentity needs no permission and an explicit Deny cannot block it (AWS STS API "
    "reference, GetCallerIdentity)"
)
KEY_POLICY_NOTE = (
    "the key policy must also allow this account: identity-based policies alone never give access to "
    "a KMS key (AWS KMS, key policies)"
)
_KMS_KEYS = "arn:*:kms:*:*:key/*"


def _with_key_policy(result: EvaluationResult) -> EvaluationResult:
    """An identity-only answer for an action on a KMS key: never plainly allowed, since the key's
    own policy must also allow the account. A deny stays a deny (a key policy that names the role
    could still grant it, but the role's own policies do not)."""
    if result.decision in (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY):
        return result
    decision = Decision.CONDITIONAL if result.decision is Decision.ALLOWED else result.decision
    return EvaluationResult(
        result.action,
        result.resource,
        decision,
        layer=result.layer,
        deciding=result.deciding,
        uncertain=result.uncertain,
        blocking_layers=result.blocking_layers,
        notes=(*result.notes, KEY_POLICY_NOTE),
    )


def evaluate(
    action: str,
    resource: str = "*",
    identity_policies: Iterable[PolicyInput] = (),
    permissions_boundary: PolicyInput | None = None,
    scps: Sequence[Sequence[PolicyInput]] = (),
    context: Mapping[str, str | list[str] | tuple[str, ...]] | None = None,
) -> EvaluationResult:
    """Decide, as AWS IAM does, whether the policies allow one request: ``action`` on ``resource``.

    ``resource`` is the request's resource, literal: a ``*`` or ``?`` in it is a character, not a
    wildcard. For an action that takes no resource-level permissions it is ``*`` (the default),
    which a Resource/NotResource entry matches only as a pattern matching the text ``*``. To ask
    whether an action is allowed on every resource of a pattern, use ``evaluate_scope``.

    ``identity_policies``: documents (dict or JSON string, URL-encoded or not) or parsed ``Policy``
    values. ``permissions_boundary``: one document or None. ``scps``: levels from the root to the
    account, each a sequence of documents; every level must allow and a Deny anywhere denies.
    ``context``: condition keys to a string or list of strings — every condition is then decided
    (a missing key is missing) — or None, meaning unknown: an answer that depends on a condition is
    then ``conditional`` and names the keys and whether they gate an Allow or a Deny.
    """
    policy_set = PolicySet.build(identity_policies, permissions_boundary, scps)
    normalised = normalise_context(context) if context is not None else None
    return policy_set.decide(action, resource, normalised)


def evaluate_scope(
    action: str,
    scope: str,
    identity_policies: Iterable[PolicyInput] = (),
    permissions_boundary: PolicyInput | None = None,
    scps: Sequence[Sequence[PolicyInput]] = (),
    context: Mapping[str, str | list[str] | tuple[str, ...]] | None = None,
    *,
    partial_allows: bool = False,
) -> EvaluationResult:
    """Whether the policies allow ``action`` on every resource the ``scope`` pattern stands for.

    ``scope`` is a pattern (``arn:aws:sqs:*:111122223333:zeet-*``; ``*`` is every resource): an
    Allow counts only when its Resource covers the whole scope, a Deny that covers all of it denies
    and one that covers part of it makes the answer ``conditional``. ``partial_allows=True`` makes
    an Allow on part of the scope ``conditional`` too, instead of no allow. The other arguments are
    those of ``evaluate``.
    """
    policy_set = PolicySet.build(identity_policies, permissions_boundary, scps)
    normalised = normalise_context(context) if context is not None else None
    return policy_set.decide_scope(action, scope, normalised, partial_allows=partial_allows)
