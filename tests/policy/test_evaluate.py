"""The decision, layer by layer, as AWS documents policy evaluation for a principal in its own
account: explicit Deny anywhere wins; otherwise every layer present (identity-based policies, the
permissions boundary, each SCP level from root to account) must allow; otherwise implicit deny.
Plus the edge cases peers get wrong (peers-and-pitfalls §4)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import pytest

from zeet_iam_audit import (
    Decision,
    EvaluationResult,
    Layer,
    PolicyError,
    PolicySet,
    StatementRef,
    Unresolved,
    evaluate,
    evaluate_scope,
    parse_policy,
)
from zeet_iam_audit.model import Effect
from zeet_iam_audit.policy.evaluate import GET_CALLER_IDENTITY_NOTE, KEY_POLICY_NOTE, PolicyInput

from .support import POWER_USER_ACCESS, allow, deny, policy, statement

Doc = dict[str, Any]
Ctx = dict[str, str | list[str]] | None

ALLOW_ALL = policy(allow("*"))
ALLOW_SQS = policy(allow("sqs:*"))
DENY_SEND = policy(deny("sqs:SendMessage"))
QUEUE = "arn:aws:sqs:us-east-1:111122223333:zeet-jobs"
INSECURE = {"Bool": {"aws:SecureTransport": "false"}}


def _decide(
    action: str,
    resource: str = "*",
    identity: Sequence[PolicyInput] | None = None,
    boundary: PolicyInput | None = None,
    scps: Sequence[Sequence[PolicyInput]] | None = None,
    context: Ctx = None,
) -> EvaluationResult:
    return evaluate(
        action,
        resource,
        identity_policies=identity or [],
        permissions_boundary=boundary,
        scps=scps or (),
        context=context,
    )


def _decide_scope(
    action: str,
    scope: str,
    identity: Sequence[PolicyInput] | None = None,
    scps: Sequence[Sequence[PolicyInput]] | None = None,
) -> EvaluationResult:
    """Whether ``action`` is allowed on every resource of ``scope`` (the audit's question)."""
    return evaluate_scope(action, scope, identity_policies=identity or [], scps=scps or ())


# --- The layers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "boundary", "scps", "expected", "layer"),
    [
        pytest.param([ALLOW_SQS], None, [], Decision.ALLOWED, None, id="identity-allow-alone"),
        pytest.param([], None, [], Decision.IMPLICIT_DENY, Layer.IDENTITY, id="nothing-is-implicit-deny"),
        pytest.param(
            [policy(allow("s3:*"))], None, [], Decision.IMPLICIT_DENY, Layer.IDENTITY, id="allow-for-another-service"
        ),
        # Explicit deny wins, wherever it is.
        pytest.param(
            [policy(allow("sqs:*"), deny("sqs:SendMessage"))],
            None,
            [],
            Decision.EXPLICIT_DENY,
            Layer.IDENTITY,
            id="deny-beside-allow-same-policy",
        ),
        pytest.param(
            [policy(deny("sqs:SendMessage"), allow("sqs:*"))],
            None,
            [],
            Decision.EXPLICIT_DENY,
            Layer.IDENTITY,
            id="deny-wins-regardless-of-order",
        ),
        pytest.param(
            [ALLOW_SQS, DENY_SEND],
            None,
            [],
            Decision.EXPLICIT_DENY,
            Layer.IDENTITY,
            id="deny-in-another-identity-policy",
        ),
        pytest.param(
            [ALLOW_SQS],
            policy(allow("*"), deny("sqs:Send*")),
            [],
            Decision.EXPLICIT_DENY,
            Layer.BOUNDARY,
            id="deny-in-boundary",
        ),
        pytest.param(
            [ALLOW_SQS],
            None,
            [[policy(allow("*"), deny("sqs:*"))]],
            Decision.EXPLICIT_DENY,
            Layer.SCP,
            id="deny-in-root-scp",
        ),
        pytest.param(
            [ALLOW_SQS],
            None,
            [[ALLOW_ALL], [ALLOW_ALL, DENY_SEND]],
            Decision.EXPLICIT_DENY,
            Layer.SCP,
            id="deny-in-account-scp",
        ),
        pytest.param(
            [ALLOW_SQS],
            None,
            [[ALLOW_ALL, policy(deny("*"))], [ALLOW_ALL]],
            Decision.EXPLICIT_DENY,
            Layer.SCP,
            id="deny-star-in-one-root-scp",
        ),
        pytest.param(
            [DENY_SEND],
            ALLOW_ALL,
            [[ALLOW_ALL]],
            Decision.EXPLICIT_DENY,
            Layer.IDENTITY,
            id="identity-deny-with-nothing-allowing",
        ),
        # Allow is needed in every layer that is present.
        pytest.param([ALLOW_SQS], ALLOW_ALL, [], Decision.ALLOWED, None, id="identity-and-boundary-allow"),
        pytest.param(
            [ALLOW_SQS],
            policy(allow("s3:*")),
            [],
            Decision.IMPLICIT_DENY,
            Layer.BOUNDARY,
            id="boundary-without-the-action",
        ),
        pytest.param([], ALLOW_ALL, [], Decision.IMPLICIT_DENY, Layer.IDENTITY, id="boundary-alone-grants-nothing"),
        pytest.param(
            [policy(allow("s3:*"))],
            ALLOW_ALL,
            [[ALLOW_ALL]],
            Decision.IMPLICIT_DENY,
            Layer.IDENTITY,
            id="boundary-and-scp-do-not-grant",
        ),
        pytest.param([ALLOW_SQS], None, [[ALLOW_ALL]], Decision.ALLOWED, None, id="one-scp-level-allows"),
        pytest.param(
            [ALLOW_SQS], None, [[ALLOW_ALL], [ALLOW_ALL]], Decision.ALLOWED, None, id="every-scp-level-allows"
        ),
        pytest.param(
            [ALLOW_SQS],
            None,
            [[ALLOW_ALL], [policy(allow("s3:*"))]],
            Decision.IMPLICIT_DENY,
            Layer.SCP,
            id="account-scp-lacks-the-action",
        ),
        pytest.param(
            [ALLOW_SQS],
            None,
            [[policy(allow("s3:*"))], [ALLOW_ALL]],
            Decision.IMPLICIT_DENY,
            Layer.SCP,
            id="root-scp-lacks-the-action",
        ),
        pytest.param(
            [ALLOW_SQS],
            None,
            [[policy(allow("s3:*")), ALLOW_SQS]],
            Decision.ALLOWED,
            None,
            id="any-policy-of-an-scp-level-may-allow",
        ),
        pytest.param(
            [ALLOW_SQS], None, [[ALLOW_ALL], []], Decision.IMPLICIT_DENY, Layer.SCP, id="empty-scp-level-allows-nothing"
        ),
        pytest.param(
            [ALLOW_SQS], ALLOW_SQS, [[ALLOW_SQS], [ALLOW_SQS]], Decision.ALLOWED, None, id="all-four-layers-allow"
        ),
        pytest.param(
            [policy(allow("sqs:SendMessage"))],
            policy(allow("sqs:Receive*")),
            [[ALLOW_ALL]],
            Decision.IMPLICIT_DENY,
            Layer.BOUNDARY,
            id="intersection-not-union",
        ),
    ],
)
def test_layers(
    identity: list[Doc], boundary: Doc | None, scps: list[list[Doc]], expected: Decision, layer: Layer | None
) -> None:
    result = _decide("sqs:SendMessage", QUEUE, identity, boundary, scps)
    assert result.decision is expected, result.explain()
    assert result.layer is layer


