"""``zeet-iam-audit explain``: the command line, its outputs and exit codes."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from zeet_iam_audit.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GAAD = str(FIXTURES / "gaad" / "zeet-account.json")
QUEUE = "arn:aws:sqs:us-east-1:123456789012:zeet-q"


def run_cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("AWS_", "ZEET_IAM_AUDIT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("role", "resource", "decision", "shown"),
    [
        pytest.param(
            "zeet-restricted",
            QUEUE,
            "explicit_deny",
            "Deny 'DenyQueues' Statement[0] (Sid \"DenyQueues\")",
            id="explicit-deny",
        ),
        pytest.param(
            "zeet-bounded",
            QUEUE,
            "implicit_deny",
            "permissions boundary 'ZeetBoundaryNoSqs': no statement allows it",
            id="boundary",
        ),
        pytest.param(
            "zeet-cloud-connection",
            "arn:aws:sqs:*:*:zeet-*",
            "allowed",
            "Allow 'ZeetMonitoring' Statement[2] (Sid \"CapacityEvents\")",
            id="allowed-on-scope",
        ),
        pytest.param(
            "order-processor-lambda",
            QUEUE,
            "unknown",
            "identity-based policies: no statement allows it (cannot read "
            "arn:aws:iam::123456789012:policy/order-processor-tracing offline",
            id="unreadable-policy",
        ),
    ],
)
def test_explain_table(role: str, resource: str, decision: str, shown: str) -> None:
    code, out, err = run_cli(["explain", "sqs:CreateQueue", "--file", GAAD, "--role", role, "--resource", resource])
    assert code == 0, err
    assert f"decision: {decision}" in out
    assert shown in " ".join(out.split())  # long lines wrap within 110 columns
    assert max(map(len, out.splitlines())) <= 110
    assert "needed by: Cluster Capacity Monitoring (cluster-capacity-monitoring), section 2.3.4" in out
    assert err.endswith(f"{role}: {decision}\n")


def test_explain_json_names_statement_origin() -> None:
    code, out, _ = run_cli(
        [
            "explain",
            "SQS:createqueue",
            "--file",
            GAAD,
            "--role",
            "zeet-restricted",
            "--resource",
            QUEUE,
            "--format",
            "json",
        ]
    )
    assert code == 0
    data = json.loads(out)
    assert data["action"] == "sqs:CreateQueue"
    (role,) = data["roles"]
    deny = role["layers"][0]["statements"][0]
    assert (deny["policy"], deny["index"], deny["sid"], deny["effect"]) == ("DenyQueues", 0, "DenyQueues", "Deny")
    assert deny["location"] == f"{GAAD}: $.RoleDetailList[1].RolePolicyList[0].PolicyDocument.Statement[0]"
    assert [f["id"] for f in data["features"]] == ["cluster-capacity-monitoring"]


def test_explain_with_context_decides_conditions(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sqs:*",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    base = ["explain", "sqs:CreateQueue", "--file", str(policy), "--resource", QUEUE]
    _, open_out, _ = run_cli(base)
    assert "decision: conditional: depends on aws:RequestedRegion" in open_out
    _, met, _ = run_cli([*base, "--context", "aws:RequestedRegion=eu-west-1"])
    assert "decision: allowed" in met
    _, unmet, _ = run_cli([*base, "--context", "aws:RequestedRegion=ap-south-1"])
    assert "decision: implicit_deny" in unmet
    _, listed, _ = run_cli(
        [
            *base,
            "--context",
            "aws:RequestedRegion=ap-south-1",
            "--context",
            "AWS:requestedregion=us-east-1",
            "--format",
            "json",
        ]
    )
    assert json.loads(listed)["context"] == {"aws:RequestedRegion": ["ap-south-1", "us-east-1"]}


def test_explain_with_scp_levels(tmp_path: Path) -> None:
    root = tmp_path / "root.json"
    root.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"},
                ],
            }
        ),
        encoding="utf-8",
    )
    code, out, _ = run_cli(
        [
            "explain",
            "sqs:DeleteQueue",
            "--file",
            GAAD,
            "--role",
            "zeet-cloud-connection",
            "--resource",
            "arn:aws:sqs:us-east-1:123456789012:zeet-eks-events",
            "--scp",
            str(root),
        ]
    )
    assert code == 0
    assert "decision: explicit_deny: explicitly denied by service control policy level 0" in out
    assert "SCPs level 0: explicit deny" in out


def test_explain_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "explained.json"
    code, out, _ = run_cli(
        [
            "explain",
            "logs:FilterLogEvents",
            "--file",
            GAAD,
            "--role",
            "zeet-cloud-connection",
            "--format",
            "json",
            "--output",
            str(target),
        ]
    )
    assert (code, out) == (0, "")
    assert json.loads(target.read_text(encoding="utf-8"))["action"] == "logs:FilterLogEvents"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["explain", "sqs:CreateQueue"], "no role to evaluate: give --file PATH or --role-arn ARN", id="no-source"
        ),
        pytest.param(
            ["explain", "sqs:Create*", "--file", GAAD], "explain: give one action, not a pattern", id="pattern"
        ),
        pytest.param(
            ["explain", "sqs:NoSuchAction", "--file", GAAD],
            "explain: sqs:NoSuchAction is not an IAM action",
            id="unknown-action",
        ),
        pytest.param(
            ["explain", "sqs:CreateQueue", "--file", GAAD, "--role", "zeet-admin", "--context", "novalue"],
            "--context: expected KEY=VALUE",
            id="bad-context",
        ),
        pytest.param(
            ["explain", "sqs:CreateQueue", "--file", GAAD],
            "holds 6 roles; choose one with --role NAME",
            id="several-roles",
        ),
        pytest.param(["explain", "sqs:CreateQueue", "--file", "missing.json"], "missing.json", id="missing-file"),
        pytest.param(
            ["explain"], "zeet-iam-audit explain: the following arguments are required: action", id="no-action"
        ),
    ],
)
def test_explain_errors_are_one_line_with_exit_2(argv: list[str], message: str) -> None:
    code, out, err = run_cli(argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("zeet-iam-audit: error: ")
    assert message in err


@pytest.fixture
def live_role(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with mock_aws():
        iam = boto3.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}
            ],
        }
        arn = iam.create_role(RoleName="zeet-live", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(
            RoleName="zeet-live",
            PolicyName="Queues",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "sqs:CreateQueue", "Resource": "arn:aws:sqs:*:*:zeet-*"}
                    ],
                }
            ),
        )
        yield str(arn)


def test_explain_a_live_role(live_role: str) -> None:
    code, out, err = run_cli(["explain", "sqs:CreateQueue", "--role-arn", live_role, "--resource", QUEUE])
    assert code == 0, err
    assert "decision: allowed" in out
    assert "live: iam:GetRolePolicy zeet-live/Queues" in out
