"""Condition operators, decided against a request context as IAM documents them.

Rules that are easy to get wrong, all implemented here:

- A key missing from the context makes a positive operator false and a negated one
  (``StringNotEquals``, ``ArnNotLike``, ``NotIpAddress``, ...) true, except for ``...IfExists``
  (true when missing) and ``Null`` (which tests presence).
- Several values for one key are ORed; for a negated operator they are NORed.
- ``ForAllValues`` is true when the key is missing or its values are a null data set (none, or only
  empty strings); ``ForAnyValue`` is false then.
- Condition key names compare case-insensitively; values by each operator's own rule.

Where AWS's documentation is silent, a condition that could go either way is *undecided*
(``ConditionUnknown`` with ``undecided`` set): the statement might apply and the answer is unknown,
so neither reading can turn into a false "allowed". Three such corners:

- a negated operator given a value that is not of its type (``NotIpAddress`` on a value that is no
  IP address, ``ArnNotLike`` on one that is no ARN, ``NumericNotEquals`` or ``DateNotEquals`` on
  one that is no number or date), in the request or in the policy, unless another value decides the
  condition anyway. (A positive operator on such a value does not match: a value that is no number
  equals no number, and reading it so cannot make an Allow apply.)
- an operator without a set qualifier on a key with several values in the request (AWS: "multivalued
  context keys require a condition set operator"), when any value would match: AWS may evaluate such
  a condition as matching no value.

``ForAllValues:Null`` and ``ForAnyValue:Null`` are read as plain ``Null``: ``Null`` tests whether
the key is present, which a set operator cannot change, and AWS documents no other reading.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from zeet_iam_audit.model import Condition, Unresolved
from zeet_iam_audit.policy.match import arn_matches, compile_pattern
from zeet_iam_audit.policy.parse import split_operator
from zeet_iam_audit.policy.variables import Substituted, substitute

Context = Mapping[str, tuple[str, ...]]
# A value test: (request value, policy value after substitution) → match, or None when a value is
# not of the operator's type
ValueTest = Callable[[str, Substituted], bool | None]

NEGATED = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "DateNotEquals",
        "NotIpAddress",
        "ArnNotEquals",
        "ArnNotLike",
    }
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

    def test(request: str, policy: Substituted) -> bool | None:
        left, right = _number(request), _number(policy.text)
        if left is None or right is None:
            return None
        return check((left > right) - (left < right))

    return test


def _date_test(suffix: str) -> ValueTest:
    check = _compare(suffix)

    def test(request: str, policy: Substituted) -> bool | None:
        left, right = _date(request), _date(policy.text)
        if left is None or right is None:
            return None
        return check((left > right) - (left < right))

    return test


def _string_equals(request: str, policy: Substituted) -> bool:
    return request == policy.literal()


def _string_equals_ignore_case(request: str, policy: Substituted) -> bool:
    return request.casefold() == policy.literal().casefold()


def _string_like(request: str, policy: Substituted) -> bool:
    return policy.matches(request, compile_pattern)


_BOOLEANS = frozenset({"true", "false"})


def _bool(request: str, policy: Substituted) -> bool | None:
    left, right = request.strip().lower(), policy.text.strip().lower()
    if left not in _BOOLEANS or right not in _BOOLEANS:
        return None
    return left == right


def _binary_equals(request: str, policy: Substituted) -> bool | None:
    left, right = _binary(request), _binary(policy.text)
    if left is None or right is None:
        return None
    return left == right


def _ip_address(request: str, policy: Substituted) -> bool | None:
    network = _network(policy.text)
    try:
        address = ipaddress.ip_address(request.strip())
    except ValueError:
        return None
    if network is None:
        return None
    return address.version == network.version and address in network


def _is_arn(text: str) -> bool:
    return text.startswith("arn:") and text.count(":") >= 5


def _arn_like(request: str, policy: Substituted) -> bool | None:
    if not _is_arn(request) or not (_is_arn(policy.pattern) or not policy.pattern.strip("*?")):
        return None
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
    """Raised inside evaluation when a condition needs a value nobody knows (an Unresolved one), or
    (``undecided``) when AWS's documentation does not say how it comes out (see the module docstring)."""

    def __init__(self, reason: str, *, undecided: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.undecided = undecided


Tri = bool | None  # None: undecided


def _any(values: Iterable[Tri]) -> Tri:
    """Three-valued OR: True if any is True, else None if any is None, else False."""
    seen_none = False
    for value in values:
        if value:
            return True
        if value is None:
            seen_none = True
    return None if seen_none else False


def _not(value: Tri) -> Tri:
    return None if value is None else not value


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
        # A set operator on Null (ForAnyValue:Null) is read as plain Null: see the module docstring.
        return any((w == "true" and absent) or (w == "false" and not absent) for w in wanted)

    negated = base in NEGATED
    positive = _POSITIVE_OF.get(base, base)
    test = _POSITIVE_TESTS[positive]
    substitute_here = variables and positive in _VARIABLE_OPERATORS
    policy_values = [
        substitute(v, context if substitute_here else None, enabled=substitute_here) for v in condition.values
    ]
    for value in policy_values:
        if value.unresolved:
            raise ConditionUnknown(value.unresolved)

    def matches_any(request_value: str) -> Tri:
        return _any(test(request_value, pv) for pv in policy_values if not pv.missing)

    if qualifier is not None and request and all(value == "" for value in request):
        request = ()  # empty strings only: a null data set, as AWS documents for the set operators

    holds: Tri
    if qualifier is None:
        if request is None or not request:
            return if_exists or negated
        found = _any(matches_any(r) for r in request)
        holds = _not(found) if negated else found is True
        if holds is not False and len(request) > 1:
            # Several values with no set operator: AWS says such keys need one; a request AWS
            # evaluates that way may match no value at all.
            raise ConditionUnknown(
                f"{condition.operator} on {condition.key}, which holds several values in the request "
                "(a multivalued key needs ForAnyValue or ForAllValues)",
                undecided=True,
            )
    elif request is None or not request:
        # ForAllValues holds vacuously on a missing or empty key; ForAnyValue cannot.
        return if_exists or qualifier == "ForAllValues"
    elif qualifier == "ForAllValues" and negated:
        holds = _not(_any(matches_any(r) for r in request))  # no request value matches
    elif qualifier == "ForAllValues":
        holds = all(matches_any(r) is True for r in request)  # every request value matches
    elif negated:
        holds = _any(_not(matches_any(r)) for r in request)
    else:
        holds = any(matches_any(r) is True for r in request)
    if holds is None:
        raise ConditionUnknown(
            f"{condition.operator} on {condition.key}: a value is not of the operator's type, which AWS "
            "documents no rule for",
            undecided=True,
        )
    return holds


def normalise_context(context: Mapping[str, str | list[str] | tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """A user's context (key → string or list of strings) keyed case-insensitively, values as tuples."""
    result: dict[str, tuple[str, ...]] = {}
    for key, value in context.items():
        result[key.lower()] = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
    return result
