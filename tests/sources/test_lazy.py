"""Authorization-details roles read on first use (``sources/lazy.py``): the roles reading them all on
loading gave, and its errors, word for word, raised when the role is first used."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.model import InputType, Role, route_text
from zeet_iam_audit.sources import gaad, load_file
from zeet_iam_audit.sources.lazy import LazyRoles
from zeet_iam_audit.sources.shape import Locator

WriteFile = Callable[[str, str | bytes], Path]
ROLES = 40
# Three pages as ``--no-paginate`` calls collected with ``jq -s`` give them, the later ones
# overlapping the earlier (roles 11-15 and 25-29 are on two pages); the Policies on the first two.
ROLE_PAGES = ((0, 16), (11, 30), (25, 40))


@pytest.fixture(scope="module")
def account(make_gaad: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    return make_gaad(ROLES)


def _pages(account: dict[str, Any]) -> list[dict[str, Any]]:
    roles, policies = account["RoleDetailList"], account["Policies"]
    half = len(policies) // 2
    policy_pages: tuple[list[Any], ...] = (policies[:half], policies[half - 2 :], [])  # two policies on both pages
    pages = []
    for number, ((first, last), listed) in enumerate(zip(ROLE_PAGES, policy_pages, strict=True)):
        page: dict[str, Any] = {
            "UserDetailList": [],
            "GroupDetailList": [],
            "RoleDetailList": copy.deepcopy(roles[first:last]),
            "Policies": copy.deepcopy(listed),
            "IsTruncated": number < len(ROLE_PAGES) - 1,
        }
        if page["IsTruncated"]:
            page["Marker"] = f"AAE{number}Marker"
        pages.append(page)
    return pages


def _write(write_file: WriteFile, data: object, name: str = "gaad.json") -> Path:
    return write_file(name, json.dumps(data, indent=4))  # as the AWS CLI prints it


def _read_in_order(pages: list[dict[str, Any]], display: str) -> list[Role]:
    """What reading the file gave before roles were read on first use: every role read in file
    order, a role already seen on an earlier page dropped."""
    locator = Locator(display)
    index = gaad._PolicyIndex(locator)
    for number, page in enumerate(pages):
        for position, raw in enumerate(page["Policies"]):
            index.add(raw, ("$", number, "Policies", position))
    roles: list[Role] = []
    seen: set[str] = set()
    for number, page in enumerate(pages):
        for position, raw in enumerate(page["RoleDetailList"]):
            role = gaad.read_role_detail(
                raw,
                locator=locator,
                route=("$", number, "RoleDetailList", position),
                resolve_arn=index.attachment,
                input_type=InputType.GAAD,
            )
            if (role.arn or role.name) not in seen:
                seen.add(role.arn or role.name)
                roles.append(role)
    return roles


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every role read from now on."""
    reads: list[str] = []
    read = gaad.read_role_detail

    def counting(raw: object, **kwargs: Any) -> Role:
        reads.append(route_text(kwargs["route"]))
        return read(raw, **kwargs)

    monkeypatch.setattr(gaad, "read_role_detail", counting)
    return reads


def test_lazy_roles_are_the_roles_read_in_order(account: dict[str, Any], write_file: WriteFile) -> None:
    pages = _pages(account)
    path = _write(write_file, pages)
    expected = _read_in_order(pages, str(path))
    assert len(expected) == ROLES
    lazy = load_file(path, lazy=True).roles
    assert isinstance(lazy, LazyRoles)
    assert len(lazy) == ROLES
    # Asked for out of order, singly and by slices, then all: the same roles in the same order.
    assert lazy[-1] == expected[-1]
    assert lazy[17] == expected[17]
    assert lazy[3:30:4] == tuple(expected[3:30:4])
    assert [(role, role.input_type, role.role_id) for role in lazy] == [
        (role, role.input_type, role.role_id) for role in expected
    ]
    assert str(lazy[20].policies[0].origin) == f"{path}: $[1].RoleDetailList[9].AttachedManagedPolicies[0]"
    eager = load_file(path).roles
    assert isinstance(eager, tuple)
    assert [(role, role.input_type, role.role_id) for role in eager] == [
        (role, role.input_type, role.role_id) for role in expected
    ]


