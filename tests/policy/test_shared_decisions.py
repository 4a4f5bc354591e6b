"""Decisions are shared between policy sets that hold the same policies naming the action: what any
other policy of the set holds must not matter, and what the naming ones hold always must."""

from __future__ import annotations

import random

import pytest

from zeet_iam_audit.model import PolicyKind
from zeet_iam_audit.policy.evaluate import CompiledPolicy, Decision, Layer, PolicySet, compile_policy
from zeet_iam_audit.policy.parse import parse_policy

from .support import allow, deny, policy, statement


def _compiled(document: dict[str, object], name: str) -> CompiledPolicy:
    return compile_policy(parse_policy(document, kind=PolicyKind.IDENTITY, name=name))


SEND = _compiled(policy(allow("sqs:SendMessage")), "send")
READ_S3 = _compiled(policy(allow("s3:GetObject")), "read-s3")
DENY_SEND = _compiled(policy(deny("sqs:SendMessage")), "deny-send")
DENY_ALL_BUT_S3 = _compiled(policy(statement("Deny", NotAction="s3:*", Resource="*")), "deny-not-s3")
MAYBE = _compiled(policy(allow("sqs:*", Condition={"Bool": {"aws:SecureTransport": "true"}})), "maybe")


def _set(*identity: CompiledPolicy, boundary: CompiledPolicy | None = None) -> PolicySet:
    if boundary is not None:  # the same document, compiled as a boundary
        boundary = compile_policy(boundary.policy, Layer.BOUNDARY, name=boundary.policy.name)
    return PolicySet(identity=identity, boundary=boundary)


def test_policies_that_do_not_name_the_action_share_the_decision() -> None:
    alone = _set(SEND).decide("sqs:SendMessage")
    with_other = _set(SEND, READ_S3).decide("sqs:SendMessage")
    assert alone.decision is Decision.ALLOWED
    assert with_other == alone


@pytest.mark.parametrize(
    ("identity", "boundary", "expected"),
    [
        ((SEND, DENY_SEND), None, Decision.EXPLICIT_DENY),
        ((SEND, DENY_ALL_BUT_S3), None, Decision.EXPLICIT_DENY),  # NotAction names sqs by leaving it out
        ((READ_S3, SEND), READ_S3, Decision.IMPLICIT_DENY),  # the boundary does not allow it
        ((SEND,), SEND, Decision.ALLOWED),
        ((MAYBE,), None, Decision.CONDITIONAL),
        ((SEND, MAYBE), None, Decision.ALLOWED),
        ((READ_S3,), None, Decision.IMPLICIT_DENY),
    ],
)
def test_a_policy_that_names_the_action_changes_the_shared_decision(
    identity: tuple[CompiledPolicy, ...], boundary: CompiledPolicy | None, expected: Decision
) -> None:
    _set(SEND).decide("sqs:SendMessage")  # a decision already shared
    assert _set(*identity, boundary=boundary).decide("sqs:SendMessage").decision is expected


def test_shared_decisions_equal_fresh_ones() -> None:
    """Random sets of the policies above: each decision equals one worked out with nothing shared."""
    pool = [SEND, READ_S3, DENY_SEND, DENY_ALL_BUT_S3, MAYBE]
    rng = random.Random(3)
    for _ in range(300):
        identity = rng.sample(pool, rng.randint(1, len(pool)))
        boundary = rng.choice([None, *pool])
        action = rng.choice(["sqs:SendMessage", "s3:GetObject", "sqs:ReceiveMessage", "ec2:RunInstances"])
        policy_set = _set(*identity, boundary=boundary)
        # New compiled objects: nothing shared with the decisions made so far.
        fresh = PolicySet(
            identity=tuple(CompiledPolicy(p.policy, Layer.IDENTITY, p.policy.name) for p in identity),
            boundary=None
            if boundary is None
            else CompiledPolicy(boundary.policy, Layer.BOUNDARY, boundary.policy.name),
        )
        assert policy_set.decide(action) == fresh.decide(action), (action, identity, boundary)
