"""JSON paths and shape checks that every source's errors are built from."""

from __future__ import annotations

import pytest

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.sources.shape import Locator, describe, index_path, key_path


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        ("$", "RoleDetailList", "$.RoleDetailList"),
        ("", "Resources", "Resources"),
        ("Resources.Role", "Fn::If", "Resources.Role.Fn::If"),
        ("$", "odd key", '$["odd key"]'),
        ("", "1st", '$["1st"]'),
        ("$.Tags", 'quote"d', '$.Tags["quote\\"d"]'),
    ],
)
def test_key_path(path: str, key: str, expected: str) -> None:
    assert key_path(path, key) == expected


def test_index_path() -> None:
    assert index_path("$.RoleDetailList", 3) == "$.RoleDetailList[3]"
    assert index_path("", 0) == "$[0]"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Allow", "'Allow'"),
        ("x" * 100, repr("x" * 57 + "...")),
        (None, "null"),
        (True, "true"),
        (7, "the number 7"),
        ({}, "an object"),
        ([], "a list"),
        (b"raw", "a bytes value"),
    ],
)
def test_describe(value: object, expected: str) -> None:
    assert describe(value) == expected


def test_locator_errors_and_origins() -> None:
    locator = Locator("gaad.json")
    assert locator.origin("$.RoleDetailList[0]") == "gaad.json: $.RoleDetailList[0]"
    assert locator.origin("") == "gaad.json: $"
    with pytest.raises(InputError, match=r"^gaad\.json: \$\.Policies: expected a list, got an object$"):
        locator.sequence({}, "$.Policies")
    assert locator.optional_int({"MaxSessionDuration": "3600"}, "MaxSessionDuration", "$.Role") == 3600
    with pytest.raises(InputError, match=r"^gaad\.json: \$\.Role\.MaxSessionDuration: expected a number, got true$"):
        locator.optional_int({"MaxSessionDuration": True}, "MaxSessionDuration", "$.Role")
