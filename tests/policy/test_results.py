"""The answer's values (policy/results.py): statement references, uncertainties, results in words."""

from __future__ import annotations

import pytest

from zeet_iam_audit.model import Effect, Origin
from zeet_iam_audit.policy.results import Decision, EvaluationResult, Layer, StatementRef, Uncertainty

DOCUMENT = ("$", "RoleDetailList", 0, "RolePolicyList", 1, "PolicyDocument")


def _ref(policy: str = "Zeet", **changes: object) -> StatementRef:
    values: dict[str, object] = {
        "layer": Layer.IDENTITY,
        "policy": policy,
        "index": 2,
        "sid": None,
        "effect": Effect.DENY,
        "origin": Origin("gaad.json", DOCUMENT),
    }
    values.update(changes)
    return StatementRef(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ref", "text"),
    [
        pytest.param(_ref(), "identity-based policy 'Zeet' Statement[2]", id="identity"),
        pytest.param(_ref(sid="NoSqs"), "identity-based policy 'Zeet' Statement[2] (Sid \"NoSqs\")", id="sid"),
        pytest.param(_ref(layer=Layer.BOUNDARY), "permissions boundary 'Zeet' Statement[2]", id="boundary"),
        pytest.param(
            _ref(layer=Layer.SCP, scp_level=1), "service control policy level 1 'Zeet' Statement[2]", id="scp-level"
        ),
        pytest.param(_ref('it\'s "odd"'), "identity-based policy 'it\\'s \"odd\"' Statement[2]", id="both-quotes"),
    ],
)
def test_how_reports_name_a_statement(ref: StatementRef, text: str) -> None:
    assert str(ref) == text


def test_the_route_to_a_statement_is_its_documents_then_statement_index() -> None:
    ref = _ref()
    assert ref.source == "gaad.json"
    assert ref.route == (*DOCUMENT, "Statement", 2)


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param(None, id="no-origin"),
        pytest.param(Origin("live: iam:GetRolePolicy zeet/Sqs", None), id="live"),
        pytest.param(Origin("AWS managed policy ReadOnlyAccess v1 (offline copy)", None), id="bundled"),
    ],
)
def test_a_statement_in_no_file_has_no_route(origin: Origin | None) -> None:
    ref = _ref(origin=origin)
    assert ref.route is None
    assert ref.source is None


def test_the_text_never_decides_the_place() -> None:
    # Two policies whose names read alike in a report still lead to their own documents.
    first = _ref("x' Statement[3]", origin=Origin("a.json", ("$", "A")))
    second = _ref("x", origin=Origin("a.json", ("$", "B")))
    assert first.route == ("$", "A", "Statement", 2)
    assert second.route == ("$", "B", "Statement", 2)
    assert first != second


def test_uncertainty_describes_what_it_depends_on() -> None:
    uncertainty = Uncertainty(
        _ref(effect=Effect.ALLOW), Effect.ALLOW, keys=("aws:RequestedRegion",), unresolved=("!Ref X",), partial=True
    )
    assert uncertainty.describe() == (
        "Allow in identity-based policy 'Zeet' Statement[2] depends on condition keys aws:RequestedRegion; "
        "unresolved values !Ref X; part of the resource scope"
    )


def test_a_result_explains_itself() -> None:
    deny = _ref(sid="NoSqs")
    result = EvaluationResult(
        "sqs:CreateQueue",
        "*",
        Decision.EXPLICIT_DENY,
        layer=Layer.IDENTITY,
        deciding=(deny,),
        uncertain=(Uncertainty(_ref(index=0, effect=Effect.ALLOW), Effect.ALLOW, keys=("b:Key", "A:key")),),
        notes=("a note",),
    )
    assert not result.allowed
    assert result.condition_keys == ("A:key", "b:Key")
    assert result.explain().splitlines() == [
        "sqs:CreateQueue on *: explicit_deny",
        "  denied by identity-based policy 'Zeet' Statement[2] (Sid \"NoSqs\")",
        "  Allow in identity-based policy 'Zeet' Statement[0] depends on condition keys b:Key, A:key",
        "  a note",
    ]
    implicit = EvaluationResult("s3:GetObject", "*", Decision.IMPLICIT_DENY, blocking_layers=(Layer.BOUNDARY,))
    assert implicit.explain().splitlines()[1] == "  no permissions boundary allows it"
