"""Fixtures: the packaged catalogue and the generator script."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from zeet_iam_audit.catalog import Catalog, load_catalog

from .support import GENERATOR


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def generator() -> ModuleType:
    """scripts/generate_catalog.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("generate_catalog", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module
