"""Adversarial patterns: wildcard matching, glob intersection and policy variables stay linear.

The matcher never builds a backtracking regular expression; where a pattern could make a simple
scan quadratic ("a?a?a?b" against "aaaa..."), it switches to a bit-parallel automaton, and glob
intersection walks the product automaton with bit sets. The properties below check those fast
paths against slow, obviously correct references. No test here reads a clock: the time of the whole
adversarial batch is measured by ``benchmarks/bench_adversarial.py``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeet_iam_audit.policy import match
from zeet_iam_audit.policy.evaluate import Decision, evaluate
from zeet_iam_audit.policy.match import arn_covers, arn_matches, arns_intersect, glob_match, globs_intersect
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.policy.variables import substitute

FUZZ = settings(database=None, deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

LONG_ARN = "arn:aws:s3:::" + "a" * 10_000  # 10 kB
ROLE_ARN = "arn:aws:iam::123456789012:role/" + "zeet-" * 2_000


def reference_glob(pattern: str, text: str) -> bool:
    """Dynamic programming over (pattern, text) positions: slow and plainly right."""

    @cache
    def at(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "*":
            return at(i + 1, j) or (j < len(text) and at(i, j + 1))
        return j < len(text) and pattern[i] in ("?", text[j]) and at(i + 1, j + 1)

    return at(0, 0)


def reference_intersect(left: str, right: str) -> bool:
    """A depth-first search of the product automaton, state by state."""
    end = (len(left), len(right))
    seen = {(0, 0)}
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) == end:
            return True
        a = left[i] if i < len(left) else None
        b = right[j] if j < len(right) else None
        moves = []
        if a == "*":
            moves.append((i + 1, j))
        if b == "*":
            moves.append((i, j + 1))
        if a is not None and b is not None and (a in "*?" or b in "*?" or a == b):
            moves.append((i if a == "*" else i + 1, j if b == "*" else j + 1))
        for move in moves:
            if move not in seen:
                seen.add(move)
                stack.append(move)
    return False


# Repetitive pieces are what makes naive scans quadratic.
repetitive_pattern = st.lists(st.sampled_from(["a", "a?", "?a", "*", "aa?", "b", "?"]), max_size=12).map("".join)
repetitive_text = st.builds(lambda n, tail: "a" * n + tail, st.integers(0, 40), st.sampled_from(["", "b", "ab", "ba"]))


@FUZZ
@given(pattern=repetitive_pattern, text=repetitive_text)
def test_the_scan_fallback_agrees_with_the_reference(pattern: str, text: str) -> None:
    expected = reference_glob(pattern, text)
    assert glob_match(pattern, text) is expected
    tries = match._ANCHOR_TRIES
    match._ANCHOR_TRIES = 0  # every "?" segment through the bit-parallel scan
    try:
        assert glob_match(pattern, text) is expected
    finally:
        match._ANCHOR_TRIES = tries


@FUZZ
@given(left=st.text(alphabet="ab*?", max_size=10), right=st.text(alphabet="ab*?", max_size=10))
def test_glob_intersection_agrees_with_the_state_search(left: str, right: str) -> None:
    assert globs_intersect(left, right) is reference_intersect(left, right)
    assert globs_intersect(right, left) is reference_intersect(left, right)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*?" * 1000, LONG_ARN, True),
        ("a*" * 1000 + "b", "a" * 10_000, False),
        ("*a" * 1000 + "*b*", "a" * 10_000, False),
        ("*" + "a?" * 500 + "b*", "a" * 10_000, False),
        ("*" + "a?" * 500 + "b*", "a" * 10_000 + "b", True),
        ("*" + "aaaa?" * 200 + "b*", "a" * 10_000, False),
        ("?" * 10_001, "a" * 10_000, False),
        ("*" + "?a" * 2000 + "?b", "a" * 10_000, False),
    ],
    ids=[
        "star-question-pairs",
        "a-star-b",
        "star-a-star-b",
        "question-anchor",
        "question-anchor-hit",
        "long-question-anchor",
        "questions-only",
        "question-a",
    ],
)
def test_adversarial_patterns_give_the_right_answer(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


def test_nested_variable_like_strings_are_literal_text() -> None:
    # The first "${" opens a variable that the first "}" closes: its name is "${${...aws:username",
    # no such key exists, so the value matches nothing (never everything).
    nested = "${" * 5_000 + "aws:username" + "}" * 5_000
    value = substitute(nested, {"aws:username": ("zeet",)})
    assert value.missing
    assert value.missing_keys == ("${" * 4_999 + "aws:username",)
    assert value.text == "}" * 4_999
    unknown = substitute(nested, None)
    assert unknown.unknown_keys == ("${" * 4_999 + "aws:username",)
    unclosed = substitute("${" * 10_000, {})
    assert unclosed.text == "${" * 10_000
    assert not unclosed.missing


def _adversarial_batch() -> list[Any]:
    """Every adversarial input through the matcher, the intersection, variables and evaluate()."""
    results: list[Any] = []
    results.append(glob_match("*?" * 1000, LONG_ARN))
    results.append(arn_matches("arn:aws:s3:::" + "*?" * 1000, LONG_ARN))
    results.append(glob_match("a*" * 1000 + "b", "a" * 10_000))
    results.append(glob_match("*" + "a?" * 500 + "b*", "a" * 10_000))
    results.append(glob_match("*" + "aaaa?" * 200 + "b*", "a" * 10_000))
    results.append(arn_covers("arn:aws:s3:::" + "a?" * 1000 + "*", "arn:aws:s3:::" + "a*" * 1000))
    results.append(arns_intersect("arn:aws:s3:::" + "a?" * 2500, "arn:aws:s3:::" + "*b?" * 1600))
    results.append(globs_intersect("a?" * 5000, "*b?" * 3300))
    results.append(substitute("${" * 10_000 + "}" * 10_000, {"aws:username": ("x",)}))
    results.append(substitute("${aws:username}" * 5_000, {"aws:username": ("a*?",)}))
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:" + "*?" * 500,
                "Resource": [
                    "arn:aws:s3:::" + "*?" * 1000,
                    "arn:aws:s3:::" + "a*" * 1000 + "b",
                    "arn:aws:s3:::${aws:username}" + "${" * 2000,
                ],
            },
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "arn:aws:s3:::" + "*a?" * 700,
                "Condition": {
                    "StringLike": {"aws:username": "a*" * 1000 + "b"},
                    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/" + "?*" * 1000},
                },
            },
        ],
    }
    policy = parse_policy(document)
    for context in (None, {"aws:username": "a" * 10_000, "aws:PrincipalArn": ROLE_ARN}):
        for resource in (LONG_ARN, "arn:aws:s3:::" + "a*" * 500, "*"):
            results.append(evaluate("s3:GetObject", resource, [policy], context=context).decision)
    return results


def test_the_adversarial_batch_grants_nothing_for_certain() -> None:
    """The whole batch runs to its answers (its time is measured by benchmarks/bench_adversarial.py,
    never asserted here: a busy machine would fail a bound, a fast one would hide a regression)."""
    results = _adversarial_batch()
    assert Decision.ALLOWED not in results[-6:]  # nothing here grants s3:GetObject for certain