def test_blocking_layers_lists_every_layer_without_an_allow() -> None:
    result = _decide(
        "sqs:SendMessage",
        QUEUE,
        [policy(allow("s3:*"))],
        boundary=policy(allow("s3:*")),
        scps=[[ALLOW_ALL], [policy(allow("s3:*"))]],
    )
    assert result.decision is Decision.IMPLICIT_DENY
    assert set(result.blocking_layers) == {Layer.SCP, Layer.IDENTITY, Layer.BOUNDARY}
    assert result.deciding == ()


def test_explicit_deny_names_every_deny_across_layers() -> None:
    result = _decide(
        "sqs:SendMessage",
        QUEUE,
        [policy(allow("*"), deny("sqs:*", Sid="NoSqs"))],
        boundary=policy(allow("*"), deny("sqs:SendMessage", Sid="BoundaryNo")),
        scps=[[policy(allow("*"), deny("sqs:Send*", Sid="OrgNo"))]],
    )
    assert result.decision is Decision.EXPLICIT_DENY
    assert {(ref.layer, ref.sid) for ref in result.deciding} == {
        (Layer.IDENTITY, "NoSqs"),
        (Layer.BOUNDARY, "BoundaryNo"),
        (Layer.SCP, "OrgNo"),
    }
    assert all(ref.effect is Effect.DENY for ref in result.deciding)


# --- NotAction / NotResource ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param("s3:GetObject", Decision.ALLOWED, id="poweruser-allows-s3"),
        pytest.param("sts:AssumeRole", Decision.ALLOWED, id="poweruser-allows-sts-assumerole"),
        pytest.param("ec2:RunInstances", Decision.ALLOWED, id="poweruser-allows-ec2"),
        pytest.param("iam:PassRole", Decision.IMPLICIT_DENY, id="poweruser-excludes-iam-passrole"),
        pytest.param("iam:CreateAccessKey", Decision.IMPLICIT_DENY, id="poweruser-excludes-iam-createaccesskey"),
        pytest.param("IAM:passrole", Decision.IMPLICIT_DENY, id="poweruser-notaction-case-insensitive"),
        pytest.param("organizations:LeaveOrganization", Decision.IMPLICIT_DENY, id="poweruser-excludes-organizations"),
        pytest.param("account:CloseAccount", Decision.IMPLICIT_DENY, id="poweruser-excludes-account"),
        pytest.param("iam:ListRoles", Decision.ALLOWED, id="poweruser-second-statement-iam"),
        pytest.param("iam:CreateServiceLinkedRole", Decision.ALLOWED, id="poweruser-service-linked-role"),
        pytest.param("organizations:DescribeOrganization", Decision.ALLOWED, id="poweruser-describe-organization"),
    ],
)
def test_power_user_access_notaction(action: str, expected: Decision) -> None:
    assert _decide(action, identity=[POWER_USER_ACCESS]).decision is expected


@pytest.mark.parametrize(
    ("document", "action", "expected"),
    [
        pytest.param(
            policy(statement("Allow", NotAction="iam:*", Resource="*")),
            "iam:PassRole",
            Decision.IMPLICIT_DENY,
            id="notaction-excludes-iam",
        ),
        pytest.param(
            policy(statement("Allow", NotAction="iam:*", Resource="*")),
            "s3:GetObject",
            Decision.ALLOWED,
            id="notaction-allows-the-rest",
        ),
        pytest.param(
            policy(statement("Allow", NotAction="iam:Pass*", Resource="*")),
            "iam:GetRole",
            Decision.ALLOWED,
            id="notaction-wildcard-excludes-only-matches",
        ),
        pytest.param(
            policy(allow("*"), statement("Deny", NotAction=["s3:*", "sqs:*"], Resource="*")),
            "iam:CreateUser",
            Decision.EXPLICIT_DENY,
            id="deny-notaction-denies-the-rest",
        ),
        pytest.param(
            policy(allow("*"), statement("Deny", NotAction=["s3:*", "sqs:*"], Resource="*")),
            "sqs:SendMessage",
            Decision.ALLOWED,
            id="deny-notaction-spares-the-listed",
        ),
        pytest.param(
            policy(allow("*"), statement("Deny", NotAction="SQS:*", Resource="*")),
            "sqs:SendMessage",
            Decision.ALLOWED,
            id="deny-notaction-case-insensitive",
        ),
        pytest.param(
            policy(statement("Allow", NotAction="iam:*", Resource="arn:aws:s3:::zeet/*")),
            "s3:GetObject",
            Decision.IMPLICIT_DENY,
            id="notaction-still-needs-the-resource",
        ),
    ],
)
def test_notaction(document: Doc, action: str, expected: Decision) -> None:
    assert (
        _decide(
            action,
            "arn:aws:sqs:us-east-1:111122223333:q" if action.startswith("sqs") else "arn:aws:s3:::other/key",
            [document],
        ).decision
        is expected
    )


