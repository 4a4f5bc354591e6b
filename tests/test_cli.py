"""The exit-code table, end to end: ``python -m zeet_iam_audit`` run on fixtures in a subprocess.

====  ============================================================================================
code  meaning
====  ============================================================================================
0     the audit ran and nothing reached --fail-on (default: missing,unknown,invalid-policy,trust)
1     the audit found something that reached --fail-on, or a waiver has expired
2     it could not run: usage, unreadable input, no IAM role in it, bad config or rules, credentials,
      internal errors
====  ============================================================================================

The output format never changes the code. 130: interrupted (SIGINT, SIGTERM); 141: stdout closed by its
reader. Beside the table, ``main`` in process: the listing subcommands, its last guard against
unexpected errors, and ``output_width``.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.processes import child_environment
from zeet_iam_audit.cli import EXIT_BROKEN_PIPE, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, main, output_width
from zeet_iam_audit.sources.managed import managed_policy_data

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "fixtures" / "ci"
VALID_GAAD = ROOT / "tests" / "hostile" / "corpus" / "gaad-valid.json"  # one role, zeet
BASE = ("--file", "zeet-role.base.yaml")  # every selected feature ok, trust ok
HEAD = ("--file", "zeet-role.yaml")  # capacity monitoring lacks SQS
CFN = (
    "--file",
    "../cloudformation/zeet-role.yaml",
    "--zeet-account-id",
    "111122223333",
    "--external-id",
    "zeet-ext-5f2c9a7e",
    "--features",
    "view-logs,view-metrics,cloud-quota-monitoring",
)
GAAD = (
    "--file",
    "../gaad/zeet-account.json",
    "--zeet-account-id",
    "111122223333",
    "--external-id",
    "zeet-ext-5f2c9a7e",
)
FORMATS = ("table", "json", "sarif", "markdown", "github")


def _run(*argv: str, cwd: Path = CI) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, from fixtures/ci (whose .zeet-iam-audit.toml applies) unless told."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEET_IAM_AUDIT_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


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
        pytest.param(
            (*BASE, "--external-id", "someone-else", "--fail-on", "missing"), 0, None, id="trust-not-selected"
        ),
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
        pytest.param(
            _QUEUE_RESOURCE + "\n            Condition: {StringEquals: {aws:RequestedRegion: eu-west-1}}",
            "conditional",
            1,
            "conditional",
            id="conditional",
        ),
        pytest.param(
            _QUEUE_RESOURCE + "\n            Condition: {StringEquals: {aws:RequestedRegion: eu-west-1}}",
            "missing,trust",
            0,
            None,
            id="conditional-not-selected",
        ),
        pytest.param(
            'Resource: !Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:*:zeet-*"', "unknown", 1, "unknown", id="unknown"
        ),
        pytest.param(
            'Resource: !Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:*:zeet-*"',
            "missing,trust",
            0,
            None,
            id="unknown-not-selected",
        ),
    ],
)
def test_conditional_and_unknown(
    tmp_path: Path, replacement: str, fail_on: str, code: int, reached: str | None
) -> None:
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
    (tmp_path / "z.toml").write_text(
        settings + '\n[[waivers]]\naction = "nothing:*"\nreason = "r"\nexpires = 2000-01-01\n'
    )
    done = _run(*BASE, "--config", str(tmp_path / "z.toml"))
    assert done.returncode == 1
    assert done.stderr.rstrip().endswith("fails on expired-waiver")


def test_strict_fails_on_unknown_verdicts(tmp_path: Path) -> None:
    """``--strict`` adds ``unknown`` to the gate: a plain get-role file (policies not listed) is all
    unknown, which ``--fail-on missing`` lets pass and the strict gate does not."""
    role = Path(__file__).resolve().parent.parent / "fixtures" / "role" / "get-role.json"
    base = [
        sys.executable,
        "-m",
        "zeet_iam_audit",
        "--file",
        str(role),
        "--zeet-account-id",
        "111122223333",
        "--format",
        "json",
        "--fail-on",
        "missing",
    ]
    lenient = subprocess.run(base, capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    strict = subprocess.run([*base, "--strict"], capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    assert lenient.returncode == 0, lenient.stderr
    assert strict.returncode == 1, strict.stderr
    assert "fails on unknown" in strict.stderr


# -- issue 15: the gate fails closed, and an input without a role is not a pass -------------------

FIXTURES = ROOT / "fixtures"
ACCEPT_UNKNOWN = "missing,invalid-policy,trust"


def _ci_copy(tmp_path: Path, old: str, new: str) -> None:
    """The CI base template with ``old`` replaced by ``new``, and the CI settings, in ``tmp_path``."""
    text = (CI / "zeet-role.base.yaml").read_text()
    assert old in text
    (tmp_path / "zeet-role.yaml").write_text(text.replace(old, new))
    (tmp_path / ".zeet-iam-audit.toml").write_text((CI / ".zeet-iam-audit.toml").read_text())


_QUEUE_EFFECT = "          - Sid: CapacityQueue\n            Effect: Allow"


@pytest.mark.parametrize(
    ("fail_on", "code", "reached"),
    [
        pytest.param(None, 1, "unknown, invalid-policy", id="default-gate"),
        pytest.param("invalid-policy", 1, "invalid-policy", id="invalid-policy-alone"),
        pytest.param("missing,trust", 0, None, id="accepted-knowingly"),
    ],
)
def test_a_policy_aws_would_refuse_fails_the_default_gate(
    tmp_path: Path, fail_on: str | None, code: int, reached: str | None
) -> None:
    """``Effect: Alow``: CloudFormation rejects the template, so the gate must not pass it."""
    _ci_copy(tmp_path, _QUEUE_EFFECT, _QUEUE_EFFECT.replace("Allow", "Alow"))
    done = _run(*HEAD, "--width", "200", *(("--fail-on", fail_on) if fail_on else ()), cwd=tmp_path)
    assert done.returncode == code, done.stderr
    summary = done.stderr.rstrip().splitlines()[-1]
    assert summary.endswith(f"fails on {reached}" if reached else "passes"), summary
    assert "1 invalid policy" in summary
    assert "Invalid policies (AWS would refuse them):" in done.stdout
    assert "Statement[1].Effect: expected Allow or Deny, got 'Alow'" in done.stdout


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        pytest.param(
            ("--file", str(FIXTURES / "role" / "get-role.json"), "--zeet-account-id", "111122223333"),
            "the file does not say which inline policies the role has",
            id="role-without-policies",
        ),
        pytest.param(
            (
                "--file",
                str(FIXTURES / "terraform" / "plan.json"),
                "--role",
                "zeet-cloud-connection",
                "--zeet-account-id",
                "111122223333",
            ),
            "known only after apply",
            id="plan-after-apply",
        ),
    ],
)
def test_unknown_verdicts_fail_by_default_and_say_how_to_accept_them(
    tmp_path: Path, argv: tuple[str, ...], reason: str
) -> None:
    done = _run(*argv, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.rstrip().splitlines()
    assert lines[-1].endswith("fails on unknown"), lines[-1]
    assert any(line.startswith("zeet-iam-audit: could not verify ") and reason in line for line in lines)
    assert f"accept it knowingly with --fail-on {ACCEPT_UNKNOWN}" in done.stderr
    accepted = _run(*argv, "--fail-on", ACCEPT_UNKNOWN, cwd=tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert "could not verify" not in accepted.stderr


def test_a_role_file_without_its_policies_says_each_reason_once(tmp_path: Path) -> None:
    done = _run("--file", str(FIXTURES / "role" / "get-role.json"), "--zeet-account-id", "111122223333", cwd=tmp_path)
    assert done.stdout.count("the file does not say which inline policies the role has") == 1
    assert len(done.stdout.splitlines()) < 60  # it was 1,171 lines: one reason under every action


def _template_without_roles(tmp_path: Path) -> Path:
    path = tmp_path / "queues.yaml"
    path.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Description: Capacity queue only; the Zeet role lives in another stack.\n"
        "Resources:\n"
        "  CapacityQueue:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      QueueName: zeet-eks-capacity\n"
        "      MessageRetentionPeriod: 345600\n"
    )
    return path


def _plan_without_roles(tmp_path: Path) -> Path:
    """The Terraform fixture's plan with every IAM resource taken out (as a plan of a queue alone)."""
    plan = json.loads((FIXTURES / "terraform" / "plan.json").read_text())

    def keep(resources: list[dict[str, object]]) -> list[dict[str, object]]:
        return [r for r in resources if not str(r["type"]).startswith("aws_iam_")]

    root = plan["planned_values"]["root_module"]
    root["resources"] = keep(root.get("resources", []))
    root.pop("child_modules", None)
    plan["resource_changes"] = keep(plan["resource_changes"])
    plan.pop("configuration", None)
    plan.pop("prior_state", None)
    plan.pop("relevant_attributes", None)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    return path


