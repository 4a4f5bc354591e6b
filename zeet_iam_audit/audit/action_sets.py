"""Per-policy action sets: what each policy document grants or denies, worked out once per document.

An audit of thousands of roles asks the same question of the same managed policies again and again.
Each distinct (compiled) policy is summarised once as sets of catalogue positions:

- ``mentions``: actions any Allow statement names (whatever its resource or condition);
- ``allow_all``: allowed on every resource with no condition;
- ``allow_conditional``: allowed on every resource under a condition;
- ``allow_scoped``: allowed only on some resources (Resource other than ``*``, or NotResource);
- ``deny_all`` / ``deny_some``: denied everywhere unconditionally / under a condition or on some
  resources.

A role's effective grants are then set algebra over its policies' summaries, done in C by Python's
``frozenset`` operations, instead of one evaluation per action.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.catalog.values import ActionInfo
from zeet_iam_audit.model import Effect, Unresolved
from zeet_iam_audit.policy.evaluate import CompiledPolicy, _ActionElement, _CompiledStatement
from zeet_iam_audit.policy.match import compile_pattern

_EMPTY: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class PolicyActions:
    mentions: frozenset[int]
    allow_all: frozenset[int]
    allow_conditional: frozenset[int]
    allow_scoped: frozenset[int]
    deny_all: frozenset[int]
    deny_some: frozenset[int]
    # An action element held an unresolved template value: the sets are incomplete.
    unresolved: bool = False


class ActionIndex:
    """Catalogue positions for every action, and pattern → positions, cached."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.infos: tuple[ActionInfo, ...] = tuple(catalog)
        # Every set of positions is made of these int objects: a large set then holds references
        # to shared ints rather than ints of its own (28 bytes each).
        self._ints = tuple(range(len(self.infos)))
        self.full_names = tuple(info.full for info in self.infos)  # as policies name them
        fulls = [full.lower() for full in self.full_names]
        self.position = dict(zip(fulls, self._ints, strict=True))
        self.everything = frozenset(self._ints)
        # Positions follow the catalogue's order (service, then name), so one service's actions
        # are contiguous; these give each position's service and (service, access level).
        self.service_of = tuple(info.service for info in self.infos)
        # The distinct (service, access level) pairs, and each position's pair as an index into them
        # (counting small ints is cheaper than counting tuples).
        ids: dict[tuple[str, str], int] = {}
        self.group_id = tuple(ids.setdefault((info.service, info.access_level), len(ids)) for info in self.infos)
        self.groups = tuple(ids)
        # Each position's lower-case name (after the colon), and each service's positions.
        split = [full.partition(":") for full in fulls]
        self._names = tuple(name for _, _, name in split)
        spans: dict[str, list[int]] = {}
        for at, (service, _, _) in zip(self._ints, split, strict=True):
            spans.setdefault(service, []).append(at)
        self._spans = {service: range(at[0], at[-1] + 1) if at[-1] - at[0] + 1 == len(at) else tuple(at)
                       for service, at in spans.items()}
        # Services whose names are in order (all, in the catalogue): a prefix is then found by bisection.
        self._ordered = frozenset(
            service for service, span in self._spans.items()
            if isinstance(span, range) and sorted(part := self._names[span.start:span.stop]) == list(part)
        )
        self._summaries: dict[int, tuple[CompiledPolicy, PolicyActions]] = {}
        self._elements: dict[int, tuple[_ActionElement, frozenset[int]]] = {}
        self._large: dict[frozenset[int], frozenset[int]] = {}
        self.pattern = lru_cache(maxsize=None)(self._pattern)

    def _pattern(self, pattern: str) -> frozenset[int]:
        """Positions an Action entry covers (``pattern`` lower-cased)."""
        if "*" not in pattern and "?" not in pattern:
            found = self.position.get(pattern)
            return frozenset() if found is None else frozenset((found,))
        if pattern == "*":
            return self.everything
        service, colon, name = pattern.partition(":")
        if colon and "*" not in service and "?" not in service:
            # A literal service: only its actions' names are matched (as Catalog.expand does).
            span = self._spans.get(service, ())
            ints = self._ints
            if name == "*":
                return frozenset(ints[span.start:span.stop] if isinstance(span, range) else span)
            names = self._names
            prefix = name[:-1]
            if name.endswith("*") and "*" not in prefix and "?" not in prefix and service in self._ordered:
                assert isinstance(span, range)
                start = end = bisect_left(names, prefix, span.start, span.stop)
                while end < span.stop and names[end].startswith(prefix):
                    end += 1
                return frozenset(ints[start:end])
            matches = compile_pattern(name)
            return frozenset(ints[at] for at in span if matches(names[at]))
        return frozenset(self.position[info.full.lower()] for info in self.catalog.expand(pattern))

    def action_element(self, patterns: Iterable[str], negate: bool) -> frozenset[int]:
        sets = [self.pattern(p.lower()) for p in patterns]
        # One pattern's set is shared through the cache: no copy (a copy of "*" is 20k positions).
        covered: frozenset[int] = sets[0] if len(sets) == 1 else _EMPTY.union(*sets)
        if negate:
            return _EMPTY if covered is self.everything else self.everything - covered
        return covered

    def summary(self, compiled: CompiledPolicy) -> PolicyActions:
        """The policy's action sets (computed once per compiled policy)."""
        hit = self._summaries.get(id(compiled))
        if hit is not None and hit[0] is compiled:
            return hit[1]
        summary = self._summarise(compiled)
        self._summaries[id(compiled)] = (compiled, summary)
        return summary

    def _element_positions(self, element: _ActionElement) -> frozenset[int]:
        """The positions an Action/NotAction element covers (its unresolved entries left out).

        Cached by element: the compiler shares one element among statements with the same action
        list (inline policies cut from managed ones repeat them).
        """
        hit = self._elements.get(id(element))
        if hit is not None and hit[0] is element:
            return hit[1]
        resolved = [p for p in element.patterns if not isinstance(p, Unresolved)]
        positions = self.action_element(resolved, negate=element.negate)
        # Only small sets (and the shared whole catalogue) are kept: thousands of elements each with
        # its own large set (a NotAction of one action, say) would otherwise hold gigabytes.
        if len(positions) <= _CACHED_SET_LIMIT or positions is self.everything:
            if len(self._elements) >= _CACHED_ELEMENTS:
                self._elements.clear()
            self._elements[id(element)] = (element, positions)
        return positions

    def _statement_sets(self, statement: _CompiledStatement) -> tuple[str, frozenset[int], bool]:
        """(which set the statement's actions go to, the actions, whether any was unresolved)."""
        actions = self._element_positions(statement.actions)
        everywhere = statement.any_resource and not any(
            isinstance(r, Unresolved) or "${" in r for r in statement.resources or ()
        )
        unconditional = not statement.conditions
        if statement.statement.effect is Effect.ALLOW:
            kind = "allow_scoped" if not everywhere else "allow_all" if unconditional else "allow_conditional"
        else:
            kind = "deny_all" if everywhere and unconditional else "deny_some"
        return kind, actions, bool(statement.actions.unresolved)

    def _summarise(self, compiled: CompiledPolicy) -> PolicyActions:
        # Merged as they come, never all held at once (a statement's set may be large and its own).
        sets: dict[str, set[int]] = {
            "allow_all": set(), "allow_conditional": set(), "allow_scoped": set(), "deny_all": set(),
            "deny_some": set()}
        full = len(self.everything)
        unresolved = False
        for statement in compiled.statements:
            kind, actions, unresolved_here = self._statement_sets(statement)
            if len(sets[kind]) < full:
                sets[kind] |= actions
            unresolved = unresolved or unresolved_here
        merged = {kind: self._shared(found) for kind, found in sets.items()}
        allows = [found for found in (merged["allow_all"], merged["allow_conditional"], merged["allow_scoped"])
                  if found]
        return PolicyActions(
            mentions=allows[0] if len(allows) == 1 else self._shared(_EMPTY.union(*allows)),
            unresolved=unresolved,
            **merged,
        )

    def _shared(self, found: set[int] | frozenset[int]) -> frozenset[int]:
        """``found`` as a frozenset, one object per value for large ones (policies that allow all but
        a few actions, with NotAction, are common and each set is large)."""
        if len(found) <= _CACHED_SET_LIMIT:
            return found if isinstance(found, frozenset) else frozenset(found)
        if len(found) == len(self.everything):
            return self.everything
        value = frozenset(found)
        if len(self._large) >= _CACHED_ELEMENTS:
            self._large.clear()
        return self._large.setdefault(value, value)


_INDEXES: dict[int, tuple[Catalog, ActionIndex]] = {}
_CACHED_SET_LIMIT = 256  # positions: element sets larger than this are not cached
_CACHED_ELEMENTS = 65536


def action_index(catalog: Catalog) -> ActionIndex:
    """The index for ``catalog`` (built once per catalogue object)."""
    hit = _INDEXES.get(id(catalog))
    if hit is None or hit[0] is not catalog:
        hit = (catalog, ActionIndex(catalog))
        _INDEXES[id(catalog)] = hit
    return hit[1]
