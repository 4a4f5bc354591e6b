"""SARIF 2.1.0 output (formats/sarif.py): rules, levels, locations, fingerprints, the reference validator."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.formats.conftest import ROOT, ZEET, CliResult
from zeet_iam_audit.audit.findings import CHECK_IDS, CHECKS, FINGERPRINT_VERSION
from zeet_iam_audit.audit.report import TrustSeverity

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
    assert (
        [rule["id"] for rule in rules]
        == list(CHECK_IDS)
        == [
            "missing-permission",
            "conditional-permission",
            "unknown-permission",
            "invalid-policy",
            "unknown-action",
            "trust-policy",
            "excess-permission",
            "risky-permission",
        ]
    )
    for rule, check in zip(rules, CHECKS, strict=True):
        assert rule["helpUri"] == check.references[0][1]
        assert check.help in rule["help"]["text"]
        assert check.help in rule["help"]["markdown"]
        for title, url in check.references:  # the help itself, and AWS's documentation on the subject
            assert url.startswith("https://docs.aws.amazon.com/"), url
            assert f"[{title}]({url})" in rule["help"]["markdown"]
        assert rule["fullDescription"]["text"]
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["name"])


_LEVELS = {
    "missing-permission": {"error"},
    "conditional-permission": {"warning"},
    "unknown-permission": {"warning"},
    "risky-permission": {"warning"},
    "excess-permission": {"note"},
    "trust-policy": {"error", "warning", "note"},
    "invalid-policy": {"error"},
    "unknown-action": {"warning"},
}


@pytest.mark.parametrize(
    "argv",
    [
        ("--file", CFN, *ZEET),
        ("--file", GAAD, "--all-roles", *ZEET),
        ("--file", "fixtures/ci/zeet-role.yaml", "--config", "fixtures/ci/.zeet-iam-audit.toml"),
    ],
    ids=["cloudformation", "gaad", "ci"],
)
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
    plain = next(
        r for r in results if r["ruleId"] == "missing-permission" and not r["properties"]["subject"].startswith("sqs:")
    )  # no statement: lacks an Allow
    start = plain["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert '"RoleName": "zeet-restricted"' in "\n".join(lines[start - 1 : start + 4])  # the role


def test_fingerprints_are_stable_and_ignore_line_numbers(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
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
        name="zeet",
        arn="arn:aws:iam::123456789012:role/zeet",
        source="live account 123456789012",
        trust=TrustResult(TrustStatus.FAIL, (TrustFinding("zeet-cannot-assume", TrustSeverity.FAIL, "no"),)),
        features=(),
        excess=ExcessResult(0, (), ()),
        default_mode=DefaultModeResult("implicit_deny", "fine-grained", None),
    )
    report = AuditReport("1", (role,), inputs=("arn:aws:iam::123456789012:role/zeet",))
    result = json.loads(render_sarif(report, RenderOptions()))["runs"][0]["results"][0]
    assert result["locations"] == [
        {"logicalLocations": [{"name": "zeet", "kind": "resource", "fullyQualifiedName": "zeet"}]}
    ]


VALIDATOR = ROOT / ".ci" / "sarif-validator"  # package.json pins @microsoft/sarif-multitool


def _validator() -> Path:
    """The pinned SARIF validator, installed from the project's own package files when it is not yet;
    a failure to install fails the test (it never skips)."""
    tool = VALIDATOR / "node_modules" / ".bin" / "sarif-multitool"
    if not tool.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install the SARIF validator (.ci/sarif-validator): apt-get install npm")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=VALIDATOR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not tool.exists():
            pytest.fail(f"npm ci in {VALIDATOR} failed: {done.stderr[-1000:]}")
    return tool


# The driver has no informationUri: the tool has no public home, and a made-up address would be worse
# than the validator's best-practice warning about its absence.
_ACCEPTED = {"SARIF2005"}


def _validate(paths: list[Path]) -> list[str]:
    """The validator's errors and warnings about ``paths`` (apart from the accepted ones)."""
    done = subprocess.run(
        [str(_validator()), "validate", *map(str, paths)], capture_output=True, text=True, timeout=600, check=False
    )
    assert "Analysis completed successfully" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.count("Done. ") == 1
    return [
        line
        for line in done.stdout.splitlines()
        if (m := re.search(r": (error|warning) ([A-Z]+\d+)", line)) and m[2] not in _ACCEPTED
    ]


