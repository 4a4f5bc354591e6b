"""resource_fit.py: an Allow whose resources can never be of the action's resource types is no allow."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.audit.support import make_role, statement
from zeet_iam_audit.audit.engine import AuditOptions, audit_role
from zeet_iam_audit.audit.report import FeatureResult, FeatureStatus
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.model import AttachedPolicy
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.rules import load_rules

CATALOG = load_catalog()
RULES = load_rules(catalog=CATALOG)
S3_ACTIONS = ["s3:ListBucket", "s3:GetObject", "s3:PutObject"]


def _feature(
    feature_id: str, *statements: dict[str, object], boundary: list[dict[str, object]] | None = None
) -> FeatureResult:
    role = make_role(*statements, boundary=boundary)
    report = audit_role(role, RULES, CATALOG, AuditOptions(features=(feature_id,), check_excess=False))
    (feature,) = report.features
    return feature


def test_list_bucket_granted_only_on_object_arns_is_missing_with_the_reason() -> None:
    feature = _feature("terraform-modules", statement(S3_ACTIONS, "arn:aws:s3:::zeet-*/*"))
    assert feature.status is FeatureStatus.MISSING
    (group,) = feature.missing
    assert group.actions == ("s3:ListBucket",)
    assert group.layer == "no allow"
    assert group.reason == (
        "the only Allow names resources these actions never use: identity-based policy "
        "'inline' Statement[0] (arn:aws:s3:::zeet-*/*)"
    )
    assert group.fix is not None
    assert [s.to_json() for s in group.fix.statements] == [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::*"}
    ]
    # The object actions on the same pattern are a real partial grant: still conditional.
    assert {a.action for a in feature.conditional} == {"s3:GetObject", "s3:PutObject"}


def test_a_grant_on_some_buckets_stays_conditional() -> None:
    feature = _feature(
        "terraform-modules", statement(S3_ACTIONS, ["arn:aws:s3:::zeet-state", "arn:aws:s3:::zeet-state/*"])
    )
    assert feature.status is FeatureStatus.CONDITIONAL
    assert not feature.missing


@pytest.mark.parametrize("resource", ["arn:aws:s3:::zeet-metrics", "arn:aws:s3:::*"])
def test_metric_reads_on_an_s3_arn_are_missing(resource: str) -> None:
    feature = _feature("view-metrics", statement(["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"], resource))
    assert feature.status is FeatureStatus.MISSING
    (group,) = feature.missing
    assert group.actions == ("cloudwatch:GetMetricData", "cloudwatch:ListMetrics")
    assert "never use" in group.reason


def test_a_boundary_that_allows_only_other_types_blocks() -> None:
    feature = _feature(
        "terraform-modules", statement(S3_ACTIONS, "*"), boundary=[statement(S3_ACTIONS, "arn:aws:s3:::zeet-*/*")]
    )
    (group,) = feature.missing
    assert group.actions == ("s3:ListBucket",)
    assert group.layer == "permissions boundary"
    assert group.reason.startswith(
        "the boundary allows them only on resources they never use: permissions boundary 'Boundary' Statement[0]"
    )


def test_a_certain_allow_beside_it_keeps_the_action_allowed() -> None:
    feature = _feature("terraform-modules", statement(S3_ACTIONS, "arn:aws:s3:::zeet-*/*"), statement(S3_ACTIONS, "*"))
    assert feature.status is FeatureStatus.OK


def test_not_resource_is_not_judged() -> None:
    feature = _feature(
        "terraform-modules", {"Effect": "Allow", "Action": S3_ACTIONS, "NotResource": "arn:aws:s3:::private-*"}
    )
    assert not any("never use" in g.reason for g in feature.missing)


def test_the_statement_judged_is_the_one_the_decision_names_whatever_other_policies_are_called() -> None:
    # An inline policy and a managed policy may share a name (AWS allows it): the Allow behind the
    # conditional answer is the managed policy's, and an inline statement of the same name and
    # index (on "*", for other actions) must not be judged in its place.
    role = make_role(statement(["ec2:DescribeVpcs"], "*"))
    managed = parse_policy(
        {"Version": "2012-10-17", "Statement": [statement(S3_ACTIONS, "arn:aws:s3:::zeet-*/*")]}, name="inline"
    )
    role = replace(
        role,
        policies=(
            *role.policies,
            AttachedPolicy(name="inline", arn="arn:aws:iam::123456789012:policy/inline", policy=managed),
        ),
    )
    report = audit_role(role, RULES, CATALOG, AuditOptions(features=("terraform-modules",), check_excess=False))
    (feature,) = report.features
    assert [group.actions for group in feature.missing] == [("s3:ListBucket",)]
    assert "never use" in feature.missing[0].reason
