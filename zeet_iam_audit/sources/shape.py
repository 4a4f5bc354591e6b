"""Walking a decoded input with JSON paths, so every shape error names the file and the place.

A ``Locator`` is bound to one file's display name. Paths are plain strings:
``$.RoleDetailList[3].RolePolicyList[0]`` for JSON-shaped inputs, ``Resources.ZeetRole.Properties``
for templates (the root is ``$`` in both).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from zeet_iam_audit.errors import InputError

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_:@-]*$")


def key_path(path: str, key: object) -> str:
    """``path`` extended by a mapping key: ``$.Role``, ``Resources.ZeetRole``, ``$["odd key"]``."""
    text = str(key)
    if _PLAIN_KEY.match(text):
        return text if path == "" else f"{path}.{text}"
    return f"{path or '$'}[{json.dumps(text)}]"


def index_path(path: str, index: int) -> str:
    """``path`` extended by a list index: ``$.RoleDetailList[3]``."""
    return f"{path or '$'}[{index}]"


def describe(value: object) -> str:
    """How an unexpected value is named in a message: its type, or a short quote of a string."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__} value"


class Locator:
    """Shape checks and origins for one input file (``display`` is the name shown to the user)."""

    __slots__ = ("display",)

    def __init__(self, display: str) -> None:
        self.display = display

    def origin(self, path: str) -> str:
        """``"gaad.json: $.RoleDetailList[3]"``."""
        return f"{self.display}: {path or '$'}"

    def error(self, path: str, problem: str) -> InputError:
        """A one-line InputError naming the file and the place."""
        return InputError(f"{self.display}: {path or '$'}: {problem}")

    def mapping(self, value: object, path: str, what: str = "an object") -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, f"expected {what}, got {describe(value)}")
        return value

    def sequence(self, value: object, path: str, what: str = "a list") -> list[Any]:
        if not isinstance(value, list | tuple):
            raise self.error(path, f"expected {what}, got {describe(value)}")
        return list(value)

    def string(self, value: object, path: str) -> str:
        if not isinstance(value, str):
            raise self.error(path, f"expected a string, got {describe(value)}")
        return value

    def optional_string(self, container: Mapping[str, Any], key: str, path: str) -> str | None:
        """``container[key]`` when present and not null; a string, or an InputError."""
        value = container.get(key)
        if value is None:
            return None
        return self.string(value, key_path(path, key))

    def optional_sequence(self, container: Mapping[str, Any], key: str, path: str) -> list[Any]:
        """``container[key]`` as a list; absent or null is an empty list."""
        value = container.get(key)
        if value is None:
            return []
        return self.sequence(value, key_path(path, key))

    def optional_int(self, container: Mapping[str, Any], key: str, path: str) -> int | None:
        """An integer field, also accepted as a string of digits (templates often quote numbers)."""
        value = container.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self.error(key_path(path, key), f"expected a number, got {describe(value)}")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
            return int(value.strip())
        raise self.error(key_path(path, key), f"expected a number, got {describe(value)}")
