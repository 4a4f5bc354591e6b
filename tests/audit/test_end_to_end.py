"""Verdicts you can act on, end to end: the CLI in a subprocess on role files as the AWS CLI prints
them, with the exit code a careful IAM engineer would expect (0 passes, 1 fails the gate)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .support import CUSTOMER, EXTERNAL, ZEET
from .test_administrator import managed

ZEET_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ZEET}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL}},
        }
    ],
}
ADMIN_BUT_IAM = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"},
    ],
}
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def role_file(
    tmp_path: Path,
    *,
    trust: dict[str, Any] = ZEET_TRUST,
    inline: dict[str, Any] | None = None,
    attached: tuple[tuple[str, dict[str, Any]], ...] = (),
    name: str = "zeet-connection",
) -> Path:
    """``aws iam get-role`` output with the role's policies' documents beside it."""
    data = {
        "Role": {
            "Path": "/",
            "RoleName": name,
            "RoleId": "AROAQX7EXAMPLE4ZEETC",
            "Arn": f"arn:aws:iam::{CUSTOMER}:role/{name}",
            "CreateDate": "2024-03-11T09:12:44+00:00",
            "AssumeRolePolicyDocument": trust,
            "MaxSessionDuration": 3600,
        },
        "RolePolicies": []
        if inline is None
        else [{"RoleName": name, "PolicyName": "ZeetAccess", "PolicyDocument": inline}],
        "AttachedPolicies": [
            {"PolicyName": policy, "PolicyArn": f"arn:aws:iam::aws:policy/{policy}", "PolicyDocument": document}
            for policy, document in attached
        ],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return path


def run(path: Path, *argv: str, configured: bool = True) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess from the file's folder, without the caller's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEET_IAM_AUDIT_", "AWS_"))}
    settings = ("--zeet-account-id", ZEET, "--external-id", EXTERNAL) if configured else ()
    return subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "--file", str(path), *settings, *argv],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _connection(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    report = json.loads(done.stdout)
    [feature] = [f for f in report["roles"][0]["features"] if f["id"] == "cloud-connection"]
    return feature  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "argv",
    [("--mode", "default"), ("--plan", "Pro", "--mode", "default")],
    ids=["default-mode", "pro-plan-in-default-mode"],
)
def test_allow_all_with_deny_iam_fails_the_default_mode(tmp_path: Path, argv: tuple[str, ...]) -> None:
    done = run(role_file(tmp_path, inline=ADMIN_BUT_IAM), *argv, "--features", "cloud-connection")
    assert done.returncode == 1, done.stderr
    assert "Account Administrator" in done.stdout
    assert "iam:*" in done.stdout
    as_json = run(
        role_file(tmp_path, inline=ADMIN_BUT_IAM), *argv, "--features", "cloud-connection", "--format", "json"
    )
    assert as_json.returncode == 1
    feature = _connection(as_json)
    assert feature["status"] == "missing"
    assert feature["missing"][0]["actions"] == ["iam:*"]
    assert json.loads(as_json.stdout)["roles"][0]["mode"]["administrator"] == "explicit_deny"


def test_power_user_access_fails_the_default_mode(tmp_path: Path) -> None:
    path = role_file(tmp_path, attached=(("PowerUserAccess", managed("PowerUserAccess")),))
    done = run(path, "--mode", "default", "--features", "cloud-connection", "--format", "json")
    assert done.returncode == 1, done.stderr
    [group] = _connection(done)["missing"]
    assert any(item.startswith("iam:* except") for item in group["actions"])


def test_administrator_access_passes_the_default_mode(tmp_path: Path) -> None:
    path = role_file(tmp_path, attached=(("AdministratorAccess", managed("AdministratorAccess")),))
    done = run(path, "--mode", "default", "--features", "cloud-connection")
    assert done.returncode == 0, done.stderr
    assert done.stderr.rstrip().endswith("passes")


def test_a_connection_zeet_cannot_assume_is_not_ok(tmp_path: Path) -> None:
    lambda_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    path = role_file(tmp_path, trust=lambda_trust, inline=ADMIN)
    done = run(path, "--features", "cloud-connection", "--fail-on", "missing")
    assert done.returncode == 1, done.stderr  # the connection itself is missing, not only the trust
    assert "no permission required" not in done.stdout
    table_row = next(line for line in done.stdout.splitlines() if "Cloud Connection" in line)
    assert "missing" in table_row


def test_a_connection_row_never_says_no_permission_required(tmp_path: Path) -> None:
    done = run(
        role_file(
            tmp_path,
            inline={
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:FilterLogEvents", "Resource": "*"}],
            },
        ),
        "--features",
        "cloud-connection,view-logs",
        "--plan",
        "Pro",
    )
    assert "no permission required" not in done.stdout
    assert "Cloud Connection" in done.stdout


def test_unknown_trust_makes_the_connection_unknown(tmp_path: Path) -> None:
    done = run(
        role_file(tmp_path, inline=ADMIN), "--features", "cloud-connection", "--format", "json", configured=False
    )
    feature = _connection(done)
    assert feature["status"] == "unknown"
    assert "no Zeet management account id configured" in feature["unknown"][0]["reasons"][0]


def _trust_with(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ZEET}:root"},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ],
    }


def test_an_external_id_that_matches_anything_warns(tmp_path: Path) -> None:
    path = role_file(tmp_path, trust=_trust_with({"StringLike": {"sts:ExternalId": "*"}}), inline=ADMIN)
    done = run(path, "--features", "cloud-connection")
    assert done.returncode == 0, done.stderr  # a warning: Zeet can connect, but nothing is protected
    assert "Trust: warn" in done.stdout
    assert "accepts any external id" in done.stdout


@pytest.mark.parametrize(
    ("condition", "because"),
    [
        pytest.param(
            {"StringEquals": {"sts:ExternalId": EXTERNAL}, "Bool": {"aws:MultiFactorAuthPresent": "true"}},
            "without MFA",
            id="mfa",
        ),
        pytest.param({"Null": {"sts:ExternalId": "true"}}, "Zeet always sends one", id="cdk-bootstrap-null"),
    ],
)
def test_a_condition_zeet_cannot_meet_fails(tmp_path: Path, condition: dict[str, Any], because: str) -> None:
    done = run(
        role_file(tmp_path, trust=_trust_with(condition), inline=ADMIN),
        "--features",
        "cloud-connection",
        "--format",
        "json",
    )
    assert done.returncode == 1, done.stderr
    trust = json.loads(done.stdout)["roles"][0]["trust"]
    assert trust["status"] == "fail"
    assert any(
        f["message"].startswith("Zeet cannot assume this role") and because in f["message"] for f in trust["findings"]
    )
    assert _connection(done)["status"] == "missing"


TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: Cross-account role for Zeet, with the external id passed at deployment.
Parameters:
  ZeetExternalId:
    Type: String
    NoEcho: true
    Description: External ID shown in Zeet's dashboard.
Resources:
  ZeetRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: zeet-connection
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: arn:aws:iam::111122223333:root
            Action: sts:AssumeRole
            Condition:
              StringEquals:
                sts:ExternalId: !Ref ZeetExternalId
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AdministratorAccess
"""


