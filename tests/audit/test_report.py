"""The audit's result values: how they read to people (labels, summaries, condition texts, reasons)
and what the versioned JSON holds; unknown verdicts grouped by reason, derived from the features."""

from __future__ import annotations

import pytest

from zeet_iam_audit.audit.report import (
    NO_REASON,
    SCHEMA_VERSION,
    AuditReport,
    DefaultModeResult,
    ExcessResult,
    FeatureResult,
    FeatureStatus,
    InvalidDocument,
    MissingGroup,
    MissingLayer,
    Mode,
    OpenAction,
    ProposedStatement,
    RoleReport,
    SkippedItem,
    TrustResult,
    TrustStatus,
    UnknownGroup,
    WaiverNote,
    WaiverStatus,
    decision_text,
    service_label,
    unknown_groups,
)
from zeet_iam_audit.policy.results import Decision

NO_ALLOW = "no identity-based policy allows them"
INVALID = InvalidDocument(
    "gaad.json",
    "ZeetSecrets",
    "$.Policies[4].PolicyVersionList[0].Document.Statement[0].Effect",
    "expected Allow or Deny, got 'Maybe'",
)


def _open(action: str, *reasons: str) -> OpenAction:
    return OpenAction(action, action.partition(":")[0], action.partition(":")[0].upper(), "*", reasons=reasons)


def _feature(
    feature_id: str,
    status: FeatureStatus,
    *,
    required: int = 6,
    missing: tuple[MissingGroup, ...] = (),
    conditional: tuple[OpenAction, ...] = (),
    unknown: tuple[OpenAction, ...] = (),
) -> FeatureResult:
    title = feature_id.replace("-", " ").title()
    return FeatureResult(feature_id, title, "2.3.4", status, required, missing, conditional, unknown)


def _role(*features: FeatureResult, invalid: tuple[InvalidDocument, ...] = ()) -> RoleReport:
    return RoleReport(
        name="zeet",
        arn="arn:aws:iam::123456789012:role/zeet",
        source="gaad.json",
        trust=TrustResult(TrustStatus.OK, ()),
        features=features,
        excess=ExcessResult(0, (), ()),
        default_mode=DefaultModeResult(Decision.IMPLICIT_DENY, Mode.FINE_GRAINED, None),
        invalid_documents=invalid,
    )


@pytest.mark.parametrize(
    ("display", "prefix", "label"),
    [
        pytest.param("CloudWatch", "cloudwatch", "CloudWatch", id="the-name-says-the-prefix"),
        pytest.param("CloudWatch", "events", "CloudWatch (events)", id="another-prefix-is-named"),
        pytest.param("CloudWatch", "logs", "CloudWatch (logs)", id="logs-under-cloudwatch"),
        pytest.param("Service Quotas", "servicequotas", "Service Quotas", id="spaces-ignored"),
        pytest.param("SQS", "", "SQS", id="no-prefix"),
        pytest.param("Everything", "*", "Everything", id="star"),
    ],
)
def test_service_label(display: str, prefix: str, label: str) -> None:
    assert service_label(display, prefix) == label


@pytest.mark.parametrize(
    ("keys", "gates", "text"),
    [
        pytest.param((), ("Allow",), "", id="no-keys"),
        pytest.param(
            ("aws:RequestedRegion",), ("Allow",), "condition key aws:RequestedRegion decides an Allow", id="one-key"
        ),
        pytest.param(
            ("aws:RequestedRegion", "aws:SecureTransport"),
            ("Allow", "Deny"),
            "condition keys aws:RequestedRegion, aws:SecureTransport decide an Allow and a Deny",
            id="two-keys-both-gates",
        ),
        pytest.param(("ec2:ResourceTag/team",), (), "condition key ec2:ResourceTag/team decides it", id="no-gate-said"),
    ],
)
def test_condition_text(keys: tuple[str, ...], gates: tuple[str, ...], text: str) -> None:
    action = OpenAction("sqs:CreateQueue", "sqs", "SQS", "*", keys=keys, gates=gates)
    assert action.condition_text() == text


