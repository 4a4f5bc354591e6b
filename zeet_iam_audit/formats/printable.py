"""Names from an input file are untrusted: before a text format prints them, control characters are
shown escaped (``\\x1b``, ``\\n``), so that a role named ``"x\\x1b[2J\\r\\n::error::..."`` can neither
drive the terminal nor start a GitHub workflow command. JSON and SARIF escape by construction.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
T = TypeVar("T")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable_text(text: str) -> str:
    """``text`` with every control character (line breaks included) shown as an escape."""
    return _CONTROL.sub(_escape, text) if _CONTROL.search(text) else text


def printable(value: T) -> T:
    """A copy of a report value (frozen dataclasses, tuples, mappings, strings) with every string made
    printable; values without control characters come back as they are."""
    return _clean(value)  # type: ignore[no-any-return]


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return printable_text(value) if _CONTROL.search(value) else value
    if isinstance(value, tuple):
        cleaned = tuple(_clean(item) for item in value)
        return value if all(a is b for a, b in zip(cleaned, value, strict=True)) else cleaned
    if isinstance(value, dict):
        pairs = [(_clean(k), _clean(v)) for k, v in value.items()]
        changed = any(a is not k or b is not v for (a, b), (k, v) in zip(pairs, value.items(), strict=True))
        return dict(pairs) if changed else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            old = getattr(value, field.name)
            new = _clean(old)
            if new is not old:
                changes[field.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value
