"""Per-policy action sets: catalogue positions as bit masks, Action entries and elements as masks
(matching as ``Catalog.expand`` does), each policy summarised into the sets its statements grant or
deny, and a focus (a few hundred positions renumbered) that must agree with the whole summary."""

from __future__ import annotations

import random
import tracemalloc
from typing import Any

import pytest

from zeet_iam_audit.audit.action_sets import ActionIndex, Focus, PolicyActions, bit_positions, union
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.model import Unresolved
from zeet_iam_audit.policy.compiled import CompiledPolicy
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.policy.results import Layer

from .support import statement
from .test_excess import EXTRA, _managed


@pytest.fixture(scope="module")
def index(catalog: Catalog) -> ActionIndex:
    return ActionIndex(catalog)


def _compiled(*statements: dict[str, Any]) -> CompiledPolicy:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return CompiledPolicy(parse_policy(document, name="ZeetPolicy"), Layer.IDENTITY, "ZeetPolicy")


def _names(index: ActionIndex, mask: int) -> list[str]:
    return [index.full_name(at) for at in bit_positions(mask)]


@pytest.mark.parametrize(
    ("masks", "expected"),
    [
        pytest.param([], 0, id="nothing"),
        pytest.param([0b0101], 0b0101, id="one"),
        pytest.param([0b0101, 0b0011, 1 << 300], 0b0111 | 1 << 300, id="several-overlapping"),
    ],
)
def test_union(masks: list[int], expected: int) -> None:
    assert union(masks) == expected


@pytest.mark.parametrize(
    "positions",
    [
        pytest.param([], id="empty"),
        pytest.param([0], id="the-first"),
        pytest.param([3, 7, 64, 1023], id="short-mask"),
        pytest.param([5, 22_000], id="long-mask-few-bits"),
        pytest.param(sorted(random.Random(3).sample(range(22_685), 2_000)), id="long-mask-many-bits"),
        pytest.param([*range(8_000, 8_100), 22_684], id="a-run-and-a-far-bit"),
    ],
)
def test_bit_positions_lists_every_set_bit_ascending(positions: list[int]) -> None:
    assert bit_positions(union(1 << at for at in positions)) == positions


@pytest.mark.parametrize(
    "pattern",
    [
        "s3:GetObject",
        "s3:Get*",
        "s3:*",
        "s3:Get?bject",
        "ec2:Describe*",
        "ec2:*Tags",
        "cloudformation:*Stack*",
        "iam:*Policy*Version",
        "s3:**Object",
        "sqs:Get*Attributes",
        "*:Describe*",
        "s?s:*",
        "*",
        "s3:NoSuchAction",
        "nosuchservice:*",
    ],
)
def test_a_pattern_covers_what_the_catalogue_expands_it_to(index: ActionIndex, catalog: Catalog, pattern: str) -> None:
    expected = sorted(index.position[info.full.lower()] for info in catalog.expand(pattern))
    assert bit_positions(index.pattern(pattern.lower())) == expected


def test_an_element_is_the_union_of_its_entries_and_not_action_the_rest(index: ActionIndex) -> None:
    entries = ["sqs:SendMessage", "SQS:receivemessage", "sns:*", "iam:PassRole", "no:Such"]
    expected = union(index.pattern(entry.lower()) for entry in entries)
    assert index.action_element(entries, negate=False) == expected
    assert index.action_element(entries, negate=True) == index.everything & ~expected
    assert "sqs:ReceiveMessage" in _names(index, expected)


@pytest.mark.parametrize(
    ("statement_", "kind"),
    [
        pytest.param(statement("sqs:SendMessage"), "allow_all", id="allow-everywhere"),
        pytest.param(
            statement("sqs:SendMessage", Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
            "allow_conditional",
            id="allow-everywhere-under-a-condition",
        ),
        pytest.param(
            statement("sqs:SendMessage", "arn:aws:sqs:*:123456789012:zeet-*"), "allow_scoped", id="allow-on-some-queues"
        ),
        pytest.param(
            statement("sqs:SendMessage", "arn:aws:sqs:*:*:${aws:PrincipalTag/team}-*"),
            "allow_scoped",
            id="allow-on-a-resource-with-a-variable",
        ),
        pytest.param(
            {"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": "arn:aws:sqs:*:*:admin-*"},
            "allow_scoped",
            id="allow-with-not-resource",
        ),
        pytest.param(statement("sqs:SendMessage", effect="Deny"), "deny_all", id="deny-everywhere"),
        pytest.param(
            statement("sqs:SendMessage", effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}),
            "deny_some",
            id="deny-under-a-condition",
        ),
        pytest.param(
            statement("sqs:SendMessage", "arn:aws:sqs:*:*:zeet-*", effect="Deny"), "deny_some", id="deny-on-some-queues"
        ),
    ],
)
def test_a_statement_puts_its_actions_in_one_set(index: ActionIndex, statement_: dict[str, Any], kind: str) -> None:
    summary = index.summary(_compiled(statement_))
    sets = {
        name: getattr(summary, name)
        for name in ("allow_all", "allow_conditional", "allow_scoped", "deny_all", "deny_some")
    }
    action = index.pattern("sqs:sendmessage")
    assert {name for name, mask in sets.items() if mask} == {kind}
    assert sets[kind] == action
    assert summary.mentions == (action if kind.startswith("allow") else 0)
    assert summary.unresolved is False