SQS_MISSING = MissingGroup("sqs", "SQS", ("sqs:CreateQueue", "sqs:DeleteQueue"), MissingLayer.NO_ALLOW, NO_ALLOW)
EVENTS_DENIED = MissingGroup(
    "events", "CloudWatch", ("events:PutRule",), MissingLayer.EXPLICIT_DENY, "explicitly denied"
)


@pytest.mark.parametrize(
    ("feature", "summary", "short"),
    [
        pytest.param(
            _feature("view-logs", FeatureStatus.OK, required=1),
            "View Logs: ok (1 required action allowed)",
            "View Logs: ok (1 required action allowed)",
            id="ok-one",
        ),
        pytest.param(
            _feature("view-logs", FeatureStatus.OK, required=4),
            "View Logs: ok (4 required actions allowed)",
            "View Logs: ok (4 required actions allowed)",
            id="ok-several",
        ),
        pytest.param(
            _feature("cluster-capacity-monitoring", FeatureStatus.MISSING, missing=(SQS_MISSING, EVENTS_DENIED)),
            f"Cluster Capacity Monitoring lacks SQS: sqs:CreateQueue, sqs:DeleteQueue ({NO_ALLOW}); "
            "CloudWatch (events): events:PutRule (explicitly denied)",
            "Cluster Capacity Monitoring lacks SQS (2, no allow), CloudWatch (events) (1, explicit deny)",
            id="missing",
        ),
        pytest.param(
            _feature("view-metrics", FeatureStatus.CONDITIONAL, conditional=(_open("cloudwatch:GetMetricData"),)),
            "View Metrics: 1 required actions conditional",
            "View Metrics: 1 required actions conditional",
            id="conditional",
        ),
        pytest.param(
            _feature(
                "secrets-manager",
                FeatureStatus.UNKNOWN,
                unknown=(_open("secretsmanager:GetSecretValue"), _open("secretsmanager:ListSecrets")),
            ),
            "Secrets Manager: 2 required actions unknown",
            "Secrets Manager: 2 required actions unknown",
            id="unknown",
        ),
    ],
)
def test_feature_summaries(feature: FeatureResult, summary: str, short: str) -> None:
    assert feature.summary() == summary
    assert feature.short_summary() == short
    assert feature.to_json()["summary"] == short


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("allowed", "allowed"),
        ("implicit_deny", "no policy allows it"),
        ("explicit_deny", "explicitly denied"),
        ("conditional", "allowed only under conditions"),
        ("unknown", "unknown"),
        ("some_new_value", "some new value"),
    ],
)
def test_decision_text(value: str, text: str) -> None:
    assert decision_text(value) == text


def test_proposed_statement_json_is_a_policy_statement() -> None:
    one = ProposedStatement(("sqs:CreateQueue",), ("arn:aws:sqs:*:*:zeet-*",))
    assert one.to_json() == {"Effect": "Allow", "Action": "sqs:CreateQueue", "Resource": "arn:aws:sqs:*:*:zeet-*"}
    passed = ProposedStatement(
        ("iam:PassRole", "iam:GetRole"),
        ("*",),
        (
            ("StringEquals", "iam:PassedToService", ("eks.amazonaws.com", "ec2.amazonaws.com")),
            ("StringLike", "aws:ResourceTag/owner", ("zeet",)),
        ),
    )
    assert passed.to_json() == {
        "Effect": "Allow",
        "Action": ["iam:PassRole", "iam:GetRole"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"iam:PassedToService": ["eks.amazonaws.com", "ec2.amazonaws.com"]},
            "StringLike": {"aws:ResourceTag/owner": "zeet"},
        },
    }


