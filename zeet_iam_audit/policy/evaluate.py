"""The decision: does a set of policies allow an action on a resource, as AWS IAM decides it.

The logic follows AWS's documented evaluation for a principal in its own account:

1. An explicit Deny in any policy of any layer (identity-based, permissions boundary, SCPs) wins.
2. Otherwise every layer present must allow: some identity-based policy; the permissions boundary,
   when the role has one; and every level of SCPs from the root down to the account.
3. Otherwise the request is implicitly denied.

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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from zeet_iam_audit.model import Effect, Policy, PolicyKind, Statement, Unresolved
from zeet_iam_audit.policy.conditions import (
    ConditionUnknown,
    evaluate_condition,
    normalise_context,
)
from zeet_iam_audit.policy.match import arn_covers, arn_matches, arns_intersect, compile_pattern, short_arn
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.policy.variables import (
    LITERAL_QUESTION,
    LITERAL_STAR,
    Substituted,
    literal_resource,
    literal_text,
    substitute,
)


class Decision(StrEnum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"
    CONDITIONAL = "conditional"
    # Only when a policy holds an unresolved template value (see model.Unresolved).
    UNKNOWN = "unknown"


class Layer(StrEnum):
    IDENTITY = "identity"
    BOUNDARY = "permissions_boundary"
    SCP = "scp"

    @property
    def description(self) -> str:
        """How AWS's own messages name the layer."""
        return {
            Layer.IDENTITY: "identity-based policy",
            Layer.BOUNDARY: "permissions boundary",
            Layer.SCP: "service control policy",
        }[self]


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Which statement of which policy, in which layer."""

    layer: Layer
    policy: str
    index: int
    sid: str | None
    effect: Effect
    origin: str = ""
    scp_level: int | None = None

    def __str__(self) -> str:
        sid = f' (Sid "{self.sid}")' if self.sid else ""
        level = f" level {self.scp_level}" if self.scp_level is not None else ""
        return f"{self.layer.description}{level} {self.policy!r} Statement[{self.index}]{sid}"


@dataclass(frozen=True, slots=True)
class Uncertainty:
    """A statement that might apply: what it depends on and whether it gates an Allow or a Deny."""

    statement: StatementRef
    gates: Effect
    keys: tuple[str, ...] = ()  # condition keys or policy variables with no value in the context
    unresolved: tuple[str, ...] = ()  # unresolved template values it depends on
    partial: bool = False  # a Deny that covers part of the resource scope, not all of it
    # Readings AWS's documentation leaves open (see the module docstring): the answer is unknown.
    undecided: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.keys:
            parts.append("condition keys " + ", ".join(self.keys))
        if self.unresolved:
            parts.append("unresolved values " + ", ".join(self.unresolved))
        if self.undecided:
            parts.append("; ".join(self.undecided))
        if self.partial:
            parts.append("part of the resource scope")
        return f"{self.gates.value} in {self.statement} depends on {'; '.join(parts)}"


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """The decision for one action on one resource, and why."""

    action: str
    resource: str
    decision: Decision
    layer: Layer | None = None  # the layer that decided a deny (explicit, or the first lacking an allow)
    deciding: tuple[StatementRef, ...] = ()  # the Deny statements, or the Allow statements per layer
    uncertain: tuple[Uncertainty, ...] = ()
    blocking_layers: tuple[Layer, ...] = ()  # every layer that lacks an allow (implicit deny)
    # What decided the answer besides the statements: a permission AWS never checks, a resource
    # policy that must also allow (``GET_CALLER_IDENTITY_NOTE``, ``KEY_POLICY_NOTE``).
    notes: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def condition_keys(self) -> tuple[str, ...]:
        """Every condition key the answer depends on, sorted case-insensitively."""
        keys = {k for u in self.uncertain for k in u.keys}
        return tuple(sorted(keys, key=str.lower))

    def explain(self) -> str:
        """One paragraph a person can read: the decision, the layer and the statements."""
        head = f"{self.action} on {self.resource}: {self.decision.value}"
        lines = [head]
        if self.decision is Decision.EXPLICIT_DENY:
            lines.extend(f"  denied by {ref}" for ref in self.deciding)
        elif self.decision is Decision.IMPLICIT_DENY:
            lines.extend(f"  no {layer.description} allows it" for layer in self.blocking_layers)
        else:
            lines.extend(f"  allowed by {ref}" for ref in self.deciding)
        lines.extend(f"  {u.describe()}" for u in self.uncertain)
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Compilation: every policy is turned once into matchers, reused for every decision.


@dataclass(slots=True)
class _Open:
    keys: set[str] = field(default_factory=set)
    unresolved: set[str] = field(default_factory=set)
    partial: bool = False
    undecided: frozenset[str] = frozenset()  # rare: a new set only when one is added

    def merge(self, other: _Open) -> None:
        self.keys |= other.keys
        self.unresolved |= other.unresolved
        self.partial = self.partial or other.partial
        if other.undecided:
            self.undecided |= other.undecided


Tri = bool | _Open


class _ActionElement:
    """An Action or NotAction element's matcher, shared by every statement with the same element
    (inline policies cut from managed ones repeat their elements), with its answers memoised."""

    __slots__ = ("_memo", "exact", "negate", "open_services", "patterns", "services", "undecided", "unresolved", "wild")

    def __init__(self, patterns: tuple[str, ...], negate: bool) -> None:
        self.negate = negate
        self.unresolved = tuple(p.reason for p in patterns if isinstance(p, Unresolved))
        self.patterns = patterns
        # The matchers are made when first needed: most elements are never asked about an action,
        # since they name none of the services asked about (see ``services``).
        self.exact: frozenset[str] | None = None
        self.wild: tuple[Callable[[str], bool], ...] = ()
        self._memo: dict[str, bool] = {}
        # The services this element can cover, when every entry starts with a literal "service:"
        # (a glob can then only match actions of that service); None: it may cover any action.
        self.services: frozenset[str] | None = None
        self.open_services: tuple[Callable[[str], bool], ...] = ()
        self.undecided: tuple[str, ...] = ()
        if not negate and not self.unresolved:
            heads = {p.partition(":")[:2] for p in patterns}
            if all(colon and "*" not in head and "?" not in head for head, colon in heads):
                self.services = frozenset(head.lower() for head, _ in heads)
                return
        # Entries with a wildcard in the service prefix ("*:GetBucket"): see the module docstring.
        open_services = [p.lower() for p in patterns if not isinstance(p, Unresolved) and _wild_service(p)]
        if open_services:
            self.open_services = tuple(compile_pattern(p) for p in open_services)
            self.undecided = tuple(
                f"Action entry {p!r} has a wildcard in the service prefix, which AWS documents no meaning for"
                for p in open_services
            )

    def _prepare(self) -> frozenset[str]:
        resolved = [p.lower() for p in self.patterns if not isinstance(p, Unresolved)]
        if self.undecided:
            resolved = [p for p in resolved if p == "*" or not _wild_service(p)]
        self.wild = tuple(compile_pattern(p) for p in resolved if "*" in p or "?" in p)
        self.exact = frozenset(p for p in resolved if "*" not in p and "?" not in p)
        return self.exact

    def covers(self, action: str) -> bool | None:
        """True or False, or None when only an unresolved or undecided entry could cover ``action``."""
        known = self._memo.get(action)
        if known is None:
            exact = self.exact if self.exact is not None else self._prepare()
            hit = action in exact or any(m(action) for m in self.wild)
            if not hit and (self.unresolved or (self.open_services and any(m(action) for m in self.open_services))):
                return None
            known = hit != self.negate
            if len(self._memo) < 16384:
                self._memo[action] = known
        return known


def _wild_service(pattern: str) -> bool:
    head, colon, _ = pattern.partition(":")
    return bool(colon) and ("*" in head or "?" in head)


_ELEMENTS: dict[tuple[tuple[str, ...], bool], _ActionElement] = {}


def _action_element(patterns: tuple[str, ...], negate: bool) -> _ActionElement:
    key = (patterns, negate)
    found = _ELEMENTS.get(key)
    if found is None or found.unresolved:  # an element with unresolved values is not shared
        found = _ActionElement(patterns, negate)
        if len(_ELEMENTS) >= 65536:
            _ELEMENTS.clear()
        _ELEMENTS[key] = found
    return found


def _covering(pattern: str) -> Callable[[str], bool]:
    return lambda scope: arn_covers(pattern, scope)


def _intersecting(pattern: str) -> Callable[[str], bool]:
    return lambda scope: arns_intersect(pattern, scope)


# Resource answers per scope, shared by statements whose Resource/NotResource element is the same.
_SCOPE_MEMOS: dict[tuple[tuple[str, ...], bool], dict[str, tuple[bool, bool]]] = {}


class _CompiledStatement:
    __slots__ = (
        "_scopes",
        "actions",
        "any_resource",
        "conditions",
        "negate_resource",
        "ref",
        "resources",
        "statement",
        "variables",
    )

    def __init__(self, statement: Statement, ref: StatementRef, variables: bool) -> None:
        self.statement = statement
        self.ref = ref
        self.variables = variables
        patterns = statement.actions if statement.actions is not None else statement.not_actions
        self.actions = _action_element(tuple(patterns or ()), statement.actions is None)
        resources = statement.resources if statement.resources is not None else statement.not_resources
        self.negate_resource = statement.resources is None and statement.not_resources is not None
        self.resources = tuple(resources) if resources is not None else None
        self.any_resource = self.resources is None or (not self.negate_resource and "*" in self.resources)
        self.conditions = statement.conditions
        # Answers per scope, for elements without variables, unresolved values or (outside SCPs)
        # short ARNs: they are pure. An element that holds "*" needs none.
        self._scopes: dict[str, tuple[bool, bool]] | None = None
        if (
            self.resources is not None
            and not self.any_resource
            and not any(
                isinstance(r, Unresolved)
                or "${" in r
                or (r.startswith("arn:") and r.count(":") < 5 and ref.layer is not Layer.SCP)  # a short ARN
                for r in self.resources
            )
        ):
            key = (self.resources, self.negate_resource)
            self._scopes = _SCOPE_MEMOS.get(key)
            if self._scopes is None:
                if len(_SCOPE_MEMOS) >= 65536:
                    _SCOPE_MEMOS.clear()
                self._scopes = _SCOPE_MEMOS[key] = {}

    def action_state(self, action: str) -> Tri:
        """Whether the Action/NotAction element covers ``action`` (lower-cased)."""
        covered = self.actions.covers(action)
        if covered is None:
            return _Open(unresolved=set(self.actions.unresolved), undecided=frozenset(self.actions.undecided))
        return covered

    def resource_state(
        self, scope: str, context: Mapping[str, tuple[str, ...]] | None, complete: bool = True
    ) -> tuple[Tri, Tri]:
        """(covers the whole scope, covers some of it) for the Resource/NotResource element."""
        if self.any_resource:
            return True, True
        assert self.resources is not None
        if self._scopes is not None:
            known = self._scopes.get(scope)
            if known is None:
                known = self._plain_resource_state(scope)
                if len(self._scopes) < 4096:
                    self._scopes[scope] = known
            return known
        full_hits: list[bool] = []
        some_hits: list[bool] = []
        open_: _Open | None = None
        for raw in self.resources:
            value = substitute(raw, context, enabled=self.variables)
            if value.unresolved or value.unknown_keys:
                open_ = open_ or _Open()
                if value.unresolved:
                    open_.unresolved.add(value.unresolved)
                open_.keys.update(value.unknown_keys)
                continue
            if value.missing:
                if not complete:  # a key the partial context does not hold: unknown, not absent
                    open_ = open_ or _Open()
                    open_.keys.update(value.missing_keys)
                continue
            full = value.matches(scope, _covering)
            some = value.matches(scope, _intersecting)
            wide = short_arn(value.pattern) if self.ref.layer is not Layer.SCP else None
            if wide is not None:
                # A short ARN: read as it stands and with its missing fields as wildcards.
                widened = Substituted(pattern=wide)
                if (full, some) != (widened.matches(scope, _covering), widened.matches(scope, _intersecting)):
                    open_ = open_ or _Open()
                    open_.undecided |= {
                        f"Resource entry {raw!r} has fewer than six ARN fields, which AWS documents no meaning for"
                    }
                    continue
            full_hits.append(full)
            some_hits.append(some)
        full = any(full_hits)
        some = any(some_hits)
        if self.negate_resource:
            # NotResource applies to what none of its entries matches.
            full, some = not some, not full
            if open_ is not None:
                return (open_ if full else False), (open_ if some else False)
            return full, some
        if open_ is not None:
            return (True if full else open_), (True if some else open_)
        return full, some

    def _plain_resource_state(self, scope: str) -> tuple[bool, bool]:
        assert self.resources is not None
        if "*" in scope or "?" in scope:
            full = any(arn_covers(r, scope) for r in self.resources)
            some = full or any(arns_intersect(r, scope) for r in self.resources)
        else:
            full = some = any(arn_matches(r, scope) for r in self.resources)
        return (not some, not full) if self.negate_resource else (full, some)

    def condition_state(self, context: Mapping[str, tuple[str, ...]] | None, complete: bool = True) -> Tri:
        if not self.conditions:
            return True
        if context is None:
            return _Open(
                keys={c.key for c in self.conditions},
                unresolved={v.reason for c in self.conditions for v in c.values if isinstance(v, Unresolved)},
            )
        open_: _Open | None = None
        for condition in self.conditions:
            if not complete and condition.key.lower() not in context:
                open_ = open_ or _Open()
                open_.keys.add(condition.key)
                # An unresolved value leaves the condition unknown, whatever the key turns out to be.
                open_.unresolved.update(v.reason for v in condition.values if isinstance(v, Unresolved))
                continue
            try:
                if not evaluate_condition(condition, context, variables=self.variables):
                    return False
            except ConditionUnknown as unknown:
                open_ = open_ or _Open()
                if unknown.undecided:
                    open_.undecided |= {unknown.reason}
                else:
                    open_.unresolved.add(unknown.reason)
        return open_ if open_ is not None else True


class CompiledPolicy:
    """A policy turned into matchers, with a memo of which statements name each action."""

    __slots__ = ("_by_service", "_memo", "_parts", "policy", "statements")
    _MEMO_LIMIT = 8192

    def __init__(self, policy: Policy, layer: Layer, name: str, scp_level: int | None = None) -> None:
        self.policy = policy
        variables = policy.version == "2012-10-17"
        self.statements = tuple(
            _CompiledStatement(
                s,
                StatementRef(layer, name, s.index, s.sid, s.effect, policy.origin, scp_level),
                variables,
            )
            for s in policy.statements
        )
        self._memo: dict[str, tuple[tuple[_CompiledStatement, Tri], ...]] = {}
        self._parts: dict[tuple[Any, ...], _Part] = {}
        self._by_service: dict[str | None, tuple[_CompiledStatement, ...]] = {}

    def part(self, request: _Request) -> _Part:
        """This policy's allows and denies for a request (memoised: a managed policy attached to many
        roles answers each question once)."""
        if not self.candidates(request.action):
            return _NOTHING  # most policies of a role name no action of the service asked about
        found = self._parts.get(request.key)
        if found is None:
            found = _evaluate_policy(self, request)
            if len(self._parts) < self._MEMO_LIMIT:
                self._parts[request.key] = found
        return found

    def candidates(self, action: str) -> tuple[tuple[_CompiledStatement, Tri], ...]:
        """The statements whose Action element might cover ``action`` (lower-cased)."""
        found = self._memo.get(action)
        if found is None:
            found = tuple(
                (s, state) for s in self._of_service(action) if (state := s.action_state(action)) is not False
            )
            if len(self._memo) < self._MEMO_LIMIT:
                self._memo[action] = found
        return found

    def _of_service(self, action: str) -> tuple[_CompiledStatement, ...]:
        """The statements that might name ``action``, in order: a glob is matched only against
        actions of the services its entries name (most statements name one or two services)."""
        service = action.partition(":")[0] if ":" in action else None
        found = self._by_service.get(service)
        if found is None:
            found = tuple(s for s in self.statements if (services := s.actions.services) is None or service in services)
            self._by_service[service] = found
        return found


def _and(*states: Tri) -> Tri:
    open_: _Open | None = None
    for state in states:
        if state is False:
            return False
        if isinstance(state, _Open):
            open_ = open_ or _Open()
            open_.merge(state)
    return open_ if open_ is not None else True


@dataclass(slots=True)
class _LayerOutcome:
    certain_allows: list[StatementRef] = field(default_factory=list)
    possible_allows: list[Uncertainty] = field(default_factory=list)
    certain_denies: list[StatementRef] = field(default_factory=list)
    possible_denies: list[Uncertainty] = field(default_factory=list)


def _uncertainty(ref: StatementRef, effect: Effect, state: _Open) -> Uncertainty:
    keys, unresolved = state.keys, state.unresolved
    return Uncertainty(
        statement=ref,
        gates=effect,
        keys=tuple(sorted(keys, key=str.lower)) if len(keys) > 1 else tuple(keys),
        unresolved=tuple(sorted(unresolved)) if len(unresolved) > 1 else tuple(unresolved),
        partial=state.partial,
        undecided=tuple(sorted(state.undecided)) if state.undecided else (),
    )


@dataclass(slots=True)
class _Request:
    action: str  # lower-cased
    scope: str
    context: Mapping[str, tuple[str, ...]] | None
    complete: bool  # False: keys absent from the context are unknown rather than missing
    partial_allows: bool  # an Allow on part of the scope is an uncertainty, not "no allow"
    key: tuple[Any, ...]  # the request as a hashable value, for the per-policy memo


_Part = tuple[tuple[StatementRef, ...], tuple[Uncertainty, ...], tuple[StatementRef, ...], tuple[Uncertainty, ...]]
_NOTHING: _Part = ((), (), (), ())


def _evaluate_layer(policies: Sequence[CompiledPolicy], request: _Request) -> _Part:
    """A layer's (certain allows, possible allows, certain denies, possible denies): its policies'
    parts joined in order (most requests concern one policy of a layer, or none)."""
    found = _NOTHING
    joined: list[list[Any]] | None = None
    for policy in policies:
        part = policy.part(request)
        if part is _NOTHING:
            continue
        if found is _NOTHING:
            found = part
            continue
        if joined is None:
            joined = [list(items) for items in found]
        for items, more in zip(joined, part, strict=True):
            items.extend(more)
    if joined is None:
        return found
    return tuple(joined[0]), tuple(joined[1]), tuple(joined[2]), tuple(joined[3])


def _evaluate_policy(policy: CompiledPolicy, request: _Request) -> _Part:
    """One policy's share of a layer's outcome: it depends on nothing but the policy and the request."""
    outcome = _LayerOutcome()
    context, complete = request.context, request.complete
    candidates = policy.candidates(request.action)
    if not candidates:
        return _NOTHING
    for statement, action_state in candidates:
        full, some = statement.resource_state(request.scope, context, complete)
        if statement.ref.effect is Effect.ALLOW:
            if full is False:
                if not request.partial_allows or some is False:
                    continue
                partial = _Open(partial=True)
                if isinstance(some, _Open):
                    partial.merge(some)
                full = partial
            state = _and(action_state, full, statement.condition_state(context, complete))
            if state is True:
                outcome.certain_allows.append(statement.ref)
            elif isinstance(state, _Open):
                outcome.possible_allows.append(_uncertainty(statement.ref, Effect.ALLOW, state))
        else:
            if some is False:
                continue
            state = _and(action_state, some, statement.condition_state(context, complete))
            if state is False:
                continue
            if state is True and full is True:
                outcome.certain_denies.append(statement.ref)
                continue
            open_ = state if isinstance(state, _Open) else _Open()
            if isinstance(full, _Open):
                open_.merge(full)
            elif full is False:
                open_.partial = True  # the Deny covers part of the scope only
            outcome.possible_denies.append(_uncertainty(statement.ref, Effect.DENY, open_))
    if not (outcome.certain_allows or outcome.possible_allows or outcome.certain_denies or outcome.possible_denies):
        return _NOTHING
    return (
        tuple(outcome.certain_allows),
        tuple(outcome.possible_allows),
        tuple(outcome.certain_denies),
        tuple(outcome.possible_denies),
    )


# ---------------------------------------------------------------------------------------------
# Inputs: documents, strings or parsed policies; compiled once and cached by identity.

PolicyInput = Policy | Mapping[str, Any] | str
_COMPILED: dict[tuple[int, Layer, int | None], tuple[Policy, CompiledPolicy]] = {}
_COMPILED_LIMIT = 16384


def compile_policy(
    policy: PolicyInput, layer: Layer = Layer.IDENTITY, *, name: str = "", scp_level: int | None = None
) -> CompiledPolicy:
    """Parse (if needed) and compile one policy; parsed ``Policy`` values are compiled once."""
    if not isinstance(policy, Policy):
        parsed = parse_policy(policy, kind=PolicyKind.IDENTITY, name=name)
        return CompiledPolicy(parsed, layer, name or parsed.name, scp_level)
    key = (id(policy), layer, scp_level)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is policy:
        return hit[1]
    compiled = CompiledPolicy(policy, layer, name or policy.name or "policy", scp_level)
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    _COMPILED[key] = (policy, compiled)  # holding the policy keeps its id from being reused
    return compiled


def _compile_all(policies: Iterable[PolicyInput], layer: Layer, scp_level: int | None = None) -> list[CompiledPolicy]:
    compiled = []
    for position, policy in enumerate(policies):
        label = policy.name if isinstance(policy, Policy) and policy.name else f"policy[{position}]"
        compiled.append(compile_policy(policy, layer, name=label, scp_level=scp_level))
    return compiled


# Decisions by request and deciding policies (see PolicySet.decide); the key holds the compiled
# policies themselves, so their ids are not reused while an entry exists.
_DECISIONS: dict[tuple[Any, ...], EvaluationResult] = {}
_DECISIONS_LIMIT = 32768


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every layer that applies to one principal, compiled: reuse it for many decisions."""

    identity: tuple[CompiledPolicy, ...]
    boundary: CompiledPolicy | None = None
    scps: tuple[tuple[CompiledPolicy, ...], ...] = ()

    @classmethod
    def build(
        cls,
        identity_policies: Iterable[PolicyInput] = (),
        permissions_boundary: PolicyInput | None = None,
        scps: Sequence[Sequence[PolicyInput]] = (),
    ) -> PolicySet:
        boundary = None
        if permissions_boundary is not None:
            boundary = _compile_all([permissions_boundary], Layer.BOUNDARY)[0]
        return cls(
            identity=tuple(_compile_all(identity_policies, Layer.IDENTITY)),
            boundary=boundary,
            scps=tuple(tuple(_compile_all(level, Layer.SCP, i)) for i, level in enumerate(scps)),
        )

    def decide(
        self,
        action: str,
        resource: str = "*",
        context: Mapping[str, tuple[str, ...]] | None = None,
        *,
        complete_context: bool = True,
    ) -> EvaluationResult:
        """The decision for one request: ``action`` on the literal ``resource`` (a ``*`` or ``?`` in
        it is a character, not a wildcard; ``*`` is what AWS evaluates for an action that takes no
        resource-level permissions). ``context`` keys must be lower-cased.

        ``complete_context=False`` treats keys absent from ``context`` as unknown (the audit knows
        some keys, e.g. ``iam:PassedToService``, and nothing else).
        """
        # A literal resource is a scope without wildcards: its own are escaped (see literal_text).
        return self.decide_scope(action, literal_text(resource), context, complete_context=complete_context)

    def decide_scope(
        self,
        action: str,
        scope: str,
        context: Mapping[str, tuple[str, ...]] | None = None,
        *,
        complete_context: bool = True,
        partial_allows: bool = False,
    ) -> EvaluationResult:
        """Whether ``action`` is allowed on every resource the ``scope`` pattern stands for
        (``*`` and ``?`` in it are wildcards): the audit's question for a rule's resource scope.

        A Deny that covers part of the scope makes the answer conditional. ``partial_allows=True``
        makes an Allow that covers only part of the scope an uncertainty instead of no allow.
        ``context`` and ``complete_context`` as for ``decide``.
        """
        complete = complete_context or context is None
        context_key = None if context is None else tuple(sorted(context.items()))
        lowered = action.lower()
        request_key = (lowered, scope, context_key, complete, partial_allows)
        # The decision depends on the request and on the policies that name the action (the others
        # contribute nothing): roles sharing those policies share it.
        shared_key = (
            action,
            request_key,
            self.boundary,
            self.scps,
            *[policy for policy in self.identity if policy.candidates(lowered)],
        )
        known = _DECISIONS.get(shared_key)
        if known is not None:
            return known
        resource = literal_resource(scope) if LITERAL_STAR in scope or LITERAL_QUESTION in scope else scope
        if lowered == "sts:getcalleridentity":
            result = EvaluationResult(action, resource, Decision.ALLOWED, notes=(GET_CALLER_IDENTITY_NOTE,))
        else:
            result = self._decide(
                action, resource, _Request(lowered, scope, context, complete, partial_allows, request_key)
            )
            if lowered.startswith("kms:") and arns_intersect(_KMS_KEYS, scope):
                result = _with_key_policy(result)
        if len(_DECISIONS) >= _DECISIONS_LIMIT:
            _DECISIONS.clear()
        _DECISIONS[shared_key] = result
        return result

    def _decide(self, action: str, resource: str, request: _Request) -> EvaluationResult:
        # Per layer: (certain allows, possible allows, certain denies, possible denies).
        layers: list[tuple[Layer, _Part]] = []
        for level in self.scps:
            layers.append((Layer.SCP, _evaluate_layer(level, request)))
        layers.append((Layer.IDENTITY, _evaluate_layer(self.identity, request)))
        if self.boundary is not None:
            layers.append((Layer.BOUNDARY, _evaluate_layer((self.boundary,), request)))

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
