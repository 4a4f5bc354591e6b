"""Policy documents → validated, normalised ``Policy`` values.

Accepts a dict, a JSON string, or a URL-encoded JSON string (as GetRolePolicy and
GetAccountAuthorizationDetails return them). Validates against the IAM JSON policy grammar and
raises ``PolicyError`` naming the JSON path of the first problem; ``validate_policy`` returns that
problem as a value (``InvalidPolicy``) instead.

What is refused is what AWS refuses when the policy is uploaded (``MalformedPolicyDocument``): an
Effect other than ``Allow``/``Deny``, an element the grammar does not have, a missing Action or
Resource, an unknown condition operator, an action that is not ``*`` or ``service:Name`` (``Action:
"s3:Get Object"``, and also ``"s3:GetObject,PutObject"`` or ``"s3:GetBucket   "``: the grammar's
action names hold letters, digits, ``-``, ``_`` and wildcards only; reading such a string as
matching nothing could turn a Deny or NotAction into a false "allowed", so it is refused rather
than guessed), and in an identity-based policy (boundaries and SCPs too) a Resource/NotResource
entry that is neither ``*`` nor an ARN (``"Resource": "my-bucket"``: "Resource must be in ARN format
or '*'"). Only an entry without a colon is refused for that: AWS has been seen accepting other
text that is no ARN (a CloudFormation ``Sub "arn:..."`` written out literally), which then matches
no resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from zeet_iam_audit.errors import PolicyError
from zeet_iam_audit.model import (
    Condition,
    Effect,
    Origin,
    Policy,
    PolicyKind,
    Principal,
    Statement,
    Unresolved,
)

VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}
)
PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})

# Every condition operator IAM documents, without the IfExists suffix and set prefixes.
BASE_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
    }
)
_ACTION_RE = re.compile(r"^(\*|[A-Za-z0-9*?_-]+:[A-Za-z0-9*?_-]*)$")
_MAX_DEPTH_HINT = "the document is nested too deeply to be a policy"


@dataclass(frozen=True, slots=True)
class InvalidPolicy:
    """A document AWS would refuse at upload, and why: ``path`` is the JSON path of the first
    problem inside the document (``Statement[0].Action``; empty for the whole document) and
    ``reason`` what is wrong there (``expected an action such as 'service:Name' or '*', got
    's3:Get Object'``)."""

    path: str
    reason: str

    @classmethod
    def from_error(cls, error: PolicyError) -> InvalidPolicy:
        return cls(error.path, error.problem)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


def validate_policy(
    document: Mapping[str, Any] | str | Policy,
    *,
    kind: PolicyKind = PolicyKind.IDENTITY,
    name: str = "",
    origin: Origin | None = None,
) -> Policy | InvalidPolicy:
    """``parse_policy`` that returns the first problem as an ``InvalidPolicy`` value instead of
    raising it: the parsed policy, or where and why AWS would refuse the document."""
    try:
        return parse_policy(document, kind=kind, name=name, origin=origin)
    except PolicyError as error:
        return InvalidPolicy.from_error(error)


def _resource_looks_right(entry: str) -> bool:
    """Whether a Resource/NotResource entry of an identity-based policy may be accepted by AWS:
    ``*``, or text with a colon (an ARN, a pattern, a policy variable), or an unresolved template
    value. An entry without one (``my-bucket``) is refused: "Resource my-bucket must be in ARN
    format or '*'"."""
    return isinstance(entry, Unresolved) or entry == "*" or ":" in entry


