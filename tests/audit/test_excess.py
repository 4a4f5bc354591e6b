"""Excess: the set algebra over per-policy action sets agrees with evaluating each action on "*"."""

from __future__ import annotations

import json
import random
from functools import cache

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data

from zeet_iam_audit.audit.action_sets import action_index, bit_positions
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.excess import PRIVILEGE_ESCALATION, audit_excess, classify_excess, plan_excess
from zeet_iam_audit.audit.report import RiskyGrant
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.model import AttachedPolicy, Policy, Role
from zeet_iam_audit.policy.evaluate import KEY_POLICY_NOTE, Decision, Layer
from zeet_iam_audit.policy.parse import parse_policy

from .support import make_role, statement


@cache
def _managed() -> tuple[Policy, ...]:
    data = json.loads(aws_managed_policies_data)
    return tuple(parse_policy(entry["Document"], name=name) for name, entry in sorted(data.items()))


EXTRA = (
    # Hand-made documents that exercise what managed policies rarely do.
    {
        "Version": "2012-10-17",
        "Statement": [
            statement("sqs:*", effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}),
            statement(["s3:*", "sns:Publish"], "arn:aws:s3:::bucket/*"),
            statement("ec2:*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}),
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "lambda:*", "NotResource": "arn:aws:lambda:*:*:function:zeet-*"},
        ],
    },
)


def _role(rng: random.Random) -> Role:
    managed = _managed()
    chosen = rng.sample(managed, rng.randint(1, 4))
    if rng.random() < 0.4:
        chosen.append(parse_policy(EXTRA[0], name="extra"))
    boundary = None
    if rng.random() < 0.3:
        picked = rng.choice(managed)
        boundary = AttachedPolicy(name=picked.name, arn=None, policy=picked)
    return Role(
        name="r",
        arn="arn:aws:iam::123456789012:role/r",
        source="test",
        policies=tuple(AttachedPolicy(name=p.name, arn=None, policy=p) for p in chosen),
        permissions_boundary=boundary,
    )


def _by_evaluation(evaluator: RoleEvaluator, action: str) -> str | None:
    decision = evaluator.policy_set.decide_scope(action, "*")  # allowed on every resource
    if decision.decision is Decision.ALLOWED or (decision.notes == (KEY_POLICY_NOTE,) and not decision.uncertain):
        # Excess counts what the role's own policies grant: a KMS key's key policy is not theirs.
        return "allowed"
    if decision.decision in (Decision.CONDITIONAL, Decision.UNKNOWN):
        return "conditional"
    if decision.decision is Decision.IMPLICIT_DENY and decision.blocking_layers == (Layer.IDENTITY,):
        named = any(
            statement.ref.effect.value == "Allow"
            for compiled in evaluator.policy_set.identity
            for statement, _ in compiled.candidates(action.lower())
        )
        return "scoped" if named else None
    return None


@pytest.mark.parametrize("seed", range(12))
def test_set_algebra_matches_per_action_evaluation(catalog: Catalog, seed: int) -> None:
    rng = random.Random(seed)
    index = action_index(catalog)
    evaluator = RoleEvaluator(_role(rng), index=index)
    allowed, conditional, scoped = (set(bit_positions(mask)) for mask in classify_excess(evaluator, index))
    sample = rng.sample(range(index.size), 1500)
    sample += sorted(allowed)[:300] + sorted(conditional)[:300] + sorted(scoped)[:300]
    for position in sample:
        action = index.full_name(position)
        if action.lower() == "sts:getcalleridentity":
            continue  # allowed whatever the policies say (it needs no permission): never a grant
        by_sets = (
            "allowed"
            if position in allowed
            else "conditional"
            if position in conditional
            else "scoped"
            if position in scoped
            else None
        )
        assert by_sets == _by_evaluation(evaluator, action), action


def test_needed_actions_are_not_excess(catalog: Catalog) -> None:
    index = action_index(catalog)
    role = make_role(statement(["sqs:CreateQueue", "sqs:DeleteQueue", "s3:GetObject"]))
    result = audit_excess(RoleEvaluator(role, index=index), plan_excess(index, {"sqs:createqueue": ("x",)}))
    assert result.total == 2
    assert {s.service: s.total for s in result.services} == {"sqs": 1, "s3": 1}


def test_boundary_and_denies_remove_excess(catalog: Catalog) -> None:
    index = action_index(catalog)
    role = make_role(statement(["sqs:*", "s3:*"]), statement("s3:*", effect="Deny"), boundary=[statement("sns:*")])
    assert audit_excess(RoleEvaluator(role, index=index), plan_excess(index, {})).total == 0


def test_unreadable_policy_makes_excess_conditional(catalog: Catalog) -> None:
    index = action_index(catalog)
    role = make_role(statement("sqs:SendMessage"), unreadable="arn:aws:iam::aws:policy/Gone")
    result = audit_excess(RoleEvaluator(role, index=index), plan_excess(index, {}))
    assert result.services[0].conditional == 1
    assert result.unknown_reasons == ("cannot read arn:aws:iam::aws:policy/Gone offline",)


def _risky(catalog: Catalog, role: Role, scps: tuple[tuple[Policy, ...], ...] = ()) -> dict[str, RiskyGrant]:
    index = action_index(catalog)
    result = audit_excess(RoleEvaluator(role, scps, index=index), plan_excess(index, {}))
    return {grant.action: grant for grant in result.risky}


def test_allow_iam_cancelled_by_deny_iam_is_not_risky(catalog: Catalog) -> None:
    assert _risky(catalog, make_role(statement("iam:*"), statement("iam:*", effect="Deny"))) == {}


