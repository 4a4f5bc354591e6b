"""Condition operators, decided against a request context as AWS documents them.

Every case goes through the public ``evaluate``: an Allow gated only by the condition is allowed
exactly when the condition holds (``support.condition_holds``).
"""

from __future__ import annotations

import pytest

from zeet_iam_audit import Decision, evaluate
from zeet_iam_audit.policy.conditions import NEGATED
from zeet_iam_audit.policy.parse import BASE_OPERATORS

from .support import allow, condition_holds, policy

Ctx = dict[str, str | list[str]]

# For each operator family: a policy value, then request values (for the comparisons, equal,
# above and below), the first of which the positive equality operator matches.
_SAMPLE = {
    "String": ("zeet", "zeet", "other"),
    "Numeric": ("10", "10", "11", "9"),
    "Date": ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "2023-01-01T00:00:00Z"),
    "Bool": ("true", "true", "false"),
    "Binary": ("emVldA==", "emVldA==", "b3RoZXI="),
    "IpAddress": ("203.0.113.0/24", "203.0.113.5", "198.51.100.1"),
    "NotIpAddress": ("203.0.113.0/24", "203.0.113.5", "198.51.100.1"),
    "Arn": (
        "arn:aws:sqs:us-east-1:111122223333:zeet",
        "arn:aws:sqs:us-east-1:111122223333:zeet",
        "arn:aws:sqs:us-east-1:111122223333:x",
    ),
}


def _sample(operator: str) -> tuple[str, ...]:
    for family, sample in _SAMPLE.items():
        if operator.startswith(family):
            return sample
    raise AssertionError(f"no sample for {operator}")


_CHECKED = sorted(BASE_OPERATORS - {"Null"})
_POSITIVE = [op for op in _CHECKED if op not in NEGATED]


