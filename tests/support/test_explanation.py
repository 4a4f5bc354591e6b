"""Explaining one decision: per layer, the deciding statements and where they are, conditions, features."""

from __future__ import annotations

import json

import pytest

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.model import Origin
from zeet_iam_audit.policy.evaluate import Decision, Layer
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.rules import RuleSet
from zeet_iam_audit.sources import load_file
from zeet_iam_audit.support.explanation import explain, explain_role, render_json, render_text

from .conftest import GAAD
from .roles import document, make_role, statement

QUEUE = "arn:aws:sqs:us-east-1:123456789012:zeet-q"
REGION_LOCK = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
INSECURE = {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize(
    ("role_statements", "boundary", "context", "decision", "layer_verdicts"),
    [
        pytest.param(
            [statement("sqs:CreateQueue", QUEUE)],
            None,
            None,
            Decision.ALLOWED,
            {Layer.IDENTITY: Decision.ALLOWED, Layer.BOUNDARY: None},
            id="allowed",
        ),
        pytest.param(
            [statement("sns:*")],
            None,
            None,
            Decision.IMPLICIT_DENY,
            {Layer.IDENTITY: Decision.IMPLICIT_DENY},
            id="no-allow",
        ),
        pytest.param(
            [statement("sqs:*"), statement("sqs:CreateQueue", effect="Deny")],
            None,
            None,
            Decision.EXPLICIT_DENY,
            {Layer.IDENTITY: Decision.EXPLICIT_DENY},
            id="explicit-deny",
        ),
        pytest.param(
            [statement("sqs:*")],
            [statement("sns:*")],
            None,
            Decision.IMPLICIT_DENY,
            {Layer.IDENTITY: Decision.ALLOWED, Layer.BOUNDARY: Decision.IMPLICIT_DENY},
            id="boundary",
        ),
        pytest.param(
            [statement("sqs:*", Condition=REGION_LOCK)],
            None,
            None,
            Decision.CONDITIONAL,
            {Layer.IDENTITY: Decision.CONDITIONAL},
            id="conditional-allow",
        ),
        pytest.param(
            [statement("sqs:*", Condition=REGION_LOCK)],
            None,
            {"aws:requestedregion": ("us-east-1",)},
            Decision.ALLOWED,
            {Layer.IDENTITY: Decision.ALLOWED},
            id="context-meets-condition",
        ),
        pytest.param(
            [statement("sqs:*", Condition=REGION_LOCK)],
            None,
            {"aws:requestedregion": ("eu-west-1",)},
            Decision.IMPLICIT_DENY,
            {Layer.IDENTITY: Decision.IMPLICIT_DENY},
            id="context-fails-condition",
        ),
        pytest.param(
            [statement("sqs:*"), statement("*", effect="Deny", Condition=INSECURE)],
            None,
            {"aws:securetransport": ("false",)},
            Decision.EXPLICIT_DENY,
            {Layer.IDENTITY: Decision.EXPLICIT_DENY},
            id="context-triggers-deny",
        ),
    ],
)
def test_decision_and_layer_verdicts(
    role_statements: list[dict[str, object]],
    boundary: list[dict[str, object]] | None,
    context: dict[str, tuple[str, ...]] | None,
    decision: Decision,
    layer_verdicts: dict[Layer, Decision | None],
) -> None:
    role = make_role(*role_statements, boundary=boundary)
    explained = explain_role(role, "sqs:CreateQueue", QUEUE, context)
    assert explained.decision is decision
    verdicts = {view.layer: view.decision for view in explained.layers}
    for layer, expected in layer_verdicts.items():
        assert verdicts[layer] is expected


def test_conditional_answer_names_the_keys_and_the_statement() -> None:
    role = make_role(statement("sqs:*", Condition=REGION_LOCK), statement("sqs:*", effect="Deny", Condition=INSECURE))
    explained = explain_role(role, "sqs:CreateQueue", QUEUE, None)
    assert explained.condition_keys == ("aws:RequestedRegion", "aws:SecureTransport")
    identity = explained.layers[0]
    assert [(v.ref.index, v.applies, v.depends_on) for v in identity.statements] == [
        (1, False, "condition keys aws:SecureTransport"),
        (0, False, "condition keys aws:RequestedRegion"),
    ]
    assert identity.statements[1].conditions[0].key == "aws:RequestedRegion"
    assert identity.statements[1].location == "role.json: $.RolePolicies[0].PolicyDocument.Statement[0]"


def test_scp_levels_each_get_a_verdict() -> None:
    role = make_role(statement("sqs:*"))
    full = parse_policy(document(statement("*")), name="FullAWSAccess", origin=Origin("scp-root.json", ("$",)))
    deny = parse_policy(
        document(statement("sqs:DeleteQueue", effect="Deny")), name="NoDelete", origin=Origin("scp-ou.json", ("$",))
    )
    explained = explain_role(role, "sqs:DeleteQueue", QUEUE, None, scps=((full,), (full, deny)))
    assert explained.decision is Decision.EXPLICIT_DENY
    scp_views = [v for v in explained.layers if v.layer is Layer.SCP]
    assert [(v.title, v.decision) for v in scp_views] == [
        ("SCPs level 0", Decision.ALLOWED),
        ("SCPs level 1", Decision.EXPLICIT_DENY),
    ]
    assert "NoDelete" in explained.summary()


def test_unreadable_policy_makes_an_implicit_deny_unknown() -> None:
    explained = explain_role(make_role(statement("sns:*"), unreadable=True), "sqs:CreateQueue", QUEUE, None)
    assert explained.decision is Decision.UNKNOWN
    assert explained.unknown_reasons == ("cannot read arn:aws:iam::123456789012:policy/Mystery offline",)


def test_explain_on_the_gaad_fixture_names_the_deny_and_its_place(rules: RuleSet, catalog: Catalog) -> None:
    roles = [r for r in load_file(GAAD).roles if r.name == "zeet-restricted"]
    explanation = explain("sqs:CreateQueue", QUEUE, None, roles, rules, catalog)
    (role,) = explanation.roles
    assert role.decision is Decision.EXPLICIT_DENY
    deny = role.layers[0].statements[0]
    assert (deny.ref.policy, deny.ref.index, deny.ref.sid) == ("DenyQueues", 0, "DenyQueues")
    assert deny.location.endswith("$.RoleDetailList[1].RolePolicyList[0].PolicyDocument.Statement[0]")
    assert [use.id for use in explanation.features] == ["cluster-capacity-monitoring"]


def test_render_text_and_json(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(statement("sqs:*", Condition=REGION_LOCK))
    explanation = explain("sqs:CreateQueue", QUEUE, None, [role], rules, catalog)
    text = render_text(explanation)
    assert "decision: conditional: depends on aws:RequestedRegion" in text
    assert "condition: StringEquals aws:RequestedRegion = us-east-1" in text
    assert "needed by: Cluster Capacity Monitoring (cluster-capacity-monitoring)" in text
    data = json.loads(render_json(explanation))
    assert data["schema_version"] == 1
    assert data["roles"][0]["decision"] == "conditional"
    assert data["roles"][0]["condition_keys"] == ["aws:RequestedRegion"]
    assert data["roles"][0]["layers"][0]["statements"][0]["conditions"] == [
        {"operator": "StringEquals", "key": "aws:RequestedRegion", "values": ["us-east-1"]}
    ]


def test_action_without_resource_level_permissions_gets_a_note(rules: RuleSet, catalog: Catalog) -> None:
    explanation = explain(
        "ecr:GetAuthorizationToken",
        "arn:aws:ecr:us-east-1:1:repository/x",
        None,
        [make_role(statement("ecr:*"))],
        rules,
        catalog,
    )
    assert any("no resource-level permissions" in note for note in explanation.notes)
