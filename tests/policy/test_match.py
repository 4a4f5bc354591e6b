"""Wildcard matching: globs, action names (case-insensitive), ARNs (case-sensitive, field by field)
and resource scopes (cover / intersect)."""

from __future__ import annotations

import pytest

from zeet_iam_audit.policy.match import (
    action_matches,
    any_action_matches,
    arn_covers,
    arn_matches,
    arns_intersect,
    glob_match,
    globs_intersect,
    short_arn,
)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param("abc", "abc", True, id="literal-equal"),
        pytest.param("abc", "abcd", False, id="literal-is-anchored-at-end"),
        pytest.param("abc", "xabc", False, id="literal-is-anchored-at-start"),
        pytest.param("abc", "ABC", False, id="glob-is-case-sensitive"),
        pytest.param("", "", True, id="empty-matches-empty"),
        pytest.param("", "a", False, id="empty-matches-only-empty"),
        pytest.param("*", "", True, id="star-matches-empty"),
        pytest.param("*", "any:thing/at all", True, id="star-matches-everything"),
        pytest.param("**", "x", True, id="double-star"),
        pytest.param("a*", "a", True, id="trailing-star-may-be-empty"),
        pytest.param("a*", "ba", False, id="prefix-anchored"),
        pytest.param("*a", "ba", True, id="suffix"),
        pytest.param("*a", "ab", False, id="suffix-anchored"),
        pytest.param("a*b*c", "aXXbYYc", True, id="stars-in-the-middle"),
        pytest.param("a*b*c", "acb", False, id="stars-keep-segment-order"),
        pytest.param("a*a", "a", False, id="segments-may-not-overlap"),
        pytest.param("?", "", False, id="question-needs-one-char"),
        pytest.param("?", "x", True, id="question-matches-one-char"),
        pytest.param("?", "xy", False, id="question-matches-exactly-one"),
        pytest.param("a?c", "abc", True, id="question-in-the-middle"),
        pytest.param("a?c", "ac", False, id="question-is-not-optional"),
        pytest.param("*?", "", False, id="star-question-needs-one"),
        pytest.param("*?*", "z", True, id="star-question-star"),
        pytest.param("?*?", "a", False, id="two-questions-need-two"),
        pytest.param("a.c", "abc", False, id="dot-is-literal-not-regex"),
        pytest.param("a+", "aa", False, id="plus-is-literal-not-regex"),
        pytest.param("[ab]", "a", False, id="brackets-are-literal"),
        pytest.param("[ab]", "[ab]", True, id="brackets-match-themselves"),
        pytest.param("a*?b", "axb", True, id="star-then-question"),
        pytest.param("*ab?", "xxaabc", True, id="leftmost-placement-retries"),
        pytest.param("*a?c*", "xaabcx", True, id="question-segment-scans-forward"),
    ],
)
def test_glob_match(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        pytest.param("sqs:SendMessage", "sqs:SendMessage", True, id="exact"),
        pytest.param("SQS:sendmessage", "sqs:SendMessage", True, id="policy-side-case-insensitive"),
        pytest.param("sqs:SendMessage", "SQS:SENDMESSAGE", True, id="request-side-case-insensitive"),
        pytest.param("*", "iam:PassRole", True, id="star-matches-every-action"),
        pytest.param("ec2:*Tags", "ec2:CreateTags", True, id="ec2-star-tags-matches-createtags"),
        pytest.param("ec2:*Tags", "ec2:DeleteTags", True, id="ec2-star-tags-matches-deletetags"),
        pytest.param("ec2:*Tags", "ec2:CreateTagsNow", False, id="ec2-star-tags-anchored-at-end"),
        pytest.param("logs:*", "logs:PutLogEvents", True, id="service-star"),
        pytest.param("logs:*", "cloudwatchlogs:PutLogEvents", False, id="logs-not-cloudwatchlogs"),
        pytest.param("es:*", "iam:CreateAccessKey", False, id="es-star-not-iam"),
        pytest.param("es:*", "ses:SendEmail", False, id="es-star-not-ses-suffix-collision"),
        pytest.param("s3:*", "s3control:GetJob", False, id="s3-not-s3control-prefix-collision"),
        pytest.param("s3:Get*", "s3:GetObject", True, id="verb-prefix"),
        pytest.param("s3:Get*", "s3:PutObject", False, id="verb-prefix-mismatch"),
        pytest.param("s3:Get?bject", "s3:GetObject", True, id="question-in-action"),
        pytest.param("s3:Get?bject", "s3:GetObjectX", False, id="question-anchored"),
        pytest.param("iam:*AccessKey*", "iam:ListAccessKeys", True, id="infix-star"),
        pytest.param("iam:PassRole", "iam:PassRoleToService", False, id="exact-is-not-prefix"),
        pytest.param("sqs:Send*", "sqs:SendMessageBatch", True, id="send-star"),
    ],
)
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_any_action_matches_ors_the_patterns() -> None:
    assert any_action_matches(["s3:Get*", "SQS:send*"], "sqs:SendMessage")
    assert not any_action_matches(["s3:Get*", "sqs:Send*"], "sns:Publish")
    assert not any_action_matches([], "sns:Publish")


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        pytest.param("*", "arn:aws:sqs:us-east-1:111122223333:q", True, id="star-matches-any-arn"),
        pytest.param(
            "arn:aws:iam::111122223333:user/Bob",
            "arn:aws:iam::111122223333:user/Bob",
            True,
            id="exact",
        ),
        pytest.param(
            "arn:aws:iam::111122223333:user/Bob",
            "arn:aws:iam::111122223333:user/bob",
            False,
            id="resource-part-case-sensitive",
        ),
        pytest.param(
            "arn:aws:s3:::zeet-bucket/*",
            "arn:aws:s3:::zeet-bucket/a/b:c/d.txt",
            True,
            id="resource-star-spans-slashes-and-colons",
        ),
        pytest.param(
            "arn:aws:s3:::zeet-bucket/*",
            "arn:aws:s3:::zeet-bucket",
            False,
            id="bucket-objects-not-bucket",
        ),
        pytest.param(
            "arn:aws:s3:::example?bucket/*",
            "arn:aws:s3:::example2bucket/key",
            True,
            id="question-in-resource",
        ),
        pytest.param(
            "arn:aws:sqs:*:*:zeet-*",
            "arn:aws:sqs:eu-west-1:111122223333:zeet-jobs",
            True,
            id="region-and-account-stars",
        ),
        pytest.param(
            "arn:aws:sqs:*:*:zeet-*",
            "arn:aws:sqs:eu-west-1:111122223333:other",
            False,
            id="resource-prefix-mismatch",
        ),
        pytest.param(
            "arn:aws:s3:*:*:zeet-bucket",
            "arn:aws:s3:::zeet-bucket",
            True,
            id="field-star-matches-empty-field",
        ),
        pytest.param(
            "arn:aws:sqs:us-east-?:*:q",
            "arn:aws:sqs:us-east-1:111122223333:q",
            True,
            id="question-in-region",
        ),
        pytest.param(
            "arn:aws:sqs:us-east-1:*:q",
            "arn:aws-cn:sqs:us-east-1:111122223333:q",
            False,
            id="partition-must-match",
        ),
        pytest.param(
            "arn:aws:s3:::*",
            "arn:aws:sqs:us-east-1:111122223333:q",
            False,
            id="service-must-match",
        ),
        # The ArnLike example from AWS's condition-operator documentation: a wildcard before the
        # resource part stays inside its own field, so the account must still be 111122223333.
        pytest.param(
            "arn:aws:someservice:*:111122223333:finance/*",
            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt",
            False,
            id="region-star-does-not-span-into-account",
        ),
        pytest.param(
            "arn:aws:sqs:*:111122223333:q",
            "arn:aws:sqs:us-east-1:999999999999:111122223333:q",
            False,
            id="star-does-not-cross-a-field-colon",
        ),
        pytest.param(
            "arn:aws:sqs:us-east-?:111122223333:q",
            "arn:aws:sqs:us-east-:111122223333:q",
            False,
            id="question-does-not-eat-a-colon",
        ),
        pytest.param(
            "arn:aws:logs:*:111122223333:log-group:app:*",
            "arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:x",
            True,
            id="resource-part-keeps-its-colons",
        ),
    ],
)
def test_arn_matches(pattern: str, arn: str, expected: bool) -> None:
    assert arn_matches(pattern, arn) is expected