def test_unknown_verdicts_are_grouped_by_reason_in_first_seen_order() -> None:
    scps = "AccessDenied on organizations:ListPoliciesForTarget: grant it to read the SCPs"
    features = (
        _feature(
            "view-logs",
            FeatureStatus.UNKNOWN,
            unknown=(_open("logs:FilterLogEvents", scps, INVALID.text), _open("LOGS:filterlogevents", scps)),
        ),
        _feature(
            "view-metrics",
            FeatureStatus.UNKNOWN,
            unknown=(_open("cloudwatch:GetMetricData", scps), _open("cloudwatch:ListMetrics")),
        ),
        _feature("secrets-manager", FeatureStatus.OK),
    )
    assert unknown_groups(features) == (
        UnknownGroup(scps, 2, ("view-logs", "view-metrics")),  # logs:FilterLogEvents counted once
        UnknownGroup(INVALID.text, 1, ("view-logs",)),
        UnknownGroup(NO_REASON, 1, ("view-metrics",)),
    )
    assert _role(*features).unknown == unknown_groups(features)


def test_a_reason_that_is_an_invalid_policy_is_named_as_such() -> None:
    role = _role(invalid=(INVALID,))
    assert role.reason_text(INVALID.text) == (
        "policy 'ZeetSecrets' is invalid (AWS would refuse it): "
        "$.Policies[4].PolicyVersionList[0].Document.Statement[0].Effect: expected Allow or Deny, got 'Maybe'"
    )
    assert (
        role.reason_text("cannot read arn:aws:iam::aws:policy/Gone offline")
        == "cannot read arn:aws:iam::aws:policy/Gone offline"
    )
    assert (
        InvalidDocument("role.json", "inline", "", "expected a JSON object").text
        == "role.json: $: expected a JSON object"
    )


def test_role_json_without_features_keeps_what_derives_from_them() -> None:
    role = _role(_feature("view-logs", FeatureStatus.UNKNOWN, unknown=(_open("logs:FilterLogEvents", "why"),)))
    full, bare = role.to_json(), role.to_json(features=False)
    assert [feature["id"] for feature in full["features"]] == ["view-logs"]
    assert bare["features"] == []
    assert (
        bare["unknown_groups"] == full["unknown_groups"] == [{"reason": "why", "actions": 1, "features": ["view-logs"]}]
    )


def test_skipped_items_say_unread_only_when_unread() -> None:
    assert SkippedItem("roles", "no RoleDetailList", "gaad.json: $").to_json() == {
        "name": "roles",
        "reason": "no RoleDetailList",
        "origin": "gaad.json: $",
    }
    assert (
        SkippedItem("later pages", "IsTruncated", "gaad.json: $.IsTruncated", unread=True).to_json()["unread"] is True
    )


def test_only_an_applied_waiver_waives() -> None:
    applied = WaiverNote(
        "waivers[0] (check=missing-permission)", "accepted", WaiverStatus.APPLIED, fingerprints=("abc123",)
    )
    expired = WaiverNote("waivers[1]", "old", WaiverStatus.EXPIRED, expires="2020-01-01", fingerprints=("def456",))
    report = AuditReport("0.1.0", (), waivers=(applied, expired))
    assert report.waiver_of("abc123") is applied
    assert report.waiver_of("def456") is None
    assert report.waiver_of("nothing") is None


def test_the_report_json_is_versioned_and_lists_only_waived_findings_by_default() -> None:
    report = AuditReport(
        "0.1.0",
        (_role(_feature("view-logs", FeatureStatus.OK)),),
        skipped=(SkippedItem("roles", "no RoleDetailList", "gaad.json: $"),),
        inputs=("gaad.json",),
    )
    document = report.to_json()
    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert document["tool"] == {"name": "zeet-iam-audit", "version": "0.1.0"}
    assert document["inputs"] == ["gaad.json"]
    assert [role["name"] for role in document["roles"]] == ["zeet"]
    assert document["findings_listed"] == "waived"
    assert document["findings"] == []
    assert document["skipped"] == [{"name": "roles", "reason": "no RoleDetailList", "origin": "gaad.json: $"}]
    assert report.to_json(roles=False)["roles"] == []
