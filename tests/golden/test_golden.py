"""Every output format against its golden files; `.venv/bin/python -m tests.golden.regenerate` updates them."""

from __future__ import annotations

import difflib

import pytest

from tests.golden import regenerate


def _drift(path: str, expected: str, actual: str) -> str:
    diff = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(), "golden", "now", lineterm="", n=1))
    shown = "\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else "")
    return f"{path} drifted; if the change is intended run: {regenerate.COMMAND}\n{shown}"


@pytest.mark.parametrize("case", regenerate.CASES, ids=lambda case: case.name)
def test_output_matches_its_golden_files(case: regenerate.Case) -> None:
    for file, text in regenerate.render(case).items():
        path = regenerate.GOLDEN / case.name / file
        assert path.is_file(), f"{path} is missing; run: {regenerate.COMMAND}"
        expected = path.read_text(encoding="utf-8")
        assert expected == text, _drift(str(path.relative_to(regenerate.ROOT)), expected, text)


def test_no_golden_file_is_left_over() -> None:
    stale = regenerate.existing_files() - regenerate.expected_files()
    assert not stale, f"golden files no case writes: {sorted(map(str, stale))}; run: {regenerate.COMMAND}"


def test_every_format_has_golden_files() -> None:
    from zeet_iam_audit.formats import FORMATS

    audit_cases = [case for case in regenerate.CASES if not case.diff]
    assert len(audit_cases) >= 2
    assert set(regenerate.AUDIT_FORMATS) == set(FORMATS)


def test_goldens_hold_no_machine_specific_paths() -> None:
    root = str(regenerate.ROOT)
    for path in regenerate.expected_files():
        text = path.read_text(encoding="utf-8")
        assert root not in text, f"{path} holds {root}"
        assert '"version": "0.0.0-golden"' in text or path.suffix not in (".json", ".sarif")
