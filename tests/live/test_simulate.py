"""--simulate: iam:SimulatePrincipalPolicy against our verdicts (stubbed: moto does not implement it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from zeet_iam_audit.audit.report import Disagreement, SimulationResult
from zeet_iam_audit.sources.live import (
    SIMULATE_BATCH,
    LiveOptions,
    LiveResult,
    open_session,
    read_live,
    simulate_role,
)

from .support import create_zeet_role, role_arn

ARN = role_arn("zeet-role", "/zeet/")
QUEUES = "arn:aws:sqs:*:*:zeet-*"


def _answer(action: str, decision: str, resource: str = "*") -> dict[str, Any]:
    """One EvaluationResults entry as AWS returns it."""
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision,
        "MatchedStatements": [],
        "MissingContextValues": [],
    }


@pytest.fixture
def live(aws: None) -> Iterator[tuple[LiveResult, Stubber]]:
    """A LiveResult whose session's IAM client is stubbed."""
    arn = create_zeet_role(boto3.client("iam"))
    assert arn == ARN
    session = open_session(LiveOptions())
    result = read_live(LiveOptions(role_arns=(arn,)), session=session)
    stubber = Stubber(session.client("iam"))
    with stubber:
        yield result, stubber


def test_agreements_and_disagreements(live: tuple[LiveResult, Stubber]) -> None:
    result, stubber = live
    stubber.add_response(
        "simulate_principal_policy",
        {
            "EvaluationResults": [
                _answer("sns:CreateTopic", "allowed"),
                _answer("sns:DeleteTopic", "implicitDeny"),
                _answer("iam:CreateUser", "explicitDeny"),
                _answer("sqs:CreateQueue", "allowed"),  # we say denied
                _answer("events:PutRule", "implicitDeny"),  # we say allowed
            ],
            "IsTruncated": False,
        },
        {
            "PolicySourceArn": ARN,
            "ActionNames": [
                "events:PutRule",
                "iam:CreateUser",
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sqs:CreateQueue",
            ],
        },
    )
    checks = [
        ("sns:CreateTopic", "*", "allowed"),
        ("sns:DeleteTopic", "*", "denied"),
        ("iam:CreateUser", "*", "denied"),
        ("sqs:CreateQueue", "*", "denied"),
        ("events:PutRule", "*", "allowed"),
        ("sqs:SendMessage", "*", "conditional"),  # skipped: depends on what neither side knows
        ("sqs:ReceiveMessage", "*", "unknown"),  # skipped
    ]

    simulation = simulate_role(result, ARN, checks)

    stubber.assert_no_pending_responses()
    assert simulation == SimulationResult(
        checked=5,
        disagreements=(
            Disagreement("events:PutRule", "*", ours="allowed", aws="implicitDeny"),
            Disagreement("sqs:CreateQueue", "*", ours="denied", aws="allowed"),
        ),
    )
    assert result.session.calls[-1] == "iam:SimulatePrincipalPolicy"


def test_requests_are_grouped_by_resource_and_batched(live: tuple[LiveResult, Stubber]) -> None:
    result, stubber = live
    many = [f"sqs:Action{n:03d}" for n in range(SIMULATE_BATCH + 3)]
    stubber.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [_answer("sns:CreateTopic", "allowed")]},
        {"PolicySourceArn": ARN, "ActionNames": ["sns:CreateTopic"]},
    )
    for batch in (many[:SIMULATE_BATCH], many[SIMULATE_BATCH:]):
        stubber.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [_answer(a, "allowed", QUEUES) for a in batch]},
            {"PolicySourceArn": ARN, "ActionNames": batch, "ResourceArns": [QUEUES]},
        )
    checks = [("sns:CreateTopic", "*", "allowed")] + [(a, QUEUES, "allowed") for a in many]

    simulation = simulate_role(result, ARN, checks)

    stubber.assert_no_pending_responses()
    assert simulation == SimulationResult(checked=len(checks))


def test_pages_of_results_are_followed(live: tuple[LiveResult, Stubber]) -> None:
    result, stubber = live
    params = {"PolicySourceArn": ARN, "ActionNames": ["sns:CreateTopic", "sns:DeleteTopic"]}
    stubber.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [_answer("sns:CreateTopic", "allowed")], "IsTruncated": True, "Marker": "page-2"},
        params,
    )
    stubber.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [_answer("sns:DeleteTopic", "allowed")], "IsTruncated": False},
        {**params, "Marker": "page-2"},
    )
    simulation = simulate_role(result, ARN, [("sns:CreateTopic", "*", "allowed"), ("sns:DeleteTopic", "*", "denied")])
    assert simulation == SimulationResult(
        checked=2, disagreements=(Disagreement("sns:DeleteTopic", "*", "denied", "allowed"),)
    )


def test_access_denied_is_an_error_in_the_result(live: tuple[LiveResult, Stubber]) -> None:
    result, stubber = live
    stubber.add_client_error(
        "simulate_principal_policy",
        service_error_code="AccessDenied",
        service_message="not authorized",
        http_status_code=403,
    )
    simulation = simulate_role(result, ARN, [("sns:CreateTopic", "*", "allowed")])
    assert simulation == SimulationResult(
        checked=0, error="AccessDenied on iam:SimulatePrincipalPolicy: grant it to use --simulate"
    )


def test_nothing_to_compare_makes_no_call(live: tuple[LiveResult, Stubber]) -> None:
    result, _ = live
    before = list(result.session.calls)
    simulation = simulate_role(result, ARN, [("sqs:SendMessage", "*", "conditional")])
    assert simulation == SimulationResult(checked=0)
    assert result.session.calls == before


@pytest.mark.usefixtures("aws")
def test_moto_not_implementing_it_is_an_error_in_the_result() -> None:
    arn = create_zeet_role(boto3.client("iam"))
    result = read_live(LiveOptions(role_arns=(arn,)))
    simulation = simulate_role(result, arn, [("sns:CreateTopic", "*", "allowed")])
    assert simulation == SimulationResult(
        checked=0,
        error="iam:SimulatePrincipalPolicy: The simulate_principal_policy action has not been implemented",
    )


def test_without_a_session_it_says_so() -> None:
    from zeet_iam_audit.sources.result import SourceResult

    bare = LiveResult(source=SourceResult((), (), "live", "live"), scps=(), scp_unknown_reason=None, gaad={}, calls=())
    assert simulate_role(bare, ARN, [("sns:CreateTopic", "*", "allowed")]) == SimulationResult(
        checked=0, error="no AWS session to simulate with"
    )
