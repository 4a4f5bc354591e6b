"""findings.py: the report as findings — invalid policies, unknown said once per reason, names AWS does
not know, fixes, and words for people."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.audit.support import make_role, statement
from zeet_iam_audit.audit.engine import AuditOptions, audit_role
from zeet_iam_audit.audit.findings import role_findings
from zeet_iam_audit.audit.report import TrustStatementRef
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.model import PolicyKind, Unresolved
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.policy.results import StatementRef
from zeet_iam_audit.rules import load_rules
from zeet_iam_audit.sources import load_file

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()
RULES = load_rules(catalog=CATALOG)
OPTIONS = AuditOptions(trust=TrustSettings(zeet_account_id="111122223333", external_id="zeet-ext-5f2c9a7e"))


def test_a_role_file_without_its_policies_is_unknown_once_per_reason() -> None:
    (role,) = load_file(ROOT / "fixtures/role/get-role.json").roles
    report = audit_role(role, RULES, CATALOG, OPTIONS)
    unknown = [f for f in role_findings(report) if f.check == "unknown-permission"]
    # Two reasons (no inline policies listed, no managed policies listed), each said once.
    assert len(unknown) == 2
    assert {f.subject for f in unknown} == set(report.unknown_policies)
    required = {r.action.lower() for f in report.features for r in (*f.unknown,)}
    for finding in unknown:
        assert finding.level == "warning"
        assert finding.gate == "unknown"
        assert finding.feature is None
        assert f"cannot verify {len(required)} required actions of Container Management," in finding.message
    groups = report.unknown
    assert [g.reason for g in groups] == [f.subject for f in unknown]
    assert all(g.actions == len(required) for g in groups)
    assert {feature for g in groups for feature in g.features} == {f.id for f in report.features if f.unknown}


def test_reasons_that_affect_different_actions_are_counted_apart() -> None:
    log_groups = Unresolved("!Ref LogGroupArn (parameter without a default)")
    role = make_role(
        statement(
            ["logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents"],
            log_groups,
        ),
        statement(
            ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"],
            "*",
            Condition={"StringEquals": {"aws:PrincipalTag/team": Unresolved("!Ref Team")}},
        ),
    )
    options = AuditOptions(features=("view-logs", "view-metrics"), trust=OPTIONS.trust)
    report = audit_role(role, RULES, CATALOG, options)
    counts = {g.reason: (g.actions, g.features) for g in report.unknown}
    assert counts == {
        f"unresolved value {log_groups.reason}": (4, ("view-logs",)),
        "unresolved value !Ref Team": (2, ("view-metrics",)),
    }
    unknown = [f for f in role_findings(report) if f.check == "unknown-permission"]
    assert [f.message.split(":")[0] for f in unknown] == [
        "cannot verify 4 required actions of View Logs",
        "cannot verify 2 required actions of View Metrics",
    ]


def test_an_invalid_policy_is_an_error_that_names_file_policy_and_path(tmp_path: Path) -> None:
    text = (ROOT / "fixtures/ci/zeet-role.base.yaml").read_text()
    marker = "          - Sid: CapacityQueue\n            Effect: Allow"
    assert marker in text
    path = tmp_path / "zeet-role.yaml"
    path.write_text(text.replace(marker, marker.replace("Allow", "Alow")))
    (role,) = load_file(path).roles
    report = audit_role(role, RULES, CATALOG, OPTIONS)
    (invalid,) = [f for f in role_findings(report) if f.check == "invalid-policy"]
    where = "Resources.ZeetCapacityMonitoringPolicy.Properties.PolicyDocument.Statement[1].Effect"
    assert (invalid.level, invalid.gate, invalid.subject, invalid.path) == (
        "error",
        "invalid-policy",
        "ZeetCapacityMonitoring",
        where,
    )
    assert str(path) in invalid.message
    assert where in invalid.message
    assert "expected Allow or Deny, got 'Alow'" in invalid.message
    # What it could change is unknown with that reason, named as an invalid policy.
    capacity = next(f for f in report.features if f.id == "cluster-capacity-monitoring")
    assert capacity.status.value == "unknown"
    (unknown,) = [f for f in role_findings(report) if f.check == "unknown-permission"]
    assert "policy 'ZeetCapacityMonitoring' is invalid (AWS would refuse it)" in unknown.message


def test_an_action_aws_does_not_know_is_a_warning_with_the_nearest_name() -> None:
    role = make_role(statement(["sqs:CreateQueu", "sqs:DeleteQueue"], "arn:aws:sqs:*:*:zeet-*"))
    report = audit_role(role, RULES, CATALOG, OPTIONS)
    (found,) = [f for f in role_findings(report) if f.check == "unknown-action"]
    assert (found.level, found.gate, found.subject) == ("warning", None, "sqs:CreateQueu")
    assert found.message == (
        "sqs:CreateQueu is not an action AWS knows: it grants nothing; did you mean sqs:CreateQueue?"
    )
    # The typo grants nothing: the feature that needs CreateQueue lacks it.
    capacity = next(f for f in report.features if f.id == "cluster-capacity-monitoring")
    assert any("sqs:CreateQueue" in g.actions for g in capacity.missing)


def test_missing_findings_carry_their_fix_and_conditions_are_worded_for_people() -> None:
    role = make_role(
        statement(["logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:FilterLogEvents"], "*"),
        statement("logs:GetLogEvents", "*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}),
    )
    report = audit_role(role, RULES, CATALOG, AuditOptions(features=("view-logs", "view-metrics"), trust=OPTIONS.trust))
    findings = role_findings(report)
    missing = [f for f in findings if f.check == "missing-permission"]
    assert missing
    assert all(f.fix and '"Action": ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"]' in f.fix for f in missing)
    (conditional,) = [f for f in findings if f.check == "conditional-permission"]
    assert "allowed only under conditions: condition key aws:RequestedRegion decides an Allow" in conditional.message
    assert "gate an" not in conditional.message


def test_cloudwatch_events_and_cloudwatch_metrics_are_told_apart() -> None:
    report = audit_role(
        make_role(statement("sns:*", "*")),
        RULES,
        CATALOG,
        AuditOptions(features=("cluster-capacity-monitoring",), trust=OPTIONS.trust),
    )
    (feature,) = report.features
    labels = {group.service: feature.label(group) for group in feature.missing}
    assert labels["cloudwatch"] == "CloudWatch"
    assert labels["events"] == "CloudWatch (events)"
    assert labels["sqs"] == "SQS"
    assert "CloudWatch (events) (" in feature.short_summary()


def test_findings_carry_the_statement_behind_them_as_a_value() -> None:
    path = ROOT / "fixtures/gaad/zeet-account.json"
    (role,) = [r for r in load_file(path).roles if r.name == "zeet-restricted"]
    findings = role_findings(audit_role(role, RULES, CATALOG, OPTIONS))
    denied = next(f for f in findings if f.check == "missing-permission" and f.subject == "sqs:CreateQueue")
    assert isinstance(denied.ref, StatementRef)
    assert denied.statement == str(denied.ref)  # the words reports show are the value's
    assert denied.ref.sid == "DenyQueues"
    assert denied.ref.source == str(path)
    assert denied.ref.route is not None
    assert denied.ref.route[-2:] == ("Statement", denied.ref.index)
    plain = next(f for f in findings if f.check == "missing-permission" and not f.subject.startswith("sqs:"))
    assert plain.ref is None  # nothing allows it: no statement to point at


def test_a_trust_finding_names_its_statement_by_index() -> None:
    trust_policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {
                    "Sid": "Zeet",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "sts:AssumeRole",
                },
            ],
        },
        kind=PolicyKind.TRUST,
    )
    role = replace(make_role(statement("*")), trust_policy=trust_policy)
    report = audit_role(role, RULES, CATALOG, OPTIONS)
    trust = [f for f in role_findings(report) if f.check == "trust-policy" and f.ref is not None]
    refs = [f.ref for f in trust if isinstance(f.ref, TrustStatementRef)]
    assert trust
    assert len(refs) == len(trust)
    for finding, ref in zip(trust, refs, strict=True):
        assert finding.statement == str(ref)
        assert finding.statement.startswith(f"Statement[{ref.index}]")
    assert any(ref.index == 1 and ref.sid == "Zeet" for ref in refs)  # the other statement trusts a service
