"""Per-policy action sets: what each policy document grants or denies, worked out once per document.

An audit of thousands of roles asks the same question of the same managed policies again and again.
Each distinct (compiled) policy is summarised once as sets of catalogue positions:

- ``mentions``: actions any Allow statement names (whatever its resource or condition);
- ``allow_all``: allowed on every resource with no condition;
- ``allow_conditional``: allowed on every resource under a condition;
- ``allow_scoped``: allowed only on some resources (Resource other than ``*``, or NotResource);
- ``deny_all`` / ``deny_some``: denied everywhere unconditionally / under a condition or on some
  resources.

A set of positions is a bit mask: a Python ``int`` whose bit N stands for the catalogue's action N
(22,685 bits, under 3 kB, at most). A role's effective grants are then a few whole-mask operations
over its policies' summaries (``|``, ``&``, ``& ~``), each one pass over at most 3 kB in C, however
many actions the policies name; a policy that allows everything but a few actions costs no more than
one that allows a few.

Positions follow the catalogue's order (service, then lower-case name), so one service's actions
are a contiguous run of bits.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache, reduce
from itertools import chain, repeat
from operator import or_

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.catalog.datafile import LEVELS_BY_CODE
from zeet_iam_audit.memo import IdentityMemo, Memo
from zeet_iam_audit.model import Effect, Unresolved
from zeet_iam_audit.policy.compiled import CompiledPolicy, _ActionElement, _CompiledStatement
from zeet_iam_audit.policy.match import compile_pattern

# Each byte value → the offsets of its set bits (for listing a mask's positions).
_BYTE_BITS = tuple(tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256))
_NONZERO_RUN = re.compile(rb"[^\x00]+")
_NONZERO_BYTES = bytes([0] + [1] * 255)  # a translation table: each nonzero byte to 1
_ANY_RESOURCE = ("*",)


def union(masks: Iterable[int]) -> int:
    """The union of several masks."""
    return reduce(or_, masks, 0)


def bit_positions(mask: int) -> list[int]:
    """The positions set in ``mask``, ascending."""
    if not mask:
        return []
    if mask.bit_length() <= 1024 or mask.bit_count() <= 16:  # a short mask or few bits: one at a time
        found = []
        while mask:
            low = mask & -mask
            found.append(low.bit_length() - 1)
            mask ^= low
        return found
    # A long mask is scanned as bytes: runs of zero bytes are skipped in C.
    data = mask.to_bytes((mask.bit_length() + 7) >> 3, "little")
    found = []
    byte_bits = _BYTE_BITS
    for run in _NONZERO_RUN.finditer(data):
        base = run.start() << 3
        for value in run.group():
            found.extend(base + bit for bit in byte_bits[value])
            base += 8
    return found


@dataclass(frozen=True, slots=True)
class PolicyActions:
    mentions: int
    allow_all: int
    allow_conditional: int
    allow_scoped: int
    deny_all: int
    deny_some: int
    # An action element held an unresolved template value: the sets are incomplete.
    unresolved: bool = False


@dataclass(frozen=True, slots=True)
class ServiceSpan:
    """One service's run of positions, and within it each access level's bits (shifted to 0)."""

    service: str
    start: int
    stop: int
    levels: tuple[tuple[str, int], ...]  # (access level, its bits within the service), in ACCESS_LEVELS order

    @property
    def full(self) -> int:
        """Every bit of the service, shifted to 0."""
        return (1 << (self.stop - self.start)) - 1


# Access levels, the most powerful first: the order reports list a service's counts in.
ACCESS_LEVELS = ("Permissions management", "Write", "Tagging", "Read", "List")


# For each access level's code, a translation of a service's codes into binary digits: 1 where an
# action is at that level.
_LEVEL_DIGITS = tuple(
    (level, code, str.maketrans({c: "1" if c == code else "0" for c in LEVELS_BY_CODE}))
    for level in ACCESS_LEVELS
    for code, named in LEVELS_BY_CODE.items()
    if named == level
)


def _level_bits(codes: str) -> tuple[tuple[str, int], ...]:
    """(access level, the bits of the service's actions at that level), in ``ACCESS_LEVELS`` order,
    from the service's access-level codes (one letter per action, position 0 first)."""
    reversed_codes = codes[::-1]  # the last action is the highest bit of the number written out
    return tuple(
        (level, int(reversed_codes.translate(digits), 2)) for level, code, digits in _LEVEL_DIGITS if code in codes
    )


class ActionIndex:
    """Catalogue positions for every action, and pattern → mask, cached."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # Read from the catalogue's columns: no value per action is made (see ServiceActions).
        blocks = list(catalog.service_actions())
        spans: list[ServiceSpan] = []
        position: dict[str, int] = {}
        start = 0
        for block in blocks:
            stop = start + len(block.names)
            spans.append(ServiceSpan(block.service, start, stop, _level_bits(block.codes)))
            prefix = block.service + ":"
            position.update(zip(map(prefix.__add__, block.lower_names), range(start, stop), strict=True))
            start = stop
        self.size = start
        self.position = position  # lower-cased "service:name" → its position
        self.everything = (1 << self.size) - 1
        self.service_of = tuple(chain.from_iterable(repeat(b.service, len(b.names)) for b in blocks))
        # Each position's name after the colon: lower-cased, and as AWS spells it.
        self._names = tuple(chain.from_iterable(b.lower_names for b in blocks))
        self._spelled = tuple(chain.from_iterable(b.names for b in blocks))
        # Whether the action takes resource-level permissions.
        self.resource_level = tuple(map("1".__eq__, "".join(b.resource_flags for b in blocks)))
        if len({span.service for span in spans}) != len(spans):
            raise ValueError("the catalogue does not list each service's actions together")
        self.spans = tuple(spans)
        self._span_of = {span.service: span for span in spans}
        self._starts = tuple(span.start for span in spans)  # for finding a position's service
        # Each service's place in a mask's bytes: (first byte, past its last byte, the bit its first
        # action is at in the first byte, every bit of the service shifted to 0).
        self._cuts = tuple(
            (span.start >> 3, (span.stop + 7) >> 3, span.start & 7, (1 << (span.stop - span.start)) - 1)
            for span in spans
        )
        # Services whose names are in order (all, in the catalogue): a prefix is then found by bisection.
        self._ordered = frozenset(
            span.service for span in spans if sorted(part := self._names[span.start : span.stop]) == list(part)
        )
        self._glob = lru_cache(maxsize=_CACHED_PATTERNS)(self._pattern)

    def full_name(self, position: int) -> str:
        """The action at ``position`` as policies name it (``eks:CreateAccessEntry``)."""
        return f"{self.service_of[position]}:{self._spelled[position]}"

    def names_of(self, service: str) -> dict[str, str]:
        """The service's actions: lower-cased name after the colon → the full name as policies
        name it (none for a service the catalogue lacks)."""
        span = self._span_of.get(service)
        if span is None:
            return {}
        prefix = service + ":"
        return dict(
            zip(
                self._names[span.start : span.stop],
                [prefix + name for name in self._spelled[span.start : span.stop]],
                strict=True,
            )
        )

    def mask_of(self, positions: Iterable[int]) -> int:
        """The mask with ``positions`` set."""
        chosen = positions if isinstance(positions, list) else list(positions)
        if not chosen:
            return 0
        # Bytes from the lowest position's byte on only: an element's actions are mostly a few
        # services' (a short run), and reading bytes into an int costs per byte.
        base = min(chosen) & ~7
        data = bytearray(((max(chosen) - base) >> 3) + 1)
        for at in chosen:
            at -= base
            data[at >> 3] |= 1 << (at & 7)
        return int.from_bytes(data, "little") << base

    def _run(self, start: int, stop: int) -> int:
        return ((1 << (stop - start)) - 1) << start

    def pattern(self, pattern: str) -> int:
        """The mask an Action entry covers (``pattern`` lower-cased)."""
        if "*" not in pattern and "?" not in pattern:
            found = self.position.get(pattern)
            return 0 if found is None else 1 << found
        return self._glob(pattern)  # cached: only globs take work to expand

    def _pattern(self, pattern: str) -> int:
        if pattern == "*":
            return self.everything
        service, colon, name = pattern.partition(":")
        if colon and "*" not in service and "?" not in service:
            # A literal service: only its actions' names are matched (as Catalog.expand does).
            span = self._span_of.get(service)
            if span is None:
                return 0
            if name == "*":
                return self._run(span.start, span.stop)
            names = self._names
            prefix = name[:-1]
            if name.endswith("*") and "*" not in prefix and "?" not in prefix and service in self._ordered:
                # The names starting with the prefix sort between it and its next string.
                following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
                first = bisect_left(names, prefix, span.start, span.stop)
                return self._run(first, bisect_left(names, following, first, span.stop))
            matches = _name_matcher(name)
            return self.mask_of([at for at in range(span.start, span.stop) if matches(names[at])])
        return self.mask_of(self.position[info.full.lower()] for info in self.catalog.expand(pattern))

    def action_element(self, patterns: Iterable[str], negate: bool) -> int:
        """The mask an Action (or, with ``negate``, a NotAction) element covers."""
        exact: list[int] = []
        covered = 0
        position = self.position
        for entry in patterns:
            lowered = entry.lower()
            found = position.get(lowered)  # most entries name one action (a name has no wildcard)
            if found is not None:
                exact.append(found)
            elif "*" in lowered or "?" in lowered:
                covered |= self._glob(lowered)
        if exact:  # set in one pass rather than one shift and one "|" per action
            covered |= self.mask_of(exact)
        return self.everything ^ covered if negate else covered

    def summary(
        self,
        compiled: CompiledPolicy,
        memo: IdentityMemo[PolicyActions] | None = None,
        elements: IdentityMemo[int] | None = None,
    ) -> PolicyActions:
        """The policy's action sets. A run's memos (see audit/memo.py) keep them once per compiled
        policy (``memo``) and once per Action element (``elements``: the compiler shares one element
        among equal ones, and inline policies cut from managed ones repeat them)."""
        if memo is None:
            return self._summarise(compiled, elements)
        found = memo.get(compiled)
        return found if found is not None else memo.put(compiled, self._summarise(compiled, elements))

    def _element_mask(self, element: _ActionElement, memo: IdentityMemo[int] | None) -> int:
        """The mask an Action/NotAction element covers, its unresolved entries left out."""
        found = memo.get(element) if memo is not None else None
        if found is None:
            patterns = element.patterns
            if element.unresolved:
                patterns = tuple(p for p in patterns if not isinstance(p, Unresolved))
            found = self.action_element(patterns, negate=element.negate)
            if memo is not None:
                memo.put(element, found)
        return found

    def _summarise(self, compiled: CompiledPolicy, elements: IdentityMemo[int] | None) -> PolicyActions:
        sets = {"allow_all": 0, "allow_conditional": 0, "allow_scoped": 0, "deny_all": 0, "deny_some": 0}
        unresolved = False
        for statement in compiled.statements:
            sets[statement_kind(statement)] |= self._element_mask(statement.actions, elements)
            # Unresolved or undecided entries (see policy/evaluate.py): the sets are incomplete.
            unresolved = unresolved or bool(statement.actions.unresolved or statement.actions.undecided)
        return PolicyActions(
            mentions=sets["allow_all"] | sets["allow_conditional"] | sets["allow_scoped"],
            unresolved=unresolved,
            **sets,
        )

    def service_slices(self, mask: int) -> Iterator[tuple[ServiceSpan, int]]:
        """(service, its bits shifted to 0) for each service with a bit set in ``mask``, in order."""
        for span, bits, _ in self.service_shares(mask):
            yield span, bits

    def service_shares(self, mask: int, *parts: int) -> Iterator[tuple[ServiceSpan, int, tuple[int, ...]]]:
        """(service, its bits shifted to 0, each of ``parts``' bits in it shifted alike) for each
        service with a bit set in ``mask``, in order; each part must lie within ``mask``. The services
        are found from the mask's nonzero bytes: a mask of a few services costs a few slices, however
        many the catalogue holds."""
        if not mask:
            return
        size = (mask.bit_length() + 7) >> 3
        data = mask.to_bytes(size, "little")
        part_data = [part.to_bytes(size, "little") if part else b"" for part in parts]
        none = (0,) * len(parts) if not any(parts) else None  # the parts' bits when every part is empty
        find = data.translate(_NONZERO_BYTES).find  # where a byte has a bit set (each such byte is 1)
        every, cuts, count = self.spans, self._cuts, len(self.spans)
        found = find(1)
        at = bisect_right(self._starts, found << 3) - 1  # the service of the first byte's lowest bit
        while True:
            first, last, shift, full = cuts[at]
            bits = (int.from_bytes(data[first:last], "little") >> shift) & full
            if bits:
                shares = none or tuple(
                    (int.from_bytes(part[first:last], "little") >> shift) & full if part else 0 for part in part_data
                )
                yield every[at], bits, shares
            at += 1
            if at == count:
                return
            # The next nonzero byte: in the next service's bytes, or further (found by bisection).
            found = find(1, cuts[at][0])
            if found < 0:
                return
            if found >= cuts[at][1]:
                at = bisect_right(self._starts, found << 3) - 1


def _name_matcher(name: str) -> Callable[[str], bool]:
    """A predicate for an action-name glob (lower-cased): a prefix (``get*``), a suffix (``*tags``)
    or a part (``*stack*``) by the string's own methods, any other by ``compile_pattern``."""
    core = name.strip("*")
    if core and "*" not in core and "?" not in core:
        if name == core + "*":
            return lambda text: text.startswith(core)
        if name == "*" + core:
            return lambda text: text.endswith(core)
        if name == "*" + core + "*":
            return lambda text: core in text
    return compile_pattern(name)


def statement_kind(statement: _CompiledStatement) -> str:
    """Which of a summary's sets the statement's actions go to."""
    resources = statement.resources
    everywhere = statement.any_resource and (
        resources is None
        or resources == _ANY_RESOURCE
        or not any(isinstance(r, Unresolved) or "${" in r for r in resources)
    )
    unconditional = not statement.conditions
    if statement.statement.effect is Effect.ALLOW:
        return "allow_scoped" if not everywhere else "allow_all" if unconditional else "allow_conditional"
    return "deny_all" if everywhere and unconditional else "deny_some"


@dataclass(frozen=True, slots=True)
class FocusActions:
    """A policy's summary restricted to a focus (local masks, see ``Focus``)."""

    mentions: int  # named by an Allow
    allow_all: int  # allowed on every resource with no condition
    denied: int  # named by a Deny


class Focus:
    """A few hundred catalogue positions (a run's required actions), numbered 0, 1, ... in catalogue
    order: masks over them ("local" masks) are short ints, cheap to combine, compare and list, where
    masks over the whole catalogue are 3 kB each.

    A policy's local summary is worked out from its statements' Action elements, pattern by pattern,
    with the same matching as ``ActionIndex`` (so it equals the whole-catalogue summary restricted
    to these positions).
    """

    def __init__(self, index: ActionIndex, positions: Iterable[int]) -> None:
        self.index = index
        self.order = tuple(sorted(set(positions)))
        self.local = {position: at for at, position in enumerate(self.order)}
        self.all = (1 << len(self.order)) - 1
        by_service: dict[str, list[tuple[int, str]]] = {}
        for at, position in enumerate(self.order):
            by_service.setdefault(index.service_of[position], []).append((1 << at, index._names[position]))
        self._by_service = by_service
        self._service_all = {service: union(bit for bit, _ in items) for service, items in by_service.items()}
        # Each focus action's lower-cased full name → its local bit: an Action entry naming one
        # action is one lookup (most name actions outside the focus, and find nothing).
        self._named = {
            f"{index.service_of[position]}:{index._names[position]}": 1 << at for at, position in enumerate(self.order)
        }
        # Owned by the focus (one per run): local masks by pattern, by Action element, by policy.
        self._globs: Memo[str, int] = Memo(_CACHED_PATTERNS)
        self._elements: IdentityMemo[int] = IdentityMemo(_CACHED_ELEMENTS)
        self._summaries: IdentityMemo[FocusActions] = IdentityMemo(_CACHED_SUMMARIES)

    def mask(self, positions: Iterable[int | None]) -> int:
        """The local mask of those ``positions`` that are in the focus."""
        local = self.local
        return union(1 << local[p] for p in positions if p in local)

    def positions(self, mask: int) -> list[int]:
        """The catalogue positions of a local mask, ascending."""
        order = self.order
        return [order[at] for at in bit_positions(mask)]

    def pattern(self, pattern: str) -> int:
        """The local mask an Action entry covers (``pattern`` lower-cased)."""
        if "*" not in pattern and "?" not in pattern:
            position = self.index.position.get(pattern)
            at = self.local.get(position) if position is not None else None
            return 0 if at is None else 1 << at
        found = self._globs.get(pattern)
        return found if found is not None else self._globs.put(pattern, self._glob(pattern))

    def _glob(self, pattern: str) -> int:
        if pattern == "*":
            return self.all
        service, colon, name = pattern.partition(":")
        if colon and "*" not in service and "?" not in service:
            # A literal service: its actions' names are matched, as ActionIndex does.
            if name == "*":
                return self._service_all.get(service, 0)
            matches = _name_matcher(name)
            return union(bit for bit, action in self._by_service.get(service, ()) if matches(action))
        whole = self.index._glob(pattern)  # rare (a wildcard in the service): from the whole mask
        return union(1 << at for at, position in enumerate(self.order) if whole >> position & 1)

    def _element(self, element: _ActionElement) -> int:
        found = self._elements.get(element)
        if found is None:
            patterns = element.patterns
            if element.unresolved:
                patterns = tuple(p for p in patterns if not isinstance(p, Unresolved))
            named = self._named
            covered = 0
            for entry in patterns:
                lowered = entry.lower()
                bit = named.get(lowered)
                if bit is not None:
                    covered |= bit
                elif "*" in lowered or "?" in lowered:
                    covered |= self.pattern(lowered)
            found = self._elements.put(element, self.all ^ covered if element.negate else covered)
        return found

    def summary(self, compiled: CompiledPolicy) -> FocusActions:
        """The policy's local summary (worked out once per compiled policy)."""
        found = self._summaries.get(compiled)
        if found is not None:
            return found
        mentions = allow_all = denied = 0
        for statement in compiled.statements:
            actions = self._element(statement.actions)
            kind = statement_kind(statement)
            if kind == "allow_all":
                allow_all |= actions
                mentions |= actions
            elif kind.startswith("allow"):
                mentions |= actions
            else:
                denied |= actions
        return self._summaries.put(compiled, FocusActions(mentions, allow_all, denied))


_CACHED_ELEMENTS = 16384  # Action elements' masks kept (each at most 3 kB)
_CACHED_SUMMARIES = 16384
_CACHED_PATTERNS = 16384


@lru_cache(maxsize=4)
def action_index(catalog: Catalog) -> ActionIndex:
    """The index for ``catalog``, built once per catalogue object (a process loads one catalogue;
    the index holds facts about its actions and patterns, nothing from a run)."""
    return ActionIndex(catalog)
