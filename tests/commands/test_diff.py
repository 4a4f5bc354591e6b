"""``zeet-iam-audit diff OLD NEW`` (commands/diff.py, diffing.py): what a change gains and loses."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import moto
import pytest

from zeet_iam_audit.audit.report import (
    AuditReport,
    DefaultModeResult,
    ExcessResult,
    ExcessService,
    FeatureResult,
    FeatureStatus,
    MissingGroup,
    OpenAction,
    RiskyGrant,
    RoleReport,
    TrustFinding,
    TrustResult,
    TrustStatus,
)
from zeet_iam_audit.cli import main
from zeet_iam_audit.diffing import ActionChange, diff_feature, diff_reports

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "fixtures" / "ci"
EXTERNAL_ID_CONDITION = """            Condition:
              StringEquals:
                sts:ExternalId: !Ref ExternalId
"""

# --- the comparison, on values ----------------------------------------------------------------------


def _feature(
    status: str, missing: tuple[str, ...] = (), conditional: tuple[str, ...] = (), unknown: tuple[str, ...] = ()
) -> FeatureResult:
    return FeatureResult(
        id="cluster-capacity-monitoring",
        title="Cluster Capacity Monitoring",
        section="2.3.4",
        status=FeatureStatus(status),
        required=24,
        missing=(MissingGroup("sqs", "SQS", missing, "no allow", "no identity-based policy allows them"),)
        if missing
        else (),
        conditional=tuple(OpenAction(a, "sqs", "SQS", "*") for a in conditional),
        unknown=tuple(OpenAction(a, "sqs", "SQS", "*") for a in unknown),
    )


@pytest.mark.parametrize(
    ("old", "new", "regression", "improvement"),
    [
        pytest.param(_feature("ok"), _feature("ok"), False, False, id="ok-ok"),
        pytest.param(_feature("ok"), _feature("conditional", conditional=("sqs:A",)), True, False, id="ok-conditional"),
        pytest.param(_feature("ok"), _feature("unknown", unknown=("sqs:A",)), True, False, id="ok-unknown"),
        pytest.param(_feature("ok"), _feature("missing", ("sqs:A",)), True, False, id="ok-missing"),
        pytest.param(
            _feature("missing", ("sqs:A",)), _feature("missing", ("sqs:A", "sqs:B")), True, False, id="more-missing"
        ),
        pytest.param(
            _feature("missing", ("sqs:A", "sqs:B")), _feature("missing", ("sqs:A",)), False, True, id="fewer-missing"
        ),
        pytest.param(
            _feature("missing", ("sqs:A",)), _feature("missing", ("sqs:B",)), True, False, id="missing-swapped"
        ),
        pytest.param(_feature("conditional", conditional=("sqs:A",)), _feature("ok"), False, True, id="conditional-ok"),
        pytest.param(
            _feature("missing", ("sqs:A",)),
            _feature("conditional", conditional=("sqs:A",)),
            False,
            True,
            id="missing-conditional",
        ),
        pytest.param(
            _feature("unknown", unknown=("sqs:A",)),
            _feature("conditional", conditional=("sqs:A",)),
            False,
            True,
            id="unknown-conditional",
        ),
    ],
)
def test_feature_regressions(old: FeatureResult, new: FeatureResult, regression: bool, improvement: bool) -> None:
    change = diff_feature(old, new)
    assert change.regression is regression
    assert change.improvement is improvement


def test_action_changes_name_each_verdict() -> None:
    change = diff_feature(
        _feature("missing", ("sqs:A",), conditional=("sqs:C",)), _feature("missing", ("sqs:B",), unknown=("sqs:C",))
    )
    assert change.actions == (
        ActionChange("sqs:A", "missing", "allowed"),
        ActionChange("sqs:B", "allowed", "missing"),
        ActionChange("sqs:C", "conditional", "unknown"),
    )
    assert change.newly_missing == ("sqs:B",)
    assert change.newly_granted == ("sqs:A",)
    assert "newly missing: sqs:B; newly granted: sqs:A; now unknown: sqs:C" in change.describe()


def _role(
    name: str = "zeet",
    trust: str = "ok",
    features: tuple[FeatureResult, ...] = (),
    excess: tuple[tuple[str, int], ...] = (),
    risky: tuple[str, ...] = (),
) -> RoleReport:
    findings = {
        "ok": (),
        "warn": (TrustFinding("external-id-missing", "warn", "no external id", "Statement[0]"),),
        "fail": (TrustFinding("zeet-cannot-assume", "fail", "cannot"),),
    }[trust]
    return RoleReport(
        name=name,
        arn=None,
        source="t.yaml",
        trust=TrustResult(TrustStatus(trust), findings),
        features=features,
        excess=ExcessResult(
            sum(n for _, n in excess),
            tuple(ExcessService(s, n, ()) for s, n in excess),
            tuple(RiskyGrant(a, "*", "privilege escalation") for a in risky),
        ),
        default_mode=DefaultModeResult("implicit_deny", "fine-grained", None),
    )


@pytest.mark.parametrize(
    ("old", "new", "weakened"),
    [
        pytest.param("ok", "ok", False, id="ok-ok"),
        pytest.param("ok", "warn", True, id="ok-warn"),
        pytest.param("ok", "fail", True, id="ok-fail"),
        pytest.param("warn", "fail", True, id="warn-fail"),
        pytest.param("fail", "warn", False, id="fail-warn"),
        pytest.param("warn", "ok", False, id="warn-ok"),
    ],
)
def test_trust_weakening(old: str, new: str, weakened: bool) -> None:
    diff = diff_reports(AuditReport("1", (_role(trust=old),)), AuditReport("1", (_role(trust=new),)))
    trust = diff.roles[0].trust
    assert trust is not None
    assert trust.weakened is weakened
    assert bool(diff.regressions) is weakened


def test_excess_and_risky_changes() -> None:
    old = _role(excess=(("ec2", 10), ("sqs", 3)), risky=("iam:PassRole",))
    new = _role(excess=(("ec2", 12),), risky=("ec2:RunInstances",))
    excess = diff_reports(AuditReport("1", (old,)), AuditReport("1", (new,))).roles[0].excess
    assert excess is not None
    assert (excess.old, excess.new) == (13, 12)
    assert [(s.service, s.old, s.new) for s in excess.services] == [("ec2", 10, 12), ("sqs", 3, 0)]
    assert excess.risky_added == ("ec2:RunInstances on *",)
    assert excess.risky_removed == ("iam:PassRole on *",)


def test_roles_pair_by_name_and_a_missing_role_regresses() -> None:
    old = AuditReport("1", (_role("a"), _role("b")))
    new = AuditReport("1", (_role("b"), _role("c")))
    diff = diff_reports(old, new)
    assert [(r.old_name, r.new_name) for r in diff.roles] == [("b", "b"), (None, "c"), ("a", None)]
    assert diff.regressions == ("role a is gone",)


def test_a_single_role_pairs_whatever_its_name() -> None:
    diff = diff_reports(AuditReport("1", (_role("old-name"),)), AuditReport("1", (_role("new-name"),)))
    assert [(r.old_name, r.new_name) for r in diff.roles] == [("old-name", "new-name")]
    assert diff.regressions == ()


# --- the command, end to end ---------------------------------------------------------------------------


def _diff(*argv: str, cwd: Path = CI) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEET_IAM_AUDIT_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "zeet_iam_audit", "diff", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_removing_sqs_from_capacity_monitoring_regresses() -> None:
    done = _diff("zeet-role.base.yaml", "zeet-role.yaml")
    assert done.returncode == 1, done.stderr
    assert "REGRESSED  2.3.4 Cluster Capacity Monitoring (cluster-capacity-monitoring): ok → missing" in done.stdout
    assert "newly missing: sqs:CreateQueue, sqs:DeleteMessage" in done.stdout
    assert "3 features unchanged" in done.stdout
    assert done.stderr.startswith("zeet-iam-audit: diff: 1 regression: zeet-monitoring: Cluster Capacity Monitoring")


def test_adding_a_permission_gains_coverage_and_passes() -> None:
    done = _diff("zeet-role.yaml", "zeet-role.base.yaml", "--format", "json")
    assert done.returncode == 0, done.stderr
    diff = json.loads(done.stdout)
    assert diff["regressions"] == []
    (feature,) = diff["roles"][0]["features"]
    assert feature["id"] == "cluster-capacity-monitoring"
    assert (feature["old"], feature["new"], feature["improvement"]) == ("missing", "ok", True)
    assert "sqs:CreateQueue" in feature["newly_granted"]
    assert sorted(diff["roles"][0]["unchanged_features"]) == ["cloud-quota-monitoring", "view-logs", "view-metrics"]


def test_the_same_template_has_no_change() -> None:
    done = _diff("zeet-role.base.yaml", "zeet-role.base.yaml")
    assert done.returncode == 0
    assert "no feature changed" in done.stdout
    assert "Result: no regression" in done.stdout


@pytest.fixture
def weak_trust(tmp_path: Path) -> Path:
    """The base template without its sts:ExternalId condition."""
    text = (CI / "zeet-role.base.yaml").read_text()
    assert EXTERNAL_ID_CONDITION in text
    (tmp_path / "weak.yaml").write_text(text.replace(EXTERNAL_ID_CONDITION, ""))
    return tmp_path / "weak.yaml"


def test_trust_weakening_fails(weak_trust: Path) -> None:
    done = _diff("zeet-role.base.yaml", str(weak_trust), "--format", "markdown")
    assert done.returncode == 1, done.stderr
    assert "trust policy weakened: ok → warn" in done.stderr
    assert "Trust: ok → warn (**weakened**)" in done.stdout
    assert "- added **warn**: no sts:ExternalId condition" in done.stdout
    back = _diff(str(weak_trust), "zeet-role.base.yaml")
    assert back.returncode == 0
    assert "Trust: warn → ok" in back.stdout


def test_options_apply_to_both_sides() -> None:
    done = _diff("zeet-role.base.yaml", "zeet-role.yaml", "--features", "view-logs")
    assert done.returncode == 0
    assert "no feature changed" in done.stdout


def test_any_input_kinds() -> None:
    """A YAML template against its JSON twin: the same role, so no change."""
    done = _diff(
        "../cloudformation/zeet-role.yaml", "../cloudformation/zeet-role.json", "--zeet-account-id", "111122223333"
    )
    assert done.returncode == 0, done.stderr
    assert "no feature changed" in done.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(("zeet-role.yaml",), "give OLD and NEW files", id="one-file"),
        pytest.param(
            ("--old-role-arn", "arn:aws:iam::123456789012:role/zeet", "a.yaml", "b.yaml"),
            "with --old-role-arn give one file",
            id="arn-and-two-files",
        ),
        pytest.param(("no-such.yaml", "zeet-role.yaml"), "no-such.yaml: no such file", id="missing-file"),
        pytest.param(("zeet-role.base.yaml", "zeet-role.yaml", "--format", "sarif"), "invalid choice", id="bad-format"),
    ],
)
def test_usage_errors_exit_2(argv: tuple[str, ...], message: str) -> None:
    done = _diff(*argv)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "diff.md"
    done = _diff("zeet-role.base.yaml", "zeet-role.yaml", "--format", "markdown", "--output", str(out))
    assert done.returncode == 1
    assert done.stdout == ""
    assert out.read_text().startswith("## zeet-iam-audit diff")


def test_old_role_arn_without_the_live_source_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zeet_iam_audit.sources.live", None)  # import now fails
    monkeypatch.chdir(CI)
    err = io.StringIO()
    code = main(
        ["diff", "--old-role-arn", "arn:aws:iam::123456789012:role/zeet", "zeet-role.yaml"],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2
    assert "--old-role-arn: the live source is not available" in err.getvalue()


def test_old_role_arn_reads_the_live_role(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A live role (moto, in process) compared with the pull request's template."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "ZEET_IAM_AUDIT_")):
            monkeypatch.delenv(name)
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", str(tmp_path / "none")),
        ("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none")),
    ):
        monkeypatch.setenv(name, value)
    import boto3

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "zeet-ext-5f2c9a7e"}},
            }
        ],
    }
    capacity = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:*", "cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "servicequotas:*"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": ["sns:*"], "Resource": "arn:aws:sns:*:*:zeet-eks-*"},
            {"Effect": "Allow", "Action": ["sqs:*"], "Resource": "arn:aws:sqs:*:*:zeet-*"},
            {"Effect": "Allow", "Action": ["events:*"], "Resource": "arn:aws:events:*:*:rule/zeet-eks-*"},
            {
                "Effect": "Allow",
                "Action": ["eks:ListNodegroups", "eks:DescribeNodegroup", "autoscaling:DescribeAutoScalingGroups"],
                "Resource": "*",
            },
        ],
    }
    with moto.mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        arn = iam.create_role(RoleName="zeet-monitoring", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(
            RoleName="zeet-monitoring", PolicyName="ZeetObservability", PolicyDocument=json.dumps(capacity)
        )
        monkeypatch.chdir(CI)
        out, err = io.StringIO(), io.StringIO()
        code = main(["diff", "--old-role-arn", arn, "zeet-role.yaml", "--no-excess"], stdout=out, stderr=err)
    assert code == 1, err.getvalue()
    assert "Cluster Capacity Monitoring (cluster-capacity-monitoring): ok → missing" in out.getvalue()
    assert arn in out.getvalue().splitlines()[0]
