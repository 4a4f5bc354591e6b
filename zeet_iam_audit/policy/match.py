"""Wildcard matching as IAM does it: ``*`` any run of characters, ``?`` exactly one.

No regular expression with backtracking is ever built from a pattern. A pattern is split on ``*``
into literal-ish segments; the first must match at the start, the last at the end, and the others are
found left to right, each at its leftmost position. Leftmost placement is always safe for ``*``/``?``
globs, so the work is one pass over the text per segment (``str.find`` for plain segments), and a
pattern of a thousand ``*?`` pairs against a 10 kB ARN is decided in well under a millisecond.

Action names compare case-insensitively (callers lower-case both sides); ARNs case-sensitively.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

Matcher = Callable[[str], bool]


def _segment_at(segment: str, text: str, pos: int) -> bool:
    """Whether ``segment`` (which may hold ``?``) matches ``text`` exactly at ``pos``."""
    if pos + len(segment) > len(text):
        return False
    for offset, char in enumerate(segment):
        if char != "?" and text[pos + offset] != char:
            return False
    return True


def _find_segment(segment: str, text: str, start: int, end: int) -> int:
    """Leftmost position >= start where ``segment`` matches inside ``text[:end]``, or -1."""
    if "?" not in segment:
        return text.find(segment, start, end)
    # Anchor on the longest plain piece so the scan stays a str.find, not a character loop.
    pieces = segment.split("?")
    anchor = max(pieces, key=len)
    if not anchor:  # the segment is only "?" characters
        return start if start + len(segment) <= end else -1
    anchor_offset = _offset_of(pieces, anchor)
    search = start + anchor_offset
    last_start = end - len(segment)
    while True:
        found = text.find(anchor, search, end - (len(segment) - anchor_offset - len(anchor)))
        if found < 0:
            return -1
        candidate = found - anchor_offset
        if candidate > last_start:
            return -1
        if _segment_at(segment, text, candidate):
            return candidate
        search = found + 1


def _offset_of(pieces: list[str], anchor: str) -> int:
    """Offset in the joined segment of the first piece equal to ``anchor``."""
    offset = 0
    for piece in pieces:
        if piece == anchor:
            return offset
        offset += len(piece) + 1
    raise AssertionError("anchor is one of the pieces")


def glob_match(pattern: str, text: str) -> bool:
    """Whether ``text`` matches ``pattern`` with IAM's ``*`` and ``?`` (case-sensitive)."""
    if "*" not in pattern:
        if "?" not in pattern:
            return pattern == text
        return len(pattern) == len(text) and _segment_at(pattern, text, 0)
    segments = pattern.split("*")
    first, last = segments[0], segments[-1]
    if len(first) + len(last) > len(text):
        return False
    if first and not _segment_at(first, text, 0):
        return False
    tail_start = len(text) - len(last)
    if last and not _segment_at(last, text, tail_start):
        return False
    pos = len(first)
    for segment in segments[1:-1]:
        if not segment:
            continue
        found = _find_segment(segment, text, pos, tail_start)
        if found < 0:
            return False
        pos = found + len(segment)
    return pos <= tail_start


