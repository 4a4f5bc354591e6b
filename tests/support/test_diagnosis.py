"""Diagnosing denials: features, the role's evaluation, the blocking layer and the smallest fix."""

from __future__ import annotations

import json

import pytest

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.policy.evaluate import Decision
from zeet_iam_audit.rules import RuleSet
from zeet_iam_audit.sources import load_file
from zeet_iam_audit.support.denials import find_denials
from zeet_iam_audit.support.diagnosis import (
    Finding,
    RoleChoice,
    diagnose,
    diagnose_denial,
    render_json,
    render_text,
    summary,
)

from .conftest import ERRORS, GAAD
from .roles import make_role, statement

PRINCIPAL = "arn:aws:sts::123456789012:assumed-role/zeet/zeet-1714639277"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:zeet-eks-events"


def message(reason: str, action: str = "sqs:CreateQueue", resource: str | None = QUEUE) -> str:
    on = f" on resource: {resource}" if resource else ""
    return f"User: {PRINCIPAL} is not authorized to perform: {action}{on}{reason}"


IMPLICIT = " because no identity-based policy allows the sqs:CreateQueue action"


def one(text: str, rules: RuleSet, catalog: Catalog, choice: RoleChoice | None = None) -> Finding:
    (denial,) = find_denials(text, catalog)
    return diagnose_denial(denial, rules, catalog, choice or RoleChoice())


@pytest.mark.parametrize(
    ("reason", "layer", "kind", "role_can_fix"),
    [
        pytest.param(IMPLICIT, "identity", "add-statement", True, id="identity-no-allow"),
        pytest.param(
            " with an explicit deny in an identity-based policy",
            "identity",
            "change-deny",
            True,
            id="identity-explicit-deny",
        ),
        pytest.param(
            " because no permissions boundary allows the sqs:CreateQueue action",
            "permissions_boundary",
            "boundary",
            False,
            id="boundary",
        ),
        pytest.param(" with an explicit deny in a service control policy", "scp", "scp", False, id="scp-deny"),
        pytest.param(
            " because no service control policy allows the sqs:CreateQueue action",
            "scp",
            "scp",
            False,
            id="scp-no-allow",
        ),
        pytest.param(
            " because no session policy allows the sqs:CreateQueue action",
            "session_policy",
            "session-policy",
            False,
            id="session-policy",
        ),
        pytest.param(
            " with an explicit deny in a resource-based policy",
            "resource_policy",
            "resource-policy",
            False,
            id="resource-policy",
        ),
        pytest.param(
            " because no VPC endpoint policy allows the sqs:CreateQueue action",
            "vpc_endpoint_policy",
            "vpc-endpoint-policy",
            False,
            id="vpc-endpoint",
        ),
        pytest.param("", None, "add-statement", True, id="older-form-no-reason"),
    ],
)
def test_fix_follows_the_layer_aws_names(
    reason: str, layer: str | None, kind: str, role_can_fix: bool, rules: RuleSet, catalog: Catalog
) -> None:
    finding = one(message(reason), rules, catalog)
    assert (finding.layer, finding.fix.kind, finding.fix.role_can_fix) == (layer, kind, role_can_fix)


def test_smallest_statement_is_scoped_to_the_resource_and_the_rule_scope_is_offered(
    rules: RuleSet, catalog: Catalog
) -> None:
    finding = one(message(IMPLICIT), rules, catalog)
    assert finding.fix.statement == {"Effect": "Allow", "Action": "sqs:CreateQueue", "Resource": QUEUE}
    assert finding.fix.feature_statement == {
        "Effect": "Allow",
        "Action": "sqs:CreateQueue",
        "Resource": "arn:aws:sqs:*:*:zeet-*",
    }
    assert [use.id for use in finding.features] == ["cluster-capacity-monitoring"]


def test_the_rule_condition_comes_with_the_feature_statement(rules: RuleSet, catalog: Catalog) -> None:
    text = message(
        " because no identity-based policy allows the iam:PassRole action",
        "iam:PassRole",
        "arn:aws:iam::123456789012:role/zeet-node",
    )
    finding = one(text, rules, catalog)
    assert finding.fix.feature_statement is not None
    assert finding.fix.feature_statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "eks.amazonaws.com"}
    }  # the base path passes roles to EKS


def test_action_without_resource_level_permissions_is_fixed_on_star(rules: RuleSet, catalog: Catalog) -> None:
    text = message(
        " because no identity-based policy allows the secretsmanager:ListSecrets action",
        "secretsmanager:ListSecrets",
        None,
    )
    finding = one(text, rules, catalog)
    assert finding.fix.statement == {"Effect": "Allow", "Action": "secretsmanager:ListSecrets", "Resource": "*"}


