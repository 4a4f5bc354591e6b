"""Decisions for one role: its policy layers compiled once, unreadable parts kept as unknowns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from zeet_iam_audit.audit.action_sets import ActionIndex, Focus, PolicyActions, union
from zeet_iam_audit.audit.memo import AuditMemo
from zeet_iam_audit.model import OWN_ACCOUNT, Policy, Role
from zeet_iam_audit.policy.evaluate import CompiledPolicy, Decision, EvaluationResult, Layer, PolicySet

# Never answered without evaluation: an identity-only allow on a KMS key is conditional (the key
# policy must also allow), and sts:GetCallerIdentity is allowed whatever the policies say.
_KMS = "kms:*"
_NO_PERMISSION = "sts:getcalleridentity"

# Services whose ARNs carry no account id (S3 buckets and objects).
_GLOBAL_ACCOUNTLESS = frozenset({"s3"})

# Decisions from the least favourable (see decide_requirement; features pick a requirement's worst
# resource by it too).
SEVERITY = {
    Decision.EXPLICIT_DENY: 0,
    Decision.IMPLICIT_DENY: 1,
    Decision.UNKNOWN: 2,
    Decision.CONDITIONAL: 3,
    Decision.ALLOWED: 4,
}


def _requests(context: tuple[tuple[str, tuple[str, ...]], ...]) -> list[dict[str, tuple[str, ...]]]:
    """The request contexts a requirement's context stands for: one per combination of values."""
    requests: list[dict[str, tuple[str, ...]]] = [{}]
    for name, values in context:
        requests = [{**known, name.lower(): (value,)} for known in requests for value in values]
    return requests


# The question a memo entry answers: the literal request; allowed on all of a scope; allowed on all
# of it, an Allow on part of it counting as conditional.
_LITERAL, _WHOLE, _SOME = 0, 1, 2