SECRET = "arn:aws:s3:::zeet-secrets/*"


@pytest.mark.parametrize(
    ("document", "resource", "expected"),
    [
        pytest.param(
            policy(statement("Allow", Action="s3:*", NotResource=SECRET)),
            "arn:aws:s3:::zeet-public/report.csv",
            Decision.ALLOWED,
            id="allow-notresource-outside",
        ),
        pytest.param(
            policy(statement("Allow", Action="s3:*", NotResource=SECRET)),
            "arn:aws:s3:::zeet-secrets/key.pem",
            Decision.IMPLICIT_DENY,
            id="allow-notresource-inside",
        ),
        pytest.param(
            policy(statement("Allow", Action="s3:*", NotResource=[SECRET, "arn:aws:s3:::zeet-audit/*"])),
            "arn:aws:s3:::zeet-audit/log",
            Decision.IMPLICIT_DENY,
            id="allow-notresource-list",
        ),
        pytest.param(
            policy(allow("s3:*"), statement("Deny", Action="s3:*", NotResource="arn:aws:s3:::zeet-public/*")),
            "arn:aws:s3:::zeet-secrets/key.pem",
            Decision.EXPLICIT_DENY,
            id="deny-notresource-denies-everything-else",
        ),
        pytest.param(
            policy(allow("s3:*"), statement("Deny", Action="s3:*", NotResource="arn:aws:s3:::zeet-public/*")),
            "arn:aws:s3:::zeet-public/report.csv",
            Decision.ALLOWED,
            id="deny-notresource-spares-the-listed",
        ),
        pytest.param(
            policy(statement("Allow", Action="s3:*", NotResource="*")),
            "arn:aws:s3:::zeet-public/report.csv",
            Decision.IMPLICIT_DENY,
            id="notresource-star-applies-to-nothing",
        ),
        pytest.param(
            policy(statement("Allow", NotAction="iam:*", NotResource=SECRET)),
            "arn:aws:s3:::zeet-public/x",
            Decision.ALLOWED,
            id="notaction-and-notresource-together",
        ),
    ],
)
def test_notresource(document: Doc, resource: str, expected: Decision) -> None:
    assert _decide("s3:GetObject", resource, [document]).decision is expected


# --- Matching actions and resources --------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        pytest.param("SQS:sendmessage", "sqs:SendMessage", Decision.ALLOWED, id="policy-action-case-insensitive"),
        pytest.param("sqs:SendMessage", "SQS:SENDMESSAGE", Decision.ALLOWED, id="request-action-case-insensitive"),
        pytest.param("ec2:*Tags", "ec2:CreateTags", Decision.ALLOWED, id="ec2-star-tags"),
        pytest.param(
            "logs:*", "cloudwatchlogs:PutLogEvents", Decision.IMPLICIT_DENY, id="logs-star-not-cloudwatchlogs"
        ),
        pytest.param("es:*", "iam:CreateAccessKey", Decision.IMPLICIT_DENY, id="es-star-not-iam"),
        pytest.param("es:*", "ses:SendEmail", Decision.IMPLICIT_DENY, id="es-star-not-ses"),
        pytest.param("s3:*", "s3control:CreateJob", Decision.IMPLICIT_DENY, id="s3-star-not-s3control"),
        pytest.param("s3:Get?bject", "s3:GetObject", Decision.ALLOWED, id="question-in-action"),
        pytest.param("iam:PassRole", "iam:PassRoles", Decision.IMPLICIT_DENY, id="action-prefix-is-not-enough"),
    ],
)
def test_action_matching(pattern: str, action: str, expected: Decision) -> None:
    assert _decide(action, identity=[policy(allow(pattern))]).decision is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        pytest.param(
            "arn:aws:iam::111122223333:user/Bob", "arn:aws:iam::111122223333:user/Bob", Decision.ALLOWED, id="arn-exact"
        ),
        pytest.param(
            "arn:aws:iam::111122223333:user/Bob",
            "arn:aws:iam::111122223333:user/bob",
            Decision.IMPLICIT_DENY,
            id="arn-case-sensitive",
        ),
        pytest.param(
            "arn:aws:iam::111122223333:user/*",
            "arn:aws:iam::111122223333:user/ops/Bob",
            Decision.ALLOWED,
            id="arn-star-spans-path",
        ),
        pytest.param(
            "arn:aws:iam::111122223333:user/B?b",
            "arn:aws:iam::111122223333:user/Bob",
            Decision.ALLOWED,
            id="arn-question",
        ),
        pytest.param(
            "arn:aws:iam::*:user/Bob", "arn:aws:iam::444455556666:user/Bob", Decision.ALLOWED, id="arn-account-star"
        ),
        pytest.param(
            "arn:aws:iam::111122223333:*",
            "arn:aws:iam::444455556666:user/Bob",
            Decision.IMPLICIT_DENY,
            id="arn-other-account",
        ),
        pytest.param(
            "arn:aws:iam:*:111122223333:user/Bob",
            "arn:aws:iam::999999999999:111122223333:user/Bob",
            Decision.IMPLICIT_DENY,
            id="arn-star-does-not-span-fields",
        ),
    ],
)
def test_resource_matching(pattern: str, resource: str, expected: Decision) -> None:
    document = policy(allow("iam:GetUser", pattern))
    assert _decide("iam:GetUser", resource, [document]).decision is expected


# --- Conditions ----------------------------------------------------------------------------------