def split_operator(operator: str) -> tuple[str | None, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` → (``"ForAnyValue"``, ``"StringLike"``, True).

    Raises ``ValueError`` for an operator IAM does not know.
    """
    qualifier: str | None = None
    rest = operator
    if ":" in operator:
        qualifier, _, rest = operator.partition(":")
        if qualifier not in ("ForAllValues", "ForAnyValue"):
            raise ValueError(f"unknown condition set operator {qualifier!r}")
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in BASE_OPERATORS:
        raise ValueError(f"unknown condition operator {operator!r}")
    if base == "Null" and if_exists:
        raise ValueError("NullIfExists is not a condition operator")
    return qualifier, base, if_exists


def _step(path: str, key: object) -> str:
    """``path`` extended by an object key; a key that is not printable (a newline, an escape
    character) is quoted, so an error naming the path stays one printable line."""
    text = str(key)
    if not text.isprintable():
        return f"{path}[{json.dumps(text)}]"
    return f"{path}.{text}" if path else text


class _DuplicateKey(str):
    """Stands in for a JSON object that repeated ``self`` as a key, until its path is known."""


def _mark_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any] | _DuplicateKey:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            return _DuplicateKey(key)
        result[key] = value
    return result


def _raise_on_duplicate(document: Any) -> None:
    """Raise for the first object, in document order, that repeated a key, naming its path."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:  # iterative: a deeply nested document must not exhaust the recursion limit
        path, value = stack.pop()
        if isinstance(value, _DuplicateKey):
            where = _step(path, value)
            raise PolicyError(where, f"duplicate key {str(value)!r} in one JSON object")
        if isinstance(value, dict):
            children = [(_step(path, k), v) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))


def lone_surrogate_path(data: Any) -> tuple[str | int, ...] | None:
    """Where a decoded document holds a string with a lone UTF-16 surrogate (``"\\ud800"`` in
    JSON or YAML escapes), as keys and indexes from the root; None when there is none.

    Such a string is not text: it cannot be printed, encoded or written to a report.
    """

    def bad(text: str) -> bool:
        if text.isascii():
            return False
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False

    if isinstance(data, str):
        return () if bad(data) else None
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        items: Any = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            if isinstance(key, str) and bad(key):
                return path
            if isinstance(child, str):
                if bad(child):
                    return (*path, key)
            elif isinstance(child, dict | list):
                stack.append((child, (*path, key)))
    return None


def _steps(path: tuple[str | int, ...]) -> str:
    text = ""
    for step in path:
        text = f"{text}[{step}]" if isinstance(step, int) else _step(text, step)
    return text


def load_json_document(text: str) -> Any:
    """Decode a policy given as JSON text or URL-encoded JSON text (duplicate keys rejected)."""
    stripped = text.strip()
    if stripped.startswith(("%7B", "%7b")) or (not stripped.startswith("{") and "%" in stripped):
        stripped = unquote(stripped)
    try:
        document = json.loads(stripped, object_pairs_hook=_mark_duplicates)
    except json.JSONDecodeError as error:
        raise PolicyError("", f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    except RecursionError:
        raise PolicyError("", _MAX_DEPTH_HINT) from None
    except ValueError as error:  # e.g. an integer too long to convert
        raise PolicyError("", f"not valid JSON ({error})") from None
    _raise_on_duplicate(document)
    if "\\u" in stripped:
        where = lone_surrogate_path(document)
        if where is not None:
            raise PolicyError(_steps(where), "a \\u escape of a lone surrogate: not a character")
    return document


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _string_list(value: Any, path: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    """A string or a list of strings → tuple of strings."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        if not value and not allow_empty:
            raise PolicyError(path, "expected a string or a non-empty list of strings, got an empty list")
        items: list[str] = []
        for position, item in enumerate(value):
            if not isinstance(item, str):
                raise PolicyError(f"{path}[{position}]", f"expected a string, got {_describe(item)}")
            items.append(item)
        return tuple(items)
    raise PolicyError(path, f"expected a string or a list of strings, got {_describe(value)}")


def _actions(value: Any, path: str) -> tuple[str, ...]:
    actions = _string_list(value, path)
    for position, action in enumerate(actions):
        if isinstance(action, Unresolved):
            continue
        if not _ACTION_RE.match(action):
            where = path if isinstance(value, str) else f"{path}[{position}]"
            raise PolicyError(where, f"expected an action such as 'service:Name' or '*', got {_describe(action)}")
    return actions


def _principal(value: Any, path: str) -> Principal:
    if value == "*":
        return Principal(wildcard=True)
    if not isinstance(value, Mapping):
        raise PolicyError(path, f'expected "*" or an object of principal types, got {_describe(value)}')
    if not value:
        raise PolicyError(path, "expected at least one principal type")
    entries: list[tuple[str, tuple[str, ...]]] = []
    for kind, identifiers in value.items():
        if kind not in PRINCIPAL_TYPES:
            expected = ", ".join(sorted(PRINCIPAL_TYPES))
            raise PolicyError(_step(path, kind), f"unknown principal type (expected one of {expected})")
        entries.append((kind, _string_list(identifiers, _step(path, kind))))
    return Principal(entries=tuple(entries))


def _condition_value(value: Any, path: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise PolicyError(path, f"expected a string, number or boolean, got {_describe(value)}")


def _conditions(value: Any, path: str) -> tuple[Condition, ...]:
    if not isinstance(value, Mapping):
        raise PolicyError(path, f"expected an object of operator → key → values, got {_describe(value)}")
    conditions: list[Condition] = []
    for operator, block in value.items():
        op_path = _step(path, operator)
        if not isinstance(operator, str):  # YAML keys may be numbers, booleans or null
            raise PolicyError(op_path, f"expected a condition operator, got {_describe(operator)}")
        try:
            split_operator(operator)
        except ValueError as error:
            raise PolicyError(op_path, str(error)) from None
        if not isinstance(block, Mapping):
            raise PolicyError(op_path, f"expected an object of condition key → values, got {_describe(block)}")
        if not block:
            raise PolicyError(op_path, "expected at least one condition key")
        for key, raw in block.items():
            key_path = _step(op_path, key)
            if not isinstance(key, str):
                raise PolicyError(key_path, f"expected a condition key, got {_describe(key)}")
            if isinstance(raw, list | tuple):
                values = tuple(_condition_value(item, f"{key_path}[{i}]") for i, item in enumerate(raw))
            else:
                values = (_condition_value(raw, key_path),)
            conditions.append(Condition(operator=operator, key=key, values=values))
    return tuple(conditions)


def _statement(raw: Any, index: int, path: str, kind: PolicyKind) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError(path, f"expected a statement object, got {_describe(raw)}")
    for key in raw:
        if key not in _STATEMENT_KEYS:
            raise PolicyError(_step(path, key), "unknown statement element")
    if "Effect" not in raw:
        raise PolicyError(f"{path}.Effect", "missing (expected Allow or Deny)")
    effect = raw["Effect"]
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{path}.Effect", f"expected Allow or Deny, got {_describe(effect)}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{path}.Sid", f"expected a string, got {_describe(sid)}")

    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError(path, "expected exactly one of Action or NotAction")
    actions = _actions(raw["Action"], f"{path}.Action") if "Action" in raw else None
    not_actions = _actions(raw["NotAction"], f"{path}.NotAction") if "NotAction" in raw else None

    has_resource = "Resource" in raw or "NotResource" in raw
    if "Resource" in raw and "NotResource" in raw:
        raise PolicyError(path, "expected at most one of Resource or NotResource, got both")
    has_principal = "Principal" in raw or "NotPrincipal" in raw
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError(path, "expected at most one of Principal or NotPrincipal, got both")
    if kind is PolicyKind.IDENTITY:
        if not has_resource:
            raise PolicyError(path, "expected exactly one of Resource or NotResource")
        if has_principal:
            name = "Principal" if "Principal" in raw else "NotPrincipal"
            raise PolicyError(f"{path}.{name}", "not allowed in an identity-based policy")
    elif not has_principal:
        raise PolicyError(path, "expected exactly one of Principal or NotPrincipal in a trust policy")

    resources = _string_list(raw["Resource"], f"{path}.Resource") if "Resource" in raw else None
    not_resources = _string_list(raw["NotResource"], f"{path}.NotResource") if "NotResource" in raw else None
    if kind is PolicyKind.IDENTITY:
        element = "Resource" if resources is not None else "NotResource"
        for position, entry in enumerate(resources if resources is not None else not_resources or ()):
            if not _resource_looks_right(entry):
                where = f"{path}.{element}" if isinstance(raw[element], str) else f"{path}.{element}[{position}]"
                raise PolicyError(where, f"expected '*' or an ARN (arn:partition:service:...), got {_describe(entry)}")
    principal = _principal(raw["Principal"], f"{path}.Principal") if "Principal" in raw else None
    not_principal = _principal(raw["NotPrincipal"], f"{path}.NotPrincipal") if "NotPrincipal" in raw else None
    conditions = _conditions(raw["Condition"], f"{path}.Condition") if "Condition" in raw else ()
    return Statement(
        index=index,
        effect=Effect(effect),
        sid=sid,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principal=principal,
        not_principal=not_principal,
        conditions=conditions,
    )


# --- the plain path ----------------------------------------------------------------------------
# Most documents are what json.loads gives for a well-formed policy: dicts, lists and strings of
# exactly those types. ``_plain_policy`` reads those with few checks, each one a whole element at a
# time, and returns None as soon as anything is unusual (a missing or extra element, a null, a
# number where a string belongs, an Unresolved, a tuple, a subclass, an empty list, an action or
# operator that does not look right); ``parse_policy`` then reads the document again with the
# careful code, which finds the problem and names its path. So the plain path never raises, and
# whatever it returns is equal to what the careful code returns for the same document.

_STR_ONLY = frozenset({str})
_EFFECTS = {"Allow": Effect.ALLOW, "Deny": Effect.DENY}
# Every operator ``split_operator`` accepts: no prefix or a set prefix, a base operator, IfExists or not.
_OPERATORS = frozenset(
    f"{prefix}{base}{suffix}"
    for prefix in ("", "ForAllValues:", "ForAnyValue:")
    for base in BASE_OPERATORS
    for suffix in ("", "IfExists")
    if not (base == "Null" and suffix)
)
# Action strings the plain path has accepted: the same few thousand repeat across a file's
# policies. Bounded, so a long-running process cannot grow it without limit.
_MATCHED_ACTIONS: set[str] = set()
_MATCHED_ACTIONS_LIMIT = 100_000
# The characters of an action name besides its one colon (``_ACTION_RE``).
_ACTION_CHARACTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*?_-"


def _plain_strings(value: Any) -> tuple[str, ...] | None:
    """A str or a non-empty list of str → tuple; None for anything else."""
    if type(value) is str:
        return (value,)
    if type(value) is list and value and _STR_ONLY.issuperset(map(type, value)):
        return tuple(value)
    return None


def _plain_actions(value: Any) -> tuple[str, ...] | None:
    """``_plain_strings``, each one an action ``_ACTION_RE`` accepts (names accepted before are
    known; the new ones are checked together, see ``_action_names``)."""
    actions = _plain_strings(value)
    if actions is None or _MATCHED_ACTIONS.issuperset(actions):
        return actions
    new = [action for action in actions if action not in _MATCHED_ACTIONS]
    if not _action_names(new):
        return None
    room = _MATCHED_ACTIONS_LIMIT - len(_MATCHED_ACTIONS)
    if room > 0:
        _MATCHED_ACTIONS.update(new[:room])
    return actions


def _action_names(names: list[str]) -> bool:
    """Whether each of ``names`` is an action ``_ACTION_RE`` accepts.

    Asked of all at once first: the names joined by commas, with the characters a name may hold
    deleted, leave one colon per name and the commas between them (so no name holds a comma, and
    each exactly one colon), and no name starts with its colon. Names that fail that (``*``, a name
    ending in a newline, which the pattern's ``$`` takes, or a wrong one) are asked of the pattern
    one by one.
    """
    text = ",".join(names)
    if (
        text.isascii()
        and not text.startswith(":")
        and ",:" not in text
        and text.encode().translate(None, _ACTION_CHARACTERS) == b":," * (len(names) - 1) + b":"
    ):
        return True
    return all(_ACTION_RE.match(name) for name in names)


def _plain_principal(value: Any) -> Principal | None:
    """``"*"`` or a non-empty object of known principal types → Principal; None otherwise."""
    if type(value) is str:
        return Principal(True) if value == "*" else None
    if type(value) is not dict or not value or not PRINCIPAL_TYPES.issuperset(value):
        return None
    entries: list[tuple[str, tuple[str, ...]]] = []
    for kind, identifiers in value.items():
        values = _plain_strings(identifiers)
        if values is None:
            return None
        entries.append((kind, values))
    return Principal(False, tuple(entries))


def _plain_condition_value(value: Any) -> str | None:
    """A str, bool, int or float → its text as ``_condition_value`` gives it; None otherwise."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return str(value)
    return None


def _plain_conditions(value: Any) -> tuple[Condition, ...] | None:
    """A Condition block of known operators over non-empty objects of string keys; None otherwise."""
    if type(value) is not dict:
        return None
    conditions: list[Condition] = []
    for operator, block in value.items():
        if type(operator) is not str or operator not in _OPERATORS or type(block) is not dict or not block:
            return None
        for key, raw in block.items():
            if type(key) is not str:
                return None
            values: tuple[str, ...]
            if type(raw) is str:
                values = (raw,)
            elif type(raw) is list and _STR_ONLY.issuperset(map(type, raw)):
                values = tuple(raw)
            else:
                converted: list[str] = []
                for item in raw if type(raw) is list else (raw,):
                    text = _plain_condition_value(item)
                    if text is None:
                        return None
                    converted.append(text)
                values = tuple(converted)
            conditions.append(Condition(operator, key, values))
    return tuple(conditions)


def _plain_statement(raw: Any, index: int, identity: bool) -> Statement | None:
    """One statement that follows the grammar (of an identity policy or, if not ``identity``, of a
    trust policy) in plain values; None when anything in it is not so."""
    if type(raw) is not dict or not _STATEMENT_KEYS.issuperset(raw):
        return None
    effect = raw.get("Effect")
    if type(effect) is not str or effect not in _EFFECTS:
        return None
    sid = raw.get("Sid")
    if sid is not None and type(sid) is not str:
        return None

    actions = not_actions = None  # exactly one of the two
    if "Action" in raw:
        if "NotAction" in raw or (actions := _plain_actions(raw["Action"])) is None:
            return None
    elif (not_actions := _plain_actions(raw.get("NotAction"))) is None:
        return None

    resources = not_resources = None  # at most one of the two; one in an identity policy
    if "Resource" in raw:
        if "NotResource" in raw or (resources := _plain_strings(raw["Resource"])) is None:
            return None
    elif "NotResource" in raw:
        if (not_resources := _plain_strings(raw["NotResource"])) is None:
            return None
    elif identity:
        return None
    if identity:  # each entry "*" or with a colon (see _resource_looks_right)
        for entry in resources or not_resources or ():
            if ":" not in entry and entry != "*":
                return None

    principal = not_principal = None  # one of the two in a trust policy, neither in an identity one
    if "Principal" in raw:
        if identity or "NotPrincipal" in raw or (principal := _plain_principal(raw["Principal"])) is None:
            return None
    elif "NotPrincipal" in raw:
        if identity or (not_principal := _plain_principal(raw["NotPrincipal"])) is None:
            return None
    elif not identity:
        return None

    conditions: tuple[Condition, ...] = ()
    if "Condition" in raw:
        read = _plain_conditions(raw["Condition"])
        if read is None:
            return None
        conditions = read
    # In the order of Statement's fields: a call by keyword costs a dict per statement.
    return Statement(
        index,
        _EFFECTS[effect],
        sid,
        actions,
        not_actions,
        resources,
        not_resources,
        principal,
        not_principal,
        conditions,
    )


def _plain_policy(raw: Any, *, kind: PolicyKind, name: str, origin: Origin | None) -> Policy | None:
    """The policy, when ``raw`` is a plain, well-formed document; None when the careful code must
    read it (it may still be valid)."""
    if type(raw) is not dict or not _TOP_KEYS.issuperset(raw):
        return None
    version = raw.get("Version")
    if version is not None and (type(version) is not str or version not in VERSIONS):
        return None
    policy_id = raw.get("Id")
    if policy_id is not None and type(policy_id) is not str:
        return None
    body = raw.get("Statement")
    if type(body) is dict:
        body = [body]
    elif type(body) is not list:
        return None
    identity = kind is PolicyKind.IDENTITY
    statements: list[Statement] = []
    for index, item in enumerate(body):
        statement = _plain_statement(item, index, identity)
        if statement is None:
            return None
        statements.append(statement)
    return Policy(tuple(statements), version, policy_id, kind, name, origin)  # in the order of its fields


def parse_policy(
    document: Mapping[str, Any] | str | Policy,
    *,
    kind: PolicyKind = PolicyKind.IDENTITY,
    name: str = "",
    origin: Origin | None = None,
) -> Policy:
    """Validate and normalise one policy document.

    ``kind`` decides the grammar: identity policies (also boundaries and SCPs) need Resource or
    NotResource and may not name a Principal; trust policies need Principal or NotPrincipal.
    Raises ``PolicyError`` whose message starts with the JSON path of the problem.
    """
    if isinstance(document, Policy):
        return document
    raw: Any = load_json_document(document) if isinstance(document, str) else document
    plain = _plain_policy(raw, kind=kind, name=name, origin=origin)
    if plain is not None:
        return plain
    return _careful_policy(raw, kind=kind, name=name, origin=origin)


def _careful_policy(raw: Any, *, kind: PolicyKind, name: str, origin: Origin | None) -> Policy:
    """``parse_policy`` on a decoded document, element by element: every value is checked for what
    it is, and the first problem raises ``PolicyError`` with its path. The reference for
    ``_plain_policy``."""
    if not isinstance(raw, Mapping):
        raise PolicyError("", f"expected a policy object, got {_describe(raw)}")
    for key in raw:
        if key not in _TOP_KEYS:
            raise PolicyError(_step("", key), "unknown policy element (expected Version, Id, Statement)")
    version = raw.get("Version")
    if version is not None and (not isinstance(version, str) or version not in VERSIONS):
        raise PolicyError("Version", f"expected 2012-10-17 or 2008-10-17, got {_describe(version)}")
    policy_id = raw.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise PolicyError("Id", f"expected a string, got {_describe(policy_id)}")
    if "Statement" not in raw:
        raise PolicyError("Statement", "missing")
    body = raw["Statement"]
    statements: list[Statement]
    if isinstance(body, Mapping):
        statements = [_statement(body, 0, "Statement", kind)]
    elif isinstance(body, Sequence) and not isinstance(body, str):
        statements = [_statement(item, i, f"Statement[{i}]", kind) for i, item in enumerate(body)]
    else:
        raise PolicyError("Statement", f"expected a statement object or a list of them, got {_describe(body)}")
    return Policy(
        statements=tuple(statements),
        version=version,
        id=policy_id,
        kind=kind,
        name=name,
        origin=origin,
    )
