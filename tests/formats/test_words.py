"""Every output format says the new verdicts (issue 15): no raw enum values or broken grammar in text
formats, unknown said once per reason, fixes shown, options honest."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.formats.conftest import ZEET, CliResult

TEXT_FORMATS = ("table", "markdown", "github")
ROLE_FILE = ("--file", "fixtures/role/get-role.json", *ZEET)
GAAD = ("--file", "fixtures/gaad/zeet-account.json", *ZEET)
CONDITIONAL = ("--file", "fixtures/cloudformation/zeet-role.yaml", *ZEET)
RAW = re.compile(r"implicit_deny|explicit_deny|\bgate an\b|\ban Deny\b")


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@pytest.mark.parametrize(
    "argv", [ROLE_FILE, (*GAAD, "--all-roles"), CONDITIONAL], ids=["role-file", "gaad", "cloudformation"]
)
def test_text_formats_speak_words(run_cli: Callable[..., CliResult], fmt: str, argv: tuple[str, ...]) -> None:
    text = run_cli(*argv, "--format", fmt, "--width", "200").stdout
    assert text
    assert not RAW.search(text), RAW.search(text)


@pytest.mark.parametrize("fmt", ["table", "markdown", "github", "sarif", "json"])
def test_unknown_is_said_once_per_reason_in_every_format(run_cli: Callable[..., CliResult], fmt: str) -> None:
    result = run_cli(*ROLE_FILE, "--format", fmt, "--width", "200")
    assert result.code == 1
    reason = "the file does not say which inline policies the role has"
    if fmt == "json":
        report = json.loads(result.stdout)
        (role,) = report["roles"]
        groups = [g for g in role["unknown_groups"] if reason in g["reason"]]
        assert len(groups) == 1
        assert groups[0]["actions"] == len({a["action"].lower() for f in role["features"] for a in f["unknown"]})
        assert len(groups[0]["features"]) == 9
        return
    if fmt == "sarif":
        results = json.loads(result.stdout)["runs"][0]["results"]
        assert sum(reason in r["message"]["text"] for r in results) == 1
        return
    assert result.stdout.count(reason) == 1


@pytest.mark.parametrize("fmt", ["table", "markdown", "github", "sarif"])
def test_every_missing_group_shows_its_fix(run_cli: Callable[..., CliResult], fmt: str) -> None:
    result = run_cli(*GAAD, "--role", "zeet-restricted", "--format", fmt, "--width", "300")
    text = result.stdout.replace('\\"', '"').replace("\\", "")  # JSON and Markdown escapes
    assert '"Action": ["lambda:AddPermission", "lambda:CreateFunction"' in text
    assert "remove these actions from identity-based policy 'DenyQueues' Statement[0]" in text


def test_no_excess_is_not_analysed_in_json_and_markdown(run_cli: Callable[..., CliResult]) -> None:
    report = json.loads(run_cli(*CONDITIONAL, "--no-excess", "--format", "json").stdout)
    assert report["roles"][0]["excess"]["analysed"] is False
    markdown = run_cli(*CONDITIONAL, "--no-excess", "--format", "markdown").stdout
    assert "Excess: not analysed" in markdown


def test_a_gaad_file_with_no_roles_under_all_roles(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    empty = tmp_path / "gaad.json"
    empty.write_text(json.dumps({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}))
    result = run_cli("--file", str(empty), "--all-roles", "--format", "markdown")
    assert result.code == 0, result.stderr
    assert "no IAM role found (looked for RoleDetailList entries)" in result.stdout
    refused = run_cli("--file", str(empty))
    assert refused.code == 2
    assert refused.stderr.rstrip().endswith("no IAM role found (looked for RoleDetailList entries)")
