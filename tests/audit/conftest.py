"""Session fixtures for audit tests: the real rules and catalogue."""

from __future__ import annotations

import pytest

from zeet_iam_audit.catalog import Catalog, load_catalog
from zeet_iam_audit.rules import RuleSet, load_rules


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules(catalog=load_catalog())


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