@pytest.mark.parametrize(
    ("pattern", "scope", "expected"),
    [
        pytest.param("*", "arn:aws:sqs:*:*:zeet-*", True, id="star-covers-every-scope"),
        pytest.param("arn:aws:sqs:*:*:*", "arn:aws:sqs:*:*:zeet-*", True, id="all-queues-cover-zeet-queues"),
        pytest.param(
            "arn:aws:sqs:us-east-1:*:*",
            "arn:aws:sqs:*:*:zeet-*",
            False,
            id="one-region-does-not-cover-every-region",
        ),
        pytest.param("arn:aws:sqs:*:*:zeet-*", "arn:aws:sqs:*:*:zeet-*", True, id="scope-covers-itself"),
        pytest.param(
            "arn:aws:sqs:*:*:zeet-prod-*",
            "arn:aws:sqs:*:*:zeet-*",
            False,
            id="narrower-pattern-does-not-cover",
        ),
        pytest.param(
            "arn:aws:sqs:*:*:zeet-?*",
            "arn:aws:sqs:*:*:zeet-*",
            False,
            id="question-does-not-cover-an-empty-star",
        ),
        pytest.param("arn:aws:sqs:*:*:zeet-?", "arn:aws:sqs:*:*:zeet-?", True, id="question-covers-question"),
        pytest.param("arn:aws:sqs:*:*:zeet-*", "arn:aws:sqs:*:*:zeet-?", True, id="star-covers-question"),
        pytest.param("arn:aws:sqs:*:*:z*", "arn:aws:sqs:*:*:zeet-*", True, id="shorter-prefix-covers"),
        pytest.param(
            "arn:aws:sqs:*:*:zeet-jobs",
            "arn:aws:sqs:*:*:zeet-jobs",
            True,
            id="literal-resource-covers-literal-resource",
        ),
        pytest.param(
            "arn:aws:sqs:*:*:zeet-jobs",
            "arn:aws:sqs:us-east-1:111122223333:zeet-jobs",
            True,
            id="concrete-scope-is-a-match",
        ),
        pytest.param("arn:aws:s3:::zeet-*/*", "arn:aws:s3:::zeet-data/*", True, id="s3-objects-scope"),
        pytest.param("arn:aws:s3:::zeet-*", "arn:aws:s3:::zeet-data/*", True, id="bucket-star-covers-objects"),
        pytest.param("arn:aws:s3:::*/*", "arn:aws:s3:::zeet-*", False, id="objects-do-not-cover-buckets"),
        pytest.param("arn:aws:sqs:*:*:*", "*", False, id="arn-pattern-does-not-cover-everything"),
    ],
)
def test_arn_covers(pattern: str, scope: str, expected: bool) -> None:
    assert arn_covers(pattern, scope) is expected


