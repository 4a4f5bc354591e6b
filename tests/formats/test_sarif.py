"""SARIF 2.1.0 output (formats/sarif.py): rules, levels, locations, fingerprints, the reference validator."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, ZEET, CliResult

from zeet_iam_audit.audit.findings import CHECK_IDS, DOCS_URL, FINGERPRINT_VERSION

CFN = "fixtures/cloudformation/zeet-role.yaml"
GAAD = "fixtures/gaad/zeet-account.json"
CI = ROOT / "fixtures" / "ci"


def _sarif(run_cli: Callable[..., CliResult], *argv: str, cwd: Path = ROOT) -> dict[str, Any]:
    result = run_cli(*argv, "--format", "sarif", cwd=cwd)
    assert result.code in (0, 1), result.stderr
    log: dict[str, Any] = json.loads(result.stdout)
    return log


def test_one_rule_per_check_with_documentation(run_cli: Callable[..., CliResult]) -> None:
    log = _sarif(run_cli, "--file", CFN, *ZEET)
    assert log["version"] == "2.1.0"
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(CHECK_IDS) == [
        "missing-permission", "conditional-permission", "unknown-permission", "invalid-policy",
        "unknown-action", "trust-policy", "excess-permission", "risky-permission"]
    for rule in rules:
        assert rule["helpUri"] == f"{DOCS_URL}#{rule['id']}"
        assert rule["help"]["text"]
        assert rule["fullDescription"]["text"]
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["name"])


_LEVELS = {"missing-permission": {"error"}, "conditional-permission": {"warning"},
           "unknown-permission": {"warning"}, "risky-permission": {"warning"}, "excess-permission": {"note"},
           "trust-policy": {"error", "warning", "note"}, "invalid-policy": {"error"}, "unknown-action": {"warning"}}


@pytest.mark.parametrize("argv", [("--file", CFN, *ZEET), ("--file", GAAD, "--all-roles", *ZEET),
                                  ("--file", "fixtures/ci/zeet-role.yaml", "--config",
                                   "fixtures/ci/.zeet-iam-audit.toml")], ids=["cloudformation", "gaad", "ci"])
def test_levels_follow_the_check(run_cli: Callable[..., CliResult], argv: tuple[str, ...]) -> None:
    log = _sarif(run_cli, *argv)
    assert log["runs"][0]["results"]
    for result in log["runs"][0]["results"]:
        assert result["level"] in _LEVELS[result["ruleId"]], result
        rule = log["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]


def test_trust_levels(run_cli: Callable[..., CliResult]) -> None:
    failing = _sarif(run_cli, "--file", CFN, "--zeet-account-id", "111122223333", "--external-id", "wrong")
    trust = [r for r in failing["runs"][0]["results"] if r["ruleId"] == "trust-policy"]
    assert {r["level"] for r in trust} == {"error"}
    assert all(r["properties"]["subject"] == "external-id-mismatch" for r in trust)


def test_locations_point_at_the_file_and_the_statement(run_cli: Callable[..., CliResult]) -> None:
    log = _sarif(run_cli, "--file", GAAD, "--role", "zeet-restricted", *ZEET)
    lines = (ROOT / GAAD).read_text(encoding="utf-8").splitlines()
    results = log["runs"][0]["results"]
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": GAAD, "uriBaseId": "%SRCROOT%"}
        assert physical["region"]["startLine"] >= 1
        assert result["locations"][0]["logicalLocations"][0]["name"] == "zeet-restricted"
    denied = next(r for r in results if r["properties"]["subject"] == "sqs:CreateQueue")
    start = denied["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert '"Sid": "DenyQueues"' in "\n".join(lines[start - 1 : start + 3])  # the Deny statement
    plain = next(r for r in results if r["ruleId"] == "missing-permission"
                 and not r["properties"]["subject"].startswith("sqs:"))  # no statement: lacks an Allow
    start = plain["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert '"RoleName": "zeet-restricted"' in "\n".join(lines[start - 1 : start + 4])  # the role


def test_fingerprints_are_stable_and_ignore_line_numbers(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    text = (CI / "zeet-role.yaml").read_text(encoding="utf-8")
    (tmp_path / ".zeet-iam-audit.toml").write_text((CI / ".zeet-iam-audit.toml").read_text())
    (tmp_path / "zeet-role.yaml").write_text(text)
    first = _sarif(run_cli, "--file", "zeet-role.yaml", cwd=tmp_path)["runs"][0]["results"]
    again = _sarif(run_cli, "--file", "zeet-role.yaml", cwd=tmp_path)["runs"][0]["results"]
    (tmp_path / "zeet-role.yaml").write_text("# a comment\n# and another\n" + text)
    shifted = _sarif(run_cli, "--file", "zeet-role.yaml", cwd=tmp_path)["runs"][0]["results"]

    def prints(results: list[dict[str, Any]]) -> list[str]:
        return [r["partialFingerprints"][FINGERPRINT_VERSION] for r in results]

    assert prints(first) == prints(again) == prints(shifted)
    assert len(set(prints(first))) == len(first) == 7  # one per missing SQS action
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in first]
    moved = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in shifted]
    assert [line + 2 for line in lines] == moved


def test_waived_findings_are_suppressed_results(run_cli: Callable[..., CliResult]) -> None:
    log = _sarif(run_cli, "--file", "fixtures/ci/zeet-role.yaml", "--config", "tests/golden/ci-waivers.toml")
    run = log["runs"][0]
    suppressed = {r["properties"]["subject"]: r["suppressions"] for r in run["results"] if "suppressions" in r}
    assert set(suppressed) == {"sqs:DeleteMessage", "sqs:ReceiveMessage"}
    assert suppressed["sqs:DeleteMessage"][0]["kind"] == "external"
    assert "OPS-123" in suppressed["sqs:DeleteMessage"][0]["justification"]
    notes = run["invocations"][0]["toolConfigurationNotifications"]
    assert [n["level"] for n in notes] == ["error", "warning"]  # expired, unmatched


def test_a_live_role_has_logical_locations_only() -> None:
    from zeet_iam_audit.audit.report import (
        AuditReport,
        DefaultModeResult,
        ExcessResult,
        RoleReport,
        TrustFinding,
        TrustResult,
        TrustStatus,
    )
    from zeet_iam_audit.formats import RenderOptions
    from zeet_iam_audit.formats.sarif import render_sarif

    role = RoleReport(
        name="zeet", arn="arn:aws:iam::123456789012:role/zeet", source="live account 123456789012",
        trust=TrustResult(TrustStatus.FAIL, (TrustFinding("zeet-cannot-assume", "fail", "no"),)),
        features=(), excess=ExcessResult(0, (), ()),
        default_mode=DefaultModeResult("implicit_deny", "fine-grained", None))
    report = AuditReport("1", (role,), inputs=("arn:aws:iam::123456789012:role/zeet",))
    result = json.loads(render_sarif(report, RenderOptions()))["runs"][0]["results"][0]
    assert result["locations"] == [{"logicalLocations": [
        {"name": "zeet", "kind": "resource", "fullyQualifiedName": "zeet"}]}]


def _validate(paths: list[Path]) -> str:
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx is not installed: the SARIF reference validator (@microsoft/sarif-multitool) runs on Node")
    try:
        done = subprocess.run(
            [npx, "--yes", "@microsoft/sarif-multitool", "validate", *map(str, paths)],
            capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("the SARIF validator did not finish in 300 s (first run downloads it from npm)")
    if done.returncode != 0 and "Analysis completed" not in done.stdout:
        pytest.skip(f"the SARIF validator could not run (npm registry unreachable?): {done.stderr[-500:]}")
    return done.stdout


@pytest.mark.slow
def test_sarif_passes_the_reference_validator(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """``npx @microsoft/sarif-multitool validate``: no errors and no warnings, goldens and a live run."""
    fresh = tmp_path / "fresh.sarif"
    result = run_cli("--file", GAAD, "--all-roles", *ZEET, "--format", "table", "--sarif", str(fresh))
    assert result.code == 1
    assert fresh.is_file()
    goldens = sorted((ROOT / "tests" / "golden").glob("*/report.sarif"))
    assert len(goldens) >= 3
    output = _validate([fresh, *goldens])
    problems = [line for line in output.splitlines() if re.search(r": (error|warning) [A-Z]+\d+", line)]
    assert not problems, "\n".join(problems)
    assert output.count("Analysis completed successfully") >= 1
