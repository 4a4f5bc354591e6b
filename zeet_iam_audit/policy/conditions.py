"""Condition operators, decided against a request context as IAM documents them.

Rules that are easy to get wrong, all implemented here:

- A key missing from the context makes a positive operator false and a negated one
  (``StringNotEquals``, ``ArnNotLike``, ``NotIpAddress``, ...) true, except for ``...IfExists``
  (true when missing) and ``Null`` (which tests presence).
- Several values for one key are ORed; for a negated operator they are NORed.
- ``ForAllValues`` is true when the key is missing or empty; ``ForAnyValue`` is false then.
- Condition key names compare case-insensitively; values by each operator's own rule.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from zeet_iam_audit.model import Condition, Unresolved
from zeet_iam_audit.policy.match import arn_matches, compile_pattern
from zeet_iam_audit.policy.parse import split_operator
from zeet_iam_audit.policy.variables import Substituted, substitute

Context = Mapping[str, tuple[str, ...]]
# A value test: (request value, policy value after substitution) → match
ValueTest = Callable[[str, Substituted], bool]

NEGATED = frozenset(
    {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
     "DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike"}
)
# The positive operator each negated one is the negation of.
_POSITIVE_OF = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
# Operators whose policy values may hold policy variables.
_VARIABLE_OPERATORS = frozenset(
    {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"}
)


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _date(text: str) -> datetime | None:
    text = text.strip()
    number = _number(text)
    if number is not None:  # epoch seconds
        try:
            return datetime.fromtimestamp(float(number), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _compare(op: str) -> Callable[[int], bool]:
    return {
        "Equals": lambda c: c == 0,
        "LessThan": lambda c: c < 0,
        "LessThanEquals": lambda c: c <= 0,
        "GreaterThan": lambda c: c > 0,
        "GreaterThanEquals": lambda c: c >= 0,
    }[op]


def _numeric_test(suffix: str) -> ValueTest:
    check = _compare(suffix)

    def test(request: str, policy: Substituted) -> bool:
        left, right = _number(request), _number(policy.text)
        if left is None or right is None:
            return False
        return check((left > right) - (left < right))

    return test


def _date_test(suffix: str) -> ValueTest:
    check = _compare(suffix)

    def test(request: str, policy: Substituted) -> bool:
        left, right = _date(request), _date(policy.text)
        if left is None or right is None:
            return False
        return check((left > right) - (left < right))

    return test


def _string_equals(request: str, policy: Substituted) -> bool:
    return request == policy.literal()


def _string_equals_ignore_case(request: str, policy: Substituted) -> bool:
    return request.casefold() == policy.literal().casefold()


def _string_like(request: str, policy: Substituted) -> bool:
    return policy.matches(request, compile_pattern)


def _bool(request: str, policy: Substituted) -> bool:
    return request.strip().lower() == policy.text.strip().lower()


def _binary_equals(request: str, policy: Substituted) -> bool:
    left, right = _binary(request), _binary(policy.text)
    return left is not None and left == right


def _ip_address(request: str, policy: Substituted) -> bool:
    network = _network(policy.text)
    try:
        address = ipaddress.ip_address(request.strip())
    except ValueError:
        return False
    return network is not None and address.version == network.version and address in network


def _arn_like(request: str, policy: Substituted) -> bool:
    return policy.matches(request, lambda pattern: lambda text: arn_matches(pattern, text))


_COMPARISONS = ("Equals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")
_POSITIVE_TESTS: dict[str, ValueTest] = {
    "StringEquals": _string_equals,
    "StringEqualsIgnoreCase": _string_equals_ignore_case,
    "StringLike": _string_like,
    "Bool": _bool,
    "BinaryEquals": _binary_equals,
    "IpAddress": _ip_address,
    "ArnEquals": _arn_like,  # IAM documents ArnEquals and ArnLike as behaving the same
    "ArnLike": _arn_like,
    **{f"Numeric{s}": _numeric_test(s) for s in _COMPARISONS},
    **{f"Date{s}": _date_test(s) for s in _COMPARISONS},
}


class ConditionUnknown(Exception):
    """Raised inside evaluation when a condition needs a value nobody knows (an Unresolved one)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _lookup(context: Context, key: str) -> tuple[str, ...] | None:
    value = context.get(key.lower())
    return value


def evaluate_condition(condition: Condition, context: Context, *, variables: bool) -> bool:
    """Whether one ``operator → key → values`` entry holds for ``context``.

    ``context`` maps lower-cased condition keys to their values; ``variables`` says whether policy
    variables in the values are substituted (policy version 2012-10-17) or taken literally.
    Raises ``ConditionUnknown`` when a policy value is an unresolved template value.
    """
    qualifier, base, if_exists = split_operator(condition.operator)
    request = _lookup(context, condition.key)
    for raw in condition.values:
        if isinstance(raw, Unresolved):  # checked first: no operator may read it as a plain value
            raise ConditionUnknown(raw.reason)

    if base == "Null":
        # "true": the key must be absent; "false": present. An empty list counts as absent.
        absent = request is None or len(request) == 0
        wanted = {v.strip().lower() for v in condition.values}
        return any((w == "true" and absent) or (w == "false" and not absent) for w in wanted)

    negated = base in NEGATED
    positive = _POSITIVE_OF.get(base, base)
    test = _POSITIVE_TESTS[positive]
    substitute_here = variables and positive in _VARIABLE_OPERATORS
    policy_values = [substitute(v, context if substitute_here else None, enabled=substitute_here)
                     for v in condition.values]
    for value in policy_values:
        if value.unresolved:
            raise ConditionUnknown(value.unresolved)

    def matches_any(request_value: str) -> bool:
        return any(not pv.missing and test(request_value, pv) for pv in policy_values)

    if qualifier is None:
        if request is None or not request:
            return if_exists or negated
        if negated:
            return not any(matches_any(r) for r in request)
        return any(matches_any(r) for r in request)

    if request is None or not request:
        # ForAllValues holds vacuously on a missing or empty key; ForAnyValue cannot.
        return if_exists or qualifier == "ForAllValues"
    if qualifier == "ForAllValues":
        if negated:
            return all(not matches_any(r) for r in request)
        return all(matches_any(r) for r in request)
    if negated:
        return any(not matches_any(r) for r in request)
    return any(matches_any(r) for r in request)


def normalise_context(context: Mapping[str, str | list[str] | tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """A user's context (key → string or list of strings) keyed case-insensitively, values as tuples."""
    result: dict[str, tuple[str, ...]] = {}
    for key, value in context.items():
        result[key.lower()] = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
    return result
