"""Excess: the set algebra over per-policy action sets agrees with evaluating each action on "*"."""

from __future__ import annotations

import json
import random
from functools import cache

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data

from zeet_iam_audit.audit.action_sets import action_index, bit_positions
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.excess import audit_excess, classify_excess
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
    {"Version": "2012-10-17", "Statement": [
        statement("sqs:*", effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}),
        statement(["s3:*", "sns:Publish"], "arn:aws:s3:::bucket/*"),
        statement("ec2:*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}),
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:*", "NotResource": "arn:aws:lambda:*:*:function:zeet-*"},
    ]},
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
    return Role(name="r", arn="arn:aws:iam::123456789012:role/r", source="test",
                policies=tuple(AttachedPolicy(name=p.name, arn=None, policy=p) for p in chosen),
                permissions_boundary=boundary)


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
    sample = rng.sample(range(len(index.infos)), 1500)
    sample += sorted(allowed)[:300] + sorted(conditional)[:300] + sorted(scoped)[:300]
    for position in sample:
        action = index.infos[position].full
        if action.lower() == "sts:getcalleridentity":
            continue  # allowed whatever the policies say (it needs no permission): never a grant
        by_sets = ("allowed" if position in allowed else "conditional" if position in conditional
                   else "scoped" if position in scoped else None)
        assert by_sets == _by_evaluation(evaluator, action), action


def test_needed_actions_are_not_excess(catalog: Catalog) -> None:
    index = action_index(catalog)
    role = make_role(statement(["sqs:CreateQueue", "sqs:DeleteQueue", "s3:GetObject"]))
    result = audit_excess(RoleEvaluator(role, index=index), index, {"sqs:createqueue": ("x",)})
    assert result.total == 2
    assert {s.service: s.total for s in result.services} == {"sqs": 1, "s3": 1}


def test_boundary_and_denies_remove_excess(catalog: Catalog) -> None:
    index = action_index(catalog)
    role = make_role(statement(["sqs:*", "s3:*"]), statement("s3:*", effect="Deny"),
                     boundary=[statement("sns:*")])
    assert audit_excess(RoleEvaluator(role, index=index), index, {}).total == 0


def test_unreadable_policy_makes_excess_conditional(catalog: Catalog) -> None:
    index = action_index(catalog)
    role = make_role(statement("sqs:SendMessage"), unreadable="arn:aws:iam::aws:policy/Gone")
    result = audit_excess(RoleEvaluator(role, index=index), index, {})
    assert result.services[0].conditional == 1
    assert result.unknown_reasons == ("cannot read arn:aws:iam::aws:policy/Gone offline",)


def test_masks_list_their_positions_and_services(catalog: Catalog) -> None:
    index = action_index(catalog)
    chosen = [*random.Random(7).sample(range(index.size), 300), 0, index.size - 1]
    mask = index.mask_of(chosen)
    assert bit_positions(mask) == sorted(set(chosen))
    assert bit_positions(mask & -mask) == [0]
    slices = list(index.service_slices(mask, index.all_spans))
    assert [span.service for span, _ in slices] == sorted({index.service_of[p] for p in chosen})
    for span, bits in slices:
        assert [span.start + p for p in bit_positions(bits)] == [p for p in sorted(set(chosen))
                                                                  if span.start <= p < span.stop]
    assert index.pattern("sqs:*") == index.mask_of(
        at for at, name in enumerate(index.full_names) if name.lower().startswith("sqs:"))
    assert index.action_element(["sqs:*"], negate=True) == index.everything & ~index.pattern("sqs:*")


def test_a_policys_services_cover_what_it_names(catalog: Catalog) -> None:
    """Excess is counted over the services the role's Allows may name: that set must never miss one."""
    index = action_index(catalog)
    for actions in (["sqs:SendMessage", "s3:Get*"], ["*:Describe*"], ["ec2:*", "iam:PassRole"], ["*"]):
        role = make_role(statement(actions))
        summary = index.summary(RoleEvaluator(role, index=index).policy_set.identity[0])
        named = {index.service_of[p] for p in bit_positions(summary.mentions)}
        spans = {index.spans[at].service for at in bit_positions(summary.spans)}
        assert named, actions
        assert named <= spans, actions


@pytest.mark.parametrize("seed", range(3))
def test_a_focus_summary_is_the_whole_summary_restricted_to_its_actions(catalog: Catalog, seed: int) -> None:
    """Features read policies through a focus (a few hundred actions renumbered); its summary of
    every AWS managed policy, and of the hand-made ones, must equal the whole-catalogue summary
    restricted to the focus."""
    from zeet_iam_audit.audit.action_sets import Focus
    from zeet_iam_audit.policy.evaluate import compile_policy

    index = action_index(catalog)
    rng = random.Random(seed)
    # Required-looking actions of a few services, plus random ones anywhere in the catalogue.
    chosen = [p for p in range(index.size) if index.service_of[p] in ("sqs", "iam", "s3", "ec2", "lambda")]
    focus = Focus(index, rng.sample(chosen, 300) + rng.sample(range(index.size), 200))
    for policy in (*_managed(), *(parse_policy(document) for document in EXTRA)):
        compiled = compile_policy(policy)
        whole, local = index.summary(compiled), focus.summary(compiled)
        expected = (whole.mentions, whole.allow_all, whole.deny_all | whole.deny_some)
        got = (local.mentions, local.allow_all, local.denied)
        for mask, local_mask in zip(expected, got, strict=True):
            assert focus.positions(local_mask) == [p for p in focus.order if mask >> p & 1], policy.name
