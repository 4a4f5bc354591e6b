"""Helpers for the format tests: the repository root and the command line run in process."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from zeet_iam_audit.cli import main

ROOT = Path(__file__).resolve().parents[2]
ZEET = ("--zeet-account-id", "111122223333", "--external-id", "zeet-ext-5f2c9a7e")


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run ``zeet-iam-audit ARGS`` in process from ``cwd`` (the repository root by default)."""
    for key in [k for k in os.environ if k.startswith("ZEET_IAM_AUDIT_")]:
        monkeypatch.delenv(key)

    def run(*argv: str, cwd: Path = ROOT) -> CliResult:
        monkeypatch.chdir(cwd)
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdout=out, stderr=err)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run