def test_negated_operator_list_is_the_documented_one() -> None:
    assert (
        frozenset(
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
        == NEGATED
    )


# --- Missing keys: false for positive operators, true for negated ones and for IfExists ---------


@pytest.mark.parametrize("operator", _POSITIVE, ids=[f"{op}-missing-key-false" for op in _POSITIVE])
def test_positive_operator_with_missing_key_is_false(operator: str) -> None:
    value = _sample(operator)[0]
    assert not condition_holds(operator, "zeet:Key", value, {"other:Key": "x"})


@pytest.mark.parametrize("operator", sorted(NEGATED), ids=[f"{op}-missing-key-true" for op in sorted(NEGATED)])
def test_negated_operator_with_missing_key_is_true(operator: str) -> None:
    # AWS: "If the key ... is not present in the request context ... for negated operators such as
    # StringNotLike the condition is true".
    value = _sample(operator)[0]
    assert condition_holds(operator, "zeet:Key", value, {})


@pytest.mark.parametrize("operator", _CHECKED, ids=[f"{op}IfExists-missing-key-true" for op in _CHECKED])
def test_every_ifexists_form_is_true_for_a_missing_key(operator: str) -> None:
    value = _sample(operator)[0]
    assert condition_holds(f"{operator}IfExists", "zeet:Key", value, {})


@pytest.mark.parametrize("operator", _CHECKED, ids=[f"{op}IfExists-present-key-decides" for op in _CHECKED])
def test_ifexists_with_present_key_is_the_plain_operator(operator: str) -> None:
    value, *requests = _sample(operator)
    outcomes = []
    for request in requests:
        plain = condition_holds(operator, "zeet:Key", value, {"zeet:Key": request})
        assert condition_holds(f"{operator}IfExists", "zeet:Key", value, {"zeet:Key": request}) is plain
        outcomes.append(plain)
    assert set(outcomes) == {True, False}  # the samples really exercise both outcomes


# --- String ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "request_value", "expected"),
    [
        pytest.param("StringEquals", "zeet", "zeet", True, id="equals"),
        pytest.param("StringEquals", "zeet", "Zeet", False, id="equals-case-sensitive"),
        pytest.param("StringEquals", "zeet*", "zeet-prod", False, id="equals-no-wildcards"),
        pytest.param("StringEquals", ["a", "zeet"], "zeet", True, id="equals-values-ored"),
        pytest.param("StringNotEquals", "zeet", "other", True, id="not-equals"),
        pytest.param("StringNotEquals", "zeet", "zeet", False, id="not-equals-same"),
        pytest.param("StringNotEquals", ["a", "b"], "c", True, id="not-equals-nor-none-match"),
        pytest.param("StringNotEquals", ["a", "b"], "b", False, id="not-equals-nor-one-matches"),
        pytest.param("StringEqualsIgnoreCase", "ZEET", "zeet", True, id="ignorecase"),
        pytest.param("StringEqualsIgnoreCase", "ZEET", "zeets", False, id="ignorecase-exact"),
        pytest.param("StringNotEqualsIgnoreCase", "ZEET", "zeet", False, id="not-equals-ignorecase-same"),
        pytest.param("StringNotEqualsIgnoreCase", ["a", "B"], "b", False, id="not-equals-ignorecase-nor"),
        pytest.param("StringNotEqualsIgnoreCase", "ZEET", "other", True, id="not-equals-ignorecase-different"),
        pytest.param("StringLike", "zeet-*", "zeet-prod", True, id="like-star"),
        pytest.param("StringLike", "zeet-*", "zeet-", True, id="like-star-empty"),
        pytest.param("StringLike", "zeet-*", "my-zeet-prod", False, id="like-anchored"),
        pytest.param("StringLike", "zeet-?", "zeet-1", True, id="like-question"),
        pytest.param("StringLike", "zeet-?", "zeet-12", False, id="like-question-one-char"),
        pytest.param("StringLike", "Zeet-*", "zeet-prod", False, id="like-case-sensitive"),
        pytest.param("StringLike", "*:*", "a:b", True, id="like-star-crosses-colons"),
        pytest.param("StringLike", ["t1.*", "t2.*", "m3.*"], "t2.micro", True, id="like-values-ored"),
        pytest.param("StringLike", "zeet", "zeet", True, id="like-without-wildcards"),
        pytest.param("StringNotLike", "zeet-*", "zeet-prod", False, id="not-like-match"),
        pytest.param("StringNotLike", "zeet-*", "prod", True, id="not-like-no-match"),
        pytest.param("StringNotLike", ["a*", "b*"], "bob", False, id="not-like-nor"),
        pytest.param("StringNotLike", ["a*", "b*"], "carol", True, id="not-like-nor-none"),
        pytest.param("StringEquals", "", "", True, id="empty-string-equals-empty"),
    ],
)
def test_string_operators(operator: str, values: str | list[str], request_value: str, expected: bool) -> None:
    assert condition_holds(operator, "zeet:Key", values, {"zeet:Key": request_value}) is expected


# --- Numeric --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "request_value", "expected"),
    [
        pytest.param("NumericEquals", "10", "10", True, id="equals"),
        pytest.param("NumericEquals", "10", "10.0", True, id="equals-as-numbers-not-text"),
        pytest.param("NumericEquals", "10", "11", False, id="equals-different"),
        pytest.param("NumericNotEquals", "10", "11", True, id="not-equals"),
        pytest.param("NumericNotEquals", "10", "10", False, id="not-equals-same"),
        pytest.param("NumericLessThan", "10", "9", True, id="less-than"),
        pytest.param("NumericLessThan", "10", "10", False, id="less-than-equal-value"),
        pytest.param("NumericLessThanEquals", "10", "10", True, id="less-than-equals"),
        pytest.param("NumericLessThanEquals", "10", "10.5", False, id="less-than-equals-above"),
        pytest.param("NumericGreaterThan", "10", "100", True, id="greater-than-not-lexical"),
        pytest.param("NumericGreaterThan", "10", "10", False, id="greater-than-equal-value"),
        pytest.param("NumericGreaterThanEquals", "10", "10", True, id="greater-than-equals"),
        pytest.param("NumericGreaterThanEquals", "10", "-10", False, id="negative-number"),
        pytest.param("NumericLessThan", "0.5", "0.25", True, id="decimals"),
        pytest.param("NumericEquals", "10", "ten", False, id="non-numeric-request-value"),
        pytest.param("NumericLessThan", "ten", "1", False, id="non-numeric-policy-value"),
    ],
)
def test_numeric_operators(operator: str, value: str, request_value: str, expected: bool) -> None:
    assert condition_holds(operator, "s3:max-keys", value, {"s3:max-keys": request_value}) is expected


