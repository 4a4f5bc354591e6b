"""JSON paths and shape checks that every source's errors are built from."""

from __future__ import annotations

from collections.abc import Callable

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


@pytest.mark.parametrize(
    ("route", "path"),
    [
        (("$",), "$"),
        (("$", "RoleDetailList", 3), "$.RoleDetailList[3]"),
        (("$", 0, "RoleDetailList", 2, "RolePolicyList", 1), "$[0].RoleDetailList[2].RolePolicyList[1]"),
        (("$", "odd key"), '$["odd key"]'),
    ],
)
def test_a_place_given_as_a_route_reads_as_its_path(route: tuple[str | int, ...], path: str) -> None:
    """Readers pass routes (written out only for a message): every message is the one the path gives."""
    locator = Locator("gaad.json")
    assert locator.origin(route) == locator.origin(path) == f"gaad.json: {path}"

    def message(place: str | tuple[str | int, ...], check: str) -> str:
        calls: dict[str, Callable[[], object]] = {
            "mapping": lambda: locator.mapping([], place, "a role object"),
            "sequence": lambda: locator.sequence("x", place),
            "string": lambda: locator.string(3, place),
            "optional_string": lambda: locator.optional_string({"Arn": []}, "Arn", place),
            "optional_sequence": lambda: locator.optional_sequence({"Tags": {}}, "Tags", place),
            "optional_int": lambda: locator.optional_int({"MaxSessionDuration": "x"}, "MaxSessionDuration", place),
        }
        with pytest.raises(InputError) as caught:
            calls[check]()
        return str(caught.value)

    for check in ("mapping", "sequence", "string", "optional_string", "optional_sequence", "optional_int"):
        assert message(route, check) == message(path, check)
    assert message(route, "optional_string") == f"gaad.json: {path}.Arn: expected a string, got a list"
    assert (
        locator.optional_string({"Arn": "arn:aws:iam::1:role/x", "Path": None}, "Arn", route) == "arn:aws:iam::1:role/x"
    )
    assert locator.optional_string({"Path": None}, "Path", route) is None
    assert locator.optional_sequence({"Tags": ("a",)}, "Tags", route) == ["a"]
