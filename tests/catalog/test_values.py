from __future__ import annotations

import dataclasses

import pytest

from zeet_iam_audit.catalog import ACCESS_LEVELS, ActionInfo


def test_full_joins_service_and_name() -> None:
    assert ActionInfo("eks", "CreateAccessEntry", "Write", True).full == "eks:CreateAccessEntry"


def test_action_info_is_frozen() -> None:
    info = ActionInfo("eks", "CreateAccessEntry", "Write", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "Other"  # type: ignore[misc]


def test_access_levels_are_aws_five() -> None:
    assert ACCESS_LEVELS == ("List", "Read", "Write", "Permissions management", "Tagging")
