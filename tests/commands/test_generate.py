"""``zeet-iam-audit generate``: the command line, settings, outputs, and the CLI round trip."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import yaml

from zeet_iam_audit.cli import main

ZEET = "111122223333"
EXTERNAL = "zeet-ext-5f2c9a7e"
IDS = ["--zeet-account-id", ZEET, "--external-id", EXTERNAL]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, stdin=io.StringIO(""))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("AWS_", "ZEET_IAM_AUDIT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("json", "json"), ("cloudformation", "yaml")], ids=["json", "cloudformation"])
@pytest.mark.parametrize(
    "selection",
    [
        pytest.param(["--features", "view-logs"], id="one-feature"),
        pytest.param(["--features", "cluster-capacity-monitoring,secrets-manager", "--with", "messaging-extras",
                      "--with", "write"], id="two-features-with-variants"),
        pytest.param([], id="all-features"),
    ],
)
def test_generated_file_audits_clean_through_the_cli(fmt: str, suffix: str, selection: list[str],
                                                     tmp_path: Path) -> None:
    target = tmp_path / f"role.{suffix}"
    code, out, err = run_cli(["generate", *IDS, *selection, "--format", fmt, "--output", str(target)])
    assert (code, out) == (0, ""), err
    assert "managed polic" in err
    code, report, summary = run_cli(["--file", str(target), *IDS, *selection, "--format", "json", "--fail-on",
                                     "missing,conditional,unknown,trust,excess"])
    assert code == 0, summary
    (role,) = json.loads(report)["roles"]
    assert {f["status"] for f in role["features"]} == {"ok"}
    assert role["excess"]["total_actions"] == 0
    assert role["trust"]["status"] == "ok"


def test_json_to_stdout_and_summary_on_stderr() -> None:
    code, out, err = run_cli(["generate", *IDS, "--features", "view-metrics", "--account-id", "123456789012"])
    assert code == 0
    data = json.loads(out)
    assert data["Role"]["Arn"] == "arn:aws:iam::123456789012:role/zeet-cloud-connection"
    assert data["AttachedPolicies"][0]["PolicyName"] == "zeet-cloud-connection-1"
    assert err.startswith("zeet-iam-audit generate: 2 actions for 1 feature in 1 managed policy (")


def test_terraform_output() -> None:
    code, out, _ = run_cli(["generate", *IDS, "--features", "view-logs", "--format", "terraform",
                            "--role-name", "zeet-prod"])
    assert code == 0
    assert 'resource "aws_iam_role" "zeet" {' in out
    assert 'name                 = "zeet-prod"' in out
    assert 'resource "aws_iam_policy" "zeet_1" {' in out
    assert 'resource "aws_iam_role_policy_attachment" "zeet_1" {' in out
    assert "policy_arn = aws_iam_policy.zeet_1.arn" in out


def test_ids_and_features_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / ".zeet-iam-audit.toml").write_text(
        f'zeet_account_id = "{ZEET}"\nexternal_id = "{EXTERNAL}"\nfeatures = ["view-logs"]\n', encoding="utf-8")
    code, out, _ = run_cli(["generate", "--format", "cloudformation"])
    assert code == 0
    template = yaml.safe_load(out)
    assert template["Parameters"]["ZeetAccountId"]["Default"] == ZEET
    assert template["Resources"]["ZeetPolicy1"]["Properties"]["Description"].startswith("Zeet: view-logs ")


def test_ids_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEET_IAM_AUDIT_ZEET_ACCOUNT_ID", ZEET)
    monkeypatch.setenv("ZEET_IAM_AUDIT_EXTERNAL_ID", EXTERNAL)
    code, out, _ = run_cli(["generate", "--features", "view-logs"])
    assert code == 0
    trust = json.loads(out)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL}}


def test_unused_variant_is_reported_on_stderr() -> None:
    code, _, err = run_cli(["generate", *IDS, "--features", "view-logs", "--with", "custom-domain"])
    assert code == 0
    assert "zeet-iam-audit generate: --with custom-domain: no selected feature defines it; ignored\n" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["generate", "--external-id", EXTERNAL], "the trust policy needs Zeet's account id",
                     id="no-account-id"),
        pytest.param(["generate", "--zeet-account-id", ZEET], "the trust policy needs the external id",
                     id="no-external-id"),
        pytest.param(["generate", *IDS, "--features", "nope"], "--features: unknown feature nope", id="bad-feature"),
        pytest.param(["generate", *IDS, "--with", "nope"], "--with: unknown variant nope", id="bad-variant"),
        pytest.param(["generate", *IDS, "--account-id", "12"], "--account-id: expected 12 digits", id="bad-account"),
        pytest.param(["generate", *IDS, "--format", "pulumi"], "argument --format: invalid choice", id="bad-format"),
        pytest.param(["generate", *IDS, "--template-extras", "missing.toml"], "missing.toml: cannot read",
                     id="missing-extras"),
    ],
)
def test_errors_exit_2_in_one_line(argv: list[str], message: str) -> None:
    code, out, err = run_cli(argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