def test_numeric_value_written_as_a_json_number() -> None:
    result = evaluate(
        "s3:ListBucket",
        identity_policies=[policy(allow("s3:ListBucket", Condition={"NumericLessThanEquals": {"s3:max-keys": 10}}))],
        context={"s3:max-keys": "7"},
    )
    assert result.decision is Decision.ALLOWED


# --- Date -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "request_value", "expected"),
    [
        pytest.param("DateEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", True, id="equals-iso"),
        pytest.param(
            "DateEquals", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", True, id="equals-across-time-zones"
        ),
        pytest.param("DateEquals", "2024-01-01T00:00:00Z", "1704067200", True, id="iso-policy-epoch-request"),
        pytest.param("DateEquals", "1704067200", "2024-01-01T00:00:00Z", True, id="epoch-policy-iso-request"),
        pytest.param("DateNotEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", True, id="not-equals"),
        pytest.param("DateLessThan", "2024-01-01T00:00:00Z", "2023-12-31T23:59:59Z", True, id="less-than"),
        pytest.param(
            "DateLessThan", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", False, id="less-than-same-instant"
        ),
        pytest.param("DateLessThanEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", True, id="less-than-equals"),
        pytest.param(
            "DateGreaterThan", "2020-01-01T00:00:01Z", "2024-06-01T12:00:00Z", True, id="greater-than-token-issue-time"
        ),
        pytest.param(
            "DateGreaterThan", "2020-01-01T00:00:01Z", "2019-06-01T12:00:00Z", False, id="greater-than-earlier"
        ),
        pytest.param("DateGreaterThanEquals", "1704067200", "1704067200", True, id="greater-than-equals-epoch"),
        pytest.param("DateLessThan", "2024-01-01", "2023-12-31T12:00:00Z", True, id="date-only-policy-value"),
        pytest.param("DateLessThan", "1704067200", "1704067199", True, id="epoch-both-sides"),
        pytest.param("DateEquals", "2024-01-01T00:00:00Z", "yesterday", False, id="unparseable-request-date"),
        pytest.param("DateEquals", "not-a-date", "2024-01-01T00:00:00Z", False, id="unparseable-policy-date"),
    ],
)
def test_date_operators(operator: str, value: str, request_value: str, expected: bool) -> None:
    assert condition_holds(operator, "aws:CurrentTime", value, {"aws:CurrentTime": request_value}) is expected


# --- Bool, Binary ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "request_value", "expected"),
    [
        pytest.param("true", "true", True, id="true-true"),
        pytest.param("true", "false", False, id="true-false"),
        pytest.param("false", "false", True, id="false-false"),
        pytest.param("true", "True", True, id="case-insensitive-value"),
        pytest.param(True, "true", True, id="json-boolean-in-policy"),
        pytest.param(False, "true", False, id="json-false-in-policy"),
        pytest.param("true", "yes", False, id="not-a-boolean"),
    ],
)
def test_bool(value: str | bool, request_value: str, expected: bool) -> None:
    assert condition_holds("Bool", "aws:SecureTransport", value, {"aws:SecureTransport": request_value}) is expected


