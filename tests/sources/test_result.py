"""What a source hands back (``SourceResult``): the roles it found, the input type (one of
``INPUT_TYPES``), the path as given, and what it left out with a reason; ``Skipped.unread`` marks what
should have been audited but could not be read (unknown for ``--fail-on``), apart from what is not
the tool's to audit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from zeet_iam_audit.sources import load_file
from zeet_iam_audit.sources.result import INPUT_TYPES, Skipped, SourceResult

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


@pytest.mark.parametrize(
    ("path", "input_type", "roles"),
    [
        pytest.param(FIXTURES / "gaad" / "zeet-account.json", "gaad", 6, id="authorization-details"),
        pytest.param(FIXTURES / "role" / "get-role-with-policies.json", "role", 1, id="get-role"),
        pytest.param(FIXTURES / "policy" / "zeet-capacity-policy.json", "policy", 1, id="policy-document"),
        pytest.param(FIXTURES / "cloudformation" / "zeet-role.yaml", "cloudformation", 1, id="template"),
        pytest.param(FIXTURES / "terraform" / "plan.json", "terraform", 2, id="plan"),
    ],
)
def test_each_input_type_reports_itself_and_the_path_as_given(
    path: Path, input_type: str, roles: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    relative = path.relative_to(ROOT)
    result = load_file(relative)
    assert result.input_type == input_type
    assert result.input_type in INPUT_TYPES
    assert result.path == str(relative)
    assert len(result.roles) == roles
    assert result.skipped == ()


@pytest.mark.parametrize(
    ("path", "names", "unread"),
    [
        pytest.param(
            FIXTURES / "cloudformation" / "nested-stacks.yaml",
            ["ZeetPermissionsStack", "WorkerPoliciesStack", "AlarmsStack"],
            False,
            id="nested-stacks-are-other-templates",
        ),
        pytest.param(FIXTURES / "gaad" / "users-groups-only.json", ["roles"], False, id="a-file-without-roles"),
        pytest.param(
            ROOT / "tests" / "hostile" / "corpus" / "gaad-truncated-last-page.json",
            ["later pages"],
            True,
            id="pages-not-in-the-file-are-unread",
        ),
    ],
)
def test_what_was_left_out_is_named_with_its_origin(path: Path, names: list[str], unread: bool) -> None:
    result = load_file(path)
    assert [skipped.name for skipped in result.skipped] == names
    assert all(skipped.unread is unread for skipped in result.skipped)
    assert all(skipped.origin.startswith(f"{path}: ") for skipped in result.skipped)
    assert all(skipped.reason for skipped in result.skipped)


def test_results_are_frozen_values() -> None:
    skipped = Skipped("later pages", "the output ends with IsTruncated true", "gaad.json: $.IsTruncated", unread=True)
    result = SourceResult(roles=(), skipped=(skipped,), input_type="gaad", path="gaad.json")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.input_type = "role"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        skipped.unread = False  # type: ignore[misc]
    assert Skipped("roles", "no RoleDetailList", "gaad.json: $").unread is False  # left out, not unread