SQS_WITH_TLS_GUARD = policy(
    allow("sqs:*"),
    deny("sqs:*", Sid="DenyInsecureTransport", Condition=INSECURE),
)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param(None, Decision.CONDITIONAL, id="no-context-conditional"),
        pytest.param({"aws:SecureTransport": "true"}, Decision.ALLOWED, id="secure-allowed"),
        pytest.param({"aws:SecureTransport": "false"}, Decision.EXPLICIT_DENY, id="insecure-explicit-deny"),
        pytest.param({}, Decision.ALLOWED, id="key-missing-bool-false-deny-does-not-apply"),
        pytest.param({"AWS:SECURETRANSPORT": "false"}, Decision.EXPLICIT_DENY, id="context-key-case-insensitive"),
    ],
)
def test_conditional_deny_on_secure_transport(context: Ctx, expected: Decision) -> None:
    result = _decide("sqs:SendMessage", QUEUE, [SQS_WITH_TLS_GUARD], context=context)
    assert result.decision is expected, result.explain()


def test_conditional_deny_explains_what_it_depends_on() -> None:
    result = _decide("sqs:SendMessage", QUEUE, [SQS_WITH_TLS_GUARD])
    assert result.condition_keys == ("aws:SecureTransport",)
    (uncertain,) = result.uncertain
    assert uncertain.gates is Effect.DENY
    assert uncertain.statement.sid == "DenyInsecureTransport"
    assert uncertain.statement.index == 1
    assert uncertain.keys == ("aws:SecureTransport",)
    assert not uncertain.partial
    # The allow it would otherwise have is named too.
    assert [ref.index for ref in result.deciding] == [0]
    assert "aws:SecureTransport" in result.explain()


TEAM_ONLY = policy(allow("sqs:*", Sid="TeamOnly", Condition={"StringEquals": {"aws:PrincipalTag/team": "zeet"}}))


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param(None, Decision.CONDITIONAL, id="no-context-conditional"),
        pytest.param({"aws:PrincipalTag/team": "zeet"}, Decision.ALLOWED, id="tag-matches"),
        pytest.param({"aws:PrincipalTag/team": "other"}, Decision.IMPLICIT_DENY, id="tag-differs"),
        pytest.param({}, Decision.IMPLICIT_DENY, id="tag-missing"),
    ],
)
def test_conditional_allow(context: Ctx, expected: Decision) -> None:
    assert _decide("sqs:SendMessage", QUEUE, [TEAM_ONLY], context=context).decision is expected


def test_conditional_allow_names_keys_and_gate() -> None:
    result = _decide("sqs:SendMessage", QUEUE, [TEAM_ONLY])
    (uncertain,) = result.uncertain
    assert uncertain.gates is Effect.ALLOW
    assert uncertain.statement.sid == "TeamOnly"
    assert result.condition_keys == ("aws:PrincipalTag/team",)
    assert result.deciding == ()


@pytest.mark.parametrize(
    ("identity", "boundary", "scps", "expected"),
    [
        pytest.param(
            [TEAM_ONLY, ALLOW_SQS], None, [], Decision.ALLOWED, id="certain-allow-makes-conditional-allow-irrelevant"
        ),
        pytest.param(
            [ALLOW_SQS, policy(deny("sqs:*", Condition=INSECURE))],
            None,
            [[policy(deny("sqs:*"))]],
            Decision.EXPLICIT_DENY,
            id="certain-deny-beats-conditional-deny",
        ),
        pytest.param(
            [policy(allow("s3:*")), policy(deny("sqs:*", Condition=INSECURE))],
            None,
            [],
            Decision.IMPLICIT_DENY,
            id="conditional-deny-without-allow-is-denied",
        ),
        pytest.param(
            [TEAM_ONLY], policy(allow("s3:*")), [], Decision.IMPLICIT_DENY, id="conditional-allow-blocked-by-boundary"
        ),
        pytest.param(
            [ALLOW_SQS],
            policy(allow("sqs:*", Condition=INSECURE)),
            [],
            Decision.CONDITIONAL,
            id="conditional-allow-in-boundary",
        ),
        pytest.param(
            [ALLOW_SQS],
            None,
            [[ALLOW_ALL], [policy(allow("*", Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}}))]],
            Decision.CONDITIONAL,
            id="conditional-allow-in-account-scp",
        ),
        pytest.param(
            [ALLOW_SQS],
            None,
            [
                [
                    policy(
                        allow("*"),
                        deny("*", Condition={"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}),
                    )
                ]
            ],
            Decision.CONDITIONAL,
            id="region-deny-scp-conditional",
        ),
    ],
)
def test_conditions_across_layers_without_context(
    identity: list[Doc], boundary: Doc | None, scps: list[list[Doc]], expected: Decision
) -> None:
    result = _decide("sqs:SendMessage", QUEUE, identity, boundary, scps)
    assert result.decision is expected, result.explain()