def test_a_policy_summary_joins_its_statements(index: ActionIndex) -> None:
    summary = index.summary(
        _compiled(
            statement(["sqs:*", "sns:Publish"]),
            statement("s3:GetObject", "arn:aws:s3:::zeet-artifacts/*"),
            statement("sqs:DeleteQueue", effect="Deny"),
        )
    )
    assert summary == PolicyActions(
        mentions=index.pattern("sqs:*") | index.pattern("sns:publish") | index.pattern("s3:getobject"),
        allow_all=index.pattern("sqs:*") | index.pattern("sns:publish"),
        allow_conditional=0,
        allow_scoped=index.pattern("s3:getobject"),
        deny_all=index.pattern("sqs:deletequeue"),
        deny_some=0,
        unresolved=False,
    )


def test_an_unresolved_action_marks_the_sets_incomplete(index: ActionIndex) -> None:
    summary = index.summary(
        _compiled(statement(["sqs:SendMessage", Unresolved("Ref ExtraActions (a parameter without a default)")]))
    )
    assert summary.unresolved is True
    assert _names(index, summary.allow_all) == ["sqs:SendMessage"]


# --- moved from test_excess and test_adversarial ---------------------------------------------------


def test_masks_list_their_positions_and_services(index: ActionIndex) -> None:
    chosen = [*random.Random(7).sample(range(index.size), 300), 0, index.size - 1]
    mask = index.mask_of(chosen)
    assert bit_positions(mask) == sorted(set(chosen))
    assert bit_positions(mask & -mask) == [0]
    slices = list(index.service_slices(mask))
    assert [span.service for span, _ in slices] == sorted({index.service_of[p] for p in chosen})
    for span, bits in slices:
        assert [span.start + p for p in bit_positions(bits)] == [
            p for p in sorted(set(chosen)) if span.start <= p < span.stop
        ]
    assert index.pattern("sqs:*") == index.mask_of(
        at for at in range(index.size) if index.full_name(at).lower().startswith("sqs:")
    )
    assert index.action_element(["sqs:*"], negate=True) == index.everything & ~index.pattern("sqs:*")


@pytest.mark.parametrize(
    "positions",
    [
        pytest.param([0], id="the-first-action"),
        pytest.param([22_684], id="the-last-action"),
        pytest.param([7, 8, 9], id="across-a-byte"),
        pytest.param([100, 5_000, 5_001, 20_000], id="services-far-apart"),
        pytest.param(list(range(0, 22_685, 3)), id="every-third-action"),
    ],
)
def test_service_shares_slice_every_part_by_the_masks_services(index: ActionIndex, positions: list[int]) -> None:
    """Excess is counted per service from the mask's nonzero bytes: every service with a bit is
    listed once, in order, with the parts' bits in it."""
    positions = [at for at in positions if at < index.size]
    mask = index.mask_of(positions)
    odd = index.mask_of(at for at in positions if at % 2)
    shares = list(index.service_shares(mask, odd, 0))
    expected = sorted({index.service_of[at] for at in positions})
    assert [span.service for span, _, _ in shares] == expected
    for span, bits, (odd_bits, nothing) in shares:
        assert [span.start + p for p in bit_positions(bits)] == [at for at in positions if span.start <= at < span.stop]
        assert [span.start + p for p in bit_positions(odd_bits)] == [
            at for at in positions if span.start <= at < span.stop and at % 2
        ]
        assert nothing == 0


def test_a_service_with_bits_apart_is_listed_once(index: ActionIndex) -> None:
    """A service whose chosen actions lie bytes apart (zero bytes between them) is still one entry."""
    span = max(index.spans, key=lambda span: span.stop - span.start)
    mask = index.mask_of([span.start, span.stop - 1])
    assert [(found.service, bits) for found, bits in index.service_slices(mask)] == [
        (span.service, 1 | 1 << (span.stop - span.start - 1))
    ]


@pytest.mark.parametrize("seed", range(3))
def test_a_focus_summary_is_the_whole_summary_restricted_to_its_actions(index: ActionIndex, seed: int) -> None:
    """Features read policies through a focus (a few hundred actions renumbered); its summary of
    every AWS managed policy, and of the hand-made ones, must equal the whole-catalogue summary
    restricted to the focus."""
    rng = random.Random(seed)
    # Required-looking actions of a few services, plus random ones anywhere in the catalogue.
    chosen = [p for p in range(index.size) if index.service_of[p] in ("sqs", "iam", "s3", "ec2", "lambda")]
    focus = Focus(index, rng.sample(chosen, 300) + rng.sample(range(index.size), 200))
    for policy in (*_managed(), *(parse_policy(document) for document in EXTRA)):
        compiled = CompiledPolicy(policy, Layer.IDENTITY, policy.name or "policy")
        whole, local = index.summary(compiled), focus.summary(compiled)
        expected = (whole.mentions, whole.allow_all, whole.deny_all | whole.deny_some)
        got = (local.mentions, local.allow_all, local.denied)
        for mask, local_mask in zip(expected, got, strict=True):
            assert focus.positions(local_mask) == [p for p in focus.order if mask >> p & 1], policy.name


def test_large_action_sets_are_not_copied_per_statement(index: ActionIndex) -> None:
    """A policy of many statements that each cover nearly every action (NotAction of one) must not
    hold a copy of a 20,000-action set per statement: memory stays flat, not linear in them."""
    names = [index.full_name(at) for at in range(400)]
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "NotAction": name, "Resource": "*"} for name in names]
        + [{"Effect": "Allow", "Action": ["*", name], "Resource": "*"} for name in names],
    }
    compiled = CompiledPolicy(parse_policy(document), Layer.IDENTITY, "many")
    tracemalloc.start()
    try:
        summary = index.summary(compiled)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.allow_all == index.everything
    # One full set is ~0.5 MB; 800 kept copies would be ~400 MB.
    assert peak < 40 * 1024 * 1024, f"summarising took {peak // (1024 * 1024)} MB"