@pytest.mark.parametrize(
    ("value", "request_value", "expected"),
    [
        pytest.param("QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", True, id="same-bytes"),
        pytest.param("QmluYXJ5VmFsdWVJbkJhc2U2NA==", "T3RoZXJWYWx1ZQ==", False, id="different-bytes"),
        pytest.param("emVldA==", "not base64!", False, id="request-not-base64"),
        pytest.param(["b3RoZXI=", "emVldA=="], "emVldA==", True, id="values-ored"),
    ],
)
def test_binary_equals(value: str | list[str], request_value: str, expected: bool) -> None:
    assert condition_holds("BinaryEquals", "zeet:Blob", value, {"zeet:Blob": request_value}) is expected


# --- IP addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "source_ip", "expected"),
    [
        pytest.param("IpAddress", "203.0.113.0/24", "203.0.113.7", True, id="v4-inside"),
        pytest.param("IpAddress", "203.0.113.0/24", "203.0.114.7", False, id="v4-outside"),
        pytest.param("IpAddress", "203.0.113.7", "203.0.113.7", True, id="v4-bare-is-slash-32"),
        pytest.param("IpAddress", "203.0.113.7", "203.0.113.8", False, id="v4-bare-exact"),
        pytest.param(
            "IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678::99", True, id="v6-inside-case-insensitive"
        ),
        pytest.param("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5679::1", False, id="v6-outside"),
        pytest.param("IpAddress", "203.0.113.0/24", "2001:db8::1", False, id="v6-request-vs-v4-range"),
        pytest.param("IpAddress", "2001:DB8::/32", "203.0.113.7", False, id="v4-request-vs-v6-range"),
        pytest.param(
            "IpAddress",
            ["203.0.113.0/24", "2001:DB8:1234:5678::/64"],
            "2001:db8:1234:5678::1",
            True,
            id="mixed-v4-v6-list-ored",
        ),
        pytest.param("IpAddress", "0.0.0.0/0", "198.51.100.1", True, id="v4-everything"),
        pytest.param("IpAddress", "203.0.113.0/24", "not-an-ip", False, id="request-not-an-ip"),
        pytest.param("NotIpAddress", "203.0.113.0/24", "198.51.100.1", True, id="not-v4-outside"),
        pytest.param("NotIpAddress", "203.0.113.0/24", "203.0.113.1", False, id="not-v4-inside"),
        pytest.param("NotIpAddress", "203.0.113.0/24", "2001:db8::1", True, id="not-v4-range-v6-request"),
        pytest.param(
            "NotIpAddress", ["203.0.113.0/24", "2001:DB8::/32"], "2001:db8::1", False, id="not-nor-over-v4-and-v6"
        ),
    ],
)
def test_ip_address_operators(operator: str, value: str | list[str], source_ip: str, expected: bool) -> None:
    assert condition_holds(operator, "aws:SourceIp", value, {"aws:SourceIp": source_ip}) is expected


# --- ARNs -----------------------------------------------------------------------------------------

_DOC_PATTERN = "arn:aws:someservice:*:111122223333:finance/*"
_DOC_VALUE = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt"