@pytest.mark.parametrize(
    ("make", "looked_for"),
    [
        pytest.param(_template_without_roles, "AWS::IAM::Role resources", id="cloudformation"),
        pytest.param(_plan_without_roles, "aws_iam_role resources in the plan", id="terraform"),
    ],
)
def test_no_role_is_exit_2_naming_the_file_and_what_was_looked_for(
    tmp_path: Path, make: Callable[[Path], Path], looked_for: str
) -> None:
    path = make(tmp_path)
    done = _run("--file", path.name, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.rstrip().splitlines()[-1] == (
        f"zeet-iam-audit: error: {path.name}: no IAM role found (looked for {looked_for})"
    )
    assert done.stdout == ""
    # --all-roles asks for an inventory: zero roles is an answer, and --fail-on decides.
    inventory = _run("--file", path.name, "--all-roles", "--format", "json", cwd=tmp_path)
    assert inventory.returncode == 0, inventory.stderr
    report = json.loads(inventory.stdout)
    assert report["roles"] == []
    assert report["no_role"] == f"{path.name}: no IAM role found (looked for {looked_for})"
    summary = inventory.stderr.rstrip().splitlines()[-1]
    assert summary.startswith(
        f"zeet-iam-audit: {path.name}: no IAM role found (looked for {looked_for}); 0 roles audited"
    )
    assert summary.endswith("passes")


@pytest.mark.parametrize("fail_on", ["excess", "excess-risky", "missing,excess"])
def test_no_excess_with_an_excess_gate_is_a_usage_error(fail_on: str) -> None:
    done = _run(*HEAD, "--no-excess", "--fail-on", fail_on)
    assert done.returncode == 2, done.stderr
    assert "--no-excess: cannot be combined with --fail-on" in done.stderr


def test_no_excess_says_not_analysed() -> None:
    done = _run(*CFN, "--no-excess")
    assert "Excess: not analysed (--no-excess)" in done.stdout
    assert "Excess: 0" not in done.stdout


# --- 130 and 141: the program stopped, or its reader gone -----------------------------------------


def test_sigint_exits_130_with_interrupted_and_no_output(tmp_path: Path) -> None:
    """SIGINT while the input is still being read (standard input left open)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "zeet_iam_audit", "--file", "-", "--format", "json", "--output", "r.json"],
        cwd=tmp_path,
        env=child_environment(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stderr is not None
    process.stdin.write(VALID_GAAD.read_bytes()[:100])
    process.stdin.flush()
    assert process.stderr.readline() == b"zeet-iam-audit: auditing standard input\n"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.decode().strip() == "zeet-iam-audit: interrupted"
    assert stdout == b""
    assert list(tmp_path.iterdir()) == []


def test_a_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    """``zeet-iam-audit --all-roles --format json | head -c 100``: the reader goes away early."""
    big = tmp_path / "big.json"
    data = json.loads(VALID_GAAD.read_text(encoding="utf-8"))
    role = data["RoleDetailList"][0]
    data["RoleDetailList"] = [{**role, "RoleName": f"zeet-{i}", "Arn": f"{role['Arn']}-{i}"} for i in range(300)]
    big.write_text(json.dumps(data), encoding="utf-8")
    read, write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "zeet_iam_audit", "--file", str(big), "--all-roles", "--format", "json", "--jobs", "1"],
        cwd=tmp_path,
        env=child_environment(tmp_path),
        stdout=write,
        stderr=subprocess.PIPE,
    )
    os.close(write)
    assert len(os.read(read, 100)) == 100
    os.close(read)
    _, stderr = process.communicate(timeout=120)
    assert "BrokenPipe" not in stderr.decode()
    assert "internal error" not in stderr.decode()
    assert process.returncode == 141


# --- main in process: the listings, the last guard, the widths -------------------------------------


class _BrokenStdout(io.StringIO):
    """A stdout whose every write raises ``error``: where a report meets a full disk, a closed pipe or
    a Ctrl-C."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def write(self, text: str) -> int:
        raise self.error


@pytest.fixture
def clean_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no .zeet-iam-audit.toml) and no ZEET_IAM_AUDIT_* or AWS_* settings."""
    for name in list(os.environ):
        if name.startswith(("ZEET_IAM_AUDIT_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _main(*argv: str, stdout: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = stdout if stdout is not None else io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO())
    return code, ("" if stdout is not None else out.getvalue()), err.getvalue()


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("zeet-iam-audit: auditing ")]


@pytest.mark.usefixtures("clean_cwd")
def test_an_unexpected_error_is_one_line_naming_it_without_a_traceback() -> None:
    code, _, stderr = _main("--file", str(VALID_GAAD), stdout=_BrokenStdout(RuntimeError("disk on fire")))
    assert code == EXIT_ERROR
    assert _error_lines(stderr) == [
        "zeet-iam-audit: internal error: RuntimeError: disk on fire (run again with --debug for the traceback)"
    ]


@pytest.mark.usefixtures("clean_cwd")
def test_debug_shows_the_traceback_of_an_unexpected_error() -> None:
    code, _, stderr = _main("--file", str(VALID_GAAD), "--debug", stdout=_BrokenStdout(RuntimeError("disk on fire")))
    assert code == EXIT_ERROR
    assert "Traceback (most recent call last):" in stderr
    assert "RuntimeError: disk on fire\n" in stderr
    assert stderr.endswith("(run again with --debug for the traceback)\n")


@pytest.mark.usefixtures("clean_cwd")
def test_an_interrupt_while_writing_is_130_and_says_interrupted() -> None:
    code, _, stderr = _main("--file", str(VALID_GAAD), stdout=_BrokenStdout(KeyboardInterrupt()))
    assert code == EXIT_INTERRUPTED == 130
    assert _error_lines(stderr) == ["zeet-iam-audit: interrupted"]


@pytest.mark.usefixtures("clean_cwd")
def test_a_reader_gone_while_writing_is_141_and_quiet() -> None:
    code, _, stderr = _main("--file", str(VALID_GAAD), stdout=_BrokenStdout(BrokenPipeError(32, "Broken pipe")))
    assert code == EXIT_BROKEN_PIPE == 141
    assert _error_lines(stderr) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ("rules", "show"),
            "zeet-iam-audit rules show: which rule? (an id from 'zeet-iam-audit rules')",
            id="rules-show-without-id",
        ),
        pytest.param(
            ("rules", "show", "no-such"),
            "zeet-iam-audit rules show: unknown rule 'no-such' (known: cloud-connection, ",
            id="rules-show-unknown",
        ),
        pytest.param(
            ("rules", "--width", "5"), "expected a number of columns (20 or more), got '5'", id="width-too-small"
        ),
        pytest.param(
            ("catalog", "--width", "wide"),
            "expected a number of columns (20 or more), got 'wide'",
            id="width-not-a-number",
        ),
        pytest.param(
            ("--file", "x.json", "--jobs", "0"),
            "expected a number of processes (1 or more) or auto, got '0'",
            id="jobs-zero",
        ),
        pytest.param(("--file", "x.json", "--jobs", "many"), "got 'many'", id="jobs-not-a-number"),
        pytest.param(
            ("--file", "x.json", "--max-input-mb", "0"),
            "expected a number of megabytes above 0, got '0'",
            id="max-input-zero",
        ),
        pytest.param(("--file", "x.json", "--max-input-mb", "lots"), "got 'lots'", id="max-input-not-a-number"),
    ],
)
@pytest.mark.usefixtures("clean_cwd")
def test_usage_errors_are_one_line_exit_2(argv: tuple[str, ...], message: str) -> None:
    code, stdout, stderr = _main(*argv)
    assert code == EXIT_ERROR
    assert stdout == ""
    (line,) = stderr.splitlines()
    assert line.startswith("zeet-iam-audit: error: ")
    assert message in line


@pytest.mark.usefixtures("clean_cwd")
def test_rules_lists_every_rule_file_shipped() -> None:
    code, stdout, _ = _main("rules", "--format", "json")
    assert code == EXIT_OK
    shipped = sorted(path.stem for path in (ROOT / "zeet_iam_audit" / "rules").glob("*.toml"))
    assert sorted(feature["id"] for feature in json.loads(stdout)["features"]) == shipped


@pytest.mark.usefixtures("clean_cwd")
def test_rules_show_names_the_rule_asked_for() -> None:
    code, stdout, _ = _main("rules", "show", "view-logs", "--format", "json")
    assert code == EXIT_OK
    assert json.loads(stdout)["feature"]["id"] == "view-logs"


@pytest.mark.usefixtures("clean_cwd")
def test_version_and_catalog_say_the_date_of_the_data(capsys: pytest.CaptureFixture[str]) -> None:
    info = managed_policy_data()
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert f"AWS managed policies: moto {info.moto_version}, {info.date}" in capsys.readouterr().out

    out = io.StringIO()
    assert main(["catalog"], stdout=out) == 0
    assert out.getvalue().splitlines()[-1] == (
        f"AWS managed policies (offline): {info.count} from moto {info.moto_version}, data date {info.date}"
    )
    out = io.StringIO()
    assert main(["catalog", "--format", "json"], stdout=out) == 0
    assert json.loads(out.getvalue())["aws_managed_policies"] == {
        "source": f"moto {info.moto_version}",
        "data_date": info.date,
        "count": info.count,
    }


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("requested", "stream", "columns", "width"),
    [
        pytest.param(72, _Terminal(), "150", 72, id="asked-for-wins"),
        pytest.param(None, io.StringIO(), "150", 110, id="not-a-terminal-is-110"),
        pytest.param(None, _Terminal(), "150", 150, id="terminal-columns"),
        pytest.param(None, _Terminal(), "12", 40, id="narrow-terminal-is-raised-to-40"),
    ],
)
def test_output_width(
    monkeypatch: pytest.MonkeyPatch, requested: int | None, stream: io.StringIO, columns: str, width: int
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert output_width(requested, stream) == width


# --- the width and colour of what is printed (moved from formats/test_table) ---------------------------

GAAD_FILE = "fixtures/gaad/zeet-account.json"
ZEET = ("--zeet-account-id", "111122223333", "--external-id", "zeet-ext-5f2c9a7e")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository (fixture paths as written), with no width or colour set by the shell."""
    monkeypatch.chdir(ROOT)
    for key in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(key, raising=False)