@lru_cache(maxsize=65536)
def compile_pattern(pattern: str) -> Matcher:
    """A fast predicate for one pattern: equality, prefix, suffix, or the general glob."""
    if "*" not in pattern and "?" not in pattern:
        return pattern.__eq__
    if pattern == "*":
        return lambda text: True
    body = pattern[:-1]
    if pattern.endswith("*") and "*" not in body and "?" not in body:
        return lambda text: text.startswith(body)
    return lambda text: glob_match(pattern, text)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action/NotAction entry covers ``action`` (``service:Name``), case-insensitively."""
    return compile_pattern(pattern.lower())(action.lower())


def arn_matches(pattern: str, arn: str) -> bool:
    """Whether a Resource/NotResource entry covers ``arn``, as IAM matches them.

    ``*`` alone matches everything. Otherwise both are split into the six ARN fields; partition,
    service, region and account must each match within their own field (a wildcard never spans a
    colon there), and the resource part, which may hold colons and slashes, is matched as a whole.
    A pattern or value that is not a six-field ARN is compared as one string.
    """
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return compile_pattern(pattern)(arn)
    return all(compile_pattern(p)(a) for p, a in zip(pattern_parts, arn_parts, strict=True))


def any_action_matches(patterns: Iterable[str], action: str) -> bool:
    """Whether any of ``patterns`` covers ``action``."""
    lowered = action.lower()
    return any(compile_pattern(p.lower())(lowered) for p in patterns)


# Stand-ins for a scope's own wildcards when asking whether one pattern covers another.
_SCOPE_STAR = "\ue002"
_SCOPE_QUESTION = "\ue003"
_SCOPE_ESCAPE = str.maketrans({"*": _SCOPE_STAR, "?": _SCOPE_QUESTION})
_INTERSECT_LIMIT = 1_000_000  # product states; beyond it the answer is the cautious one (True)


def _covers_text(pattern: str, scope: str) -> bool:
    if "*" not in scope and "?" not in scope:
        return compile_pattern(pattern)(scope)
    # Every string of the scope must match: try the scope's wildcards as one unknown character each
    # and with its stars empty. A pattern ``?`` can only eat a scope ``?``, never a scope ``*``
    # (which may be empty), and the empty-star try catches patterns that need characters there.
    once = scope.translate(_SCOPE_ESCAPE)
    if not compile_pattern(pattern)(once):
        return False
    if "?" in pattern and "*" in scope:
        empty = scope.replace("*", "").translate(_SCOPE_ESCAPE)
        long = scope.replace("*", _SCOPE_STAR * 3).translate(_SCOPE_ESCAPE)
        return compile_pattern(pattern)(empty) and compile_pattern(pattern)(long)
    return True


def arn_covers(pattern: str, scope: str) -> bool:
    """Whether every ARN the ``scope`` pattern stands for matches ``pattern`` (an Allow that covers
    a required action's resource scope). For a scope without wildcards this is ``arn_matches``."""
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    scope_parts = scope.split(":", 5)
    if len(pattern_parts) != 6 or len(scope_parts) != 6:
        return _covers_text(pattern, scope)
    return all(_covers_text(p, s) for p, s in zip(pattern_parts, scope_parts, strict=True))


def globs_intersect(left: str, right: str) -> bool:
    """Whether some string matches both globs (a product-automaton search, O(len·len))."""
    if "*" not in right and "?" not in right:
        return compile_pattern(left)(right)
    if "*" not in left and "?" not in left:
        return compile_pattern(right)(left)
    if (len(left) + 1) * (len(right) + 1) > _INTERSECT_LIMIT:
        return True
    end = (len(left), len(right))
    seen = {(0, 0)}
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) == end:
            return True
        a = left[i] if i < len(left) else None
        b = right[j] if j < len(right) else None
        moves = []
        if a == "*":
            moves.append((i + 1, j))
        if b == "*":
            moves.append((i, j + 1))
        if a is not None and b is not None and (a in "*?" or b in "*?" or a == b):
            moves.append((i if a == "*" else i + 1, j if b == "*" else j + 1))
        for move in moves:
            if move not in seen:
                seen.add(move)
                stack.append(move)
    return False


def arns_intersect(pattern: str, scope: str) -> bool:
    """Whether some ARN matches both ``pattern`` and the ``scope`` pattern."""
    if pattern == "*" or scope == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    scope_parts = scope.split(":", 5)
    if len(pattern_parts) != 6 or len(scope_parts) != 6:
        return globs_intersect(pattern, scope)
    return all(globs_intersect(p, s) for p, s in zip(pattern_parts, scope_parts, strict=True))
