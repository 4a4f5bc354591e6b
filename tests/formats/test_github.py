"""GitHub workflow-command annotations (formats/github.py), and the CI gate's promise end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.formats.conftest import ROOT, CliResult
from zeet_iam_audit.formats.github import escape_data, escape_property, workflow_command

CI = ROOT / "fixtures" / "ci"
_ANNOTATION = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


def _properties(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(",")) if text else {}


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        pytest.param("plain", "plain", "plain", id="plain"),
        pytest.param("100%", "100%25", "100%25", id="percent"),
        pytest.param("a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac", id="newlines"),
        pytest.param("k: v, w", "k: v, w", "k%3A v%2C w", id="colon-comma"),
        pytest.param("%0A", "%250A", "%250A", id="already-escaped-looking"),
        pytest.param("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax", id="command-injection"),
    ],
)
def test_escaping(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_workflow_command_leaves_out_missing_properties() -> None:
    assert workflow_command("error", "m", file=None, line=None, title="t") == "::error title=t::m"
    assert workflow_command("warning", "a\nb", file="d/f,1.yaml", line=3) == "::warning file=d/f%2C1.yaml,line=3::a%0Ab"
    assert workflow_command("notice", "m") == "::notice::m"


def test_every_line_is_one_well_formed_command(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli(
        "--file",
        "fixtures/gaad/zeet-account.json",
        "--all-roles",
        "--zeet-account-id",
        "111122223333",
        "--format",
        "github",
    )
    assert result.code == 1
    lines = result.stdout.splitlines()
    assert lines
    for line in lines:
        match = _ANNOTATION.match(line)
        assert match, line
        props = _properties(match[2] or "")
        assert set(props) <= {"file", "line", "title"}
        assert props.get("file", "fixtures/gaad/zeet-account.json") == "fixtures/gaad/zeet-account.json"


def _gate(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEET_IAM_AUDIT_")}
    return subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", *argv],
        cwd=CI,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_removing_sqs_from_capacity_monitoring_fails_with_an_inline_annotation() -> None:
    """The documented gate on fixtures/ci: the pull request drops the capacity queue statement."""
    base = _gate("--file", "zeet-role.base.yaml", "--format", "github")
    assert base.returncode == 0, base.stderr
    assert "::error" not in base.stdout

    head = _gate("--file", "zeet-role.yaml", "--format", "github")
    assert head.returncode == 1, head.stderr
    errors = [line for line in head.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1, head.stdout
    match = _ANNOTATION.match(errors[0])
    assert match is not None
    props = _properties(match[2])
    role_line = (CI / "zeet-role.yaml").read_text().splitlines().index("  ZeetMonitoringRole:") + 1
    assert props["file"] == "zeet-role.yaml"
    assert props["line"] == str(role_line)
    assert "Cluster Capacity Monitoring" in props["title"]
    message = match[3]
    assert "zeet-monitoring" in message
    assert "lacks SQS" in message
    for action in ("sqs:CreateQueue", "sqs:DeleteMessage", "sqs:ReceiveMessage"):
        assert action in message
    assert "fails on missing" in head.stderr


def test_an_explicit_deny_is_annotated_on_its_statement(tmp_path: Path) -> None:
    text = (
        (CI / "zeet-role.base.yaml")
        .read_text()
        .replace(
            "          - Sid: CapacityQueue\n            Effect: Allow",
            "          - Sid: NoQueues\n            Effect: Deny",
            1,
        )
    )
    (tmp_path / "zeet-role.yaml").write_text(text)
    (tmp_path / ".zeet-iam-audit.toml").write_text((CI / ".zeet-iam-audit.toml").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEET_IAM_AUDIT_")}
    done = subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "--file", "zeet-role.yaml", "--format", "github"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    error = next(line for line in done.stdout.splitlines() if line.startswith("::error "))
    line = int(_properties(_ANNOTATION.match(error)[2])["line"])  # type: ignore[index]
    assert text.splitlines()[line - 1].strip() == "- Sid: NoQueues"


def test_waivers_show_as_notices_and_expired_ones_as_errors(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli(
        "--file", "fixtures/ci/zeet-role.yaml", "--config", "tests/golden/ci-waivers.toml", "--format", "github"
    )
    assert result.code == 1
    lines = result.stdout.splitlines()
    waived = [line for line in lines if "title=waived " in line]
    assert len(waived) == 1
    assert "sqs:DeleteMessage, sqs:ReceiveMessage" in waived[0]
    assert "OPS-123" in waived[0]
    assert any(line.startswith("::error file=tests/golden/ci-waivers.toml,") and "expired" in line for line in lines)
    assert any(
        line.startswith("::warning file=tests/golden/ci-waivers.toml,") and "matches no finding" in line
        for line in lines
    )


def _levels(text: str) -> list[str]:
    return [m[1] for line in text.splitlines() if (m := _ANNOTATION.match(line))]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("--file", "fixtures/ci/zeet-role.yaml"), id="docs-example"),
        pytest.param(
            ("--file", "fixtures/gaad/zeet-account.json", "--all-roles", "--zeet-account-id", "111122223333"),
            id="account",
        ),
    ],
)
def test_within_githubs_limits(
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    """GitHub shows 10 annotations of each level per step: no more are printed, and the last notice
    counts the rest and says where the full list is."""
    from zeet_iam_audit.formats import github

    limited = run_cli(*argv, "--format", "github", cwd=ROOT).stdout
    monkeypatch.setattr(github, "ANNOTATIONS_PER_LEVEL", 1000)
    every = run_cli(*argv, "--format", "github", cwd=ROOT).stdout
    shown, whole = _levels(limited), _levels(every)
    assert whole.count("error") > 10  # the case needs trimming
    assert all(shown.count(level) <= 10 for level in ("error", "warning", "notice"))
    assert shown.count("error") == 10
    last = limited.splitlines()[-1]
    omitted = len(whole) - (len(shown) - 1)
    assert last.startswith("::notice title=zeet-iam-audit%3A more findings::")
    assert f"{omitted} more annotations not shown ({whole.count('error') - 10} errors" in last
    assert "job summary" in last
    assert "SARIF" in last
    kept = limited.splitlines()[:-1]
    assert set(kept) <= set(every.splitlines())  # the ones shown are the report's own lines
    assert [line for line in every.splitlines() if line.startswith("::error")][:10] == [
        line for line in kept if line.startswith("::error")
    ]


def test_nothing_is_trimmed_within_the_limits(run_cli: Callable[..., CliResult]) -> None:
    out = run_cli(
        "--file",
        "fixtures/ci/zeet-role.yaml",
        "--config",
        "fixtures/ci/.zeet-iam-audit.toml",
        "--format",
        "github",
        cwd=ROOT,
    ).stdout
    assert "more annotations not shown" not in out
    # The missing SQS group, and the one excess action (events:TagResource, now a variant of the rule).
    assert _levels(out) == ["error", "notice"]