def test_uncertainty_reports_the_scp_condition_key_and_level() -> None:
    result = _decide(
        "sqs:SendMessage",
        QUEUE,
        [ALLOW_SQS],
        scps=[
            [ALLOW_ALL],
            [policy(allow("*"), deny("*", Condition={"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}))],
        ],
    )
    (uncertain,) = result.uncertain
    assert uncertain.gates is Effect.DENY
    assert uncertain.statement.layer is Layer.SCP
    assert uncertain.statement.scp_level == 1
    assert result.condition_keys == ("aws:RequestedRegion",)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param({"aws:RequestedRegion": "us-east-1"}, Decision.ALLOWED, id="allowed-region"),
        pytest.param({"aws:RequestedRegion": "ap-south-1"}, Decision.EXPLICIT_DENY, id="other-region"),
        pytest.param({}, Decision.EXPLICIT_DENY, id="region-missing-negated-operator-true"),
    ],
)
def test_region_restriction_scp_with_context(context: Ctx, expected: Decision) -> None:
    scp = policy(
        allow("*"), deny("*", Condition={"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}})
    )
    assert _decide("sqs:SendMessage", QUEUE, [ALLOW_SQS], scps=[[scp]], context=context).decision is expected


@pytest.mark.parametrize(
    "context",
    [
        pytest.param({}, id="empty-context"),
        pytest.param({"aws:SecureTransport": "true"}, id="some-keys"),
        pytest.param({"aws:PrincipalTag/team": ["zeet", "ops"]}, id="list-values"),
    ],
)
def test_with_a_context_the_answer_is_never_conditional(context: Ctx) -> None:
    identity = [
        TEAM_ONLY,
        SQS_WITH_TLS_GUARD,
        policy(allow("sqs:*", QUEUE, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
    ]
    boundary = policy(allow("*", Condition={"StringLikeIfExists": {"aws:PrincipalTag/env": "p*"}}))
    result = _decide("sqs:SendMessage", QUEUE, identity, boundary, context=context)
    assert result.decision is not Decision.CONDITIONAL
    assert result.uncertain == ()


# --- Resource scopes -----------------------------------------------------------------------------

ZEET_QUEUES = "arn:aws:sqs:*:*:zeet-*"


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        pytest.param([policy(allow("sqs:*", "arn:aws:sqs:*:*:*"))], Decision.ALLOWED, id="all-queues-cover-the-scope"),
        pytest.param([policy(allow("sqs:*", "*"))], Decision.ALLOWED, id="star-covers-the-scope"),
        pytest.param(
            [policy(allow("sqs:*", "arn:aws:sqs:us-east-1:*:*"))],
            Decision.IMPLICIT_DENY,
            id="one-region-does-not-cover",
        ),
        pytest.param(
            [policy(allow("sqs:*", "arn:aws:sqs:*:*:zeet-prod-*"))],
            Decision.IMPLICIT_DENY,
            id="narrower-allow-does-not-cover",
        ),
        pytest.param(
            [policy(allow("sqs:*", ["arn:aws:sqs:us-east-1:*:*", ZEET_QUEUES]))],
            Decision.ALLOWED,
            id="one-entry-covering-is-enough",
        ),
        pytest.param(
            [policy(allow("sqs:*", "arn:aws:sqs:*:*:*"), deny("sqs:*", "arn:aws:sqs:*:*:zeet-prod-*"))],
            Decision.CONDITIONAL,
            id="deny-on-part-of-the-scope-is-conditional",
        ),
        pytest.param(
            [policy(allow("sqs:*", "arn:aws:sqs:*:*:*"), deny("sqs:*", "arn:aws:sqs:*:*:zeet*"))],
            Decision.EXPLICIT_DENY,
            id="deny-covering-the-scope",
        ),
        pytest.param(
            [policy(allow("sqs:*", "arn:aws:sqs:*:*:*"), deny("sqs:*", "arn:aws:sqs:*:*:other-*"))],
            Decision.ALLOWED,
            id="deny-disjoint-from-the-scope",
        ),
        pytest.param(
            [policy(allow("sqs:*"), statement("Deny", Action="sqs:*", NotResource="arn:aws:sqs:*:*:zeet-*"))],
            Decision.ALLOWED,
            id="deny-notresource-sparing-the-scope",
        ),
        pytest.param(
            [policy(allow("sqs:*"), statement("Deny", Action="sqs:*", NotResource="arn:aws:sqs:*:*:zeet-prod-*"))],
            Decision.CONDITIONAL,
            id="deny-notresource-sparing-part-of-the-scope",
        ),
    ],
)
def test_resource_scope(identity: list[Doc], expected: Decision) -> None:
    result = _decide_scope("sqs:SendMessage", ZEET_QUEUES, identity)
    assert result.decision is expected, result.explain()


def test_partial_deny_is_reported_as_partial() -> None:
    result = _decide_scope(
        "sqs:SendMessage",
        ZEET_QUEUES,
        [policy(allow("sqs:*"), deny("sqs:*", "arn:aws:sqs:*:*:zeet-prod-*", Sid="ProtectProd"))],
    )
    (uncertain,) = result.uncertain
    assert uncertain.partial
    assert uncertain.gates is Effect.DENY
    assert uncertain.statement.sid == "ProtectProd"
    assert uncertain.keys == ()
    assert result.condition_keys == ()


def test_scp_deny_on_part_of_the_scope_is_conditional() -> None:
    scp = policy(allow("*"), deny("sqs:DeleteQueue", "arn:aws:sqs:*:*:zeet-prod-*"))
    result = _decide_scope("sqs:DeleteQueue", ZEET_QUEUES, [ALLOW_SQS], scps=[[scp]])
    assert result.decision is Decision.CONDITIONAL
    assert result.uncertain[0].statement.layer is Layer.SCP


# --- Explanations --------------------------------------------------------------------------------


def test_statement_refs_name_policy_statement_sid_and_layer() -> None:
    named = parse_policy(policy(allow("s3:*"), allow("sqs:*", Sid="Queues")), name="ZeetQueues")
    result = _decide("sqs:SendMessage", QUEUE, [policy(allow("s3:*")), named])
    assert result.decision is Decision.ALLOWED
    assert result.deciding == (
        StatementRef(layer=Layer.IDENTITY, policy="ZeetQueues", index=1, sid="Queues", effect=Effect.ALLOW),
    )
    assert str(result.deciding[0]) == ("identity-based policy 'ZeetQueues' Statement[1] (Sid \"Queues\")")


def test_unnamed_policies_are_named_by_position() -> None:
    result = _decide("sqs:SendMessage", QUEUE, [policy(allow("s3:*")), policy(deny("sqs:*"))])
    (ref,) = result.deciding
    assert (ref.policy, ref.index, ref.sid, ref.layer) == ("policy[1]", 0, None, Layer.IDENTITY)


def test_scp_refs_carry_their_level() -> None:
    result = _decide(
        "sqs:SendMessage", QUEUE, [ALLOW_SQS], scps=[[ALLOW_ALL], [ALLOW_ALL, policy(deny("sqs:*", Sid="NoQueues"))]]
    )
    (ref,) = result.deciding
    assert (ref.layer, ref.scp_level, ref.policy, ref.sid) == (Layer.SCP, 1, "policy[1]", "NoQueues")
    assert "level 1" in str(ref)


def test_allowed_names_the_allow_of_every_layer() -> None:
    result = _decide("sqs:SendMessage", QUEUE, [ALLOW_SQS], boundary=ALLOW_ALL, scps=[[ALLOW_ALL], [ALLOW_SQS]])
    assert result.allowed
    assert sorted((ref.layer.value, ref.scp_level) for ref in result.deciding) == sorted(
        [("identity", None), ("permissions_boundary", None), ("scp", 0), ("scp", 1)]
    )


def test_explain_reads_as_a_paragraph() -> None:
    result = _decide("sqs:SendMessage", QUEUE, [policy(allow("*"), deny("sqs:*", Sid="NoSqs"))])
    text = result.explain()
    assert text.splitlines()[0] == f"sqs:SendMessage on {QUEUE}: explicit_deny"
    assert "NoSqs" in text
    implicit = _decide("sqs:SendMessage", QUEUE, [ALLOW_SQS], boundary=policy(allow("s3:*")))
    assert "no permissions boundary allows it" in implicit.explain()


def test_decision_values_are_the_documented_strings() -> None:
    assert {d.value for d in Decision} == {"allowed", "explicit_deny", "implicit_deny", "conditional", "unknown"}
    assert {layer.value for layer in Layer} == {"identity", "permissions_boundary", "scp"}


def test_result_echoes_the_request() -> None:
    result = _decide("sqs:SendMessage", QUEUE, [ALLOW_SQS])
    assert (result.action, result.resource) == ("sqs:SendMessage", QUEUE)


def test_default_resource_is_star() -> None:
    result = evaluate("sqs:SendMessage", identity_policies=[policy(allow("sqs:*", QUEUE))])
    assert result.resource == "*"
    assert result.decision is Decision.IMPLICIT_DENY


# --- Inputs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(ALLOW_SQS, id="dict"),
        pytest.param(json.dumps(ALLOW_SQS), id="json-text"),
        pytest.param(quote(json.dumps(ALLOW_SQS)), id="url-encoded-json"),
        pytest.param(parse_policy(ALLOW_SQS, name="Parsed"), id="parsed-policy"),
    ],
)
def test_policy_input_forms(document: PolicyInput) -> None:
    result = evaluate(
        "sqs:SendMessage", QUEUE, identity_policies=[document], permissions_boundary=document, scps=[[document]]
    )
    assert result.decision is Decision.ALLOWED


def test_invalid_document_raises_policy_error_with_path() -> None:
    bad = policy(allow("sqs:*"), {"Effect": "Maybe", "Action": "sqs:*", "Resource": "*"})
    with pytest.raises(PolicyError, match=r"Statement\[1\]\.Effect"):
        evaluate("sqs:SendMessage", identity_policies=[bad])


def test_principal_in_identity_policy_is_rejected_by_evaluate() -> None:
    with pytest.raises(PolicyError, match="Principal"):
        evaluate("sqs:SendMessage", identity_policies=[policy(allow("sqs:*", Principal="*"))])


def test_policy_set_reuses_compiled_policies_for_many_decisions() -> None:
    policies = PolicySet.build([SQS_WITH_TLS_GUARD], permissions_boundary=ALLOW_ALL)
    assert policies.decide("sqs:SendMessage", QUEUE).decision is Decision.CONDITIONAL
    assert policies.decide("s3:GetObject").decision is Decision.IMPLICIT_DENY
    assert policies.decide("sqs:SendMessage", QUEUE, {"aws:securetransport": ("true",)}).decision is Decision.ALLOWED


# --- Unresolved template values ------------------------------------------------------------------

BUCKET = Unresolved("!Ref BucketName (parameter without a default)")


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        pytest.param([policy(allow("s3:GetObject", BUCKET))], Decision.UNKNOWN, id="unresolved-resource-in-allow"),
        pytest.param([policy(allow([Unresolved("!Ref Action")]))], Decision.UNKNOWN, id="unresolved-action-in-allow"),
        pytest.param(
            [policy(allow("s3:*"), deny("s3:GetObject", BUCKET))], Decision.UNKNOWN, id="unresolved-resource-in-deny"
        ),
        pytest.param(
            [policy(allow("s3:*", Condition={"StringEquals": {"aws:PrincipalTag/team": BUCKET}}))],
            Decision.UNKNOWN,
            id="unresolved-condition-value",
        ),
        pytest.param(
            [policy(allow("s3:GetObject", BUCKET), deny("s3:*"))],
            Decision.EXPLICIT_DENY,
            id="certain-deny-decides-despite-unresolved",
        ),
        pytest.param(
            [policy(allow("s3:GetObject", BUCKET), allow("s3:*"))],
            Decision.ALLOWED,
            id="certain-allow-decides-despite-unresolved",
        ),
        pytest.param(
            [policy(allow("sqs:*", BUCKET))], Decision.IMPLICIT_DENY, id="unresolved-statement-for-another-action"
        ),
    ],
)
def test_unresolved_values_make_the_answer_unknown(identity: list[Doc], expected: Decision) -> None:
    result = _decide("s3:GetObject", "arn:aws:s3:::zeet/key", identity, context={"aws:PrincipalTag/team": "zeet"})
    assert result.decision is expected, result.explain()
    if expected is Decision.UNKNOWN:
        assert any(u.unresolved for u in result.uncertain)