@pytest.mark.parametrize(
    ("operator", "value", "request_value", "expected"),
    [
        pytest.param(
            "ArnEquals",
            "arn:aws:sns:us-east-1:111122223333:zeet",
            "arn:aws:sns:us-east-1:111122223333:zeet",
            True,
            id="equals",
        ),
        pytest.param(
            "ArnEquals",
            "arn:aws:sns:*:111122223333:zeet",
            "arn:aws:sns:us-east-1:111122223333:zeet",
            True,
            id="equals-takes-wildcards-like-arnlike",
        ),
        pytest.param(
            "ArnLike",
            "arn:aws:sns:*:111122223333:zeet-*",
            "arn:aws:sns:eu-west-1:111122223333:zeet-events",
            True,
            id="like",
        ),
        pytest.param(
            "ArnLike",
            "arn:aws:sns:*:111122223333:zeet-*",
            "arn:aws:sns:eu-west-1:111122223333:Zeet-events",
            False,
            id="like-case-sensitive",
        ),
        pytest.param("ArnLike", _DOC_PATTERN, _DOC_VALUE, False, id="like-matches-field-by-field"),
        pytest.param(
            "ArnNotLike",
            "arn:aws:sns:*:111122223333:zeet-*",
            "arn:aws:sns:eu-west-1:999999999999:zeet-x",
            True,
            id="not-like-other-account",
        ),
        pytest.param(
            "ArnNotEquals",
            "arn:aws:sns:*:111122223333:zeet-*",
            "arn:aws:sns:eu-west-1:111122223333:zeet-x",
            False,
            id="not-equals-match",
        ),
        pytest.param(
            "ArnNotLike",
            ["arn:aws:iam::*:role/a", "arn:aws:iam::*:role/b"],
            "arn:aws:iam::111122223333:role/b",
            False,
            id="not-like-nor",
        ),
    ],
)
def test_arn_operators(operator: str, value: str | list[str], request_value: str, expected: bool) -> None:
    assert condition_holds(operator, "aws:SourceArn", value, {"aws:SourceArn": request_value}) is expected


def test_stringlike_spans_fields_where_arnlike_does_not() -> None:
    # AWS's documented example: the same pattern matches with StringLike and fails with ArnLike.
    context: Ctx = {"aws:SourceArn": _DOC_VALUE}
    assert condition_holds("StringLike", "aws:SourceArn", _DOC_PATTERN, context)
    assert not condition_holds("ArnLike", "aws:SourceArn", _DOC_PATTERN, context)


# --- Null -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "context", "expected"),
    [
        pytest.param("true", {}, True, id="true-key-absent"),
        pytest.param("true", {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}, False, id="true-key-present"),
        pytest.param("false", {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}, True, id="false-key-present"),
        pytest.param("false", {}, False, id="false-key-absent"),
        pytest.param(True, {}, True, id="json-boolean"),
        pytest.param("true", {"aws:TokenIssueTime": []}, True, id="empty-list-counts-as-absent"),
    ],
)
def test_null(value: str | bool, context: Ctx, expected: bool) -> None:
    assert condition_holds("Null", "aws:TokenIssueTime", value, context) is expected


