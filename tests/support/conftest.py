"""Fixtures for the support tools' tests: the real rules and catalogue, fixture paths, a clean AWS env."""

from __future__ import annotations

import os
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


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real AWS configuration can leak in: AWS_* cleared, fake keys, no config files, no IMDS."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "ZEET_IAM_AUDIT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
