"""Names and values from an input are untrusted: one escaping function per kind of output.

A role named ``"x\\x1b[2J\\r\\n::error::..."`` must neither drive a terminal nor start a GitHub
workflow command; one named with a right-to-left override (U+202E) or a zero-width space must not
read as something else in a review ("Trojan Source"); one named ``@octocat`` or
``https://example.com`` must not notify a person or become a link in a pull-request comment. Each
output kind has its function, applied to every string from the input (and to error messages):

- ``terminal_text``: the table and anything else shown on a terminal;
- ``stderr_text``: a line on stderr (errors, usage errors, progress): the same escapes, so an error
  stays one printable line whatever it quotes;
- ``markdown_text`` / ``markdown_code``: Markdown, markup and HTML escaped, ``@`` and URLs
  neutralised in code spans (GitHub neither mentions nor links inside code);
- ``github_data`` / ``github_property``: a GitHub workflow command's message and property values, with
  the runner's data escaping (``%``, CR, LF; ``:`` and ``,`` in properties);
- ``sarif_text``: SARIF message texts (the JSON encoding escapes control characters, but a viewer
  shows the decoded text);
- ``command_text``: the other commands' reports on stdout, escaped so that JSON stays JSON.

"Hidden" characters are the Unicode categories Cc (controls), Cf (format: bidirectional controls,
zero-width characters, the byte-order mark), Zl and Zp (line and paragraph separators) and Cs (lone
surrogates); each is shown as ``\\n``, ``\\r``, ``\\t``, ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``.

``shorten`` bounds any string to ``SHOWN_LIMIT`` characters with an ellipsis (no IAM name comes
close: role names have at most 64 characters, ARNs 2,048), and ``bounded`` applies it to a whole
report value, so a megabyte-long name costs a report one kilobyte wherever it is repeated.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

SHOWN_LIMIT = 2048  # characters of one string in a report (an ARN may have 2,048)
ELLIPSIS = "…"

# The code points of categories Cc, Cf, Zl, Zp and Cs, as ranges (tests/formats/test_printable.py
# checks them against the running Python's unicodedata).
HIDDEN_RANGES = (
    (0x0, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _range(low: int, high: int) -> str:
    return re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"


_HIDDEN = re.compile("[" + "".join(_range(low, high) for low, high in HIDDEN_RANGES) + "]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
T = TypeVar("T")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shorten(text: str, limit: int = SHOWN_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, the last an ellipsis, when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def terminal_text(text: str) -> str:
    """For a terminal: at most ``SHOWN_LIMIT`` characters, every hidden character escaped."""
    if len(text) > SHOWN_LIMIT:  # shorten, inline: every string of a table or Markdown report passes here
        text = text[: SHOWN_LIMIT - 1] + ELLIPSIS
    return _HIDDEN.sub(_escape, text) if _HIDDEN.search(text) else text


printable_text = terminal_text  # the name the formats have used


def stderr_text(text: str) -> str:
    """For one line on stderr: as on a terminal (line breaks escaped too, so it stays one line)."""
    return terminal_text(text)


# Markup characters, each escaped with a backslash (one pass of ``str.translate``).
_MARKUP = str.maketrans({char: "\\" + char for char in "\\`*_[]|~#"})
# What GitHub would turn into a mention, an issue link or a link: @name, scheme://, www.
_STEERING = re.compile(r"@|(?i:[a-z][a-z0-9+.-]*)(?=://)|(?i:\bwww)(?=\.)")


def _neutralise(match: re.Match[str]) -> str:
    token = match.group()
    return "`@`" if token == "@" else f"`{token}`"


def markdown_text(text: str) -> str:
    """Text safe in Markdown and in a table cell: hidden characters escaped, markup characters
    escaped, HTML neutralised, and ``@``, URL schemes and ``www`` put in code spans, where GitHub
    neither notifies anyone nor makes a link."""
    text = terminal_text(text.replace("\r", " ").replace("\n", " "))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.translate(_MARKUP)
    # Only a text holding "@", "://" or "www." can hold what _STEERING finds (and its search is slow).
    if "@" in text or "://" in text or "www." in text.lower():
        return _STEERING.sub(_neutralise, text)
    return text


def markdown_code(text: str) -> str:
    """An inline code span (backticks in the text become quotes; pipes escaped for tables)."""
    return "`" + terminal_text(text.replace("\n", " ")).replace("`", "'").replace("|", "\\|") + "`"


def _escape_but_breaks(match: re.Match[str]) -> str:
    return match.group() if match.group() in "\r\n" else _escape(match)


def github_data(text: str) -> str:
    """A workflow command's message: hidden characters escaped (but CR and LF, which the runner
    decodes), then ``%``, CR and LF encoded as the runner expects (``%25``, ``%0D``, ``%0A``)."""
    text = _HIDDEN.sub(_escape_but_breaks, shorten(text))
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A workflow command's property value: as data, and ``:`` and ``,`` too (``%3A``, ``%2C``)."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def _json_compatible_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in "\n\t":
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a JSON string writes a character beyond the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def command_text(text: str) -> str:
    """A command's report for stdout (``explain``, ``diff``, ``diagnose``, ``generate``), table or
    JSON: hidden characters but line feeds and tabs shown as ``\\uNNNN`` escapes, which mean the
    same in a JSON string (``json.dumps`` leaves bidirectional and C1 characters raw with
    ``ensure_ascii=False``, and always escapes the others)."""
    return (
        _HIDDEN.sub(_json_compatible_escape, text) if _HIDDEN.search(text.replace("\n", "").replace("\t", "")) else text
    )


def sarif_text(text: str) -> str:
    """A SARIF message or name: shown by viewers decoded, so hidden characters are escaped."""
    return terminal_text(text)


def printable(value: T, escape: Callable[[str], str] = terminal_text) -> T:
    """A copy of a report value (frozen dataclasses, tuples, mappings, strings) with ``escape``
    (by default ``terminal_text``: shortened, hidden characters escaped) applied to every string;
    values it leaves alone come back as they are."""
    return _StringMap(escape).map(value)  # type: ignore[no-any-return]


def bounded(value: T) -> T:
    """A copy of a report value with every string shortened to ``SHOWN_LIMIT`` characters."""
    return _StringMap(shorten).map(value)  # type: ignore[no-any-return]


def has_long_name(role: Any) -> bool:
    """Whether a role (``model.Role``) has a name, ARN, source or policy name longer than
    ``SHOWN_LIMIT``: then its report is worth ``bounded`` (a walk over every string of it)."""
    names = [role.name, role.arn or "", role.source, role.path or ""]
    names += [policy.name for policy in role.policies]
    if role.permissions_boundary is not None:
        names.append(role.permissions_boundary.name)
    return any(len(name) > SHOWN_LIMIT for name in names if isinstance(name, str))


@functools.lru_cache(maxsize=256)
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(kind))


_ATOMS = frozenset({str, int, float, bool, type(None)})
_STRINGS = frozenset({str})


def _plain_strings(items: tuple[Any, ...] | list[Any], change: Callable[[str], str]) -> bool:
    """Whether ``items`` are plain values (strings, numbers, None) that ``change`` leaves alone,
    decided at C speed for the changes made here (no string too long, no hidden character)."""
    if change not in (terminal_text, shorten, sarif_text):
        return False
    kinds = set(map(type, items))
    if not kinds <= _ATOMS:
        return False
    strings = items if kinds <= _STRINGS else [item for item in items if type(item) is str]
    if max(map(len, strings), default=0) > SHOWN_LIMIT:
        return False
    return change is shorten or not _HIDDEN.search(" ".join(strings))


class _StringMap:
    """One walk of a report value, ``change`` applied to every string. A container met again is
    mapped once: the audit shares a feature's result, its missing groups and their statements among
    the roles (one report holds a value thousands of times, and walking each copy cost more than
    the rest of a table). ``_done`` holds each container met and its copy, for this walk only."""

    __slots__ = ("_change", "_done")

    def __init__(self, change: Callable[[str], str]) -> None:
        self._change = change
        self._done: dict[int, tuple[object, Any]] = {}

    def map(self, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            return self._change(value)
        if isinstance(value, Enum):
            return value  # the tool's own vocabulary (statuses), never from the input
        if isinstance(value, str):
            return self._change(value)
        if kind in _ATOMS:
            return value
        done = self._done.get(id(value))
        if done is not None and done[0] is value:
            return done[1]
        mapped = self._container(value)
        self._done[id(value)] = (value, mapped)  # the value is held, so its id stays its own
        return mapped

    def _container(self, value: Any) -> Any:
        change = self._change
        if isinstance(value, tuple):
            if _plain_strings(value, change):
                return value
            changed = tuple(map(self.map, value))
            return value if all(a is b for a, b in zip(changed, value, strict=True)) else changed
        if isinstance(value, dict):
            if _plain_strings(list(value.keys()), change) and _plain_strings(list(value.values()), change):
                return value
            pairs = [(self.map(k), self.map(v)) for k, v in value.items()]
            moved = any(a is not k or b is not v for (a, b), (k, v) in zip(pairs, value.items(), strict=True))
            return dict(pairs) if moved else value
        if isinstance(value, frozenset):
            changed_set = frozenset(map(self.map, value))
            return value if changed_set == value else changed_set
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {}
            for name in _field_names(type(value)):
                old = getattr(value, name)
                kind = type(old)
                if kind is str:
                    new = change(old)
                elif kind in _ATOMS:  # most fields are numbers, flags or None
                    continue
                else:
                    new = self.map(old)
                if new is not old:
                    changes[name] = new
            return dataclasses.replace(value, **changes) if changes else value
        return value
