"""Compiled policies: what one policy answers for a request (``CompiledPolicy.part``), which of its
statements may name an action (``candidates``), and a layer's policies joined (``evaluate_layer``).

A part is (certain allows, possible allows, certain denies, possible denies); these tests name the
statements by Sid and read each possible one's reasons (condition keys, unresolved values, partial).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import pytest

from zeet_iam_audit.model import Effect, Unresolved
from zeet_iam_audit.policy.compiled import CompiledPolicy, Part, Request, evaluate_layer
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.policy.results import Layer

from .support import allow, deny, policy, statement

BUCKET = "arn:aws:s3:::zeet-artifacts"
REGION_LOCK = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}


def _compiled(document: dict[str, Any], name: str = "ZeetPolicy", layer: Layer = Layer.IDENTITY) -> CompiledPolicy:
    return CompiledPolicy(parse_policy(document, name=name), layer, name)


def _request(
    action: str,
    scope: str = "*",
    context: Mapping[str, tuple[str, ...]] | None = None,
    *,
    complete: bool = True,
    partial_allows: bool = False,
) -> Request:
    """A request as the evaluator makes one: the action lower-cased, context keys lower-cased."""
    lowered = action.lower()
    context_key = None if context is None else tuple(sorted(context.items()))
    return Request(
        lowered, scope, context, complete, partial_allows, (lowered, scope, context_key, complete, partial_allows)
    )


class Seen(NamedTuple):
    """A part, by Sid; a possible statement as (Sid, condition keys, unresolved reasons, partial)."""

    allows: tuple[str | None, ...] = ()
    possible_allows: tuple[tuple[str | None, tuple[str, ...], tuple[str, ...], bool], ...] = ()
    denies: tuple[str | None, ...] = ()
    possible_denies: tuple[tuple[str | None, tuple[str, ...], tuple[str, ...], bool], ...] = ()


def _seen(part: Part) -> Seen:
    certain_allows, possible_allows, certain_denies, possible_denies = part
    return Seen(
        tuple(ref.sid for ref in certain_allows),
        tuple((u.statement.sid, u.keys, u.unresolved, u.partial) for u in possible_allows),
        tuple(ref.sid for ref in certain_denies),
        tuple((u.statement.sid, u.keys, u.unresolved, u.partial) for u in possible_denies),
    )


CASES = [
    pytest.param(
        policy(allow("s3:GetObject", f"{BUCKET}/*", Sid="Read")),
        _request("s3:GetObject", f"{BUCKET}/builds/app.zip"),
        Seen(allows=("Read",)),
        id="allow-on-the-whole-scope",
    ),
    pytest.param(
        policy(allow("S3:getObject", f"{BUCKET}/*", Sid="Read")),
        _request("s3:GetObject", f"{BUCKET}/builds/app.zip"),
        Seen(allows=("Read",)),
        id="action-names-ignore-case",
    ),
    pytest.param(
        policy(allow("s3:GetObject", f"{BUCKET}/*", Sid="Read")),
        _request("s3:GetObject", "arn:aws:s3:::other-bucket/key"),
        Seen(),
        id="allow-on-another-bucket-is-nothing",
    ),
    pytest.param(
        policy(allow("s3:GetObject", f"{BUCKET}/*", Sid="Read")),
        _request("s3:GetObject", "arn:aws:s3:::*", partial_allows=True),
        Seen(possible_allows=(("Read", (), (), True),)),
        id="allow-on-part-of-the-scope-is-partial",
    ),
    pytest.param(
        policy(allow("s3:GetObject", f"{BUCKET}/*", Sid="Read")),
        _request("s3:GetObject", "arn:aws:s3:::*"),
        Seen(),
        id="allow-on-part-of-the-scope-without-partial-allows",
    ),
    pytest.param(
        policy(allow("s3:Get*", Sid="Reads")),
        _request("s3:PutObject"),
        Seen(),
        id="glob-that-does-not-match",
    ),
    pytest.param(
        policy(allow("sqs:*", Sid="Queues", Condition=REGION_LOCK)),
        _request("sqs:CreateQueue"),
        Seen(possible_allows=(("Queues", ("aws:RequestedRegion",), (), False),)),
        id="condition-without-a-context-depends-on-its-key",
    ),
    pytest.param(
        policy(allow("sqs:*", Sid="Queues", Condition=REGION_LOCK)),
        _request("sqs:CreateQueue", context={"aws:requestedregion": ("us-east-1",)}),
        Seen(allows=("Queues",)),
        id="condition-met",
    ),
    pytest.param(
        policy(allow("sqs:*", Sid="Queues", Condition=REGION_LOCK)),
        _request("sqs:CreateQueue", context={"aws:requestedregion": ("eu-west-1",)}),
        Seen(),
        id="condition-not-met",
    ),
    pytest.param(
        policy(allow("sqs:*", Sid="Queues", Condition=REGION_LOCK)),
        _request("sqs:CreateQueue", context={}, complete=False),
        Seen(possible_allows=(("Queues", ("aws:RequestedRegion",), (), False),)),
        id="key-absent-from-a-partial-context-is-unknown",
    ),
    pytest.param(
        policy(allow("sqs:*", Sid="Queues", Condition=REGION_LOCK)),
        _request("sqs:CreateQueue", context={}),
        Seen(),
        id="key-absent-from-a-complete-context-fails-the-condition",
    ),
    pytest.param(
        policy(allow("s3:*", Sid="All"), deny("s3:DeleteObject", Sid="NoDelete")),
        _request("s3:DeleteObject", f"{BUCKET}/key"),
        Seen(allows=("All",), denies=("NoDelete",)),
        id="allow-and-deny-both-reported",
    ),
    pytest.param(
        policy(deny("s3:*", f"{BUCKET}/state/*", Sid="KeepState")),
        _request("s3:DeleteObject", f"{BUCKET}/*"),
        Seen(possible_denies=(("KeepState", (), (), True),)),
        id="deny-on-part-of-the-scope-is-a-partial-possible-deny",
    ),
    pytest.param(
        policy(deny("s3:*", Sid="TlsOnly", Condition={"Bool": {"aws:SecureTransport": "false"}})),
        _request("s3:GetObject", f"{BUCKET}/key"),
        Seen(possible_denies=(("TlsOnly", ("aws:SecureTransport",), (), False),)),
        id="conditional-deny-without-a-context",
    ),
    pytest.param(
        policy(statement("Allow", NotAction="iam:*", Resource="*", Sid="AllButIam")),
        _request("iam:CreateUser"),
        Seen(),
        id="not-action-excludes-what-it-names",
    ),
    pytest.param(
        policy(statement("Allow", NotAction="iam:*", Resource="*", Sid="AllButIam")),
        _request("ec2:RunInstances"),
        Seen(allows=("AllButIam",)),
        id="not-action-covers-the-rest",
    ),
    pytest.param(
        policy(statement("Allow", Action="s3:*", NotResource=f"{BUCKET}/secrets/*", Sid="NotSecrets")),
        _request("s3:GetObject", f"{BUCKET}/secrets/db"),
        Seen(),
        id="not-resource-excludes-what-it-names",
    ),
    pytest.param(
        policy(statement("Allow", Action="s3:*", NotResource=f"{BUCKET}/secrets/*", Sid="NotSecrets")),
        _request("s3:GetObject", f"{BUCKET}/builds/app.zip"),
        Seen(allows=("NotSecrets",)),
        id="not-resource-covers-the-rest",
    ),
    pytest.param(
        policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*", Sid="Home")),
        _request("s3:GetObject", "arn:aws:s3:::home/alice/notes.txt", {"aws:username": ("alice",)}),
        Seen(allows=("Home",)),
        id="policy-variable-filled-from-the-context",
    ),
    pytest.param(
        policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*", Sid="Home")),
        _request("s3:GetObject", "arn:aws:s3:::home/alice/notes.txt", {"aws:username": ("bob",)}),
        Seen(),
        id="policy-variable-with-another-value",
    ),
    pytest.param(
        policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*", Sid="Home")),
        _request("s3:GetObject", "arn:aws:s3:::home/alice/notes.txt"),
        Seen(possible_allows=(("Home", ("aws:username",), (), False),)),
        id="policy-variable-without-a-context",
    ),
    pytest.param(
        policy(allow(["sqs:SendMessage", Unresolved("Ref QueueActions (a parameter without a default)")], Sid="T")),
        _request("sqs:DeleteQueue"),
        Seen(possible_allows=(("T", (), ("Ref QueueActions (a parameter without a default)",), False),)),
        id="unresolved-action-may-cover-any-action",
    ),
    pytest.param(
        policy(allow(["sqs:SendMessage", Unresolved("Ref QueueActions (a parameter without a default)")], Sid="T")),
        _request("sqs:SendMessage"),
        Seen(allows=("T",)),
        id="named-action-beside-an-unresolved-one-is-certain",
    ),
    pytest.param(
        policy(allow("sqs:SendMessage", Unresolved("Fn::GetAtt Jobs.Arn"), Sid="T")),
        _request("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:jobs"),
        Seen(possible_allows=(("T", (), ("Fn::GetAtt Jobs.Arn",), False),)),
        id="unresolved-resource-is-never-a-match",
    ),
]


@pytest.mark.parametrize(("document", "request_", "seen"), CASES)
def test_what_one_policy_answers(document: dict[str, Any], request_: Request, seen: Seen) -> None:
    compiled = _compiled(document)
    assert _seen(compiled.part(request_)) == seen
    # Asked again, the same answer (a managed policy attached to many roles is asked many times).
    assert _seen(compiled.part(request_)) == seen


def test_statement_refs_name_the_layer_policy_index_and_effect() -> None:
    compiled = _compiled(policy(allow("s3:*", Sid="All"), deny("s3:DeleteObject")), "Boundary", Layer.BOUNDARY)
    allows, _, denies, _ = compiled.part(_request("s3:DeleteObject"))
    assert [(r.layer, r.policy, r.index, r.sid, r.effect) for r in (*allows, *denies)] == [
        (Layer.BOUNDARY, "Boundary", 0, "All", Effect.ALLOW),
        (Layer.BOUNDARY, "Boundary", 1, None, Effect.DENY),
    ]


def test_version_2008_reads_variables_as_literal_text() -> None:
    """Policy variables exist only from version 2012-10-17: before, ``${aws:username}`` is text."""
    document = policy(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*", Sid="Home"), version="2008-10-17")
    compiled = _compiled(document)
    context = {"aws:username": ("alice",)}
    assert _seen(compiled.part(_request("s3:GetObject", "arn:aws:s3:::home/alice/x", context))) == Seen()


@pytest.mark.parametrize(
    ("action", "sids"),
    [
        pytest.param("sqs:sendmessage", ["Queues", "Everything"], id="literal-and-star"),
        pytest.param("s3:getobject", ["Reads", "Everything"], id="glob-of-the-service"),
        pytest.param("s3:putobject", ["Everything"], id="only-star"),
        pytest.param("iam:createrole", ["Everything"], id="another-service-only-star"),
    ],
)
def test_candidates_are_the_statements_that_may_name_the_action(action: str, sids: list[str]) -> None:
    compiled = _compiled(
        policy(
            allow(["sqs:SendMessage", "sqs:ReceiveMessage"], Sid="Queues"),
            allow("s3:Get*", Sid="Reads"),
            deny("*", Sid="Everything", Condition={"Bool": {"aws:SecureTransport": "false"}}),
        )
    )
    assert [statement_.ref.sid for statement_, _ in compiled.candidates(action)] == sids


def test_a_layer_joins_its_policies_parts_in_order() -> None:
    first = _compiled(policy(allow("sqs:*", Sid="Queues")), "ZeetQueues")
    silent = _compiled(policy(allow("s3:*", Sid="Storage")), "ZeetStorage")
    second = _compiled(
        policy(
            deny("sqs:DeleteQueue", Sid="KeepQueues"), allow("sqs:DeleteQueue", Sid="Cleanup", Condition=REGION_LOCK)
        ),
        "Guardrails",
    )
    part = evaluate_layer([first, silent, second], _request("sqs:DeleteQueue"))
    certain_allows, possible_allows, certain_denies, _ = part
    assert [(r.policy, r.sid) for r in certain_allows] == [("ZeetQueues", "Queues")]
    assert [(u.statement.policy, u.statement.sid) for u in possible_allows] == [("Guardrails", "Cleanup")]
    assert [(r.policy, r.sid) for r in certain_denies] == [("Guardrails", "KeepQueues")]


def test_a_layer_of_policies_that_do_not_name_the_action_answers_nothing() -> None:
    policies = [_compiled(policy(allow("s3:*"))), _compiled(policy(deny("ec2:*")))]
    assert evaluate_layer(policies, _request("sqs:SendMessage")) == ((), (), (), ())
    assert evaluate_layer([], _request("sqs:SendMessage")) == ((), (), (), ())
