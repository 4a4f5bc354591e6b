"""Several outputs from one run (--json, --sarif, --markdown, --github FILE), written only on success."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.formats.conftest import CliResult

HEAD = ("--file", "fixtures/ci/zeet-role.yaml", "--config", "fixtures/ci/.zeet-iam-audit.toml")


def test_one_run_writes_every_format(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    files = {name: tmp_path / f"out.{name}" for name in ("json", "sarif", "markdown", "github")}
    result = run_cli(
        *HEAD,
        "--format",
        "table",
        "--width",
        "100",
        *(arg for name, path in files.items() for arg in (f"--{name}", str(path))),
    )
    assert result.code == 1
    assert result.stdout.startswith("Role zeet-monitoring")
    assert json.loads(files["json"].read_text())["schema_version"] == 1
    assert json.loads(files["sarif"].read_text())["version"] == "2.1.0"
    assert files["markdown"].read_text().startswith("## zeet-iam-audit")
    assert files["github"].read_text().startswith("::error file=fixtures/ci/zeet-role.yaml,line=")
    assert not list(tmp_path.glob(".out.*"))  # no temporary file left behind


def test_the_same_report_whatever_the_destination(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    stdout = run_cli(*HEAD, "--format", "sarif").stdout
    run_cli(*HEAD, "--format", "markdown", "--sarif", str(tmp_path / "r.sarif"))
    assert (tmp_path / "r.sarif").read_text() == stdout


def test_nothing_is_written_when_the_audit_cannot_run(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    out = tmp_path / "r.sarif"
    result = run_cli("--file", "fixtures/ci/no-such.yaml", "--sarif", str(out), "--json", str(tmp_path / "r.json"))
    assert result.code == 2
    assert "no such file" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_whole(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    out = tmp_path / "summary.md"
    out.write_text("old contents that are much longer than anything" * 1000)
    run_cli(*HEAD, "--markdown", str(out))
    assert out.read_text().startswith("## zeet-iam-audit")
    assert "old contents" not in out.read_text()


def test_two_outputs_cannot_share_a_file(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = run_cli(*HEAD, "--json", str(tmp_path / "a"), "--sarif", str(tmp_path / "a"))
    assert result.code == 2
    assert "different files" in result.stderr


def test_help_lists_the_formats_and_files(run_cli: Callable[..., CliResult]) -> None:
    from zeet_iam_audit.cli import _audit_parser

    text = _audit_parser().format_help()
    for option in ("--sarif FILE", "--markdown FILE", "--json FILE", "--github FILE"):
        assert option in text
    assert "{table,json,sarif,markdown,github}" in text
