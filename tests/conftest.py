"""Fixtures shared across the test folders: the synthetic authorization-details generator, and fake AWS
credentials with moto in process for the live-account tests (tests/sources/test_live*.py, tests/live/)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def make_gaad() -> Callable[[int], dict[str, Any]]:
    """``benchmarks/make_gaad.py``'s generator: a synthetic authorization-details file of N roles."""
    spec = importlib.util.spec_from_file_location("make_gaad", ROOT / "benchmarks" / "make_gaad.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generate: Callable[[int], dict[str, Any]] = module.make_gaad
    return generate


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real AWS configuration can leak in: AWS_* cleared, fake keys, no config files, no IMDS."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "ZEET_IAM_AUDIT_")) or name == "MOTO_IAM_LOAD_MANAGED_POLICIES":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws(aws_env: None) -> Iterator[None]:
    """moto in process (IAM, STS, Organizations), without AWS managed policies (faster)."""
    with mock_aws():
        yield


@pytest.fixture
def aws_managed(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in process with AWS managed policies loaded (arn:aws:iam::aws:policy/...)."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    with mock_aws():
        yield