def _in_root(argv: list[str] | tuple[str, ...], stdout: io.StringIO | None = None) -> tuple[int, str, str]:
    out = stdout if stdout is not None else io.StringIO()
    err = io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.usefixtures("in_root")
def test_the_width_follows_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["--file", GAAD_FILE, "--all-roles", *ZEET]
    monkeypatch.setenv("COLUMNS", "80")
    _, on_terminal, _ = _in_root(argv, _Terminal())
    _, piped, _ = _in_root(argv)
    assert _widest(_ANSI.sub("", on_terminal)) <= 80
    assert 80 < _widest(piped) <= 110  # not a terminal: 110 columns, whatever COLUMNS says
    _, chosen, _ = _in_root([*argv, "--width", "72"], _Terminal())
    assert _widest(_ANSI.sub("", chosen)) <= 72


@pytest.mark.usefixtures("in_root")
@pytest.mark.parametrize("value", ["10", "wide", "-80"])
def test_a_bad_width_is_a_usage_error(value: str) -> None:
    code, out, err = _in_root(["--file", GAAD_FILE, "--all-roles", "--width", value])
    assert code == 2
    assert out == ""
    assert "--width: expected a number of columns (20 or more)" in err


@pytest.mark.usefixtures("in_root")
@pytest.mark.parametrize(
    ("flag", "terminal", "env", "colored"),
    [
        pytest.param("auto", True, {}, True, id="auto-terminal"),
        pytest.param("auto", False, {}, False, id="auto-pipe"),
        pytest.param("auto", True, {"NO_COLOR": "1"}, False, id="no-color"),
        pytest.param("auto", False, {"FORCE_COLOR": "1"}, True, id="force-color"),
        pytest.param("auto", False, {"FORCE_COLOR": "0"}, False, id="force-color-0"),
        pytest.param("auto", True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, id="no-color-wins"),
        pytest.param("always", False, {"NO_COLOR": "1"}, True, id="always"),
        pytest.param("never", True, {"FORCE_COLOR": "1"}, False, id="never"),
    ],
)
def test_color(flag: str, terminal: bool, env: dict[str, str], colored: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    argv = ["--file", GAAD_FILE, "--all-roles", *ZEET, "--width", "100", "--color", flag]
    _, out, _ = _in_root(argv, _Terminal() if terminal else None)
    assert bool(_ANSI.search(out)) is colored
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    _, plain, _ = _in_root([*argv[:-1], "never"])
    assert _ANSI.sub("", out) == plain  # colour changes no character of the layout
    if colored:
        assert "\x1b[1;31mmissing\x1b[0m" in out


@pytest.mark.usefixtures("in_root")
def test_a_report_file_is_never_colored(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    path = f"{tmp_path}/report.txt"
    code, _, err = _in_root(["--file", GAAD_FILE, "--all-roles", *ZEET, "--output", path], _Terminal())
    assert code == 1, err
    with open(path, encoding="utf-8") as handle:
        assert not _ANSI.search(handle.read())


@pytest.mark.usefixtures("in_root")
def test_a_report_file_is_as_wide_as_a_pipe(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    path = f"{tmp_path}/report.txt"
    _in_root(["--file", GAAD_FILE, "--all-roles", *ZEET, "--output", path], _Terminal())
    _, piped, _ = _in_root(["--file", GAAD_FILE, "--all-roles", *ZEET])
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == piped  # 110 columns, not the terminal's 80


# --- live mode where boto3 is not installed (moved from test_live_extra) -------------------------------
# Every command that reads a live account, run where the [live] extra was left out: one line saying
# what to install, exit 2, no traceback. The missing module is simulated in a child process: a
# ``sitecustomize`` puts a finder first on ``sys.meta_path`` that refuses boto3 and botocore, as an
# interpreter without them would.

LIVE_ROLE_ARN = "arn:aws:iam::123456789012:role/zeet"
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
        pytest.param(["--role-arn", LIVE_ROLE_ARN, *LIVE], id="audit-role-arn"),
        pytest.param(["--all-roles", *LIVE], id="audit-account"),
        pytest.param(["explain", "sqs:CreateQueue", "--role-arn", LIVE_ROLE_ARN, *LIVE], id="explain"),
        pytest.param(
            ["diagnose", "--log", "fixtures/errors/aws-cli.txt", "--role-arn", LIVE_ROLE_ARN, *LIVE], id="diagnose"
        ),
        pytest.param(["diff", "--old-role-arn", LIVE_ROLE_ARN, "fixtures/ci/zeet-role.yaml", *LIVE], id="diff"),
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