# --- Pitfalls from peers -------------------------------------------------------------------------


def test_wildcard_only_action_needs_resource_star() -> None:
    # s3:ListAllMyBuckets takes no resource ARN: only an Allow on "*" grants it.
    assert _decide("s3:ListAllMyBuckets", "*", [policy(allow("s3:ListAllMyBuckets"))]).decision is Decision.ALLOWED
    assert (
        _decide("s3:ListAllMyBuckets", "*", [policy(allow("s3:*", "arn:aws:s3:::zeet"))]).decision
        is Decision.IMPLICIT_DENY
    )


def test_resource_scoped_scp_deny_is_not_hidden_by_a_star_request() -> None:
    # Simulating with ResourceArns=["*"] hides resource-scoped SCP denies; asked of the scope "*"
    # (every object), it stays visible.
    scp = policy(allow("*"), deny("s3:DeleteObject", "arn:aws:s3:::zeet-prod/*", Sid="KeepProd"))
    result = _decide_scope("s3:DeleteObject", "*", [policy(allow("s3:*"))], scps=[[scp]])
    assert result.decision is Decision.CONDITIONAL
    (uncertain,) = result.uncertain
    assert (uncertain.partial, uncertain.statement.sid) == (True, "KeepProd")


def test_deny_is_never_a_grant() -> None:
    result = _decide("s3:GetObject", "*", [policy(deny("s3:*"))], boundary=policy(deny("s3:Put*")))
    assert result.decision is Decision.EXPLICIT_DENY
    assert _decide("s3:ListBucket", "*", [policy(deny("s3:Get*"))]).decision is Decision.IMPLICIT_DENY


