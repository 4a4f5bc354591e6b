"""Policy variables: substitution from the request context, defaults, the special ``${*}``,
``${?}`` and ``${$}``, policy versions, and what a missing or unknown variable does."""

from __future__ import annotations

import pytest

from zeet_iam_audit import Decision, Unresolved, evaluate
from zeet_iam_audit.policy.match import compile_pattern
from zeet_iam_audit.policy.variables import has_variables, literal_text, substitute

from .support import allow, condition_holds, deny, policy

Context = dict[str, tuple[str, ...]]


@pytest.mark.parametrize(
    ("value", "context", "text"),
    [
        pytest.param("home/${aws:username}/*", {"aws:username": ("bob",)}, "home/bob/*", id="username-filled"),
        pytest.param("${AWS:UserName}", {"aws:username": ("bob",)}, "bob", id="variable-names-case-insensitive"),
        pytest.param("${aws:PrincipalTag/team, 'none'}", {}, "none", id="default-when-missing"),
        pytest.param(
            "${aws:PrincipalTag/team, 'none'}",
            {"aws:principaltag/team": ("red",)},
            "red",
            id="default-ignored-when-present",
        ),
        pytest.param("${aws:PrincipalTag/team,'none'}", {}, "none", id="default-without-space-after-comma"),
        pytest.param("a${*}b", {}, "a*b", id="special-star"),
        pytest.param("a${?}b", {}, "a?b", id="special-question"),
        pytest.param("cost${$}", {}, "cost$", id="special-dollar"),
        pytest.param(
            "${aws:username}-${aws:userid}",
            {"aws:username": ("bob",), "aws:userid": ("AIDA1",)},
            "bob-AIDA1",
            id="two-variables",
        ),
        pytest.param("no variables", {}, "no variables", id="plain-text-unchanged"),
        pytest.param("${aws:username", {"aws:username": ("bob",)}, "${aws:username", id="unclosed-variable-is-text"),
    ],
)
def test_substitute_fills_values(value: str, context: Context, text: str) -> None:
    substituted = substitute(value, context)
    assert not substituted.missing
    assert substituted.text == text


@pytest.mark.parametrize(
    ("value", "context"),
    [
        pytest.param("${aws:username}", {}, id="missing-key"),
        pytest.param("${aws:username}", {"aws:username": ("a", "b")}, id="multi-valued-key"),
        pytest.param("x/${aws:PrincipalTag/team}/${aws:username}", {"aws:username": ("bob",)}, id="one-of-two-missing"),
    ],
)
def test_substitute_reports_missing(value: str, context: Context) -> None:
    assert substitute(value, context).missing


def test_substitute_without_context_reports_unknown_keys() -> None:
    substituted = substitute("arn:aws:s3:::b/${aws:username}/${aws:PrincipalTag/team, 'x'}", None)
    assert substituted.unknown_keys == ("aws:username", "aws:PrincipalTag/team")
    assert not substituted.missing


def test_substitute_disabled_keeps_the_text() -> None:
    substituted = substitute("${aws:username}/*", {"aws:username": ("bob",)}, enabled=False)
    assert substituted.pattern == "${aws:username}/*"
    assert substituted.unknown_keys == ()


def test_substitute_passes_unresolved_through() -> None:
    value = Unresolved("!Ref Bucket")
    assert substitute(value, {}).unresolved == "!Ref Bucket"


@pytest.mark.parametrize(
    ("value", "context", "candidate", "expected"),
    [
        pytest.param("a${*}b", {}, "a*b", True, id="special-star-matches-a-star"),
        pytest.param("a${*}b", {}, "aXb", False, id="special-star-is-not-a-wildcard"),
        pytest.param("a${?}b", {}, "a?b", True, id="special-question-matches-a-question-mark"),
        pytest.param("a${?}b", {}, "aXb", False, id="special-question-is-not-a-wildcard"),
        pytest.param("a${*}*", {}, "a*anything", True, id="special-star-then-wildcard"),
        pytest.param(
            "home/${aws:username}/*", {"aws:username": ("b*",)}, "home/bob/x", False, id="substituted-star-is-literal"
        ),
        pytest.param(
            "home/${aws:username}/*", {"aws:username": ("b*",)}, "home/b*/x", True, id="substituted-star-matches-itself"
        ),
        pytest.param(
            "home/${aws:username}/*",
            {"aws:username": ("b?b",)},
            "home/bob/x",
            False,
            id="substituted-question-is-literal",
        ),
    ],
)
def test_substituted_wildcards_are_literal(value: str, context: Context, candidate: str, expected: bool) -> None:
    assert substitute(value, context).matches(candidate, compile_pattern) is expected


def test_has_variables() -> None:
    assert has_variables("arn:aws:s3:::b/${aws:username}")
    assert not has_variables("arn:aws:s3:::b/$username")


# --- Through the evaluator: variables in Resource ------------------------------------------------