# --- Set operators --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "context", "expected"),
    [
        pytest.param(
            "ForAllValues:StringEquals",
            ["a", "b", "c"],
            {"aws:TagKeys": ["a", "b"]},
            True,
            id="forall-every-request-value-listed",
        ),
        pytest.param(
            "ForAllValues:StringEquals",
            ["a", "b"],
            {"aws:TagKeys": ["a", "x"]},
            False,
            id="forall-one-value-not-listed",
        ),
        pytest.param("ForAllValues:StringEquals", ["a"], {}, True, id="forall-missing-key-true"),
        pytest.param("ForAllValues:StringEquals", ["a"], {"aws:TagKeys": []}, True, id="forall-empty-key-true"),
        pytest.param(
            "ForAllValues:StringLike", ["zeet-*"], {"aws:TagKeys": ["zeet-a", "zeet-b"]}, True, id="forall-like"
        ),
        pytest.param(
            "ForAllValues:StringNotEquals",
            ["a", "b"],
            {"aws:TagKeys": ["c", "d"]},
            True,
            id="forall-negated-none-listed",
        ),
        pytest.param(
            "ForAllValues:StringNotEquals",
            ["a", "b"],
            {"aws:TagKeys": ["c", "a"]},
            False,
            id="forall-negated-one-listed",
        ),
        pytest.param("ForAllValues:StringNotEquals", ["a"], {}, True, id="forall-negated-missing-key-true"),
        pytest.param("ForAnyValue:StringEquals", ["a", "b"], {"aws:TagKeys": ["x", "b"]}, True, id="forany-one-listed"),
        pytest.param(
            "ForAnyValue:StringEquals", ["a", "b"], {"aws:TagKeys": ["x", "y"]}, False, id="forany-none-listed"
        ),
        pytest.param("ForAnyValue:StringEquals", ["a"], {}, False, id="forany-missing-key-false"),
        pytest.param("ForAnyValue:StringEquals", ["a"], {"aws:TagKeys": []}, False, id="forany-empty-key-false"),
        pytest.param(
            "ForAnyValue:StringNotEquals",
            ["a", "b"],
            {"aws:TagKeys": ["a", "x"]},
            True,
            id="forany-negated-one-unlisted",
        ),
        pytest.param(
            "ForAnyValue:StringNotEquals",
            ["a", "b"],
            {"aws:TagKeys": ["a", "b"]},
            False,
            id="forany-negated-all-listed",
        ),
        pytest.param("ForAnyValue:StringNotEquals", ["a"], {}, False, id="forany-negated-missing-key-false"),
        pytest.param(
            "ForAnyValue:StringNotLike", ["zeet-*"], {"aws:TagKeys": []}, False, id="forany-negated-empty-key-false"
        ),
        pytest.param("ForAnyValue:StringEqualsIfExists", ["a"], {}, True, id="forany-ifexists-missing-key-true"),
        pytest.param("ForAllValues:StringEquals", ["a"], {"aws:TagKeys": "a"}, True, id="forall-single-string-context"),
        pytest.param(
            "ForAnyValue:StringEqualsIgnoreCase", ["ZEET"], {"aws:TagKeys": ["zeet"]}, True, id="forany-ignorecase"
        ),
    ],
)
def test_set_operators(operator: str, values: list[str], context: Ctx, expected: bool) -> None:
    assert condition_holds(operator, "aws:TagKeys", values, context) is expected


def test_dynamodb_forallvalues_example_from_the_docs() -> None:
    allowed = ["PostDateTime", "Message", "Tags"]
    assert condition_holds(
        "ForAllValues:StringLike", "dynamodb:Attributes", allowed, {"dynamodb:Attributes": ["PostDateTime", "Message"]}
    )
    assert not condition_holds(
        "ForAllValues:StringLike", "dynamodb:Attributes", allowed, {"dynamodb:Attributes": ["PostDateTime", "UserName"]}
    )


def test_plain_operator_on_a_multivalued_key_that_no_value_matches_is_false() -> None:
    # Whichever way AWS reads a plain operator on several values, none matching is no match.
    assert not condition_holds("StringEquals", "aws:TagKeys", "c", {"aws:TagKeys": ["a", "b"]})
    assert not condition_holds("StringNotEquals", "aws:TagKeys", "b", {"aws:TagKeys": ["a", "b"]})


# --- Combining: operators and keys are ANDed, values ORed; key names are case-insensitive ------


def _holds(condition: dict[str, dict[str, str | list[str]]], context: Ctx) -> bool:
    result = evaluate("s3:GetObject", identity_policies=[policy(allow("s3:*", Condition=condition))], context=context)
    assert result.decision is not Decision.CONDITIONAL
    return result.decision is Decision.ALLOWED


