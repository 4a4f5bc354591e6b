"""A file's roles built on first use: an account-wide audit builds each role where it is audited.

Reading a role (parsing its trust policy, its inline policies, the managed policies it attaches) is
most of the time it takes to load an authorization-details file. A ``LazyRoles`` holds what is
needed to read each role (its raw entry and path) and reads it the first time it is asked for, by
index, slice or iteration; the role is then kept (and the raw entry let go), so each is read once
per run, and a role's raw entry is let go once it is read.

A role that cannot be read raises its ``InputError`` when it is first asked for, with the message
it would have had when the file was loaded. Iterating reads every role first, so a malformed role
fails a run before any role is audited, as it did when every role was read on loading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar, overload

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.model import Role
from zeet_iam_audit.sources.reading import MAX_DEPTH

Entry = TypeVar("Entry")


class LazyRoles(Sequence[Role], Generic[Entry]):
    """Read-only roles, each built by ``build(entry)`` on first access and kept.

    ``display`` is the file's name, for the error a document nested too deeply gives (as
    ``load_file`` words it).
    """

    __slots__ = ("_build", "_built", "_display", "_pending")

    def __init__(self, entries: Sequence[Entry], build: Callable[[Entry], Role], display: str) -> None:
        self._pending = dict(enumerate(entries))  # position → entry, until its role is built
        self._build: Callable[[Entry], Role] | None = build
        self._display = display
        self._built: list[Role | None] = [None] * len(self._pending)

    def __len__(self) -> int:
        return len(self._built)

    @overload
    def __getitem__(self, index: int) -> Role: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Role, ...]: ...

    def __getitem__(self, index: int | slice) -> Role | tuple[Role, ...]:
        if isinstance(index, slice):
            return tuple(self._role(position) for position in range(*index.indices(len(self._built))))
        if index < 0:
            index += len(self._built)
        if not 0 <= index < len(self._built):
            raise IndexError("role index out of range")
        return self._role(index)

    def __iter__(self) -> Iterator[Role]:
        return iter(self[:])  # every role read before the first is used (see the module docstring)

    def __repr__(self) -> str:
        built = len(self._built) - len(self._pending)
        return f"<LazyRoles: {len(self._built)} roles from {self._display}, {built} built>"

    def _role(self, position: int) -> Role:
        role = self._built[position]
        if role is None:
            assert self._build is not None  # kept while a role is left to build
            try:
                role = self._build(self._pending[position])
            except RecursionError:
                raise InputError(f"{self._display}: nested more than {MAX_DEPTH} levels deep") from None
            self._built[position] = role
            # The raw entry is no longer needed; with the last, neither is the builder (and what it
            # holds, such as the file's policy index).
            del self._pending[position]
            if not self._pending:
                self._build = None
        return role