HOME = policy(allow("s3:GetObject", "arn:aws:s3:::zeet-home/${aws:username}/*"))


@pytest.mark.parametrize(
    ("document", "resource", "context", "expected"),
    [
        pytest.param(
            HOME,
            "arn:aws:s3:::zeet-home/bob/notes.txt",
            {"aws:username": "bob"},
            Decision.ALLOWED,
            id="own-home-allowed",
        ),
        pytest.param(
            HOME,
            "arn:aws:s3:::zeet-home/bob/notes.txt",
            {"aws:username": "alice"},
            Decision.IMPLICIT_DENY,
            id="someone-elses-home-denied",
        ),
        pytest.param(
            HOME,
            "arn:aws:s3:::zeet-home/bob/notes.txt",
            {"AWS:USERNAME": "bob"},
            Decision.ALLOWED,
            id="context-key-case-insensitive",
        ),
        pytest.param(
            HOME,
            "arn:aws:s3:::zeet-home/bob/notes.txt",
            {},
            Decision.IMPLICIT_DENY,
            id="missing-variable-matches-nothing",
        ),
        pytest.param(
            HOME,
            "arn:aws:s3:::zeet-home//notes.txt",
            {},
            Decision.IMPLICIT_DENY,
            id="missing-variable-is-not-empty-text",
        ),
        pytest.param(
            HOME,
            "arn:aws:s3:::zeet-home/bob/notes.txt",
            {"aws:username": ["bob", "al"]},
            Decision.IMPLICIT_DENY,
            id="multi-valued-key-is-not-a-variable",
        ),
        pytest.param(
            policy(allow("s3:GetObject", "arn:aws:s3:::zeet-home/${aws:username}/*"), version="2008-10-17"),
            "arn:aws:s3:::zeet-home/bob/notes.txt",
            {"aws:username": "bob"},
            Decision.IMPLICIT_DENY,
            id="version-2008-does-not-substitute",
        ),
        pytest.param(
            policy(allow("s3:GetObject", "arn:aws:s3:::zeet-home/${aws:username}/notes.txt"), version="2008-10-17"),
            "arn:aws:s3:::zeet-home/${aws:username}/notes.txt",
            {"aws:username": "bob"},
            Decision.ALLOWED,
            id="version-2008-matches-the-literal-text",
        ),
        pytest.param(
            policy(allow("s3:GetObject", "arn:aws:s3:::zeet-home/${aws:username}/*"), version=None),
            "arn:aws:s3:::zeet-home/bob/notes.txt",
            {"aws:username": "bob"},
            Decision.IMPLICIT_DENY,
            id="no-version-does-not-substitute",
        ),
        pytest.param(
            policy(allow("s3:GetObject", "arn:aws:s3:::zeet-${aws:PrincipalTag/team, 'shared'}/*")),
            "arn:aws:s3:::zeet-shared/report.csv",
            {},
            Decision.ALLOWED,
            id="default-used-for-missing-tag",
        ),
        pytest.param(
            policy(allow("s3:GetObject", "arn:aws:s3:::zeet-${aws:PrincipalTag/team, 'shared'}/*")),
            "arn:aws:s3:::zeet-shared/report.csv",
            {"aws:PrincipalTag/team": "red"},
            Decision.IMPLICIT_DENY,
            id="default-not-used-when-tag-present",
        ),
        pytest.param(
            policy(allow("s3:GetObject", "arn:aws:s3:::zeet-${aws:PrincipalTag/team}/*")),
            "arn:aws:s3:::zeet-red/report.csv",
            {"aws:principaltag/team": "red"},
            Decision.ALLOWED,
            id="principal-tag-variable",
        ),
        pytest.param(
            policy(allow("s3:GetObject", "arn:aws:s3:::zeet-data/file${$}1")),
            "arn:aws:s3:::zeet-data/file$1",
            {},
            Decision.ALLOWED,
            id="dollar-escape-in-resource",
        ),
        pytest.param(
            policy(allow("s3:GetObject", "arn:aws:s3:::zeet-data/what${?}")),
            "arn:aws:s3:::zeet-data/whatX",
            {},
            Decision.IMPLICIT_DENY,
            id="question-escape-is-not-a-wildcard",
        ),
        pytest.param(
            policy(deny("s3:GetObject", "arn:aws:s3:::zeet-home/${aws:username}/*"), allow("s3:*")),
            "arn:aws:s3:::zeet-home/bob/notes.txt",
            {"aws:username": "bob"},
            Decision.EXPLICIT_DENY,
            id="variable-in-deny",
        ),
        pytest.param(
            policy(deny("s3:GetObject", "arn:aws:s3:::zeet-home/${aws:username}/*"), allow("s3:*")),
            "arn:aws:s3:::zeet-home/bob/notes.txt",
            {"aws:username": "eve"},
            Decision.ALLOWED,
            id="variable-in-deny-other-user",
        ),
    ],
)
def test_resource_variables(
    document: dict[str, object],
    resource: str,
    context: dict[str, str | list[str]],
    expected: Decision,
) -> None:
    result = evaluate("s3:GetObject", resource, identity_policies=[document], context=context)
    assert result.decision is expected, result.explain()