def test_role_policy_writes_on_every_role_are_risky(catalog: Catalog) -> None:
    role = make_role(
        statement(["iam:AttachRolePolicy", "iam:PutRolePolicy"], "arn:aws:iam::*:role/*", Sid="ManageRoles")
    )
    risky = _risky(catalog, role)
    assert set(risky) == {"iam:AttachRolePolicy", "iam:PutRolePolicy"}
    grant = risky["iam:AttachRolePolicy"]
    assert grant.resource == "arn:aws:iam::123456789012:role/*"
    assert tuple(map(str, grant.statements)) == ("identity-based policy 'inline' Statement[0] (Sid \"ManageRoles\")",)
    assert "this one included" in grant.reason
    assert not grant.conditional


def test_writes_scoped_to_other_roles_are_not_risky_but_writes_to_the_role_itself_are(catalog: Catalog) -> None:
    scoped = statement(["iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"], "arn:aws:iam::*:role/app-*")
    assert _risky(catalog, make_role(scoped)) == {}  # neither every role nor this one
    own = statement(["iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"], "arn:aws:iam::*:role/zeet-*")
    risky = _risky(catalog, make_role(own, name="zeet-connection"))
    assert set(risky) == {"iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"}
    for grant in risky.values():
        assert grant.resource == "arn:aws:iam::123456789012:role/zeet-connection"
        assert grant.reason.startswith("self-escalation: ")


def test_pass_role_alone_is_not_an_escalation_but_with_run_instances_it_is(catalog: Catalog) -> None:
    assert _risky(catalog, make_role(statement("iam:PassRole"))) == {}
    role = make_role(statement("iam:PassRole", Sid="Pass"), statement("ec2:RunInstances", Sid="Launch"))
    grant = _risky(catalog, role)["iam:PassRole + ec2:RunInstances"]
    assert tuple(map(str, grant.statements)) == (
        "identity-based policy 'inline' Statement[0] (Sid \"Pass\")",
        "identity-based policy 'inline' Statement[1] (Sid \"Launch\")",
    )
    assert "launch an EC2 instance with any role" in grant.reason


def test_a_boundary_without_the_partner_action_removes_the_combination(catalog: Catalog) -> None:
    role = make_role(statement(["iam:PassRole", "lambda:CreateFunction"]), boundary=[statement("iam:PassRole")])
    assert _risky(catalog, role) == {}


def test_an_scp_that_denies_it_removes_the_risk(catalog: Catalog) -> None:
    full = parse_policy({"Version": "2012-10-17", "Statement": [statement("*")]}, name="FullAWSAccess")
    deny = parse_policy(
        {"Version": "2012-10-17", "Statement": [statement("iam:CreatePolicyVersion", effect="Deny")]},
        name="DenyPolicyVersions",
    )
    role = make_role(statement("iam:CreatePolicyVersion"))
    assert set(_risky(catalog, role)) == {"iam:CreatePolicyVersion"}
    assert _risky(catalog, role, ((full,), (full, deny))) == {}


def test_a_condition_on_the_grant_makes_it_conditional(catalog: Catalog) -> None:
    role = make_role(
        statement(
            "iam:CreateAccessKey",
            "arn:aws:iam::*:user/*",
            Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        )
    )
    assert _risky(catalog, role)["iam:CreateAccessKey"].conditional


def test_a_deny_on_some_roles_leaves_the_rest_risky(catalog: Catalog) -> None:
    role = make_role(
        statement("iam:UpdateAssumeRolePolicy"),
        statement("iam:UpdateAssumeRolePolicy", "arn:aws:iam::*:role/admin-*", effect="Deny"),
    )
    assert _risky(catalog, role)["iam:UpdateAssumeRolePolicy"].conditional


@pytest.mark.parametrize(
    "action",
    [
        "ec2-instance-connect:SendSSHPublicKey",
        "sagemaker:CreatePresignedNotebookInstanceUrl",
        "ssm:SendCommand",
        "ssm:StartSession",
        "iam:CreateLoginProfile",
        "iam:AddUserToGroup",
        "iam:SetDefaultPolicyVersion",
    ],
)
def test_known_single_action_escalations(catalog: Catalog, action: str) -> None:
    assert set(_risky(catalog, make_role(statement(action)))) == {action}


def test_everything_allowed_is_one_risky_grant_of_everything(catalog: Catalog) -> None:
    risky = _risky(catalog, make_role(statement("*", Sid="Admin")))
    assert tuple(map(str, risky["*"].statements)) == ("identity-based policy 'inline' Statement[0] (Sid \"Admin\")",)
    carved = _risky(catalog, make_role(statement("*"), statement("iam:*", effect="Deny")))
    assert "*" not in carved
    assert not any(action.startswith("iam:") for action in carved)
    assert "ssm:SendCommand" in carved


def test_every_escalation_action_is_in_the_catalogue(catalog: Catalog) -> None:
    assert [action for action in PRIVILEGE_ESCALATION if catalog.get(action) is None] == []


def test_a_grant_stays_risky_when_another_policy_cannot_be_read(catalog: Catalog) -> None:
    role = make_role(
        statement("iam:AttachRolePolicy", "arn:aws:iam::*:role/*"),
        unreadable="arn:aws:iam::123456789012:policy/Guardrails",
    )
    grant = _risky(catalog, role)["iam:AttachRolePolicy"]
    assert grant.conditional  # the unreadable policy might deny it
    scps_unknown = make_role(statement("iam:AttachRolePolicy", "arn:aws:iam::*:role/*"))
    index = action_index(catalog)
    evaluator = RoleEvaluator(
        scps_unknown, scp_unknown_reason="organizations:ListPoliciesForTarget was denied", index=index
    )
    assert [g.action for g in audit_excess(evaluator, plan_excess(index, {})).risky] == ["iam:AttachRolePolicy"]