_TWO_OPERATORS = {"Bool": {"aws:SecureTransport": "true"}, "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
_TWO_KEYS = {"StringEquals": {"aws:PrincipalTag/team": "zeet", "aws:RequestedRegion": "us-east-1"}}


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        pytest.param(
            _TWO_OPERATORS,
            {"aws:SecureTransport": "true", "aws:SourceIp": "203.0.113.9"},
            True,
            id="two-operators-both-true",
        ),
        pytest.param(
            _TWO_OPERATORS,
            {"aws:SecureTransport": "true", "aws:SourceIp": "192.0.2.1"},
            False,
            id="two-operators-anded",
        ),
        pytest.param(
            _TWO_OPERATORS,
            {"aws:SecureTransport": "false", "aws:SourceIp": "203.0.113.9"},
            False,
            id="two-operators-anded-other-side",
        ),
        pytest.param(
            _TWO_KEYS,
            {"aws:PrincipalTag/team": "zeet", "aws:RequestedRegion": "us-east-1"},
            True,
            id="two-keys-both-true",
        ),
        pytest.param(
            _TWO_KEYS, {"aws:PrincipalTag/team": "zeet", "aws:RequestedRegion": "eu-west-1"}, False, id="two-keys-anded"
        ),
        pytest.param(
            {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
            {"aws:RequestedRegion": "eu-west-1"},
            True,
            id="values-ored",
        ),
        pytest.param(
            {"Bool": {"AWS:SECURETRANSPORT": "true"}},
            {"aws:securetransport": "true"},
            True,
            id="key-names-case-insensitive",
        ),
        pytest.param(
            {"StringEquals": {"aws:PrincipalTag/Team": "zeet"}},
            {"aws:principaltag/team": "ZEET"},
            False,
            id="key-names-insensitive-values-sensitive",
        ),
    ],
)
def test_conditions_combine(condition: dict[str, dict[str, str | list[str]]], context: Ctx, expected: bool) -> None:
    assert _holds(condition, context) is expected


# --- Missing and empty keys, row by row ---------------------------------------------------------

OPERATORS_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
MULTIVALUED_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html"


@pytest.mark.parametrize(
    ("operator", "context", "expected"),
    [
        # OPERATORS_DOC: a key missing from the request context makes the condition false...
        pytest.param("StringEquals", {}, False, id="positive-missing"),
        # ...except for a negated matching operator, true when the key is missing...
        pytest.param("StringNotEquals", {}, True, id="negated-missing"),
        pytest.param("ArnNotLike", {}, True, id="negated-arn-missing"),
        # ...and IfExists: "If the key is not present, evaluate the condition element as true."
        pytest.param("StringEqualsIfExists", {}, True, id="ifexists-missing"),
        pytest.param("StringEqualsIfExists", {"aws:TagKeys": "other"}, False, id="ifexists-present"),
        # MULTIVALUED_DOC: ForAllValues "also returns true if there are no keys in the request, or if
        # the key values resolve to a null data set, such as an empty string".
        pytest.param("ForAllValues:StringEquals", {}, True, id="forall-missing"),
        pytest.param("ForAllValues:StringEquals", {"aws:TagKeys": []}, True, id="forall-no-values"),
        pytest.param("ForAllValues:StringEquals", {"aws:TagKeys": ""}, True, id="forall-empty-string"),
        pytest.param("ForAllValues:StringEquals", {"aws:TagKeys": ["", ""]}, True, id="forall-empty-strings"),
        pytest.param("ForAllValues:StringNotEquals", {"aws:TagKeys": ""}, True, id="forall-negated-empty-string"),
        # MULTIVALUED_DOC: ForAnyValue returns false "for no matching key or a null dataset".
        pytest.param("ForAnyValue:StringEquals", {}, False, id="forany-missing"),
        pytest.param("ForAnyValue:StringEquals", {"aws:TagKeys": ""}, False, id="forany-empty-string"),
        pytest.param("ForAnyValue:StringNotEquals", {"aws:TagKeys": ""}, False, id="forany-negated-empty-string"),
        # A real value among empty strings is a value.
        pytest.param("ForAllValues:StringEquals", {"aws:TagKeys": ["", "other"]}, False, id="forall-mixed"),
        # OPERATORS_DOC (Null): true when the key is absent; an empty string is a value that is present.
        pytest.param("Null", {}, True, id="null-missing"),
        pytest.param("Null", {"aws:TagKeys": ""}, False, id="null-empty-string"),
    ],
)
def test_missing_and_empty_keys(operator: str, context: Ctx, expected: bool) -> None:
    value = "true" if operator == "Null" else "team"
    assert condition_holds(operator, "aws:TagKeys", value, context) is expected