def test_resource_variable_without_context_is_conditional_on_the_variable() -> None:
    result = evaluate("s3:GetObject", "arn:aws:s3:::zeet-home/bob/notes.txt", identity_policies=[HOME])
    assert result.decision is Decision.CONDITIONAL
    assert result.condition_keys == ("aws:username",)
    assert [u.gates.value for u in result.uncertain] == ["Allow"]


def test_deny_with_variable_without_context_is_conditional() -> None:
    document = policy(allow("s3:*"), deny("s3:DeleteObject", "arn:aws:s3:::zeet-home/${aws:username}/*"))
    result = evaluate("s3:DeleteObject", "arn:aws:s3:::zeet-home/bob/x", [document])
    assert result.decision is Decision.CONDITIONAL
    assert result.condition_keys == ("aws:username",)
    assert [u.gates.value for u in result.uncertain] == ["Deny"]


# --- Through the evaluator: variables in Condition values ----------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "context", "expected"),
    [
        pytest.param(
            "StringLike",
            "home/${aws:username}/*",
            {"s3:prefix": "home/bob/docs", "aws:username": "bob"},
            True,
            id="stringlike-with-username",
        ),
        pytest.param(
            "StringLike",
            "home/${aws:username}/*",
            {"s3:prefix": "home/alice/docs", "aws:username": "bob"},
            False,
            id="stringlike-with-other-username",
        ),
        pytest.param(
            "StringEquals",
            "home/${aws:username}",
            {"s3:prefix": "home/bob", "aws:username": "bob"},
            True,
            id="stringequals-with-username",
        ),
        pytest.param(
            "StringLike",
            "home/${aws:username}/*",
            {"s3:prefix": "home/bob/docs"},
            False,
            id="missing-variable-in-condition-matches-nothing",
        ),
        pytest.param(
            "StringEquals",
            "home/${aws:userid, 'anonymous'}",
            {"s3:prefix": "home/anonymous"},
            True,
            id="default-in-condition",
        ),
        pytest.param("StringEquals", "a${*}", {"s3:prefix": "a*"}, True, id="special-star-in-stringequals"),
        pytest.param("StringLike", "a${*}", {"s3:prefix": "abc"}, False, id="special-star-in-stringlike-is-literal"),
        pytest.param(
            "ArnLike",
            "arn:aws:iam::111122223333:user/${aws:username}",
            {"s3:prefix": "arn:aws:iam::111122223333:user/bob", "aws:username": "bob"},
            True,
            id="arnlike-with-username",
        ),
    ],
)
def test_condition_variables(operator: str, value: str, context: dict[str, str | list[str]], expected: bool) -> None:
    assert condition_holds(operator, "s3:prefix", value, context) is expected


def test_condition_variables_not_substituted_in_version_2008() -> None:
    context: dict[str, str | list[str]] = {"s3:prefix": "${aws:username}", "aws:username": "bob"}
    assert condition_holds("StringEquals", "s3:prefix", "${aws:username}", context, version="2008-10-17")
    context = {"s3:prefix": "bob", "aws:username": "bob"}
    assert not condition_holds("StringEquals", "s3:prefix", "${aws:username}", context, version="2008-10-17")


def test_numeric_operators_take_no_variables() -> None:
    # AWS documents that policy variables cannot be used with Numeric operators.
    context: dict[str, str | list[str]] = {"s3:max-keys": "5", "aws:limit": "10"}
    assert not condition_holds("NumericLessThan", "s3:max-keys", "${aws:limit}", context)


@pytest.mark.parametrize(
    ("pattern", "request_resource", "expected"),
    [
        # A request's resource is literal: its "*" is a character that "*" and "?" match, and that a
        # literal "${*}" matches, but that no other character does.
        pytest.param("*", "*", True, id="star-matches-star"),
        pytest.param("?", "*", True, id="question-mark-matches-star"),
        pytest.param("arn:aws:s3:::*", "*", False, id="arn-pattern-does-not-match-star"),
        pytest.param("arn:aws:s3:::b/a*", "arn:aws:s3:::b/*", False, id="star-is-not-every-key"),
        pytest.param("arn:aws:s3:::b/*", "arn:aws:s3:::b/*", True, id="pattern-matches-the-literal-star"),
    ],
)
def test_literal_text_keeps_a_requests_wildcards_literal(pattern: str, request_resource: str, expected: bool) -> None:
    assert compile_pattern(pattern)(literal_text(request_resource)) is expected
    assert literal_text("arn:aws:s3:::b/k") == "arn:aws:s3:::b/k"
