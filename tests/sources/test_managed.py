"""Offline AWS managed policies: what ships, how ARNs resolve, and the generator's drift check."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from zeet_iam_audit.model import Effect, Origin
from zeet_iam_audit.sources.managed import (
    known_managed_policy_arns,
    managed_attachment,
    managed_policy_data,
    offline_unknown_reason,
    resolve_managed_policy,
)

REPOSITORY = Path(__file__).resolve().parents[2]
GENERATOR = REPOSITORY / "scripts" / "generate_managed_policies.py"
DATA = REPOSITORY / "zeet_iam_audit" / "sources" / "data"

# The policies the brief asks for, by ARN (service-role/ policies live under that path).
REQUESTED = [
    "AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMFullAccess",
    "AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy", "AmazonEKSServicePolicy", "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryFullAccess", "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPowerUser", "AWSLambda_FullAccess", "service-role/AWSLambdaBasicExecutionRole",
    "CloudWatchFullAccess", "CloudWatchReadOnlyAccess", "CloudWatchLogsFullAccess",
    "CloudWatchLogsReadOnlyAccess", "AmazonRDSFullAccess", "AmazonRDSReadOnlyAccess", "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess", "AmazonSNSFullAccess", "AmazonSNSReadOnlyAccess", "AmazonSQSFullAccess",
    "AmazonSQSReadOnlyAccess", "SecretsManagerReadWrite", "ServiceQuotasFullAccess",
    "ServiceQuotasReadOnlyAccess",
]  # fmt: skip


@pytest.mark.parametrize("name", REQUESTED)
def test_requested_policies_resolve_offline(name: str) -> None:
    policy = resolve_managed_policy(f"arn:aws:iam::aws:policy/{name}")
    assert policy is not None
    assert policy.statements
    assert policy.name == name.rsplit("/", 1)[-1]
    assert "offline copy from moto" in str(policy.origin)


def test_administrator_access_allows_everything() -> None:
    policy = resolve_managed_policy("arn:aws:iam::aws:policy/AdministratorAccess")
    assert policy is not None
    (statement,) = policy.statements
    assert statement.effect is Effect.ALLOW
    assert statement.actions == ("*",)
    assert statement.resources == ("*",)


def test_every_shipped_policy_parses() -> None:
    arns = known_managed_policy_arns()
    assert len(arns) == managed_policy_data().count
    for arn in arns:
        assert resolve_managed_policy(arn) is not None, arn


def test_every_aws_managed_policy_ships() -> None:
    # All of moto's copy, not a chosen few: real templates attach policies no list foresees.
    arns = set(known_managed_policy_arns())
    assert len(arns) > 1500
    for name in (
        "AmazonEC2ContainerRegistryPullOnly",
        "AWSXrayWriteOnlyAccess",
        "AmazonDynamoDBFullAccess",
        "service-role/AWS_ConfigRole",
        "aws-service-role/AmazonEKSServiceRolePolicy",
        "job-function/ViewOnlyAccess",
    ):
        assert f"arn:aws:iam::aws:policy/{name}" in arns, name


def test_the_data_is_compressed_and_its_date_is_recorded() -> None:
    assert (DATA / "aws_managed_policies.json.gz").read_bytes()[:2] == b"\x1f\x8b"  # gzip
    assert (DATA / "aws_managed_policies.json.gz").stat().st_size < 1_000_000
    info = managed_policy_data()
    assert info.date == info.data_as_of[:10]
    assert info.date[4] == "-"


def test_provenance_is_recorded() -> None:
    info = managed_policy_data()
    assert info.moto_version
    assert info.data_as_of[:4].isdigit()
    assert info.missing == ()


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/ZeetNoSuchManagedPolicy",  # not an AWS managed policy (yet)
        "arn:aws:iam::123456789012:policy/ZeetCustom",  # customer managed
        "arn:aws-cn:iam::aws:policy/AdministratorAccess",  # another partition
    ],
)
def test_other_arns_are_unknown_with_the_reason(arn: str) -> None:
    assert resolve_managed_policy(arn) is None
    attachment = managed_attachment(arn, name=None, origin=Origin("role.json", ("$", "AttachedPolicies", 0)))
    assert attachment.policy is None
    assert attachment.unknown_reason == offline_unknown_reason(arn)
    assert attachment.unknown_reason == (f"cannot read {arn} offline; include its document or audit the live role")
    assert attachment.name == arn.rsplit("/", 1)[-1]


def test_resolution_is_cached() -> None:
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert resolve_managed_policy(arn) is resolve_managed_policy(arn)


def test_generator_check_passes_on_the_checked_in_file() -> None:
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_generator_check_names_the_command_on_drift(tmp_path: Path) -> None:
    stale = tmp_path / "data"
    stale.mkdir()
    meta = (DATA / "aws_managed_policies.meta.json").read_text(encoding="utf-8")
    (stale / "aws_managed_policies.meta.json").write_text(meta, encoding="utf-8")
    policies = gzip.decompress((DATA / "aws_managed_policies.json.gz").read_bytes()).decode("utf-8")
    (stale / "aws_managed_policies.json.gz").write_bytes(gzip.compress(policies.replace('"v1"', '"v0"', 1).encode()))
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check", "--output", str(stale)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "python scripts/generate_managed_policies.py" in result.stderr
    assert str(stale) in result.stderr


def test_the_data_is_read_only_when_a_role_references_an_aws_managed_policy() -> None:
    # In a fresh interpreter: a role without AWS managed policies leaves the data unread.
    fixtures = REPOSITORY / "fixtures"
    script = (
        "from pathlib import Path\n"
        "from zeet_iam_audit.sources import load_file, managed\n"
        f"load_file(Path({str(fixtures / 'policy' / 'zeet-capacity-policy.json')!r}))\n"
        "print(managed._policies.cache_info().currsize)\n"
        f"load_file(Path({str(fixtures / 'role' / 'get-role-with-policies.json')!r}))\n"
        "print(managed._policies.cache_info().currsize)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "1"]