def test_a_parameterised_external_id_names_the_parameter_until_given(tmp_path: Path) -> None:
    path = tmp_path / "zeet-role.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    done = run(path, "--features", "cloud-connection", "--format", "json")
    trust = json.loads(done.stdout)["roles"][0]["trust"]
    assert trust["status"] == "unknown"
    [finding] = trust["findings"]
    assert "--parameter ZeetExternalId=VALUE" in finding["message"]
    assert "requires" not in finding["message"]
    assert _connection(done)["status"] == "unknown"
    given = run(path, "--features", "cloud-connection", "--parameter", f"ZeetExternalId={EXTERNAL}")
    assert given.returncode == 0, given.stderr
    assert "Trust: ok" in given.stdout


IAM_CANCELLED = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
    ],
}
SELF_ADMIN = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ManageClusterRoles",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:PutRolePolicy"],
            "Resource": "arn:aws:iam::*:role/*",
        },
    ],
}


def test_risky_grants_follow_the_evaluator(tmp_path: Path) -> None:
    cancelled = run(
        role_file(tmp_path, inline=IAM_CANCELLED, name="cancelled"),
        "--features",
        "view-logs",
        "--fail-on",
        "excess-risky",
        "--format",
        "json",
    )
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["roles"][0]["excess"]["risky"] == []
    escalating = run(
        role_file(tmp_path, inline=SELF_ADMIN, name="escalating"),
        "--features",
        "view-logs",
        "--fail-on",
        "excess-risky",
        "--format",
        "json",
    )
    assert escalating.returncode == 1, escalating.stderr
    risky = {grant["action"]: grant for grant in json.loads(escalating.stdout)["roles"][0]["excess"]["risky"]}
    assert set(risky) == {"iam:AttachRolePolicy", "iam:PutRolePolicy"}
    assert risky["iam:PutRolePolicy"]["statements"] == [
        "identity-based policy 'ZeetAccess' Statement[0] (Sid \"ManageClusterRoles\")"
    ]
    assert risky["iam:PutRolePolicy"]["resource"] == f"arn:aws:iam::{CUSTOMER}:role/*"