@pytest.mark.parametrize(
    ("pattern", "scope", "expected"),
    [
        pytest.param("*", "arn:aws:sqs:*:*:zeet-*", True, id="star-meets-everything"),
        pytest.param("arn:aws:sqs:*:*:*", "*", True, id="everything-meets-star"),
        pytest.param(
            "arn:aws:sqs:*:*:zeet-prod-*",
            "arn:aws:sqs:*:*:zeet-*",
            True,
            id="narrower-deny-meets-scope",
        ),
        pytest.param("arn:aws:sqs:*:*:other-*", "arn:aws:sqs:*:*:zeet-*", False, id="disjoint-names"),
        pytest.param(
            "arn:aws:sqs:us-east-1:*:*",
            "arn:aws:sqs:eu-west-1:*:zeet-*",
            False,
            id="disjoint-regions",
        ),
        pytest.param("arn:aws:s3:::*", "arn:aws:sqs:*:*:zeet-*", False, id="different-services-never-meet"),
        pytest.param(
            "arn:aws:sqs:us-east-1:*:*",
            "arn:aws:sqs:*:*:zeet-*",
            True,
            id="one-region-meets-every-region",
        ),
        pytest.param("arn:aws:sqs:*:*:*-dlq", "arn:aws:sqs:*:*:zeet-*", True, id="prefix-and-suffix-meet"),
        pytest.param("arn:aws:sqs:*:*:zeet-??", "arn:aws:sqs:*:*:zeet-?", False, id="different-lengths"),
    ],
)
def test_arns_intersect(pattern: str, scope: str, expected: bool) -> None:
    assert arns_intersect(pattern, scope) is expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        pytest.param("a*", "*b", True, id="prefix-meets-suffix"),
        pytest.param("a*", "b*", False, id="different-prefixes"),
        pytest.param("a?c", "*b*", True, id="question-can-be-the-b"),
        pytest.param("a?c", "abd", False, id="literal-side-checked-as-text"),
        pytest.param("??", "???", False, id="fixed-lengths-differ"),
    ],
)
def test_globs_intersect(left: str, right: str, expected: bool) -> None:
    assert globs_intersect(left, right) is expected
    assert globs_intersect(right, left) is expected


# A sanity check that matching is linear, not backtracking: these finish at once with the matcher
# and would take astronomically long with a naive regular expression. No timer is asserted here
# (see benchmarks/); the test only has to complete.
def test_adversarial_pattern_against_a_long_arn_completes() -> None:
    pattern = "*?" * 1000
    arn = "arn:aws:s3:::" + "a" * 10_000
    assert glob_match(pattern, "a" * 10_000)
    assert not glob_match(pattern + "b", "a" * 10_000)
    assert arn_matches("arn:aws:s3:::" + pattern, arn)
    assert not arn_matches("arn:aws:s3:::" + pattern + "b", arn)
    assert arn_covers("arn:aws:s3:::" + pattern, arn)
    assert action_matches("s3:" + pattern, "s3:" + "G" * 10_000)
    assert arns_intersect("arn:aws:s3:::" + pattern + "b", "arn:aws:s3:::a*b")


@pytest.mark.parametrize(
    ("pattern", "widened"),
    [
        pytest.param("arn:aws:sqs", "arn:aws:sqs:*:*:*", id="three-fields"),
        pytest.param("arn:aws:sqs:us-east-1", "arn:aws:sqs:us-east-1:*:*", id="four-fields"),
        pytest.param("arn:aws:sqs:*:111122223333", "arn:aws:sqs:*:111122223333:*", id="five-fields"),
        pytest.param("arn:aws:s3:::zeet", None, id="six-fields"),
        pytest.param("arn:aws:iam::111122223333:role/a:b", None, id="colons-in-the-resource"),
        pytest.param("*", None, id="star"),
    ],
)
def test_short_arn_widening(pattern: str, widened: str | None) -> None:
    assert short_arn(pattern) == widened