def test_boundary_only_principal_is_evaluated_not_crashed() -> None:
    result = _decide("s3:GetObject", boundary=ALLOW_ALL)
    assert result.decision is Decision.IMPLICIT_DENY
    assert result.blocking_layers == (Layer.IDENTITY,)


# --- One request as AWS receives it: the resource is literal -------------------------------------

RESOURCE_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"
NOTRESOURCE_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html"
NOTACTION_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html"
ZEET_BUCKETS = ["arn:aws:s3:::zeet-*", "arn:aws:s3:::zeet-*/*"]


@pytest.mark.parametrize(
    ("action", "resource", "statements", "expected"),
    [
        # RESOURCE_DOC: an action without resource-level permissions needs "Resource": "*".
        pytest.param(
            "s3:ListAllMyBuckets",
            "*",
            [allow("s3:ListAllMyBuckets")],
            Decision.ALLOWED,
            id="no-resource-action-star-allow",
        ),
        # NOTACTION_DOC: "arn:aws:s3:::*" does not grant ListAllMyBuckets, which needs "*".
        pytest.param(
            "s3:ListAllMyBuckets",
            "*",
            [allow("s3:*", "arn:aws:s3:::*")],
            Decision.IMPLICIT_DENY,
            id="arn-pattern-does-not-match-the-star-request",
        ),
        # NOTRESOURCE_DOC: NotResource applies to everything but what it lists, "*" included.
        pytest.param(
            "s3:ListAllMyBuckets",
            "*",
            [statement("Allow", Action="s3:*", NotResource=ZEET_BUCKETS)],
            Decision.ALLOWED,
            id="allow-notresource-grants-the-star-request",
        ),
        pytest.param(
            "cloudwatch:GetMetricData",
            "*",
            [allow("*"), statement("Deny", Action="*", NotResource=ZEET_BUCKETS)],
            Decision.EXPLICIT_DENY,
            id="deny-notresource-denies-the-star-request",
        ),
        pytest.param(
            "ec2:DescribeVpcs",
            "*",
            [allow("*"), deny("*", "arn:aws:s3:::zeet-*")],
            Decision.ALLOWED,
            id="deny-on-an-arn-spares-the-star-request",
        ),
        pytest.param(
            "sagemaker:ListModels",
            "*",
            [
                statement(
                    "Allow",
                    Action="sagemaker:*",
                    NotResource=[
                        "arn:aws:sagemaker:*:*:domain/*",
                        "arn:aws:sagemaker:*:*:user-profile/*",
                        "arn:aws:sagemaker:*:*:app/*",
                        "arn:aws:sagemaker:*:*:flow-definition/*",
                    ],
                )
            ],
            Decision.ALLOWED,
            id="sagemaker-notresource-grants-list-models",
        ),
        # RESOURCE_DOC: wildcards are in the policy; a request names one resource, its "*" a character.
        pytest.param(
            "s3:GetObject",
            "arn:aws:s3:::zeet-state/*",
            [allow("s3:GetObject", "arn:aws:s3:::zeet-state/?")],
            Decision.ALLOWED,
            id="question-mark-matches-a-literal-star",
        ),
        pytest.param(
            "s3:GetObject",
            "arn:aws:s3:::zeet-state/*",
            [
                allow("s3:GetObject", "arn:aws:s3:::zeet-state/*"),
                deny("s3:GetObject", "arn:aws:s3:::zeet-state/secret"),
            ],
            Decision.ALLOWED,
            id="literal-star-is-not-every-object",
        ),
        pytest.param(
            "s3:GetObject",
            "arn:aws:s3:::zeet-state/*",
            [allow("s3:GetObject", "arn:aws:s3:::zeet-state/a*")],
            Decision.IMPLICIT_DENY,
            id="literal-star-is-not-a-prefix",
        ),
    ],
)
def test_a_request_names_its_resource_literally(
    action: str, resource: str, statements: list[Doc], expected: Decision
) -> None:
    result = _decide(action, resource, [policy(*statements)])
    assert result.decision is expected, result.explain()
    assert result.resource == resource


@pytest.mark.parametrize(
    ("statements", "literal", "scope"),
    [
        pytest.param(
            [allow("*"), statement("Deny", Action="*", NotResource=ZEET_BUCKETS)],
            Decision.EXPLICIT_DENY,
            Decision.CONDITIONAL,
            id="notresource-guard",
        ),
        pytest.param([allow("s3:*", "arn:aws:s3:::*")], Decision.IMPLICIT_DENY, Decision.IMPLICIT_DENY, id="arn-allow"),
        pytest.param(
            [allow("s3:*"), deny("s3:*", "arn:aws:s3:::zeet-prod")],
            Decision.ALLOWED,
            Decision.CONDITIONAL,
            id="deny-on-one-bucket",
        ),
    ],
)
def test_the_two_questions_differ_on_star(statements: list[Doc], literal: Decision, scope: Decision) -> None:
    # evaluate(): the request on the text "*"; evaluate_scope(): on every resource "*" stands for.
    assert _decide("s3:ListBucket", "*", [policy(*statements)]).decision is literal
    assert _decide_scope("s3:ListBucket", "*", [policy(*statements)]).decision is scope


def test_policy_set_answers_both_questions_separately() -> None:
    policy_set = PolicySet.build([policy(allow("s3:*"), deny("s3:*", "arn:aws:s3:::zeet-prod"))])
    assert policy_set.decide_scope("s3:GetObject", "*").decision is Decision.CONDITIONAL
    assert policy_set.decide("s3:GetObject", "*").decision is Decision.ALLOWED
    assert policy_set.decide_scope("s3:GetObject", "*").decision is Decision.CONDITIONAL


# --- Answers decided outside the policies -------------------------------------------------------

