"""Markdown for pull-request comments and job summaries (formats/markdown.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.formats.conftest import ZEET, CliResult
from zeet_iam_audit.formats.markdown import code, md


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        pytest.param("plain text", "plain text", id="plain"),
        pytest.param("a|b", "a\\|b", id="pipe"),
        pytest.param("*bold* _x_ `c` [l](u)", "\\*bold\\* \\_x\\_ \\`c\\` \\[l\\](u)", id="markup"),
        pytest.param("<script>&", "&lt;script&gt;&amp;", id="html"),
        pytest.param("two\nlines", "two lines", id="newline"),
    ],
)
def test_md_escapes_markup(text: str, escaped: str) -> None:
    assert md(text) == escaped


def test_code_spans_survive_tables() -> None:
    assert code("a|b") == "`a\\|b`"
    assert code("x`y") == "`x'y`"


def test_a_failing_report(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli(
        "--file", "fixtures/ci/zeet-role.yaml", "--config", "fixtures/ci/.zeet-iam-audit.toml", "--format", "markdown"
    )
    assert result.code == 1
    text = result.stdout
    assert text.startswith("## zeet-iam-audit\n")
    assert "Result: **fails** on missing." in text
    assert "| Section | Feature | Status | Missing |" in text
    row = next(line for line in text.splitlines() if "Cluster Capacity Monitoring" in line and line.startswith("|"))
    assert "**missing**" in row
    assert "`sqs:CreateQueue`" in row
    assert text.count("<details>") == text.count("</details>") >= 1


def test_a_passing_report_and_its_trust_and_risky_sections(run_cli: Callable[..., CliResult]) -> None:
    passing = run_cli(
        "--file",
        "fixtures/ci/zeet-role.base.yaml",
        "--config",
        "fixtures/ci/.zeet-iam-audit.toml",
        "--format",
        "markdown",
    )
    assert passing.code == 0
    assert "Result: **passes**." in passing.stdout
    wide = run_cli("--file", "fixtures/gaad/zeet-account.json", "--all-roles", *ZEET, "--format", "markdown")
    assert "**Risky grants**" in wide.stdout
    assert wide.stdout.count("### Role ") == 6
    # With --all-roles, roles Zeet cannot assume are one line each, not ten feature verdicts.
    assert "Not a Zeet role: trusts lambda.amazonaws.com." in wide.stdout
    assert "4 roles audited from `fixtures/gaad/zeet-account.json` (2 not Zeet roles, not audited)." in wide.stdout
    warned = run_cli("--file", "fixtures/role/get-role.json", "--format", "markdown")
    assert "**Trust findings**" in warned.stdout
    assert "accounts other than Zeet's can assume the role" in warned.stdout


def test_waived_findings_are_marked(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli(
        "--file", "fixtures/ci/zeet-role.yaml", "--config", "tests/golden/ci-waivers.toml", "--format", "markdown"
    )
    assert "`sqs:DeleteMessage` (waived)" in result.stdout
    assert "**missing** (2 waived)" in result.stdout
    assert "### Waivers" in result.stdout
    assert "**expired**" in result.stdout
    assert "**unmatched**" in result.stdout