@pytest.mark.parametrize(
    ("operator", "values", "context", "expected"),
    [
        # A value that is no number, date, IP address or ARN matches nothing under a positive
        # operator: read so, it can never make an Allow apply.
        pytest.param("NumericEquals", "10", {"s3:max-keys": "ten"}, False, id="positive-numeric"),
        pytest.param("DateLessThan", "2030-01-01T00:00:00Z", {"aws:CurrentTime": "soon"}, False, id="positive-date"),
        pytest.param("IpAddress", "203.0.113.0/24", {"aws:SourceIp": "office"}, False, id="positive-ip"),
        pytest.param("ArnLike", "arn:aws:iam::*:role/*", {"aws:PrincipalArn": "arn:::x"}, False, id="positive-arn"),
        pytest.param("Bool", "true", {"aws:SecureTransport": "yes"}, False, id="positive-bool"),
        # ForAnyValue with a value that does match: decided.
        pytest.param(
            "ForAnyValue:NumericEquals", "10", {"s3:max-keys": ["ten", "10"]}, True, id="forany-one-value-matches"
        ),
        pytest.param(
            "NotIpAddress",
            ["10.0.0.0/8", "office"],
            {"aws:SourceIp": "10.1.2.3"},
            False,
            id="negated-decided-by-another-value",
        ),
    ],
)
def test_values_not_of_the_operators_type(operator: str, values: str | list[str], context: Ctx, expected: bool) -> None:
    key = next(iter(context))
    assert condition_holds(operator, key, values, context) is expected


def _answer(condition: dict[str, dict[str, str | list[str]]], context: Ctx, effect: str = "Allow") -> Decision:
    statements = (
        [allow("s3:*", Condition=condition)]
        if effect == "Allow"
        else [allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": condition}]
    )
    return evaluate("s3:GetObject", identity_policies=[policy(*statements)], context=context).decision


@pytest.mark.parametrize(
    ("condition", "context"),
    [
        # A negated operator on a value not of its type: AWS documents no rule, and reading it as
        # true or as false could each make a Deny miss or an Allow apply.
        pytest.param(
            {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "office"}, id="not-ip-address"
        ),
        pytest.param({"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"}, id="numeric-not-equals"),
        pytest.param(
            {"DateNotEquals": {"aws:CurrentTime": "not a date"}},
            {"aws:CurrentTime": "2026-01-01"},
            id="date-not-equals-policy-value",
        ),
        pytest.param(
            {"ArnNotLike": {"aws:SourceArn": "arn:aws:sqs:*:*:zeet"}}, {"aws:SourceArn": "zeet"}, id="arn-not-like"
        ),
        pytest.param(
            {"ForAllValues:NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": ["ten"]}, id="forall-negated"
        ),
        # MULTIVALUED_DOC: "multivalued context keys require a condition set operator"; without one,
        # AWS may match no value at all, so a match on any one value is not certain.
        pytest.param(
            {"StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}},
            {"aws:CalledVia": ["cloudformation.amazonaws.com", "athena.amazonaws.com"]},
            id="plain-operator-several-values",
        ),
    ],
)
@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_undocumented_condition_readings_are_unknown(
    condition: dict[str, dict[str, str | list[str]]], context: Ctx, effect: str
) -> None:
    assert _answer(condition, context, effect) is Decision.UNKNOWN


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        # A set operator on Null is read as Null (presence is one fact, not a set of values).
        pytest.param("ForAnyValue:Null", "true", True, id="forany-null-true-missing"),
        pytest.param("ForAllValues:Null", "true", True, id="forall-null-true-missing"),
        pytest.param("ForAllValues:Null", "false", False, id="forall-null-false-missing"),
    ],
)
def test_set_operator_on_null_reads_as_null(operator: str, value: str, expected: bool) -> None:
    assert condition_holds(operator, "aws:CalledVia", value, {}) is expected