# Every bundled example, with what it needs to audit.
EXAMPLES = {
    "cloudformation-yaml": ("fixtures/cloudformation/zeet-role.yaml", *ZEET),
    "cloudformation-json": ("fixtures/cloudformation/zeet-role.json", *ZEET),
    "cloudformation-unresolved": ("fixtures/cloudformation/unresolved.yaml", *ZEET),
    "gaad": (GAAD, "--all-roles", *ZEET),
    "ci": ("fixtures/ci/zeet-role.yaml", "--config", str(CI / ".zeet-iam-audit.toml")),
    "ci-base": ("fixtures/ci/zeet-role.base.yaml", "--config", str(CI / ".zeet-iam-audit.toml")),
    "terraform": ("fixtures/terraform/plan.json", *ZEET),
    "role": ("fixtures/role/get-role-with-policies.json", *ZEET),
    "policy": ("fixtures/policy/zeet-capacity-policy.json", *ZEET),
}


@pytest.mark.slow
def test_sarif_passes_the_reference_validator(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """``sarif-multitool validate``: no errors and no warnings for every bundled example, given by a
    relative and an absolute path, from inside and outside the working directory, and the goldens."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    written: list[Path] = []
    uris: dict[str, dict[str, str]] = {}
    for name, (file, *rest) in EXAMPLES.items():
        absolute = str(ROOT / file)
        for where, cwd, path in (
            ("relative", ROOT, file),
            ("absolute", ROOT, absolute),
            ("outside-relative", outside, os.path.relpath(absolute, outside)),
            ("outside-absolute", outside, absolute),
        ):
            sarif = tmp_path / f"{name}-{where}.sarif"
            result = run_cli("--file", path, *rest, "--format", "table", "--sarif", str(sarif), cwd=cwd)
            assert result.code in (0, 1), result.stderr
            log = json.loads(sarif.read_text(encoding="utf-8"))
            located = [
                r["locations"][0]["physicalLocation"]["artifactLocation"]
                for r in log["runs"][0]["results"]
                if "physicalLocation" in r["locations"][0]
            ]
            if located:
                uris[f"{name}-{where}"] = located[0]
            written.append(sarif)
    # Inside the working directory: relative to %SRCROOT%; outside it: an absolute file:// URI.
    assert uris["gaad-relative"] == uris["gaad-absolute"] == {"uri": GAAD, "uriBaseId": "%SRCROOT%"}
    assert uris["gaad-outside-relative"] == uris["gaad-outside-absolute"] == {"uri": (ROOT / GAAD).as_uri()}
    goldens = sorted((ROOT / "tests" / "golden").glob("*/report.sarif"))
    assert len(goldens) >= 3
    problems = _validate([*written, *goldens])
    assert not problems, "\n".join(problems)


def test_the_validator_reports_what_it_finds(tmp_path: Path) -> None:
    """The check above can fail: the validator flags an artifact URI that begins with a slash under
    %SRCROOT% (what an absolute input path used to produce)."""
    bad = tmp_path / "bad.sarif"
    log = json.loads((ROOT / "tests" / "golden" / "cloudformation" / "report.sarif").read_text(encoding="utf-8"))
    for result in log["runs"][0]["results"]:
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "/abs/zeet-role.yaml"
    bad.write_text(json.dumps(log), encoding="utf-8")
    problems = _validate([bad])
    assert any("SARIF1004" in line for line in problems), problems


@pytest.mark.parametrize(
    ("source", "root", "expected"),
    [
        pytest.param(
            "infra/zeet-role.yaml",
            "/repo",
            {"uri": "infra/zeet-role.yaml", "uriBaseId": "%SRCROOT%"},
            id="relative-inside",
        ),
        pytest.param(
            "/repo/infra/zeet-role.yaml",
            "/repo",
            {"uri": "infra/zeet-role.yaml", "uriBaseId": "%SRCROOT%"},
            id="absolute-inside",
        ),
        pytest.param(
            "../other/zeet role.yaml",
            "/repo/sub",
            {"uri": "file:///repo/other/zeet%20role.yaml"},
            id="relative-outside",
        ),
        pytest.param(
            "/elsewhere/zeet-role.yaml", "/repo", {"uri": "file:///elsewhere/zeet-role.yaml"}, id="absolute-outside"
        ),
        pytest.param(
            "./a/../b/zeet-role.yaml", "/repo", {"uri": "b/zeet-role.yaml", "uriBaseId": "%SRCROOT%"}, id="dots-inside"
        ),
    ],
)
def test_artifact_locations(source: str, root: str, expected: dict[str, str]) -> None:
    from zeet_iam_audit.formats.sarif import artifact_location

    assert artifact_location(source, Path(root)) == expected


def test_account_wide_runs_have_one_result_per_role_feature_and_check(run_cli: Callable[..., CliResult]) -> None:
    single = {}
    for role in ("zeet-cloud-connection", "zeet-restricted", "zeet-bounded"):
        for result in _sarif(run_cli, "--file", GAAD, "--role", role, *ZEET)["runs"][0]["results"]:
            single[result["partialFingerprints"][FINGERPRINT_VERSION]] = result
    run = _sarif(run_cli, "--file", GAAD, "--all-roles", *ZEET)["runs"][0]
    results = run["results"]
    keys = [(r["properties"]["role"], r["properties"]["feature"], r["ruleId"], r["level"]) for r in results]
    assert len(keys) == len(set(keys))
    covered = [fp for r in results for fp in r["properties"].get("fingerprints", [r["properties"]["fingerprint"]])]
    wanted = [fp for fp, r in single.items() if r["properties"]["role"] in {k[0] for k in keys}]
    assert sorted(covered) == sorted(set(covered))
    assert set(wanted) <= set(covered)
    grouped = [r for r in results if "fingerprints" in r["properties"]]
    assert grouped, "the restricted role lacks several SQS actions: one result lists them"
    restricted = next(
        r
        for r in grouped
        if r["properties"]["role"] == "zeet-restricted" and r["properties"]["feature"] == "cluster-capacity-monitoring"
    )
    assert "sqs:CreateQueue" in restricted["properties"]["subjects"]
    assert "sqs:CreateQueue" in restricted["message"]["text"]
    assert run["properties"] == {
        "resultsTotal": len(results),
        "resultsCap": 5000,
        "resultsOmitted": 0,
        "resultsGrouped": "role, feature and check",
    }


def test_results_are_capped_most_severe_first(
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    from zeet_iam_audit.formats import sarif

    whole = _sarif(run_cli, "--file", GAAD, "--all-roles", *ZEET)["runs"][0]
    levels = [r["level"] for r in whole["results"]]
    assert levels.count("error") >= 2
    assert "warning" in levels
    monkeypatch.setattr(sarif, "RESULTS_CAP", 3)
    run = _sarif(run_cli, "--file", GAAD, "--all-roles", *ZEET)["runs"][0]
    assert len(run["results"]) == 3
    assert [r["level"] for r in run["results"]] == sorted(levels, key=["error", "warning", "note"].index)[:3]
    assert run["properties"]["resultsTotal"] == len(levels)
    assert run["properties"]["resultsCap"] == 3
    assert run["properties"]["resultsOmitted"] == len(levels) - 3
    notice = run["invocations"][0]["toolExecutionNotifications"][0]
    assert notice["level"] == "warning"
    assert f"{len(levels) - 3} of {len(levels)} results left out" in notice["message"]["text"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param('Zeet\'s "queues"', id="both-quotes"),
        pytest.param("x' Statement[3]", id="looks-like-a-statement"),
        pytest.param('Statement[0] (Sid "Everything")', id="looks-like-a-trust-statement"),
    ],
)
def test_a_statement_is_located_whatever_its_policy_is_called(
    run_cli: Callable[..., CliResult], tmp_path: Path, name: str
) -> None:
    def inline(policy_name: str, *statements: dict[str, Any]) -> dict[str, Any]:
        return {"PolicyName": policy_name, "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}

    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "zeet-ext-5f2c9a7e"}},
    }
    role = {
        "RoleName": "zeet",
        "Arn": "arn:aws:iam::123456789012:role/zeet",
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
        "RolePolicyList": [
            # Named like the statement below, so a name read back from the text would pick it.
            inline("Zeet", {"Effect": "Allow", "Action": "*", "Resource": "*"}),
            inline(
                name,
                {"Sid": "Reads", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Sid": "DenyQueues", "Effect": "Deny", "Action": "sqs:*", "Resource": "*"},
            ),
        ],
        "AttachedManagedPolicies": [],
    }
    text = json.dumps({"RoleDetailList": [role], "Policies": []}, indent=2)
    (tmp_path / "account.json").write_text(text, encoding="utf-8")
    results = _sarif(run_cli, "--file", "account.json", *ZEET, cwd=tmp_path)["runs"][0]["results"]
    denied = next(r for r in results if r["properties"]["subject"] == "sqs:CreateQueue")
    assert denied["message"]["text"]  # the report still names the statement in words
    start = denied["locations"][0]["physicalLocation"]["region"]["startLine"]
    lines = text.splitlines()
    assert lines[start - 1].strip() == "{"
    assert lines[start].strip() == '"Sid": "DenyQueues",'  # the Deny statement itself
