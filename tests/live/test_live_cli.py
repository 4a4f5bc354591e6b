"""End to end: the CLI against moto's server over real HTTP, and the saved file audited again.

The live report and the report of ``--file saved.json`` must be equal once the fields that name
where the data came from are set aside: ``inputs``, each role's ``source`` and ``locations``
(places inside an input file; a live read has none).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from .support import (
    ACCOUNT,
    EXTERNAL_ID,
    READ_ONLY_ACCESS,
    ZEET_ACCOUNT,
    create_policy,
    create_zeet_role,
    role_arn,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCE_FIELDS = ("source", "locations")  # per role; "inputs" at the top
AUDIT_FLAGS = ["--format", "json", "--zeet-account-id", ZEET_ACCOUNT, "--external-id", EXTERNAL_ID]


def _cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only what the CLI needs, with fake credentials: nothing from the developer's AWS setup."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the fields that name its source."""
    copy: dict[str, Any] = json.loads(json.dumps(report))
    copy.pop("inputs")
    for role in copy["roles"]:
        for name in SOURCE_FIELDS:
            role.pop(name, None)
    return copy


def test_no_credentials_exit_2_with_one_line(tmp_path: Path) -> None:
    env = _cli_env(tmp_path)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = _run(["--role-arn", role_arn("zeet-role"), "--endpoint-url", closed, *AUDIT_FLAGS], tmp_path, env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "zeet-iam-audit: error: no AWS credentials found: set AWS_PROFILE (or pass --profile), or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for an SSO profile run 'aws sso login' first"
    ]


# -- against moto's server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's server on a free local port, with AWS managed policies loaded."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def endpoint(moto_server: str) -> str:
    """The server, reset: every test starts from an empty account."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    return moto_server


def _iam(endpoint: str) -> Any:
    return boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _zeet_role(iam: Any, name: str = "zeet-role") -> str:
    secrets = create_policy(iam, f"{name}-secrets", "zeet-secrets-managed.json")
    boundary = create_policy(iam, f"{name}-boundary", "zeet-boundary.json")
    return create_zeet_role(
        iam,
        name,
        inline={"ZeetCapacity": "zeet-capacity-inline.json"},
        managed=(secrets, READ_ONLY_ACCESS),
        boundary=boundary,
    )


@pytest.mark.slow
def test_a_live_audit_and_the_audit_of_its_saved_file_agree(endpoint: str, tmp_path: Path) -> None:
    arn = _zeet_role(_iam(endpoint))
    env = _cli_env(tmp_path)
    saved = tmp_path / "saved.json"

    live = _run(
        ["--role-arn", arn, "--endpoint-url", endpoint, "--save", str(saved), "--scps", "auto", *AUDIT_FLAGS],
        tmp_path,
        env,
    )
    assert live.returncode in (0, 1), live.stderr
    from_file = _run(["--file", str(saved), "--role", arn, *AUDIT_FLAGS], tmp_path, env)
    assert from_file.returncode == live.returncode, from_file.stderr

    live_report, file_report = json.loads(live.stdout), json.loads(from_file.stdout)
    assert live_report["inputs"] == [arn]
    assert file_report["inputs"] == [str(saved)]
    assert live_report["roles"][0]["source"] == f"live account {ACCOUNT}"
    assert _comparable(live_report) == _comparable(file_report)
    assert live.stderr.splitlines()[:2] == [
        f"zeet-iam-audit: reading the SCPs that apply to account {ACCOUNT}",
        f"zeet-iam-audit: account {ACCOUNT} is in no AWS organization: no SCPs apply",
    ]
    assert len(live.stderr.splitlines()) == 3  # and the summary
    assert "Traceback" not in live.stderr


@pytest.mark.slow
def test_all_roles_live_and_from_the_saved_file_agree(endpoint: str, tmp_path: Path) -> None:
    iam = _iam(endpoint)
    arns = [_zeet_role(iam, "zeet-a"), _zeet_role(iam, "zeet-b")]
    env = _cli_env(tmp_path)
    saved = tmp_path / "saved.json"

    live = _run(["--all-roles", "--endpoint-url", endpoint, "--save", str(saved), *AUDIT_FLAGS], tmp_path, env)
    assert live.returncode in (0, 1), live.stderr
    from_file = _run(["--file", str(saved), "--all-roles", *AUDIT_FLAGS], tmp_path, env)
    assert from_file.returncode == live.returncode, from_file.stderr

    live_report = json.loads(live.stdout)
    assert sorted(r["arn"] for r in live_report["roles"]) == sorted(arns)
    assert _comparable(live_report) == _comparable(json.loads(from_file.stdout))
    assert live.stderr.splitlines()[0] == (
        "zeet-iam-audit: reading the account's authorization details: page 1, 2 roles so far"
    )


@pytest.mark.slow
def test_several_roles_report_progress(endpoint: str, tmp_path: Path) -> None:
    iam = _iam(endpoint)
    arns = [create_zeet_role(iam, name) for name in ("zeet-a", "zeet-b")]
    flags = [flag for arn in arns for flag in ("--role-arn", arn)]
    result = _run([*flags, "--endpoint-url", endpoint, *AUDIT_FLAGS], tmp_path, _cli_env(tmp_path))
    assert result.returncode in (0, 1), result.stderr
    assert result.stderr.splitlines()[:2] == [
        "zeet-iam-audit: reading role 1/2: zeet-a",
        "zeet-iam-audit: reading role 2/2: zeet-b",
    ]
    assert [r["name"] for r in json.loads(result.stdout)["roles"]] == ["zeet-a", "zeet-b"]


@pytest.mark.slow
def test_a_missing_role_exits_2_with_one_line(endpoint: str, tmp_path: Path) -> None:
    arn = role_arn("not-there", "/zeet/")
    result = _run(["--role-arn", arn, "--endpoint-url", endpoint, *AUDIT_FLAGS], tmp_path, _cli_env(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"zeet-iam-audit: error: role not found: {arn} (NoSuchEntity on iam:GetRole; check the ARN "
        f"and that the credentials are for account {ACCOUNT})"
    ]


@pytest.mark.slow
def test_simulate_against_an_endpoint_without_it_reports_the_error(endpoint: str, tmp_path: Path) -> None:
    """moto's server has no SimulatePrincipalPolicy: the audit still runs, the simulation says why."""
    arn = create_zeet_role(_iam(endpoint))
    result = _run(
        ["--role-arn", arn, "--endpoint-url", endpoint, "--simulate", *AUDIT_FLAGS], tmp_path, _cli_env(tmp_path)
    )
    assert result.returncode in (0, 1), result.stderr
    (role,) = json.loads(result.stdout)["roles"]
    assert role["simulation"]["checked"] == 0
    assert role["simulation"]["error"].startswith("iam:SimulatePrincipalPolicy: ")
