"""Account Administrator, evaluated over the catalogue and every layer, not read from the string "*"."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data

from zeet_iam_audit.audit.action_sets import action_index
from zeet_iam_audit.audit.administrator import AdministratorCheck, check_administrator, describe
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.model import AttachedPolicy, Policy, Role, Unresolved
from zeet_iam_audit.policy.evaluate import Decision
from zeet_iam_audit.policy.parse import parse_policy

from .support import make_role, statement


@cache
def managed(name: str) -> dict[str, Any]:
    """The default version of an AWS managed policy, as AWS publishes it (moto ships the texts)."""
    document: dict[str, Any] = json.loads(aws_managed_policies_data)[name]["Document"]
    return document


def _attached(name: str, document: dict[str, Any]) -> AttachedPolicy:
    return AttachedPolicy(name=name, arn=f"arn:aws:iam::aws:policy/{name}", policy=parse_policy(document, name=name))


def _role(*policies: AttachedPolicy, boundary: AttachedPolicy | None = None) -> Role:
    return Role(
        name="zeet",
        arn="arn:aws:iam::123456789012:role/zeet",
        source="test",
        policies=policies,
        permissions_boundary=boundary,
    )


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _check(
    catalog: Catalog, role: Role, scps: tuple[tuple[Policy, ...], ...] = (), scp_unknown: str | None = None
) -> AdministratorCheck:
    index = action_index(catalog)
    evaluator = RoleEvaluator(role, scps, scp_unknown_reason=scp_unknown, index=index)
    return check_administrator(evaluator, index)


ADMIN = _attached("AdministratorAccess", managed("AdministratorAccess"))
# The organization's root SCP, as AWS creates it, and a "deny unapproved services" SCP.
FULL_AWS_ACCESS = parse_policy(_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}), name="FullAWSAccess")
DENY_SAGEMAKER = parse_policy(
    _doc({"Sid": "DenySageMaker", "Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}),
    name="DenyUnapprovedServices",
)


def test_administrator_access_is_an_administrator(catalog: Catalog) -> None:
    check = _check(catalog, _role(ADMIN))
    assert check.decision is Decision.ALLOWED
    assert (check.missing, check.conditional, check.unknown) == ((), (), ())


def test_allow_everything_but_deny_iam_is_not_an_administrator(catalog: Catalog) -> None:
    role = make_role(statement("*"), statement("iam:*", effect="Deny", Sid="NoIam"))
    check = _check(catalog, role)
    assert check.decision is Decision.EXPLICIT_DENY
    [group] = check.missing
    assert group.actions == ("iam:*",)
    assert group.layer == "explicit deny"
    assert tuple(map(str, group.statements)) == ("identity-based policy 'inline' Statement[1] (Sid \"NoIam\")",)


def test_power_user_access_lacks_iam_organizations_and_account(catalog: Catalog) -> None:
    check = _check(catalog, _role(_attached("PowerUserAccess", managed("PowerUserAccess"))))
    assert check.decision is Decision.IMPLICIT_DENY
    [group] = check.missing
    assert group.layer == "no allow"
    assert group.reason == "no identity-based policy allows them on every resource"
    by_service = {item.split(":", 1)[0]: item for item in group.actions}
    assert set(by_service) == {"account", "iam", "organizations"}
    # PowerUserAccess gives back a few IAM and Organizations actions: named, not hidden in "iam:*".
    assert by_service["iam"] == ("iam:* except iam:CreateServiceLinkedRole, iam:DeleteServiceLinkedRole, iam:ListRoles")
    assert by_service["organizations"].startswith("organizations:* except organizations:DescribeEffectivePolicy")
    assert check.carved_out == group.actions


def test_a_boundary_that_lacks_a_service_carves_it_out(catalog: Catalog) -> None:
    boundary = AttachedPolicy(
        name="ZeetBoundary",
        arn="arn:aws:iam::123456789012:policy/ZeetBoundary",
        policy=parse_policy(
            _doc(
                {
                    "Sid": "EverythingButOrganizations",
                    "Effect": "Allow",
                    "NotAction": "organizations:*",
                    "Resource": "*",
                }
            ),
            name="ZeetBoundary",
        ),
    )
    check = _check(catalog, _role(ADMIN, boundary=boundary))
    assert check.decision is Decision.IMPLICIT_DENY
    [group] = check.missing
    assert (group.actions, group.layer) == (("organizations:*",), "permissions boundary")


def test_an_scp_that_denies_a_service_carves_it_out(catalog: Catalog) -> None:
    scps = ((FULL_AWS_ACCESS,), (FULL_AWS_ACCESS, DENY_SAGEMAKER))
    check = _check(catalog, _role(ADMIN), scps)
    assert check.decision is Decision.EXPLICIT_DENY
    [group] = check.missing
    assert (group.actions, group.layer) == (("sagemaker:*",), "SCP")
    assert tuple(map(str, group.statements)) == (
        "service control policy level 1 'DenyUnapprovedServices' Statement[0] (Sid \"DenySageMaker\")",
    )


def test_an_scp_level_without_full_access_allows_nothing(catalog: Catalog) -> None:
    check = _check(catalog, _role(ADMIN), ((FULL_AWS_ACCESS,), (DENY_SAGEMAKER,)))
    assert check.decision is Decision.IMPLICIT_DENY
    assert [(g.actions, g.layer) for g in check.missing] == [(("sagemaker:*",), "SCP"), (("*",), "SCP")]


def test_a_condition_on_the_admin_allow_makes_it_conditional(catalog: Catalog) -> None:
    role = make_role(statement("*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    check = _check(catalog, role)
    assert check.decision is Decision.CONDITIONAL
    assert check.missing == ()
    [open_item] = check.conditional
    assert open_item.keys == ("aws:SourceIp",)
    assert open_item.gates == ("Allow",)


def test_a_conditional_deny_makes_it_conditional(catalog: Catalog) -> None:
    role = make_role(
        statement("*"), statement("*", effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}})
    )
    check = _check(catalog, role)
    assert check.decision is Decision.CONDITIONAL
    assert check.conditional[0].gates == ("Deny",)


def test_a_deny_on_some_resources_carves_them_out(catalog: Catalog) -> None:
    role = make_role(
        statement("*"), {"Effect": "Deny", "Action": "lambda:*", "NotResource": "arn:aws:lambda:*:*:function:zeet-*"}
    )
    check = _check(catalog, role)
    assert check.decision is Decision.EXPLICIT_DENY
    assert check.missing[0].actions == ("lambda:*",)
    assert check.missing[0].reason.endswith("on some resources")


def test_an_allow_on_some_resources_is_no_administrator(catalog: Catalog) -> None:
    check = _check(catalog, make_role(statement("*", "arn:aws:s3:::zeet-*")))
    assert check.decision is Decision.IMPLICIT_DENY
    assert check.missing[0].actions == ("*",)


def test_an_unreadable_policy_makes_it_unknown_unless_a_deny_settles_it(catalog: Catalog) -> None:
    role = make_role(statement("*"), unreadable="arn:aws:iam::123456789012:policy/Guardrails")
    check = _check(catalog, role)
    assert check.decision is Decision.UNKNOWN
    assert check.unknown[0].reasons == ("cannot read arn:aws:iam::123456789012:policy/Guardrails offline",)
    denied = make_role(
        statement("*"), statement("iam:*", effect="Deny"), unreadable="arn:aws:iam::123456789012:policy/Guardrails"
    )
    assert _check(catalog, denied).decision is Decision.EXPLICIT_DENY


def test_an_unresolved_action_makes_it_unknown(catalog: Catalog) -> None:
    role = make_role(
        statement("*"),
        statement(
            ["s3:*", Unresolved("Ref DeniedAction (a parameter without a default; pass a value)")], effect="Deny"
        ),
    )
    check = _check(catalog, role)
    assert check.decision is Decision.EXPLICIT_DENY  # s3:* is denied whatever the parameter
    assert check.missing[0].actions == ("s3:*",)
    assert any("Ref DeniedAction" in reason for reason in check.unknown[0].reasons)


def test_scps_that_could_not_be_listed_make_it_unknown(catalog: Catalog) -> None:
    check = _check(catalog, _role(ADMIN), scp_unknown="organizations:ListPoliciesForTarget was denied")
    assert check.decision is Decision.UNKNOWN


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        pytest.param(["sqs:*", "sns:*"], ("sns:*", "sqs:*"), id="whole-services"),
        pytest.param(
            ["sqs:SendMessage", "sqs:ReceiveMessage"],
            ("sqs:ReceiveMessage", "sqs:SendMessage"),
            id="few-actions-listed",
        ),
        pytest.param(["*"], ("*",), id="everything"),
    ],
)
def test_describe_summarises_by_service(catalog: Catalog, patterns: list[str], expected: tuple[str, ...]) -> None:
    index = action_index(catalog)
    assert describe(index, index.action_element(patterns, negate=False)) == expected


def test_describe_counts_a_large_part_of_a_service(catalog: Catalog) -> None:
    index = action_index(catalog)
    [item] = describe(index, index.action_element(["ec2:Describe*"], negate=False))
    assert item.startswith(f"{index.pattern('ec2:describe*').bit_count()} of ")
    assert " ec2 actions (ec2:Describe" in item


def test_without_detail_only_the_decision_is_given(catalog: Catalog) -> None:
    index = action_index(catalog)
    for role in (make_role(statement("sqs:*")), make_role(statement("*"), statement("iam:*", effect="Deny"))):
        evaluator = RoleEvaluator(role, index=index)
        quick = check_administrator(evaluator, index, detail=False)
        assert quick.decision is check_administrator(evaluator, index).decision
        assert quick.missing == ()


def test_an_allow_on_an_unresolved_resource_is_unknown_not_missing(catalog: Catalog) -> None:
    resource = Unresolved("Ref AdminScope (a parameter without a default; pass a value)")
    check = _check(catalog, make_role(statement("*", resource)))
    assert check.decision is Decision.UNKNOWN
    assert check.missing == ()
    assert any("Ref AdminScope" in reason for reason in check.unknown[0].reasons)


def test_an_unresolved_value_that_cannot_change_the_answer_leaves_it_allowed(catalog: Catalog) -> None:
    queue = Unresolved("Fn::GetAtt Queue.Arn (known when the stack is deployed)")
    check = _check(catalog, make_role(statement("*"), statement("sqs:SendMessage", queue)))
    assert check.decision is Decision.ALLOWED


def test_each_carve_out_says_how_to_fix_it(catalog: Catalog) -> None:
    power_user = _check(catalog, _role(_attached("PowerUserAccess", managed("PowerUserAccess"))))
    fix = power_user.missing[0].fix
    assert fix is not None
    assert "AdministratorAccess" in fix.change
    assert [s.to_json() for s in fix.statements] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    denied = _check(catalog, make_role(statement("*"), statement("iam:*", effect="Deny", Sid="NoIam")))
    deny_fix = denied.missing[0].fix
    assert deny_fix is not None
    assert deny_fix.statements == ()  # no Allow lifts an explicit Deny
    assert 'Statement[1] (Sid "NoIam")' in deny_fix.change


@pytest.mark.parametrize("seed", range(4))
def test_the_verdict_agrees_with_evaluating_each_action(catalog: Catalog, seed: int) -> None:
    """What the check says is carved out (by set algebra) is what the evaluator denies action by
    action, and the rest is allowed: a random service denied, another under a condition, a third
    left out of the boundary."""
    import random

    index = action_index(catalog)
    rng = random.Random(seed)
    denied, gated, unbounded = rng.sample(sorted({span.service for span in index.spans}), 3)
    boundary = AttachedPolicy(
        name="Boundary",
        arn="arn:aws:iam::123456789012:policy/Boundary",
        policy=parse_policy(_doc({"Effect": "Allow", "NotAction": f"{unbounded}:*", "Resource": "*"}), name="Boundary"),
    )
    role = make_role(
        statement("*"),
        statement(f"{denied}:*", effect="Deny"),
        statement(f"{gated}:*", effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}),
    )
    role = Role(name=role.name, arn=role.arn, source="test", policies=role.policies, permissions_boundary=boundary)
    evaluator = RoleEvaluator(role, index=index)
    check = check_administrator(evaluator, index)
    assert [(g.actions, g.layer) for g in check.missing] == [
        ((f"{denied}:*",), "explicit deny"),
        ((f"{unbounded}:*",), "permissions boundary"),
    ]
    assert check.conditional[0].gates == ("Deny",)
    expected = {denied: Decision.EXPLICIT_DENY, unbounded: Decision.IMPLICIT_DENY, gated: Decision.CONDITIONAL}
    sample = rng.sample(range(index.size), 300) + [
        p for span in index.spans if span.service in expected for p in range(span.start, span.stop)
    ]
    for position in sample:
        action = index.full_name(position)
        got = evaluator.policy_set.decide(action, "*").decision
        assert got is expected.get(index.service_of[position], Decision.ALLOWED), action
