"""Live-fault fixtures: moto in process, fake credentials, and no back-off sleeps between retries."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff
from moto import mock_aws

ACCOUNT = "123456789012"  # moto's
ZEET = "111122223333"
EXTERNAL_ID = "zeet-ext-5f2c9a7e"
ROLES = ("zeet-a", "zeet-b", "zeet-c")
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ZEET}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
        }
    ],
}
LOGS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
                "logs:FilterLogEvents",
                "logs:GetLogEvents",
            ],
            "Resource": "*",
        }
    ],
}
METRICS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"], "Resource": "*"}
    ],
}
SECRETS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecrets"],
            "Resource": "*",
        }
    ],
}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """moto with three Zeet roles: inline Logs, a shared customer managed Metrics policy, and (on
    zeet-c) a second managed policy; retries happen without sleeping. Yields moto's IAM client."""
    import boto3

    for name in list(os.environ):
        if name.startswith(("AWS_", "ZEET_IAM_AUDIT_")):
            monkeypatch.delenv(name)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        metrics = iam.create_policy(PolicyName="Metrics", PolicyDocument=json.dumps(METRICS))["Policy"]["Arn"]
        secrets = iam.create_policy(PolicyName="Secrets", PolicyDocument=json.dumps(SECRETS))["Policy"]["Arn"]
        for name in ROLES:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
            iam.put_role_policy(RoleName=name, PolicyName="Logs", PolicyDocument=json.dumps(LOGS))
            iam.attach_role_policy(RoleName=name, PolicyArn=metrics)
        iam.attach_role_policy(RoleName="zeet-c", PolicyArn=secrets)
        yield iam
