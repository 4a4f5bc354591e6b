"""Policy documents found in an input → ``Policy``/``AttachedPolicy`` values, or unknown with why.

Shared by every source. A document that does not parse does not stop the run: its attachment
becomes unknown with ``"<file>: <path to the document>.<path inside it>: <problem>"``, so the audit
reports unknown for whatever depends on it (fail-closed). When the problem sits on a value a
source could not resolve (``Unresolved``), the reason says that instead of blaming the grammar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from zeet_iam_audit.errors import PolicyError
from zeet_iam_audit.model import (
    AttachedPolicy,
    InvalidPolicy,
    Origin,
    Policy,
    PolicyKind,
    Route,
    Unresolved,
    route_text,
)
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.sources.shape import Locator

_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def find_unresolved(value: Any) -> Unresolved | None:
    """The first ``Unresolved`` inside ``value`` (depth-first), or None."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, Unresolved):
            return current
        if isinstance(current, Mapping):
            stack.extend(reversed(list(current.values())))
        elif isinstance(current, list | tuple):
            stack.extend(reversed(current))
    return None


def _unresolved_at(document: Any, error_path: str) -> Unresolved | None:
    """An Unresolved on the way to ``error_path`` inside ``document``, or inside the value there."""
    current = document
    for match in _PATH_TOKEN.finditer(error_path):
        if isinstance(current, Unresolved):
            return current
        key, index = match.group(1), match.group(2)
        if index is not None and isinstance(current, list | tuple) and int(index) < len(current):
            current = current[int(index)]
        elif key is not None and isinstance(current, Mapping) and key in current:
            current = current[key]
        else:
            break
    return find_unresolved(current)


def _join(path: str, inner: str) -> str:
    if not inner:
        return path
    return f"{path}{inner}" if inner.startswith("[") else f"{path}.{inner}"


def read_policy(
    document: Any, *, locator: Locator, route: Route, name: str, kind: PolicyKind = PolicyKind.IDENTITY
) -> Policy | str:
    """Parse the document found at ``route``: the Policy, or the reason it is unknown."""
    origin = Origin(locator.display, route)
    if isinstance(document, Unresolved):
        return f"{origin}: the document could not be resolved: {document.reason}"
    try:
        return parse_policy_checked(document, kind=kind, name=name, origin=origin)
    except PolicyError as error:
        path = route_text(route)
        place = locator.origin(_join(path, error.path))
        unresolved = _unresolved_at(document, error.path) if not isinstance(document, str) else None
        if unresolved is not None:
            return f"{place}: depends on a value that could not be resolved: {unresolved.reason}"
        # AWS would refuse this document: a value of its own, so the audit can report it as such.
        return InvalidPolicy(locator.display, _join(path, error.path), name, error.problem)


def parse_policy_checked(document: Any, *, kind: PolicyKind, name: str, origin: Origin | None) -> Policy:
    """``parse_policy`` with RecursionError turned into a PolicyError (defence in depth)."""
    try:
        return parse_policy(document, kind=kind, name=name, origin=origin)
    except RecursionError:
        raise PolicyError("", "the document is nested too deeply to be a policy") from None


def attach_document(
    document: Any,
    *,
    locator: Locator,
    route: Route,
    name: str,
    arn: str | None = None,
    inline: bool = False,
    attachment_route: Route | None = None,
) -> AttachedPolicy:
    """An attachment whose document is at hand: parsed, or unknown with the parse problem."""
    origin = Origin(locator.display, attachment_route if attachment_route is not None else route)
    result = read_policy(document, locator=locator, route=route, name=name)
    if isinstance(result, Policy):  # (in the order of AttachedPolicy's fields)
        return AttachedPolicy(name, arn, result, origin, None, inline)
    return AttachedPolicy(name, arn, None, origin, result, inline)


def unknown_attachment(
    *, name: str, arn: str | None, origin: Origin | None, reason: str, inline: bool = False
) -> AttachedPolicy:
    """An attachment whose document cannot be had."""
    return AttachedPolicy(name=name, arn=arn, policy=None, origin=origin, unknown_reason=reason, inline=inline)


def read_trust(document: Any, *, locator: Locator, route: Route, name: str) -> tuple[Policy | None, str | None]:
    """A role's trust policy: ``(policy, None)`` or ``(None, reason)``."""
    if document is None:
        return None, f"{Origin(locator.display, route)}: missing (the file does not include the trust policy)"
    result = read_policy(document, locator=locator, route=route, name=name, kind=PolicyKind.TRUST)
    if isinstance(result, Policy):
        return result, None
    return None, result
