"""Walking a decoded input with JSON paths, so every shape error names the file and the place.

A ``Locator`` is bound to one file's display name. Paths are plain strings:
``$.RoleDetailList[3].RolePolicyList[0]`` for JSON-shaped inputs, ``Resources.ZeetRole.Properties``
for templates (the root is ``$`` in both). A place may also be given as a ``Route`` (``("$",
"RoleDetailList", 3)``): it is written out as text (``route_text``, the same path) only when a
message needs it, so a reader that checks every entry of a large file builds no text for the
entries that are fine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.model import Route, route_text

# Where a value sits: a path, or a route from the root ``$`` (written as the same path).
Place = str | Route

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


def place_text(place: Place) -> str:
    """A place as messages write it: the path, or the route's path."""
    return place if isinstance(place, str) else route_text(place)


def _key_place(place: Place, key: str) -> Place:
    return key_path(place, key) if isinstance(place, str) else (*place, key)


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

    def origin(self, path: Place) -> str:
        """``"gaad.json: $.RoleDetailList[3]"``."""
        return f"{self.display}: {place_text(path) or '$'}"

    def error(self, path: Place, problem: str) -> InputError:
        """A one-line InputError naming the file and the place."""
        return InputError(f"{self.display}: {place_text(path) or '$'}: {problem}")

    def mapping(self, value: object, path: Place, what: str = "an object") -> Mapping[str, Any]:
        if type(value) is dict or isinstance(value, Mapping):  # (a dict without asking the ABC)
            return value
        raise self.error(path, f"expected {what}, got {describe(value)}")

    def sequence(self, value: object, path: Place, what: str = "a list") -> list[Any]:
        if not isinstance(value, list | tuple):
            raise self.error(path, f"expected {what}, got {describe(value)}")
        return list(value)

    def string(self, value: object, path: Place) -> str:
        if not isinstance(value, str):
            raise self.error(path, f"expected a string, got {describe(value)}")
        return value

    def optional_string(self, container: Mapping[str, Any], key: str, path: Place) -> str | None:
        """``container[key]`` when present and not null; a string, or an InputError."""
        value = container.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self.error(_key_place(path, key), f"expected a string, got {describe(value)}")

    def optional_sequence(self, container: Mapping[str, Any], key: str, path: Place) -> list[Any]:
        """``container[key]`` as a list; absent or null is an empty list."""
        value = container.get(key)
        if value is None:
            return []
        if isinstance(value, list | tuple):
            return list(value)
        return self.sequence(value, _key_place(path, key))

    def optional_int(self, container: Mapping[str, Any], key: str, path: Place) -> int | None:
        """An integer field, also accepted as a string of digits (templates often quote numbers)."""
        value = container.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self.error(_key_place(path, key), f"expected a number, got {describe(value)}")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
            return int(value.strip())
        raise self.error(_key_place(path, key), f"expected a number, got {describe(value)}")
