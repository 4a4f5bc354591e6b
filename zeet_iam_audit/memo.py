"""Memos: answers worked out once and found again by whoever owns them.

A memo belongs to an object with a known life: an audit run (``audit.memo.AuditMemo``), a set of
evaluations (``policy.compiled.EvaluationMemo``), a compiled policy, a render. It is dropped with
its owner, so nothing a run remembers outlives the run. A memo only saves work: forgetting an entry
never changes an answer, so each one is bounded and simply starts again when full.

Two kinds, one eviction rule:

- ``Memo``: keyed by values (strings, tuples of them, frozen values that hash cheaply).
- ``IdentityMemo``: keyed by an object's identity, for objects that are costly to hash or compare
  (a parsed policy or an evaluation result is a frozen value holding whole documents). Each entry
  holds its object, so the object's id cannot be reused by another while the entry exists.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")

DEFAULT_LIMIT = 16384


class Memo(Generic[Key, Value]):
    """A bounded dict of answers by value."""

    __slots__ = ("_entries", "limit")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._entries: dict[Key, Value] = {}
        self.limit = limit

    def get(self, key: Key) -> Value | None:
        return self._entries.get(key)

    def put(self, key: Key, value: Value) -> Value:
        """Remember ``value`` under ``key`` and return it."""
        if len(self._entries) >= self.limit:
            self._entries.clear()
        self._entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self._entries)


class IdentityMemo(Generic[Value]):
    """A bounded dict of answers by an object's identity (and an optional value key beside it)."""

    __slots__ = ("_entries", "limit")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._entries: dict[tuple[int, Hashable], tuple[object, Value]] = {}
        self.limit = limit

    def get(self, owner: object, key: Hashable = None) -> Value | None:
        hit = self._entries.get((id(owner), key))
        return hit[1] if hit is not None and hit[0] is owner else None

    def put(self, owner: object, value: Value, key: Hashable = None) -> Value:
        """Remember ``value`` for ``owner`` (and ``key``) and return it; ``owner`` is held."""
        if len(self._entries) >= self.limit:
            self._entries.clear()
        self._entries[(id(owner), key)] = (owner, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)
