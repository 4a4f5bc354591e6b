"""Every command that reads a live account, run where boto3 is not installed (the [live] extra left
out): one line saying what to install, exit 2, no traceback.

The missing module is simulated in a child process: a ``sitecustomize`` puts a finder first on
``sys.meta_path`` that refuses boto3 and botocore, as an interpreter without them would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARN = "arn:aws:iam::123456789012:role/zeet"
BLOCKER = """
import sys

class _WithoutTheLiveExtra:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("boto3", "botocore"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _WithoutTheLiveExtra())
"""
LIVE = ("--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9")  # never reached


@pytest.fixture(scope="module")
def blocked_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("no-live-extra")
    (folder / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ZEET_IAM_AUDIT_"))}
    env.update(PYTHONPATH=str(folder), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    return env


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--role-arn", ARN, *LIVE], id="audit-role-arn"),
        pytest.param(["--all-roles", *LIVE], id="audit-account"),
        pytest.param(["explain", "sqs:CreateQueue", "--role-arn", ARN, *LIVE], id="explain"),
        pytest.param(["diagnose", "--log", "fixtures/errors/aws-cli.txt", "--role-arn", ARN, *LIVE], id="diagnose"),
        pytest.param(["diff", "--old-role-arn", ARN, "fixtures/ci/zeet-role.yaml", *LIVE], id="diff"),
    ],
)
def test_live_mode_without_the_extra(blocked_env: dict[str, str], argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", *argv],
        cwd=ROOT,
        env=blocked_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "zeet-iam-audit: error: live mode needs boto3: pip install 'zeet-iam-audit[live]' "
        "(from a clone: pip install '.[live]')"
    )
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_the_blocker_blocks(blocked_env: dict[str, str]) -> None:
    """Without this, the test above could pass for another reason."""
    done = subprocess.run(
        [sys.executable, "-c", "import botocore"],
        env=blocked_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "No module named 'botocore'" in done.stderr
