"""Wildcard matching as IAM does it: ``*`` any run of characters, ``?`` exactly one.

No regular expression with backtracking is ever built from a pattern. A pattern is split on ``*``
into literal-ish segments; the first must match at the start, the last at the end, and the others are
found left to right, each at its leftmost position. Leftmost placement is always safe for ``*``/``?``
globs, so the work is one pass over the text per segment (``str.find`` for plain segments), and a
pattern of a thousand ``*?`` pairs against a 10 kB ARN is decided in well under a millisecond.

Action names compare case-insensitively (callers lower-case both sides); ARNs case-sensitively.
"""

from __future__ import annotations

import re
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
    for _ in range(_ANCHOR_TRIES):
        found = text.find(anchor, search, end - (len(segment) - anchor_offset - len(anchor)))
        if found < 0:
            return -1
        candidate = found - anchor_offset
        if candidate > last_start:
            return -1
        if _segment_at(segment, text, candidate):
            return candidate
        search = found + 1
    # The anchor keeps matching where the segment does not ("a?a?a?b" in "aaaa..."): checking each
    # place would be quadratic, so scan the rest once with a bit-parallel automaton instead.
    return _scan_segment(segment, text, search - anchor_offset, end)


_ANCHOR_TRIES = 32


@lru_cache(maxsize=1024)
def _segment_masks(segment: str) -> tuple[dict[str, int], int]:
    """Shift-and masks: for each character, the positions of ``segment`` it may stand at."""
    wildcard = sum(1 << i for i, char in enumerate(segment) if char == "?")
    masks: dict[str, int] = {}
    for i, char in enumerate(segment):
        if char != "?":
            masks[char] = masks.get(char, wildcard) | (1 << i)
    return masks, wildcard


def _scan_segment(segment: str, text: str, start: int, end: int) -> int:
    """Leftmost position >= start where ``segment`` (with ``?``) matches inside ``text[:end]``, or -1:
    one pass over the text, ``len(segment) / 64`` machine words of work per character."""
    masks, wildcard = _segment_masks(segment)
    accept = 1 << (len(segment) - 1)
    state = 0
    for position in range(max(start, 0), end):
        state = ((state << 1) | 1) & masks.get(text[position], wildcard)
        if state & accept:
            return position - len(segment) + 1
    return -1


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


def short_arn(pattern: str) -> str | None:
    """For a Resource entry with fewer than six ARN fields (``arn:aws:sqs``,
    ``arn:aws:sqs:us-east-1``), the entry with its missing fields as wildcards
    (``arn:aws:sqs:*:*:*``); None for any other entry."""
    if not pattern.startswith("arn:"):
        return None
    fields = pattern.count(":") + 1
    if fields >= 6:
        return None
    return pattern + ":*" * (6 - fields)


def any_action_matches(patterns: Iterable[str], action: str) -> bool:
    """Whether any of ``patterns`` covers ``action``."""
    lowered = action.lower()
    return any(compile_pattern(p.lower())(lowered) for p in patterns)


# Stand-ins for a scope's own wildcards when asking whether one pattern covers another.
_SCOPE_STAR = "\ue002"
_SCOPE_QUESTION = "\ue003"
_SCOPE_ESCAPE = str.maketrans({"*": _SCOPE_STAR, "?": _SCOPE_QUESTION})
_INTERSECT_LIMIT = 1_000_000_000  # product states; beyond it the answer is the cautious one (True)
_STARS = re.compile(r"\*+")


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


@lru_cache(maxsize=4096)
def _glob_masks(glob: str) -> tuple[int, int, int, dict[str, int]]:
    """Bit masks of a glob's positions: stars, question marks, every non-star, and per character
    the positions it may stand at (its own and the question marks)."""
    stars = questions = 0
    for j, char in enumerate(glob):
        if char == "*":
            stars |= 1 << j
        elif char == "?":
            questions |= 1 << j
    by_char: dict[str, int] = {}
    for j, char in enumerate(glob):
        if char not in "*?":
            by_char[char] = by_char.get(char, questions) | (1 << j)
    return stars, questions, ((1 << len(glob)) - 1) & ~stars, by_char


def globs_intersect(left: str, right: str) -> bool:
    """Whether some string matches both globs.

    The product automaton is walked one character of the shorter glob at a time, holding the
    reachable positions of the longer one as the bits of an integer: ``len·len / 64`` machine
    words of work, a few milliseconds for two 10 kB globs.
    """
    if "*" not in right and "?" not in right:
        return compile_pattern(left)(right)
    if "*" not in left and "?" not in left:
        return compile_pattern(right)(left)
    left, right = _STARS.sub("*", left), _STARS.sub("*", right)  # "**" is "*": one skip per run
    if len(left) > len(right):
        left, right = right, left
    if (len(left) + 1) * (len(right) + 1) > _INTERSECT_LIMIT:
        return True
    size = len(right)
    every = (1 << (size + 1)) - 1
    stars, questions, plain, by_char = _glob_masks(right)
    reach = 1  # position 0 of both globs
    for char in left:
        reach |= (reach & stars) << 1  # a star of ``right`` matching nothing
        if not reach:
            return False
        if char == "*":
            # A star of ``left`` eats whatever ``right`` has from its first reachable position on.
            reach = every & ~((reach & -reach) - 1)
            continue
        allowed = plain if char == "?" else by_char.get(char, questions)
        # A star of ``right`` eats this character (position kept), or both move on together.
        reach = (reach & stars) | ((reach & allowed) << 1)
    reach |= (reach & stars) << 1
    return bool(reach >> size & 1)


def arns_intersect(pattern: str, scope: str) -> bool:
    """Whether some ARN matches both ``pattern`` and the ``scope`` pattern."""
    if pattern == "*" or scope == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    scope_parts = scope.split(":", 5)
    if len(pattern_parts) != 6 or len(scope_parts) != 6:
        return globs_intersect(pattern, scope)
    return all(globs_intersect(p, s) for p, s in zip(pattern_parts, scope_parts, strict=True))
