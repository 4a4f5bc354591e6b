"""Policies compiled for evaluation: each statement turned once into matchers for its action, resource
and condition elements, reused for every decision, and one policy's share of a layer's outcome for a
request (``evaluate_layer``): the statements that certainly or possibly allow or deny. Combining the
layers into a decision is ``evaluate.py``'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zeet_iam_audit.memo import IdentityMemo, Memo
from zeet_iam_audit.model import Effect, Policy, Statement, Unresolved
from zeet_iam_audit.policy.conditions import ConditionUnknown, evaluate_condition
from zeet_iam_audit.policy.match import arn_covers, arn_matches, arns_intersect, compile_pattern, short_arn
from zeet_iam_audit.policy.results import EvaluationResult, Layer, StatementRef, Uncertainty
from zeet_iam_audit.policy.variables import Substituted, substitute


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
        self.wild: dict[str | None, tuple[Callable[[str], bool], ...]] = {}  # see _prepare
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
        # Entries with a wildcard in the service prefix ("*:GetBucket"): see evaluate.py's docstring.
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
        # Globs by the service they name ("ec2:describe*" can only match an action of ec2), and
        # under None those that may match any service ("*", "ec2*").
        wild: dict[str | None, list[Callable[[str], bool]]] = {}
        for pattern in resolved:
            if "*" in pattern or "?" in pattern:
                head, colon, _ = pattern.partition(":")
                service = head if colon and "*" not in head and "?" not in head else None
                wild.setdefault(service, []).append(compile_pattern(pattern))
        self.wild = {service: tuple(matchers) for service, matchers in wild.items()}
        self.exact = frozenset(p for p in resolved if "*" not in p and "?" not in p)
        return self.exact

    def covers(self, action: str) -> bool | None:
        """True or False, or None when only an unresolved or undecided entry could cover ``action``."""
        known = self._memo.get(action)
        if known is None:
            exact = self.exact if self.exact is not None else self._prepare()
            wild = self.wild
            hit = action in exact or (
                bool(wild)
                and (
                    any(m(action) for m in wild.get(action.partition(":")[0], ()))
                    or any(m(action) for m in wild.get(None, ()))
                )
            )
            if not hit and (self.unresolved or (self.open_services and any(m(action) for m in self.open_services))):
                return None
            known = hit != self.negate
            if len(self._memo) < 16384:
                self._memo[action] = known
        return known


def _wild_service(pattern: str) -> bool:
    head, colon, _ = pattern.partition(":")
    return bool(colon) and ("*" in head or "?" in head)


def _action_element(patterns: tuple[str, ...], negate: bool, memo: EvaluationMemo) -> _ActionElement:
    key = (patterns, negate)
    found = memo.elements.get(key)
    if found is None or found.unresolved:  # an element with unresolved values is not shared
        found = memo.elements.put(key, _ActionElement(patterns, negate))
    return found


def _covering(pattern: str) -> Callable[[str], bool]:
    return lambda scope: arn_covers(pattern, scope)


def _intersecting(pattern: str) -> Callable[[str], bool]:
    return lambda scope: arns_intersect(pattern, scope)


class EvaluationMemo:
    """What many evaluations share, owned by whoever makes them (an audit run; a ``PolicySet``
    built without one makes its own): equal Action elements matched once (inline policies cut from
    managed ones repeat them), Resource answers per scope shared by equal Resource elements, each
    parsed policy compiled once per layer, and decisions shared by principals whose deciding
    policies are the same compiled objects (see ``PolicySet.decide_scope``)."""

    __slots__ = ("compiled", "decisions", "elements", "scopes")

    def __init__(self) -> None:
        self.elements: Memo[tuple[tuple[str, ...], bool], _ActionElement] = Memo(65536)
        self.scopes: Memo[tuple[tuple[str, ...], bool], dict[str, tuple[bool, bool]]] = Memo(65536)
        self.compiled: IdentityMemo[CompiledPolicy] = IdentityMemo()
        self.decisions: Memo[tuple[Any, ...], EvaluationResult] = Memo(32768)


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

    def __init__(self, statement: Statement, ref: StatementRef, variables: bool, memo: EvaluationMemo) -> None:
        self.statement = statement
        self.ref = ref
        self.variables = variables
        patterns = statement.actions if statement.actions is not None else statement.not_actions
        self.actions = _action_element(tuple(patterns or ()), statement.actions is None, memo)
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
            self._scopes = memo.scopes.get(key)
            if self._scopes is None:
                self._scopes = memo.scopes.put(key, {})

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

    def __init__(
        self,
        policy: Policy,
        layer: Layer,
        name: str,
        scp_level: int | None = None,
        memo: EvaluationMemo | None = None,
    ) -> None:
        self.policy = policy
        variables = policy.version == "2012-10-17"
        shared = memo if memo is not None else EvaluationMemo()
        self.statements = tuple(
            _CompiledStatement(
                s,
                StatementRef(layer, name, s.index, s.sid, s.effect, policy.origin, scp_level),
                variables,
                shared,
            )
            for s in policy.statements
        )
        self._memo: dict[str, tuple[tuple[_CompiledStatement, Tri], ...]] = {}
        self._parts: dict[tuple[Any, ...], Part] = {}
        self._by_service: dict[str | None, tuple[_CompiledStatement, ...]] = {}

    def part(self, request: Request) -> Part:
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
    """The conjunction of a statement's element states. An open state is made fresh by each
    element's answer for one request, so the first one found carries the others merged into it."""
    if False in states:
        return False
    open_: _Open | None = None
    for state in states:
        if state is not True:
            assert isinstance(state, _Open)
            if open_ is None:
                open_ = state
            else:
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
class Request:
    action: str  # lower-cased
    scope: str
    context: Mapping[str, tuple[str, ...]] | None
    complete: bool  # False: keys absent from the context are unknown rather than missing
    partial_allows: bool  # an Allow on part of the scope is an uncertainty, not "no allow"
    key: tuple[Any, ...]  # the request as a hashable value, for the per-policy memo


Part = tuple[tuple[StatementRef, ...], tuple[Uncertainty, ...], tuple[StatementRef, ...], tuple[Uncertainty, ...]]
_NOTHING: Part = ((), (), (), ())


def evaluate_layer(policies: Sequence[CompiledPolicy], request: Request) -> Part:
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


def _evaluate_policy(policy: CompiledPolicy, request: Request) -> Part:
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
