"""The project's own checks run as tests, so CI enforces them: ruff (lint and format), mypy --strict on the
package and the tests, the layering, the length of modules."""

from __future__ import annotations

import ast
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


# Modules whose mirror test file is yet to be written (empty: the test holds for every module).
MIRRORS_PENDING: frozenset[str] = frozenset()


def test_every_module_has_its_mirror_test_file() -> None:
    """Tests mirror modules: zeet_iam_audit/<path>/<module>.py is tested in tests/<path>/test_<module>.py."""
    package = ROOT / "zeet_iam_audit"
    modules = sorted(
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    )
    assert len(modules) > 50  # the package was found
    missing = [
        module
        for module in modules
        if module not in MIRRORS_PENDING
        and not (ROOT / "tests" / Path(module).parent / f"test_{Path(module).name}").is_file()
    ]
    assert missing == []
    # A pending module that has its mirror now is no longer pending: the set only shrinks.
    stale = sorted(m for m in MIRRORS_PENDING if (ROOT / "tests" / Path(m).parent / f"test_{Path(m).name}").is_file())
    assert stale == [], f"remove {stale} from MIRRORS_PENDING in tests/test_tooling.py: their mirrors exist"


# Module-level containers that fill up while the program runs (a memo): each one is named here with
# why it is one, and it must hold values only (no object from a run). Everything else a run
# remembers belongs to an object with a known life (see zeet_iam_audit/memo.py).
MODULE_MEMOS = {
    # Whether a string is a well-formed action, asked of every Action entry read: the same few
    # thousand strings repeat across an account's policies, and the answer depends on the string alone.
    "zeet_iam_audit/policy/parse.py": {"_MATCHED_ACTIONS"},
}


def _empty_container(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Dict):
        return not node.keys
    if isinstance(node, ast.List | ast.Set):
        return not node.elts
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"dict", "list", "set", "defaultdict", "OrderedDict", "deque"}
    )


def test_module_level_memos_are_few_and_named() -> None:
    """No module keeps run state in a module-level dict, list or set that starts empty, except the
    memos named in MODULE_MEMOS (the issue asks for at most two, each with its reason)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "zeet_iam_audit").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            value: ast.expr | None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign):
                targets, value = [node.target], node.value
            else:
                continue
            if _empty_container(value):
                names = {target.id for target in targets if isinstance(target, ast.Name)}
                found.setdefault(str(path.relative_to(ROOT)), set()).update(names)
    assert found == MODULE_MEMOS
    assert sum(len(names) for names in MODULE_MEMOS.values()) <= 2