@dataclass(frozen=True, slots=True)
class RoleDecision:
    """An evaluation result, adjusted for what could not be read.

    ``unknown_reasons`` is non-empty when the decision had to become ``unknown`` because a policy of
    the role could not be read (it might allow or deny what the readable ones do not).
    """

    result: EvaluationResult
    decision: Decision
    unknown_reasons: tuple[str, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the answer is not a plain yes or no, for the verdict's text: unreadable policies, what
        AWS decides outside the policies (a KMS key's key policy), and readings AWS's documentation
        leaves open."""
        undecided = tuple(reason for u in self.result.uncertain for reason in u.undecided)
        return (*self.unknown_reasons, *self.result.notes, *undecided)


@dataclass(frozen=True, slots=True)
class _FocusView:
    """A role's policies through a focus (see action_sets.Focus), as local masks."""

    focus: Focus
    # Named by an identity Allow or any Deny (or never answered without evaluation, see _KMS).
    named: int
    # Allowed on every resource with no condition in every layer and named by no Deny: allowed
    # whatever the scope or the context.
    surely: int
    # Each identity-based policy, in order, with the actions it names in an Allow or a Deny.
    naming: tuple[tuple[CompiledPolicy, int], ...]


class RoleEvaluator:
    """Evaluates actions for one role; results are memoised per (action, resource)."""

    def __init__(
        self,
        role: Role,
        scps: Sequence[Sequence[Policy]] = (),
        *,
        scp_unknown_reason: str | None = None,
        index: ActionIndex | None = None,
        memo: AuditMemo | None = None,
    ) -> None:
        """``memo``: the run's (see audit/memo.py), when several roles are evaluated; without one
        the evaluator remembers only its own answers."""
        self.role = role
        self.index = index
        self.memo = memo if memo is not None else AuditMemo()
        identity = [ap.policy for ap in role.policies if ap.policy is not None]
        boundary = role.permissions_boundary.policy if role.permissions_boundary else None
        self.policy_set = PolicySet.build(identity, boundary, scps, memo=self.memo.evaluation)
        unknown: dict[Layer, list[str]] = {}
        for attached in role.policies:
            if attached.policy is None:
                unknown.setdefault(Layer.IDENTITY, []).append(
                    attached.unknown_reason or f"policy {attached.name} could not be read"
                )
        if role.unknowns:
            unknown.setdefault(Layer.IDENTITY, []).extend(role.unknowns)
        if role.permissions_boundary is not None and role.permissions_boundary.policy is None:
            unknown.setdefault(Layer.BOUNDARY, []).append(
                role.permissions_boundary.unknown_reason
                or f"permissions boundary {role.permissions_boundary.name} could not be read"
            )
        if scp_unknown_reason:
            unknown.setdefault(Layer.SCP, []).append(scp_unknown_reason)
        self.unknown_layers: Mapping[Layer, tuple[str, ...]] = {k: tuple(v) for k, v in unknown.items()}
        self._memo: dict[tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...], int], RoleDecision] = {}
        arn_parts = (role.arn or "").split(":")
        self._account = (
            arn_parts[4] if len(arn_parts) > 4 and (arn_parts[4].isdigit() or arn_parts[4] == OWN_ACCOUNT) else None
        )
        self._partition = arn_parts[1] if len(arn_parts) > 4 else "aws"
        self._focused: _FocusView | None = None  # see _view
        # Masks of catalogue positions (see action_sets), when the sets are complete: no SCP to
        # weigh, no unresolved action.
        self._mentions: int | None = None
        self._boundary_mentions: int | None = None
        if index is not None and not scps:
            summaries = [self.summary(p) for p in self.policy_set.identity]
            bound = self.summary(self.policy_set.boundary) if self.policy_set.boundary is not None else None
            every = [*summaries, *([bound] if bound is not None else [])]
            if not any(s.unresolved for s in every):
                # Named by no identity Allow and by no Deny anywhere: certainly an implicit deny.
                self._mentions = union(s.mentions | s.deny_all | s.deny_some for s in summaries) | (
                    bound.deny_all | bound.deny_some if bound is not None else 0
                )
                self._boundary_mentions = bound.mentions if bound is not None else None

    def summary(self, compiled: CompiledPolicy, index: ActionIndex | None = None) -> PolicyActions:
        """A compiled policy's action sets over the catalogue of ``index`` (by default the
        evaluator's), worked out once per run."""
        index = index if index is not None else self.index
        assert index is not None
        return index.summary(compiled, self.memo.summaries, self.memo.element_sets)

    @property
    def unknown_reasons(self) -> tuple[str, ...]:
        return tuple(reason for reasons in self.unknown_layers.values() for reason in reasons)

    def takes_no_resources(self, action: str) -> bool:
        """Whether the catalogue (through ``index``) says ``action`` takes no resource-level
        permissions; False when it does not know (no index, or an action it lacks)."""
        if self.index is None:
            return False
        position = self.index.position.get(action.lower())
        return position is not None and not self.index.resource_level[position]

    def decide(self, action: str, resource: str = "*") -> RoleDecision:
        """The decision with no request context (conditions stay open). For an action that takes no
        resource-level permissions, the literal request (its resource is ``*``, see
        ``PolicySet.decide``); for any other, whether it is allowed on every resource ``resource``
        stands for (``PolicySet.decide_scope``), an Allow on part of it being no allow."""
        literal = self.takes_no_resources(action)
        key = (action.lower(), resource, (), _LITERAL if literal else _WHOLE)
        hit = self._memo.get(key)
        if hit is None:
            named = self._named(action)
            if not named:
                hit = self._unmentioned(action, resource)
            if hit is None:
                result = (
                    self.policy_set.decide(action, "*", named=named)
                    if literal
                    else self._on_scope(action, resource, None, named, partial_allows=False)
                )
                hit = self.adjust(result)
            self._memo[key] = hit
        return hit

    def decide_requirement(
        self,
        action: str,
        scope: str,
        context: tuple[tuple[str, tuple[str, ...]], ...] = (),
        *,
        resource_level: bool = True,
    ) -> RoleDecision:
        """The decision for a rule's required action on its resource scope.

        An action that takes resources (``resource_level``) is asked whether it is allowed on all of
        the scope, an Allow that covers part of it making the answer conditional; the scope's account
        and partition are the role's own when known. An action that takes none is asked as AWS
        receives it: the literal request on ``*`` (its rules' scope is always ``*``), which only a
        statement whose Resource matches the text ``*`` (or whose NotResource does not) grants or
        denies. The context holds only what the rule knows about the request (e.g.
        ``iam:PassedToService``) and every other key is unknown; a key with several values stands
        for one request per value, and the least favourable answer is the requirement's.
        """
        literal = not resource_level
        scope = "*" if literal else self._localise(scope)
        key = (action.lower(), scope, context, _LITERAL if literal else _SOME)
        hit = self._memo.get(key)
        if hit is None:
            named = self._named(action)
            if not named:
                hit = self._unmentioned(action, scope)
            if hit is None:
                # One request per value: Zeet passes a role to EKS in one request and to EC2 in another.
                decisions = [
                    self.adjust(self._requirement(action, scope, known, literal, named)) for known in _requests(context)
                ]
                hit = decisions[0] if len(decisions) == 1 else min(decisions, key=lambda d: SEVERITY[d.decision])
            self._memo[key] = hit
        return hit

    def _requirement(
        self,
        action: str,
        scope: str,
        known: dict[str, tuple[str, ...]],
        literal: bool,
        named: tuple[CompiledPolicy, ...] | None,
    ) -> EvaluationResult:
        if literal:
            return self.policy_set.decide(action, "*", known, complete_context=False, named=named)
        return self._on_scope(action, scope, known, named, partial_allows=True)

    def _on_scope(
        self,
        action: str,
        scope: str,
        known: Mapping[str, tuple[str, ...]] | None,
        named: tuple[CompiledPolicy, ...] | None,
        *,
        partial_allows: bool,
    ) -> EvaluationResult:
        """Whether ``action`` is allowed on all of ``scope``. A scope of ``*`` also stands for the
        request that names no resource (a classic ``cloudwatch:GetMetricData`` call, although the
        catalogue lists an optional resource type for the action), which AWS evaluates on the
        literal ``*``: when that request is explicitly denied (a Deny with a NotResource that lists
        other resources, say), the explicit deny is the answer rather than a Deny on part of it."""
        complete = known is None
        result = self.policy_set.decide_scope(
            action, scope, known, complete_context=complete, partial_allows=partial_allows, named=named
        )
        if scope != "*" or result.decision in (Decision.ALLOWED, Decision.EXPLICIT_DENY):
            return result
        request = self.policy_set.decide(action, "*", known, complete_context=complete, named=named)
        return request if request.decision is Decision.EXPLICIT_DENY else result

    def _view(self, focus: Focus) -> _FocusView:
        """The role's policies seen through ``focus`` (worked out once per focus)."""
        if self._focused is not None and self._focused.focus is focus:
            return self._focused
        identity = self.policy_set.identity
        summaries = [focus.summary(p) for p in identity]
        bound = focus.summary(self.policy_set.boundary) if self.policy_set.boundary is not None else None
        denied = union(s.denied for s in summaries) | (bound.denied if bound is not None else 0)
        surely = union(s.allow_all for s in summaries)
        if bound is not None:
            surely &= bound.allow_all
        evaluate = focus.pattern(_KMS) | focus.pattern(_NO_PERMISSION)
        self._focused = _FocusView(
            focus,
            named=union(s.mentions for s in summaries) | denied | evaluate,
            surely=surely & ~denied & ~evaluate,
            naming=tuple((p, s.mentions | s.denied) for p, s in zip(identity, summaries, strict=True)),
        )
        return self._focused

    def surely_allowed(self, focus: Focus, positions: int) -> int:
        """Those of ``positions`` (a local mask of ``focus``) allowed unconditionally on every
        resource with no Deny naming them (none when that cannot be known cheaply, e.g. with SCPs or
        an unreadable policy)."""
        if self._mentions is None or self.unknown_layers:
            return 0
        return positions & self._view(focus).surely

    def unnamed(self, focus: Focus, positions: int) -> int:
        """Those of ``positions`` (a local mask of ``focus``) that no Allow and no Deny of the role
        names: certainly not allowed by the identity-based policies (none when that cannot be known
        cheaply)."""
        if self._mentions is None or self.unknown_layers:
            return 0
        return positions & ~self._view(focus).named

    def _named(self, action: str) -> tuple[CompiledPolicy, ...] | None:
        """The identity-based policies that name ``action`` in an Allow or a Deny, read from the
        focus's action sets when the action is in the focus (None: let the policies say)."""
        view = self._focused
        if view is None or self._mentions is None or self.index is None:
            return None
        position = self.index.position.get(action.lower())
        local = view.focus.local.get(position) if position is not None else None
        if local is None:
            return None
        bit = 1 << local
        return tuple([policy for policy, named in view.naming if named & bit])

    def deciding(
        self, focus: Focus, positions: int
    ) -> tuple[tuple[CompiledPolicy, ...], CompiledPolicy | None, str | None, str] | None:
        """All that this role's decisions about ``positions`` (a local mask of ``focus``) depend on:
        the identity-based policies that name any of them in an Allow or a Deny (in order), the
        permissions boundary, and the account and partition a scope is placed in. Roles with equal
        answers get equal decisions. None when that cannot be known cheaply (SCPs, an unresolved or
        undecided Action element, an unreadable policy)."""
        if self._mentions is None or self.unknown_layers:
            return None
        naming = tuple(policy for policy, named in self._view(focus).naming if named & positions)
        return (naming, self.policy_set.boundary, self._account, self._partition)

    def _unmentioned(self, action: str, scope: str) -> RoleDecision | None:
        """The answer without evaluation when no identity Allow names the action: implicit deny."""
        if self.index is None or self._mentions is None:
            return None
        position = self.index.position.get(action.lower())
        if position is None or self._mentions >> position & 1 or action.lower() == _NO_PERMISSION:
            return None
        blocking = [Layer.IDENTITY]
        if self.policy_set.boundary is not None and (
            self._boundary_mentions is not None and not self._boundary_mentions >> position & 1
        ):
            blocking.append(Layer.BOUNDARY)
        result = EvaluationResult(
            action, scope, Decision.IMPLICIT_DENY, layer=Layer.IDENTITY, blocking_layers=tuple(blocking)
        )
        return self.adjust(result)

    def _localise(self, scope: str) -> str:
        if scope == "*" or not self._account:
            return scope
        parts = scope.split(":", 5)
        if len(parts) != 6:
            return scope
        if parts[4] == "*" and parts[2] not in _GLOBAL_ACCOUNTLESS:
            parts[4] = self._account
        if parts[1] == "aws":
            parts[1] = self._partition
        return ":".join(parts)

    def adjust(self, result: EvaluationResult) -> RoleDecision:
        """``result`` once unreadable policies are taken into account: unknown, unless an explicit
        deny or a fully readable layer without an allow settles it."""
        if not self.unknown_layers or result.decision is Decision.EXPLICIT_DENY:
            return RoleDecision(result, result.decision)
        if result.decision is Decision.IMPLICIT_DENY and any(
            layer not in self.unknown_layers for layer in result.blocking_layers
        ):
            # A layer that is fully known lacks an allow: no unreadable policy can change that.
            return RoleDecision(result, result.decision)
        return RoleDecision(result, Decision.UNKNOWN, self.unknown_reasons)
