"""Waivers (waivers.py): the selector, dates, and what a waiver does to the gate, end to end."""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zeet_iam_audit.audit.findings import Finding, FindingLevel, Gate, fingerprint
from zeet_iam_audit.audit.report import MissingLayer
from zeet_iam_audit.errors import UsageError
from zeet_iam_audit.waivers import Waiver, apply_waivers, parse_waiver, parse_waivers, waiver_messages

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "fixtures" / "ci"
TODAY = datetime.date(2025, 6, 1)


def _finding(
    check: str = "missing-permission",
    role: str = "zeet-monitoring",
    feature: str | None = "cluster-capacity-monitoring",
    subject: str = "sqs:CreateQueue",
) -> Finding:
    return Finding(
        check=check,
        level=FindingLevel.ERROR,
        gate=Gate.MISSING,
        role=role,
        feature=feature,
        subject=subject,
        message="m",
        headline="m",
        group="g",
        fingerprint=fingerprint(check, role, feature, subject),
    )


QUEUE = _finding()
TRUST = _finding("trust-policy", feature=None, subject="external-id-missing")
EXCESS = _finding("excess-permission", feature=None, subject="ec2")


@pytest.mark.parametrize(
    ("raw", "matches"),
    [
        pytest.param({"id": QUEUE.fingerprint}, {QUEUE}, id="fingerprint"),
        pytest.param({"id": QUEUE.fingerprint.upper()}, {QUEUE}, id="fingerprint-any-case"),
        pytest.param({"check": "missing-permission"}, {QUEUE}, id="check"),
        pytest.param({"action": "SQS:*"}, {QUEUE}, id="action-glob-any-case"),
        pytest.param({"role": "zeet-*", "feature": "cluster-capacity-monitoring"}, {QUEUE}, id="role-and-feature"),
        pytest.param({"role": "zeet-monitoring"}, {QUEUE, TRUST, EXCESS}, id="whole-role"),
        pytest.param({"check": "trust-policy", "action": "external-id-*"}, {TRUST}, id="trust-code"),
        pytest.param({"check": "excess-permission", "action": "ec2"}, {EXCESS}, id="excess-service"),
        pytest.param({"feature": "*"}, {QUEUE, TRUST, EXCESS}, id="feature-star-matches-no-feature-too"),
        pytest.param({"check": "missing-permission", "role": "other"}, set(), id="every-key-must-match"),
        pytest.param({"action": "sqs:CreateQueue?"}, set(), id="question-mark-is-one-character"),
    ],
)
def test_selectors(raw: dict[str, str], matches: set[Finding]) -> None:
    waiver = parse_waiver({**raw, "reason": "accepted"}, 0, "cfg.toml")
    assert {f for f in (QUEUE, TRUST, EXCESS) if waiver.matches(f)} == matches


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param({"check": "missing-permission"}, "cfg.toml: waivers[0]: reason: required", id="no-reason"),
        pytest.param(
            {"check": "missing-permission", "reason": " "}, "reason: expected a non-empty string", id="blank-reason"
        ),
        pytest.param({"reason": "r"}, "give an id (a finding fingerprint) or at least one of", id="no-selector"),
        pytest.param({"id": "abc", "reason": "r"}, "id: expected a finding fingerprint", id="bad-id"),
        pytest.param({"id": QUEUE.fingerprint, "role": "x", "reason": "r"}, "id stands alone", id="id-and-selector"),
        pytest.param({"check": "missing", "reason": "r"}, "unknown check 'missing'", id="unknown-check"),
        pytest.param(
            {"check": "missing-permission", "reason": "r", "until": "2025"}, "until: unknown key", id="unknown-key"
        ),
        pytest.param(
            {"check": "missing-permission", "reason": "r", "expires": "soon"}, "expires: expected a date", id="bad-date"
        ),
        pytest.param({"check": 3, "reason": "r"}, "check: expected a non-empty string", id="not-a-string"),
        pytest.param("check", "expected a table", id="not-a-table"),
    ],
)
def test_bad_waivers_are_one_line_usage_errors(raw: object, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_waiver(raw, 0, "cfg.toml")


def test_waivers_must_be_a_list() -> None:
    with pytest.raises(UsageError, match="waivers: expected a list of tables"):
        parse_waivers({"check": "x"}, "cfg.toml")


@pytest.mark.parametrize(
    ("expires", "status"),
    [
        pytest.param(None, "applied", id="no-date"),
        pytest.param(datetime.date(2025, 6, 1), "applied", id="expires-today-still-holds"),
        pytest.param("2025-05-31", "expired", id="yesterday"),
        pytest.param(datetime.datetime(2030, 1, 1, 12, 0), "applied", id="datetime"),
    ],
)
def test_dates(expires: object, status: str) -> None:
    raw = {"check": "missing-permission", "reason": "r"} | ({"expires": expires} if expires else {})
    (note,) = apply_waivers([QUEUE], [parse_waiver(raw, 0, "c")], TODAY)
    assert note.status == status
    assert note.fingerprints == (QUEUE.fingerprint,)


def test_apply_is_pure_and_reports_each_waiver() -> None:
    waivers = [
        Waiver(0, "r", check="missing-permission"),
        Waiver(1, "r", action="nothing:*"),
        Waiver(2, "r", check="trust-policy", expires=datetime.date(2020, 1, 1)),
    ]
    notes = apply_waivers([QUEUE, TRUST], waivers, TODAY)
    assert [n.status for n in notes] == ["applied", "unmatched", "expired"]
    assert apply_waivers([QUEUE, TRUST], waivers, TODAY) == notes
    assert apply_waivers([QUEUE, TRUST], waivers, datetime.date(2019, 1, 1))[2].status == "applied"
    messages = waiver_messages(notes)
    assert len(messages) == 2
    assert messages[0].startswith("warning: waivers[1] (action=nothing:*) matches no finding")
    assert "waivers[2] (check=trust-policy) expired on 2020-01-01 (1 findings no longer waived)" in messages[1]


# --- end to end -----------------------------------------------------------------------------------

SETTINGS = (CI / ".zeet-iam-audit.toml").read_text()


def _audit(tmp_path: Path, waivers: str, *extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / ".zeet-iam-audit.toml").write_text(SETTINGS + "\n" + waivers)
    (tmp_path / "zeet-role.yaml").write_text((CI / "zeet-role.yaml").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEET_IAM_AUDIT_")}
    return subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "--file", "zeet-role.yaml", *extra],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_waived_findings_do_not_fail_the_gate(tmp_path: Path) -> None:
    done = _audit(
        tmp_path,
        '[[waivers]]\ncheck = "missing-permission"\naction = "sqs:*"\n'
        'reason = "queues move to another role"\nexpires = 2999-01-01\n',
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    missing = [f for f in report["findings"] if f["check"] == "missing-permission"]
    lacking = [a for f in report["roles"][0]["features"] for g in f["missing"] for a in g["actions"]]
    assert len(missing) == len(lacking) == 6  # the SQS actions the head template lacks
    assert all(f["waived"] for f in missing)
    assert report["waivers"][0]["status"] == "applied"
    assert "6 findings waived; passes" in done.stderr


def test_a_partial_waiver_still_fails(tmp_path: Path) -> None:
    done = _audit(tmp_path, '[[waivers]]\naction = "sqs:CreateQueue"\nreason = "r"\n')
    assert done.returncode == 1
    assert "1 finding waived; fails on missing" in done.stderr


def test_an_expired_waiver_fails_the_gate_and_says_so(tmp_path: Path) -> None:
    done = _audit(tmp_path, '[[waivers]]\naction = "sqs:*"\nreason = "until the migration"\nexpires = 2020-01-31\n')
    assert done.returncode == 1
    assert ".zeet-iam-audit.toml: waivers[0] (action=sqs:*) expired on 2020-01-31" in done.stderr
    assert "fails on missing, expired-waiver" in done.stderr


def test_an_expired_waiver_alone_fails_even_without_findings(tmp_path: Path) -> None:
    done = _audit(
        tmp_path,
        '[[waivers]]\naction = "sqs:*"\nreason = "r"\nexpires = 2020-01-31\n'
        '[[waivers]]\naction = "sqs:*"\nreason = "the new one"\n',
        "--format",
        "json",
    )
    assert done.returncode == 1
    assert "fails on expired-waiver" in done.stderr
    assert [w["status"] for w in json.loads(done.stdout)["waivers"]] == ["expired", "applied"]


def test_an_unmatched_waiver_is_a_warning(tmp_path: Path) -> None:
    done = _audit(
        tmp_path, '[[waivers]]\ncheck = "trust-policy"\nreason = "stale"\n[[waivers]]\naction = "sqs:*"\nreason = "r"\n'
    )
    assert done.returncode == 0
    assert (
        "zeet-iam-audit: warning: .zeet-iam-audit.toml: waivers[0] (check=trust-policy) matches no finding"
        in done.stderr
    )


def test_fail_on_never_ignores_expired_waivers(tmp_path: Path) -> None:
    done = _audit(tmp_path, '[[waivers]]\naction = "sqs:*"\nreason = "r"\nexpires = 2020-01-31\n', "--fail-on", "never")
    assert done.returncode == 0


def test_a_bad_waiver_stops_the_run(tmp_path: Path) -> None:
    done = _audit(tmp_path, '[[waivers]]\naction = "sqs:*"\n')
    assert done.returncode == 2
    assert done.stderr.strip().endswith(
        ".zeet-iam-audit.toml: waivers[0]: reason: required (say why the finding is accepted)"
    )


def test_waivers_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.zeet-iam-audit]\n"
        + SETTINGS.split("\n", 1)[1]
        + '\n[[tool.zeet-iam-audit.waivers]]\naction = "sqs:*"\nreason = "r"\n'
    )
    (tmp_path / "zeet-role.yaml").write_text((CI / "zeet-role.yaml").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEET_IAM_AUDIT_")}
    done = subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "--file", "zeet-role.yaml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "6 findings waived" in done.stderr  # the SQS actions the head template lacks


def test_text_lines_for_the_table() -> None:
    from zeet_iam_audit.audit.report import (
        AuditReport,
        DefaultModeResult,
        ExcessResult,
        FeatureResult,
        FeatureStatus,
        MissingGroup,
        RoleReport,
        TrustResult,
        TrustStatus,
    )
    from zeet_iam_audit.run import with_waivers
    from zeet_iam_audit.waivers import waiver_report_lines

    feature = FeatureResult(
        "cluster-capacity-monitoring",
        "Cluster Capacity Monitoring",
        "2.3.4",
        FeatureStatus.MISSING,
        24,
        missing=(MissingGroup("sqs", "SQS", ("sqs:CreateQueue",), MissingLayer.NO_ALLOW, "none allow them"),),
    )
    role = RoleReport(
        "zeet-monitoring",
        None,
        "t.yaml",
        TrustResult(TrustStatus.OK, ()),
        (feature,),
        ExcessResult(0, (), ()),
        DefaultModeResult("implicit_deny", "fine-grained", None),
    )
    report = AuditReport("1", (role,))
    assert waiver_report_lines(report) == []
    waived = with_waivers(
        report,
        [Waiver(0, "OPS-1", action="sqs:*"), Waiver(1, "old", check="trust-policy", expires=datetime.date(2020, 1, 1))],
        TODAY,
    )
    assert waiver_report_lines(waived) == [
        "Waivers:",
        "  waived    zeet-monitoring: Cluster Capacity Monitoring lacks SQS: sqs:CreateQueue (none allow it) "
        "[waivers[0] (action=sqs:*): OPS-1]",
        "  applied   waivers[0] (action=sqs:*) (1 finding): OPS-1",
        "  expired   waivers[1] (check=trust-policy) (0 findings, until 2020-01-01): old",
    ]


def test_unknown_verdicts_accepted_knowingly_by_a_waiver(tmp_path: Path) -> None:
    """Issue 15: unknown fails the default gate; a waiver on its reason accepts it, and says so."""
    from zeet_iam_audit.cli import main

    root = Path(__file__).resolve().parent.parent
    config = tmp_path / "waivers.toml"
    config.write_text(
        'zeet_account_id = "111122223333"\n\n[[waivers]]\ncheck = "unknown-permission"\n'
        'action = "*does not say which*"\nreason = "policies are checked live in the nightly job"\n'
    )
    argv = ["--file", str(root / "fixtures/role/get-role.json"), "--config", str(config)]
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, stdout=out, stderr=err) == 0, err.getvalue()
    assert "2 findings waived" in err.getvalue()
    assert err.getvalue().rstrip().endswith("passes")
