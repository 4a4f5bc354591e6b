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

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.catalog.values import ActionInfo
from zeet_iam_audit.model import Effect, Statement, Unresolved
from zeet_iam_audit.policy.evaluate import CompiledPolicy, _CompiledStatement

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
        self.position = {info.full.lower(): i for i, info in enumerate(self.infos)}
        self.everything = frozenset(range(len(self.infos)))
        # Positions follow the catalogue's order (service, then name), so one service's actions
        # are contiguous; these give each position's service and (service, access level).
        self.service_of = tuple(info.service for info in self.infos)
        self.group_key = tuple((info.service, info.access_level) for info in self.infos)
        self._summaries: dict[int, tuple[CompiledPolicy, PolicyActions]] = {}
        self._statements: dict[Statement, tuple[str, frozenset[int], bool]] = {}
        self.pattern = lru_cache(maxsize=None)(self._pattern)

    def _pattern(self, pattern: str) -> frozenset[int]:
        """Positions an Action entry covers (``pattern`` lower-cased)."""
        if "*" not in pattern and "?" not in pattern:
            found = self.position.get(pattern)
            return frozenset() if found is None else frozenset((found,))
        if pattern == "*":
            return self.everything
        return frozenset(self.position[info.full.lower()] for info in self.catalog.expand(pattern))

    def action_element(self, patterns: Iterable[str], negate: bool) -> frozenset[int]:
        covered: frozenset[int] = frozenset().union(*(self.pattern(p.lower()) for p in patterns))
        return self.everything - covered if negate else covered

    def summary(self, compiled: CompiledPolicy) -> PolicyActions:
        """The policy's action sets (computed once per compiled policy)."""
        hit = self._summaries.get(id(compiled))
        if hit is not None and hit[0] is compiled:
            return hit[1]
        summary = self._summarise(compiled)
        self._summaries[id(compiled)] = (compiled, summary)
        return summary

    def _statement_sets(self, statement: _CompiledStatement) -> tuple[str, frozenset[int], bool]:
        """(which set the statement's actions go to, the actions, whether any was unresolved).

        Cached by statement content: inline policies cut from managed ones share statements.
        """
        source = statement.statement
        hit = self._statements.get(source)
        if hit is not None:
            return hit
        patterns = source.actions if source.actions is not None else source.not_actions or ()
        unresolved = any(isinstance(p, Unresolved) for p in patterns)
        resolved = [p for p in patterns if not isinstance(p, Unresolved)]
        actions = self.action_element(resolved, negate=source.actions is None)
        everywhere = statement.any_resource and not any(
            isinstance(r, Unresolved) or "${" in r for r in statement.resources or ()
        )
        unconditional = not statement.conditions
        if source.effect is Effect.ALLOW:
            kind = "allow_scoped" if not everywhere else "allow_all" if unconditional else "allow_conditional"
        else:
            kind = "deny_all" if everywhere and unconditional else "deny_some"
        hit = (kind, actions, unresolved)
        if len(self._statements) < 200_000:
            self._statements[source] = hit
        return hit

    def _summarise(self, compiled: CompiledPolicy) -> PolicyActions:
        sets: dict[str, list[frozenset[int]]] = {
            "allow_all": [], "allow_conditional": [], "allow_scoped": [], "deny_all": [], "deny_some": []}
        unresolved = False
        for statement in compiled.statements:
            kind, actions, unresolved_here = self._statement_sets(statement)
            sets[kind].append(actions)
            unresolved = unresolved or unresolved_here
        merged = {kind: _EMPTY.union(*found) for kind, found in sets.items()}
        return PolicyActions(
            mentions=merged["allow_all"] | merged["allow_conditional"] | merged["allow_scoped"],
            unresolved=unresolved,
            **merged,
        )


_INDEXES: dict[int, tuple[Catalog, ActionIndex]] = {}


def action_index(catalog: Catalog) -> ActionIndex:
    """The index for ``catalog`` (built once per catalogue object)."""
    hit = _INDEXES.get(id(catalog))
    if hit is None or hit[0] is not catalog:
        hit = (catalog, ActionIndex(catalog))
        _INDEXES[id(catalog)] = hit
    return hit[1]
