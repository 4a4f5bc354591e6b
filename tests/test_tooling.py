"""The project's own checks run as tests, so CI enforces them: ruff (lint and format), mypy --strict on the
package and the tests, the layering, the length of modules."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed next to {sys.executable}: pip install -e '.[test]'")
    return found


def test_ruff_is_clean() -> None:
    result = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = subprocess.run([_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    """mypy --strict over the package and the tests (pyproject.toml's [tool.mypy] files)."""
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_engine_imports_no_io_libraries() -> None:
    """The evaluator and the audit never import boto3, rich or a YAML library."""
    code = (
        "import sys, json\n"
        "import zeet_iam_audit.policy.evaluate, zeet_iam_audit.audit.engine\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'rich', 'yaml'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


MAX_MODULE_LINES = 700


def test_no_module_is_over_700_lines() -> None:
    """One job per module: a module past 700 lines is doing several and is split by job."""
    modules = sorted((ROOT / "zeet_iam_audit").rglob("*.py"))
    assert len(modules) > 50  # the package was found
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