def test_a_role_is_read_on_first_use_and_once(
    account: dict[str, Any], write_file: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _count_reads(monkeypatch)
    roles = load_file(_write(write_file, account), lazy=True).roles
    assert reads == []
    assert len(roles) == ROLES
    assert reads == []
    assert roles[5] is roles[5]
    assert reads == ["$.RoleDetailList[5]"]
    assert roles[4:7] == (roles[4], roles[5], roles[6])
    assert reads == ["$.RoleDetailList[5]", "$.RoleDetailList[4]", "$.RoleDetailList[6]"]
    assert len(list(roles)) == ROLES
    assert sorted(reads) == sorted(f"$.RoleDetailList[{n}]" for n in range(ROLES))
    assert len(list(roles)) == ROLES
    assert len(reads) == ROLES


def test_copies_on_overlapping_pages_are_still_read_on_loading(
    account: dict[str, Any], write_file: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _count_reads(monkeypatch)
    load_file(_write(write_file, _pages(account)), lazy=True)
    copies = [f"$[1].RoleDetailList[{n}]" for n in range(5)] + [f"$[2].RoleDetailList[{n}]" for n in range(5)]
    assert reads == copies  # only the copies: a malformed copy fails the file, as it always did


def test_sequence_behaviour(account: dict[str, Any], write_file: WriteFile) -> None:
    roles = load_file(_write(write_file, account), lazy=True).roles
    assert roles[-ROLES] is roles[0]
    with pytest.raises(IndexError):
        roles[ROLES]
    with pytest.raises(IndexError):
        roles[-ROLES - 1]
    assert roles[ROLES:] == ()
    assert roles[3] in roles
    assert roles.index(roles[7]) == 7
    assert list(reversed(roles)) == list(roles)[::-1]


def _malformed(account: dict[str, Any], position: int) -> dict[str, Any]:
    data = copy.deepcopy(account)
    data["RoleDetailList"][position]["AttachedManagedPolicies"][0]["PolicyArn"] = 5
    return data


def test_a_malformed_role_fails_when_first_used(account: dict[str, Any], write_file: WriteFile) -> None:
    path = _write(write_file, _malformed(account, 30))
    message = f"{path}: $.RoleDetailList[30].AttachedManagedPolicies[0].PolicyArn: expected a string, got the number 5"
    with pytest.raises(InputError) as eager:
        load_file(path)
    assert str(eager.value) == message
    roles = load_file(path, lazy=True).roles
    assert roles[29].name == "role-00029"
    assert roles[31].name == "role-00031"
    for use in (lambda: roles[30], lambda: roles[25:35], lambda: list(roles)):
        with pytest.raises(InputError) as caught:
            use()
        assert str(caught.value) == message


# Files with more than one problem: the error is the one reading every role in order gave.
def _deep_then_shallow(pages: list[dict[str, Any]]) -> None:
    pages[0]["RoleDetailList"][10]["AttachedManagedPolicies"][0]["PolicyArn"] = 5
    del pages[1]["RoleDetailList"][3]["RoleName"], pages[1]["RoleDetailList"][3]["Arn"]


def _shallow(pages: list[dict[str, Any]]) -> None:
    del pages[1]["RoleDetailList"][3]["RoleName"], pages[1]["RoleDetailList"][3]["Arn"]


def _malformed_copy(pages: list[dict[str, Any]]) -> None:
    pages[1]["RoleDetailList"][2]["AttachedManagedPolicies"][0]["PolicyArn"] = 5


def _deep_then_malformed_copy(pages: list[dict[str, Any]]) -> None:
    pages[0]["RoleDetailList"][4]["RolePolicyList"] = {}
    pages[1]["RoleDetailList"][2]["AttachedManagedPolicies"][0]["PolicyArn"] = 5


def _deep_then_truncated(pages: list[dict[str, Any]]) -> None:
    pages[1]["RoleDetailList"][9]["PermissionsBoundary"] = {"PermissionsBoundaryArn": None}
    pages[2]["IsTruncated"] = "no"


def _truncated(pages: list[dict[str, Any]]) -> None:
    pages[2]["IsTruncated"] = "no"


def _shallow_then_not_a_list(pages: list[dict[str, Any]]) -> None:
    pages[1]["RoleDetailList"][9]["Arn"] = 7
    pages[2]["RoleDetailList"] = {"Roles": []}


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            _deep_then_shallow,
            "$[0].RoleDetailList[10].AttachedManagedPolicies[0].PolicyArn: expected a string, got the number 5",
        ),
        (_shallow, "$[1].RoleDetailList[3]: expected RoleName or Arn in a role object"),
        (
            _malformed_copy,
            "$[1].RoleDetailList[2].AttachedManagedPolicies[0].PolicyArn: expected a string, got the number 5",
        ),
        (_deep_then_malformed_copy, "$[0].RoleDetailList[4].RolePolicyList: expected a list, got an object"),
        (
            _deep_then_truncated,
            "$[1].RoleDetailList[9].PermissionsBoundary.PermissionsBoundaryArn: expected a string, got null",
        ),
        (_truncated, "$[2].IsTruncated: expected true or false, got 'no'"),
        (_shallow_then_not_a_list, "$[1].RoleDetailList[9].Arn: expected a string, got the number 7"),
    ],
)
def test_the_first_problem_is_the_error(
    account: dict[str, Any], write_file: WriteFile, damage: Callable[[list[dict[str, Any]]], None], expected: str
) -> None:
    pages = _pages(account)
    damage(pages)
    path = _write(write_file, pages)
    messages = []
    for lazy in (False, True):
        with pytest.raises(InputError) as caught:
            list(load_file(path, lazy=lazy).roles)
        messages.append(str(caught.value))
    assert messages == [f"{path}: {expected}"] * 2


def test_a_role_nested_too_deeply_is_an_input_error() -> None:
    def build(entry: int) -> Role:
        raise RecursionError

    roles = LazyRoles([1, 2], build, "deep.json")
    with pytest.raises(InputError, match=r"^deep\.json: nested more than \d+ levels deep$"):
        roles[1]
