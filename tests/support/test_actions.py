"""Action names and API operations → IAM actions; the features that need an action."""

from __future__ import annotations

import pytest

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.rules import RuleSet
from zeet_iam_audit.support.actions import (
    OPERATION_ACTIONS,
    clean_token,
    features_using,
    resolve_action,
    resolve_operation,
    service_prefix,
)


@pytest.mark.parametrize(
    ("written", "action", "has_note"),
    [
        pytest.param("SNS:CreateTopic", "sns:CreateTopic", False, id="upper-prefix"),
        pytest.param("sqs:createqueue", "sqs:CreateQueue", False, id="lower-case"),
        pytest.param('"iam:PassRole",', "iam:PassRole", False, id="quoted-with-comma"),
        pytest.param("s3:HeadObject", "s3:GetObject", True, id="s3-head-object"),
        pytest.param("s3:ListObjectsV2", "s3:ListBucket", True, id="s3-list-objects-v2"),
        pytest.param("apigateway:CreateRestApi", "apigateway:POST", True, id="apigateway-verb"),
        pytest.param("sts:GetCallerIdentity", "sts:GetCallerIdentity", False, id="catalogued"),
        pytest.param("s3:NoSuchThing", None, True, id="unknown"),
        pytest.param("not an action", None, True, id="not-an-action"),
    ],
)
def test_resolve_action(written: str, action: str | None, has_note: bool, catalog: Catalog) -> None:
    resolved = resolve_action(written, catalog)
    assert resolved.action == action
    assert (resolved.note is not None) is has_note


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        pytest.param("SQS", "CreateQueue", "sqs:CreateQueue", id="sqs"),
        pytest.param("CloudWatch Logs", "FilterLogEvents", "logs:FilterLogEvents", id="logs"),
        pytest.param("EventBridge", "PutRule", "events:PutRule", id="eventbridge"),
        pytest.param(
            "Elastic Load Balancing v2", "CreateLoadBalancer", "elasticloadbalancing:CreateLoadBalancer", id="elbv2"
        ),
        pytest.param("Lambda", "Invoke", "lambda:InvokeFunction", id="lambda-invoke"),
        pytest.param("S3", "HeadBucket", "s3:ListBucket", id="s3-head-bucket"),
        pytest.param("STS", "GetCallerIdentity", "sts:GetCallerIdentity", id="no-permission-but-catalogued"),
        pytest.param("Nonexistent Service", "DoThing", None, id="unknown-service"),
    ],
)
def test_resolve_operation(service: str, operation: str, action: str | None, catalog: Catalog) -> None:
    assert resolve_operation(service, operation, catalog).action == action


def test_every_operation_mapping_names_a_catalogued_action(catalog: Catalog) -> None:
    for (prefix, operation), action in OPERATION_ACTIONS.items():
        assert catalog.get(action) is not None, action
        assert catalog.get(f"{prefix}:{operation}") is None, f"{prefix}:{operation} is an IAM action itself"


@pytest.mark.parametrize(
    ("name", "prefix"),
    [("Auto Scaling", "autoscaling"), ("Route 53", "route53"), ("IAM", "iam"), ("ECR", "ecr"), ("Frobnicate", None)],
)
def test_service_prefix(name: str, prefix: str | None, catalog: Catalog) -> None:
    assert service_prefix(name, catalog) == prefix


def test_clean_token_removes_folds_and_punctuation() -> None:
    assert clean_token(' "arn:aws:sqs:us-east-1:1\n2:q", ') == "arn:aws:sqs:us-east-1:12:q"


def test_features_using_lists_required_then_variants(rules: RuleSet) -> None:
    uses = features_using(rules, "SQS:CREATEQUEUE")
    assert [(u.id, u.variant) for u in uses] == [("cluster-capacity-monitoring", None)]
    assert uses[0].requirement.resource == "arn:aws:sqs:*:*:zeet-*"
    optional = features_using(rules, "logs:StartQuery")
    assert [(u.id, u.variant) for u in optional] == [("view-logs", "logs-insights")]
    assert features_using(rules, "organizations:LeaveOrganization") == ()


def test_features_using_agrees_with_features_needing(rules: RuleSet) -> None:
    for rule in rules:
        for requirement in rule.required:
            required = [u.id for u in features_using(rules, requirement.action) if u.variant is None]
            assert required == [r.id for r in rules.features_needing(requirement.action)]
