"""``zeet-iam-audit diff OLD NEW`` (commands/diff.py) end to end: what a change gains and loses; the
comparison on values is ``tests/test_diffing.py``'s."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import moto
import pytest

from zeet_iam_audit.cli import main

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "fixtures" / "ci"
EXTERNAL_ID_CONDITION = """            Condition:
              StringEquals:
                sts:ExternalId: !Ref ExternalId
"""

# --- the command, end to end ---------------------------------------------------------------------------


def _diff(*argv: str, cwd: Path = CI) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEET_IAM_AUDIT_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "diff", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_removing_sqs_from_capacity_monitoring_regresses() -> None:
    done = _diff("zeet-role.base.yaml", "zeet-role.yaml")
    assert done.returncode == 1, done.stderr
    assert "REGRESSED  2.3.4 Cluster Capacity Monitoring (cluster-capacity-monitoring): ok → missing" in done.stdout
    assert "newly missing: sqs:CreateQueue, sqs:DeleteMessage" in done.stdout
    assert "3 features unchanged" in done.stdout
    assert done.stderr.startswith("zeet-iam-audit: diff: 1 regression: zeet-monitoring: Cluster Capacity Monitoring")


def test_adding_a_permission_gains_coverage_and_passes() -> None:
    done = _diff("zeet-role.yaml", "zeet-role.base.yaml", "--format", "json")
    assert done.returncode == 0, done.stderr
    diff = json.loads(done.stdout)
    assert diff["regressions"] == []
    (feature,) = diff["roles"][0]["features"]
    assert feature["id"] == "cluster-capacity-monitoring"
    assert (feature["old"], feature["new"], feature["improvement"]) == ("missing", "ok", True)
    assert "sqs:CreateQueue" in feature["newly_granted"]
    assert sorted(diff["roles"][0]["unchanged_features"]) == ["cloud-quota-monitoring", "view-logs", "view-metrics"]


def test_the_same_template_has_no_change() -> None:
    done = _diff("zeet-role.base.yaml", "zeet-role.base.yaml")
    assert done.returncode == 0
    assert "no feature changed" in done.stdout
    assert "Result: no regression" in done.stdout


@pytest.fixture
def weak_trust(tmp_path: Path) -> Path:
    """The base template without its sts:ExternalId condition."""
    text = (CI / "zeet-role.base.yaml").read_text()
    assert EXTERNAL_ID_CONDITION in text
    (tmp_path / "weak.yaml").write_text(text.replace(EXTERNAL_ID_CONDITION, ""))
    return tmp_path / "weak.yaml"


def test_trust_weakening_fails(weak_trust: Path) -> None:
    done = _diff("zeet-role.base.yaml", str(weak_trust), "--format", "markdown")
    assert done.returncode == 1, done.stderr
    assert "trust policy weakened: ok → warn" in done.stderr
    assert "Trust: ok → warn (**weakened**)" in done.stdout
    assert "- added **warn**: no sts:ExternalId condition" in done.stdout
    back = _diff(str(weak_trust), "zeet-role.base.yaml")
    assert back.returncode == 0
    assert "Trust: warn → ok" in back.stdout


def test_options_apply_to_both_sides() -> None:
    done = _diff("zeet-role.base.yaml", "zeet-role.yaml", "--features", "view-logs")
    assert done.returncode == 0
    assert "no feature changed" in done.stdout


def test_any_input_kinds() -> None:
    """A YAML template against its JSON twin: the same role, so no change."""
    done = _diff(
        "../cloudformation/zeet-role.yaml", "../cloudformation/zeet-role.json", "--zeet-account-id", "111122223333"
    )
    assert done.returncode == 0, done.stderr
    assert "no feature changed" in done.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(("zeet-role.yaml",), "give OLD and NEW files", id="one-file"),
        pytest.param(
            ("--old-role-arn", "arn:aws:iam::123456789012:role/zeet", "a.yaml", "b.yaml"),
            "with --old-role-arn give one file",
            id="arn-and-two-files",
        ),
        pytest.param(("no-such.yaml", "zeet-role.yaml"), "no-such.yaml: no such file", id="missing-file"),
        pytest.param(("zeet-role.base.yaml", "zeet-role.yaml", "--format", "sarif"), "invalid choice", id="bad-format"),
    ],
)
def test_usage_errors_exit_2(argv: tuple[str, ...], message: str) -> None:
    done = _diff(*argv)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "diff.md"
    done = _diff("zeet-role.base.yaml", "zeet-role.yaml", "--format", "markdown", "--output", str(out))
    assert done.returncode == 1
    assert done.stdout == ""
    assert out.read_text().startswith("## zeet-iam-audit diff")


def test_old_role_arn_without_the_live_source_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zeet_iam_audit.sources.live", None)  # import now fails
    monkeypatch.chdir(CI)
    err = io.StringIO()
    code = main(
        ["diff", "--old-role-arn", "arn:aws:iam::123456789012:role/zeet", "zeet-role.yaml"],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2
    assert "--old-role-arn: the live source is not available" in err.getvalue()


def test_old_role_arn_reads_the_live_role(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A live role (moto, in process) compared with the pull request's template."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "ZEET_IAM_AUDIT_")):
            monkeypatch.delenv(name)
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", str(tmp_path / "none")),
        ("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none")),
    ):
        monkeypatch.setenv(name, value)
    import boto3

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "zeet-ext-5f2c9a7e"}},
            }
        ],
    }
    capacity = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:*", "cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "servicequotas:*"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": ["sns:*"], "Resource": "arn:aws:sns:*:*:zeet-eks-*"},
            {"Effect": "Allow", "Action": ["sqs:*"], "Resource": "arn:aws:sqs:*:*:zeet-*"},
            {"Effect": "Allow", "Action": ["events:*"], "Resource": "arn:aws:events:*:*:rule/zeet-eks-*"},
            {
                "Effect": "Allow",
                "Action": ["eks:ListNodegroups", "eks:DescribeNodegroup", "autoscaling:DescribeAutoScalingGroups"],
                "Resource": "*",
            },
        ],
    }
    with moto.mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        arn = iam.create_role(RoleName="zeet-monitoring", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(
            RoleName="zeet-monitoring", PolicyName="ZeetObservability", PolicyDocument=json.dumps(capacity)
        )
        monkeypatch.chdir(CI)
        out, err = io.StringIO(), io.StringIO()
        code = main(["diff", "--old-role-arn", arn, "zeet-role.yaml", "--no-excess"], stdout=out, stderr=err)
    assert code == 1, err.getvalue()
    assert "Cluster Capacity Monitoring (cluster-capacity-monitoring): ok → missing" in out.getvalue()
    assert arn in out.getvalue().splitlines()[0]
