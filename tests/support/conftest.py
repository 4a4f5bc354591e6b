"""Fixtures for the support tools' tests: the real rules and catalogue, fixture paths (a clean AWS
environment, ``aws_env``, comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zeet_iam_audit.catalog import Catalog, load_catalog
from zeet_iam_audit.rules import RuleSet, load_rules

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ERRORS = FIXTURES / "errors"
GAAD = FIXTURES / "gaad" / "zeet-account.json"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def rules(catalog: Catalog) -> RuleSet:
    return load_rules(catalog=catalog)