STS_DOC = "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"
KMS_DOC = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    ("identity", "scps"),
    [
        # STS_DOC: "No permissions are required to perform this operation."
        pytest.param([], [], id="no-policy"),
        # STS_DOC: "... explicitly denies access to the sts:GetCallerIdentity action, you can still
        # perform this operation."
        pytest.param([policy(deny("sts:GetCallerIdentity"))], [], id="explicit-deny"),
        pytest.param([policy(allow("*", Condition=INSECURE))], [[policy(deny("*"))]], id="scp-deny"),
    ],
)
def test_get_caller_identity_is_always_allowed(identity: list[Doc], scps: list[list[Doc]]) -> None:
    result = _decide("sts:GetCallerIdentity", "*", identity, scps=scps)
    assert result.decision is Decision.ALLOWED
    assert result.notes == (GET_CALLER_IDENTITY_NOTE,)
    assert "needs no permission" in result.explain()


@pytest.mark.parametrize(
    ("action", "resource", "statements", "expected"),
    [
        # KMS_DOC: a key policy must allow access; identity policies alone never do.
        pytest.param("kms:Decrypt", KEY, [allow("kms:*")], Decision.CONDITIONAL, id="allow-on-a-key"),
        pytest.param(
            "kms:Decrypt",
            KEY,
            [allow("kms:Decrypt", Condition=INSECURE)],
            Decision.CONDITIONAL,
            id="conditional-allow-on-a-key",
        ),
        pytest.param("kms:Decrypt", KEY, [allow("s3:*")], Decision.IMPLICIT_DENY, id="no-allow-stays-denied"),
        pytest.param(
            "kms:Decrypt", KEY, [allow("kms:*"), deny("kms:Decrypt")], Decision.EXPLICIT_DENY, id="deny-stays-denied"
        ),
        # Actions that touch no key need no key policy.
        pytest.param("kms:CreateKey", "*", [allow("kms:*")], Decision.ALLOWED, id="create-key-on-star"),
        pytest.param(
            "kms:CreateAlias",
            "arn:aws:kms:us-east-1:111122223333:alias/zeet",
            [allow("kms:*")],
            Decision.ALLOWED,
            id="alias-arn",
        ),
    ],
)
def test_an_identity_only_allow_on_a_kms_key_needs_the_key_policy(
    action: str, resource: str, statements: list[Doc], expected: Decision
) -> None:
    result = _decide(action, resource, [policy(*statements)])
    assert result.decision is expected, result.explain()
    assert (KEY_POLICY_NOTE in result.notes) is (expected is Decision.CONDITIONAL)


def test_kms_key_scope_is_conditional_with_the_reason() -> None:
    result = _decide_scope("kms:DescribeKey", "arn:aws:kms:*:*:key/*", [policy(allow("*"))])
    assert result.decision is Decision.CONDITIONAL
    assert result.notes == (KEY_POLICY_NOTE,)
    assert result.notes[0].startswith("the key policy must also allow this account")


# --- Corners AWS's documentation leaves open: unknown, never a guess -------------------------------

ACTION_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"
QUEUES = "arn:aws:sqs:us-east-1:111122223333:zeet-jobs"


@pytest.mark.parametrize(
    ("statements", "action", "resource", "expected"),
    [
        # ACTION_DOC documents wildcards in the action name, not in the service prefix.
        pytest.param(
            [allow("*:GetBucketPolicy")],
            "s3:GetBucketPolicy",
            "arn:aws:s3:::zeet",
            Decision.UNKNOWN,
            id="wildcard-service-allow",
        ),
        pytest.param(
            [allow("s3:*"), deny("*:GetBucketPolicy")],
            "s3:GetBucketPolicy",
            "arn:aws:s3:::zeet",
            Decision.UNKNOWN,
            id="wildcard-service-deny",
        ),
        pytest.param(
            [allow("*:GetBucketPolicy")],
            "s3:GetObject",
            "arn:aws:s3:::zeet/k",
            Decision.IMPLICIT_DENY,
            id="wildcard-service-not-matching-either-way",
        ),
        pytest.param(
            [allow(["*:GetBucketPolicy", "s3:Get*"])],
            "s3:GetBucketPolicy",
            "arn:aws:s3:::zeet",
            Decision.ALLOWED,
            id="another-entry-decides",
        ),
        # RESOURCE_DOC documents six-field ARNs; a shorter one is read both ways.
        pytest.param(
            [allow("sqs:*", "arn:aws:sqs")], "sqs:SendMessage", QUEUES, Decision.UNKNOWN, id="short-arn-allow"
        ),
        pytest.param(
            [allow("sqs:*"), deny("sqs:*", "arn:aws:sqs:us-east-1")],
            "sqs:SendMessage",
            QUEUES,
            Decision.UNKNOWN,
            id="short-arn-deny",
        ),
        pytest.param(
            [allow("sqs:*", "arn:aws:sqs:eu-west-1")],
            "sqs:SendMessage",
            QUEUES,
            Decision.IMPLICIT_DENY,
            id="short-arn-other-region-either-way",
        ),
        pytest.param(
            [allow("codecommit:*", "arn:aws:codecommit:*")],
            "codecommit:GitPull",
            "arn:aws:codecommit:us-east-1:111122223333:zeet",
            Decision.ALLOWED,
            id="short-arn-ending-in-star-either-way",
        ),
    ],
)
def test_undocumented_readings_are_unknown(
    statements: list[Doc], action: str, resource: str, expected: Decision
) -> None:
    result = _decide(action, resource, [policy(*statements)])
    assert result.decision is expected, result.explain()
    if expected is Decision.UNKNOWN:
        (uncertain,) = result.uncertain
        assert uncertain.undecided
        assert "documents no meaning" in uncertain.undecided[0]


def test_short_arn_in_an_scp_is_matched_as_written() -> None:
    # An SCP entry "arn:aws:sqs" names no queue: the SCP's Deny does not apply.
    scp = policy(allow("*"), deny("*", "arn:aws:sqs"))
    assert _decide("sqs:SendMessage", QUEUES, [ALLOW_SQS], scps=[[scp]]).decision is Decision.ALLOWED
