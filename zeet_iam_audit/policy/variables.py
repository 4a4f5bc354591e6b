"""Policy variables: ``${aws:username}``, ``${aws:PrincipalTag/team, 'none'}``, ``${*}``, ``${?}``, ``${$}``.

Substituted values and the special ``${*}``/``${?}`` are literal text, never wildcards, so they are
carried into matching as private-use characters that only match themselves. The work is one pass
over the string (no regular expression with backtracking).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from zeet_iam_audit.model import Unresolved

LITERAL_STAR = "\ue000"
LITERAL_QUESTION = "\ue001"
_ESCAPE = str.maketrans({"*": LITERAL_STAR, "?": LITERAL_QUESTION})
_UNESCAPE = str.maketrans({LITERAL_STAR: "*", LITERAL_QUESTION: "?"})


@dataclass(frozen=True, slots=True)
class Substituted:
    """A policy value after substitution.

    ``pattern`` has wildcards as ``*``/``?`` and literal stars and question marks as private-use
    characters; ``missing`` is set when a variable had no value and no default (the value then
    matches nothing); ``unknown_keys`` lists variables that could not be filled because the context
    is unknown; ``unresolved`` is the reason when the value came from an unresolved template value.
    """

    pattern: str
    missing: bool = False
    unknown_keys: tuple[str, ...] = ()
    missing_keys: tuple[str, ...] = ()
    unresolved: str | None = None

    @property
    def text(self) -> str:
        """The value as plain text (literal stars shown as ``*``)."""
        return self.pattern.translate(_UNESCAPE)

    def literal(self) -> str:
        """The value for exact comparisons: every character literal."""
        return self.text

    def matches(self, value: str, compile_: Callable[[str], Callable[[str], bool]]) -> bool:
        """Match ``value`` against this pattern with ``compile_`` (a wildcard compiler)."""
        if LITERAL_STAR in self.pattern or LITERAL_QUESTION in self.pattern:
            return compile_(self.pattern)(value.translate(_ESCAPE))
        return compile_(self.pattern)(value)


def _parse_default(inner: str) -> tuple[str, str | None]:
    """``"aws:username, 'guest'"`` → (``"aws:username"``, ``"guest"``)."""
    name, comma, rest = inner.partition(",")
    if not comma:
        return name.strip(), None
    rest = rest.strip()
    if len(rest) >= 2 and rest[0] == rest[-1] == "'":
        return name.strip(), rest[1:-1]
    return name.strip(), rest


def literal_text(value: str) -> str:
    """``value`` with its ``*`` and ``?`` made literal characters: a request's resource, which no
    wildcard in it may widen (a Resource entry ``*`` or ``?`` still matches each of them)."""
    if "*" not in value and "?" not in value:
        return value
    return value.translate(_ESCAPE)


def literal_resource(text: str) -> str:
    """``literal_text`` undone: the resource as the request named it."""
    if LITERAL_STAR not in text and LITERAL_QUESTION not in text:
        return text
    return text.translate(_UNESCAPE)


def has_variables(value: str) -> bool:
    """Whether a value holds a ``${...}`` policy variable."""
    return "${" in value


def substitute(value: str, context: Mapping[str, tuple[str, ...]] | None, *, enabled: bool = True) -> Substituted:
    """Fill the policy variables in ``value`` from ``context`` (keys lower-cased).

    With ``enabled`` False (policy version 2008-10-17 or absent, or an operator that takes no
    variables) the text is used as it stands. With ``context`` None, variables are reported in
    ``unknown_keys`` instead of being filled.
    """
    if isinstance(value, Unresolved):
        return Substituted(pattern=value, unresolved=value.reason)
    if not enabled or "${" not in value:
        return Substituted(pattern=value)
    out: list[str] = []
    missing: list[str] = []
    unknown: list[str] = []
    pos = 0
    while True:
        start = value.find("${", pos)
        if start < 0:
            out.append(value[pos:])
            break
        end = value.find("}", start + 2)
        if end < 0:
            out.append(value[pos:])
            break
        out.append(value[pos:start])
        inner = value[start + 2 : end]
        pos = end + 1
        if inner == "*":
            out.append(LITERAL_STAR)
            continue
        if inner == "?":
            out.append(LITERAL_QUESTION)
            continue
        if inner == "$":
            out.append("$")
            continue
        name, default = _parse_default(inner)
        if context is None:
            unknown.append(name)
            continue
        found = context.get(name.lower())
        if found is not None and len(found) == 1:
            out.append(found[0].translate(_ESCAPE))
        elif default is not None:
            out.append(default.translate(_ESCAPE))
        else:
            # Missing, or multi-valued (variables take single-valued keys only): matches nothing.
            missing.append(name)
    return Substituted(
        pattern="".join(out), missing=bool(missing), unknown_keys=tuple(unknown), missing_keys=tuple(missing)
    )
