"""Fixtures shared across the test folders."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