def test_explicit_deny_in_the_role_names_the_statement(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(statement("sqs:*"), statement("sqs:CreateQueue", effect="Deny", Sid="NoQueues"))
    finding = one(message(IMPLICIT), rules, catalog, RoleChoice(roles=(role,), source="role.json"))
    assert finding.evaluation is not None
    assert finding.evaluation.decision is Decision.EXPLICIT_DENY
    assert (finding.layer, finding.fix.kind) == ("identity", "change-deny")
    assert finding.fix.statements_to_change == ("identity-based policy 'ZeetInline' Statement[1] (Sid \"NoQueues\")",)
    assert finding.evaluation.locations == ("role.json: $.RolePolicies[0].PolicyDocument.Statement[1]",)
    assert any(note.startswith("AWS said: no identity-based policy allows it") for note in finding.notes)


def test_role_that_allows_it_now_says_so(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(statement("sqs:*"))
    finding = one(message(IMPLICIT), rules, catalog, RoleChoice(roles=(role,), source="role.json"))
    assert finding.fix.kind == "already-allowed"


def test_boundary_found_by_evaluation_when_aws_gave_no_reason(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(statement("sqs:*"), boundary=[statement("sns:*")])
    finding = one(message(""), rules, catalog, RoleChoice(roles=(role,), source="role.json"))
    assert (finding.layer, finding.fix.kind, finding.fix.role_can_fix) == ("permissions_boundary", "boundary", False)


@pytest.mark.parametrize(
    ("choice", "evaluated", "note"),
    [
        pytest.param(
            RoleChoice(roles=(make_role(name="zeet"), make_role(name="other")), source="f.json"),
            "zeet",
            None,
            id="by-principal-name",
        ),
        pytest.param(
            RoleChoice(roles=(make_role(name="other"),), source="f.json"),
            None,
            "f.json has no role named zeet; choose one with --role to evaluate it anyway",
            id="no-match",
        ),
        pytest.param(
            RoleChoice(roles=(make_role(name="other"),), forced=make_role(name="other"), source="f.json"),
            "other",
            "the message names role zeet, not other: evaluated on other as asked",
            id="forced",
        ),
    ],
)
def test_role_choice(
    choice: RoleChoice, evaluated: str | None, note: str | None, rules: RuleSet, catalog: Catalog
) -> None:
    finding = one(message(IMPLICIT), rules, catalog, choice)
    assert (finding.evaluation.role if finding.evaluation else None) == evaluated
    if note:
        assert note in finding.notes


def test_cdk_execution_role_gets_a_note(rules: RuleSet, catalog: Catalog) -> None:
    (denial,) = find_denials((ERRORS / "cdk.txt").read_text(encoding="utf-8"), catalog)
    finding = diagnose_denial(denial, rules, catalog, RoleChoice())
    assert any("CDK's role cdk-hnb659fds-cfn-exec-role" in note for note in finding.notes)


def test_unknown_action_cannot_be_fixed(rules: RuleSet, catalog: Catalog) -> None:
    finding = one("An error occurred (AccessDenied) when calling the GetThing operation: Access Denied", rules, catalog)
    assert finding.fix.kind == "unknown"
    assert finding.fix.statement is None


def test_terraform_fixture_against_the_gaad_roles(rules: RuleSet, catalog: Catalog) -> None:
    roles = load_file(GAAD).roles
    denials = find_denials((ERRORS / "terraform.txt").read_text(encoding="utf-8"), catalog)
    result = diagnose(denials, rules, catalog, RoleChoice(roles=tuple(roles), source=str(GAAD)))
    assert [(f.denial.action, f.layer, f.fix.kind) for f in result.findings] == [
        ("sqs:CreateQueue", "permissions_boundary", "boundary"),
        ("iam:CreateRole", "scp", "scp"),
        ("ec2:RunInstances", "identity", "already-allowed"),
        ("s3:ListBucket", None, "add-statement"),
    ]
    assert result.findings[0].evaluation is not None
    assert result.findings[0].evaluation.role == "zeet-bounded"
    assert summary(result) == (
        "zeet-iam-audit diagnose: 4 authorization failures found (1 permissions boundary, "
        "1 service control policy, 1 identity-based policy, 1 layer not stated)"
    )


def test_json_has_the_documented_keys(rules: RuleSet, catalog: Catalog) -> None:
    denials = find_denials(message(IMPLICIT), catalog)
    data = json.loads(render_json(diagnose(denials, rules, catalog, RoleChoice())))
    (entry,) = data["denials"]
    assert {"principal", "action", "resource", "layer", "features", "fix", "reason", "source_line"} <= set(entry)
    assert entry["fix"]["statement"] == {"Effect": "Allow", "Action": "sqs:CreateQueue", "Resource": QUEUE}
    assert entry["features"][0]["id"] == "cluster-capacity-monitoring"


def test_render_text_without_findings() -> None:
    assert render_text(diagnose([], RuleSet([]), None, RoleChoice())) == (  # type: ignore[arg-type]
        "no authorization failure found in the text\n"
    )
