"""The exit-code table, end to end: ``python -m zeet_iam_audit`` run on fixtures in a subprocess.

====  ============================================================================================
code  meaning
====  ============================================================================================
0     the audit ran and nothing reached --fail-on (default: missing,trust)
1     the audit found something that reached --fail-on, or a waiver has expired
2     it could not run: usage, unreadable input, bad config or rules, credentials, internal errors
====  ============================================================================================

The output format never changes the code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "fixtures" / "ci"
BASE = ("--file", "zeet-role.base.yaml")  # every selected feature ok, trust ok
HEAD = ("--file", "zeet-role.yaml")  # capacity monitoring lacks SQS
CFN = ("--file", "../cloudformation/zeet-role.yaml", "--zeet-account-id", "111122223333",
       "--external-id", "zeet-ext-5f2c9a7e", "--features", "view-logs,view-metrics,cloud-quota-monitoring")
GAAD = ("--file", "../gaad/zeet-account.json", "--zeet-account-id", "111122223333", "--external-id",
        "zeet-ext-5f2c9a7e")
FORMATS = ("table", "json", "sarif", "markdown", "github")


def _run(*argv: str, cwd: Path = CI) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, from fixtures/ci (whose .zeet-iam-audit.toml applies) unless told."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEET_IAM_AUDIT_", "AWS_"))}
    return subprocess.run([sys.executable, "-m", "zeet_iam_audit", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_0_when_nothing_reaches_fail_on(fmt: str) -> None:
    done = _run(*BASE, "--format", fmt)
    assert done.returncode == 0, done.stderr
    assert done.stderr.rstrip().endswith("passes")


@pytest.mark.parametrize("fmt", FORMATS)
def test_1_when_a_feature_lacks_permissions(fmt: str) -> None:
    done = _run(*HEAD, "--format", fmt)
    assert done.returncode == 1, done.stderr
    assert done.stderr.rstrip().endswith("fails on missing")
    assert done.stdout  # the report is written whatever the verdict


@pytest.mark.parametrize(
    ("argv", "code", "reached"),
    [
        pytest.param((*HEAD, "--fail-on", "never"), 0, None, id="never"),
        pytest.param((*HEAD, "--fail-on", "trust"), 0, None, id="missing-not-selected"),
        pytest.param((*HEAD, "--fail-on", "conditional,unknown"), 0, None, id="other-values-not-met"),
        pytest.param((*HEAD, "--fail-on", "missing", "--fail-on", "trust"), 1, "missing", id="repeated-flag"),
        pytest.param((*BASE, "--external-id", "someone-else"), 1, "trust", id="trust-fails"),
        pytest.param((*BASE, "--external-id", "someone-else", "--fail-on", "missing"), 0, None,
                     id="trust-not-selected"),
        pytest.param((*CFN, "--fail-on", "excess"), 1, "excess", id="excess"),
        pytest.param((*CFN, "--fail-on", "excess-risky"), 1, "excess-risky", id="excess-risky"),
        pytest.param((*CFN,), 0, None, id="excess-not-selected"),
        pytest.param((*GAAD, "--role", "zeet-restricted"), 1, "missing", id="gaad-explicit-deny"),
    ],
)
def test_fail_on_decides_0_or_1(argv: tuple[str, ...], code: int, reached: str | None) -> None:
    done = _run(*argv)
    assert done.returncode == code, done.stderr
    summary = done.stderr.rstrip().splitlines()[-1]
    if reached is None:
        assert summary.endswith("passes"), summary
    else:
        assert summary.endswith(f"fails on {reached}"), summary


_QUEUE_RESOURCE = 'Resource: !Sub "arn:${AWS::Partition}:sqs:*:*:zeet-*"'


@pytest.mark.parametrize(
    ("replacement", "fail_on", "code", "reached"),
    [
        pytest.param(_QUEUE_RESOURCE + "\n            Condition: {StringEquals: {aws:RequestedRegion: eu-west-1}}",
                     "conditional", 1, "conditional", id="conditional"),
        pytest.param(_QUEUE_RESOURCE + "\n            Condition: {StringEquals: {aws:RequestedRegion: eu-west-1}}",
                     "missing,trust", 0, None, id="conditional-not-selected"),
        pytest.param('Resource: !Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:*:zeet-*"', "unknown", 1,
                     "unknown", id="unknown"),
        pytest.param('Resource: !Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:*:zeet-*"', "missing,trust", 0,
                     None, id="unknown-not-selected"),
    ],
)
def test_conditional_and_unknown(tmp_path: Path, replacement: str, fail_on: str, code: int,
                                 reached: str | None) -> None:
    """The base template with its queue statement made conditional, or dependent on an unresolved value."""
    text = (CI / "zeet-role.base.yaml").read_text()
    assert _QUEUE_RESOURCE in text
    (tmp_path / "zeet-role.yaml").write_text(text.replace(_QUEUE_RESOURCE, replacement))
    (tmp_path / ".zeet-iam-audit.toml").write_text((CI / ".zeet-iam-audit.toml").read_text())
    done = _run(*HEAD, "--fail-on", fail_on, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    summary = done.stderr.rstrip().splitlines()[-1]
    assert summary.endswith(f"fails on {reached}" if reached else "passes"), summary


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(("--file", "no-such.yaml"), "no-such.yaml: no such file", id="missing-file"),
        pytest.param(("--file", "../../pyproject.toml"), "pyproject.toml", id="not-an-input"),
        pytest.param((*HEAD, "--fail-on", "sometimes"), "--fail-on: unknown value sometimes", id="bad-fail-on"),
        pytest.param((*HEAD, "--fail-on", "never,missing"), "'never' cannot be combined", id="never-combined"),
        pytest.param((*HEAD, "--format", "xml"), "invalid choice: 'xml'", id="bad-format"),
        pytest.param((*HEAD, "--features", "no-such-feature"), "--features: unknown feature", id="bad-feature"),
        pytest.param((*HEAD, "--config", "no-such.toml"), "no-such.toml: cannot read", id="bad-config"),
        pytest.param((), "nothing to audit", id="nothing-to-audit"),
        pytest.param(("--no-such-option",), "unrecognized arguments", id="unknown-option"),
    ],
)
def test_2_when_it_cannot_run(argv: tuple[str, ...], message: str) -> None:
    done = _run(*argv)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2  # "auditing X" and the one-line error


@pytest.mark.parametrize("fmt", FORMATS)
def test_2_whatever_the_format(fmt: str) -> None:
    done = _run("--file", "no-such.yaml", "--format", fmt)
    assert done.returncode == 2
    assert done.stdout == ""


def test_2_for_a_bad_waiver(tmp_path: Path) -> None:
    (tmp_path / "z.toml").write_text('[[waivers]]\ncheck = "missing-permission"\n')
    done = _run(*HEAD, "--config", str(tmp_path / "z.toml"))
    assert done.returncode == 2
    assert "waivers[0]: reason: required" in done.stderr


def test_1_for_an_expired_waiver(tmp_path: Path) -> None:
    settings = (CI / ".zeet-iam-audit.toml").read_text()
    (tmp_path / "z.toml").write_text(settings + '\n[[waivers]]\naction = "nothing:*"\nreason = "r"\n'
                                     "expires = 2000-01-01\n")
    done = _run(*BASE, "--config", str(tmp_path / "z.toml"))
    assert done.returncode == 1
    assert done.stderr.rstrip().endswith("fails on expired-waiver")


def test_strict_fails_on_unknown_verdicts(tmp_path: Path) -> None:
    """``--strict`` adds ``unknown`` to the gate: a plain get-role file (policies not listed) is all
    unknown, which the default gate lets pass and the strict one does not."""
    role = Path(__file__).resolve().parent.parent / "fixtures" / "role" / "get-role.json"
    base = [sys.executable, "-m", "zeet_iam_audit", "--file", str(role), "--zeet-account-id", "111122223333",
            "--format", "json", "--fail-on", "missing"]
    lenient = subprocess.run(base, capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    strict = subprocess.run([*base, "--strict"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                            check=False)
    assert lenient.returncode == 0, lenient.stderr
    assert strict.returncode == 1, strict.stderr
    assert "fails on unknown" in strict.stderr
