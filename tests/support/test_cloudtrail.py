"""CloudTrail events → authorization failures: which JSON is CloudTrail's (one event, a trail file, a
list, ``aws cloudtrail lookup-events`` output), and what a denied event says: its action from
``eventSource`` and ``eventName``, its principal, its resource, its place in the text."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.support.cloudtrail import cloudtrail_events, cloudtrail_found
from zeet_iam_audit.support.denials import find_denials

from .conftest import ERRORS

SESSION = "arn:aws:sts::123456789012:assumed-role/zeet-cloud-connection/zeet-1714639277"


def _event(source: str, name: str, **fields: Any) -> dict[str, Any]:
    """A CloudTrail management event as a trail file holds it (the fields the tool reads and a few more)."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": SESSION, "accountId": "123456789012"},
        "eventTime": "2026-05-02T08:41:22Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "34.201.12.88",
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}/{name}")),
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012",
        **fields,
    }


def _lookup_events(*events: dict[str, Any]) -> str:
    """``aws cloudtrail lookup-events`` output: each event a JSON string in CloudTrailEvent."""
    return json.dumps(
        {
            "Events": [
                {
                    "EventId": event["eventID"],
                    "EventName": event["eventName"],
                    "EventSource": event["eventSource"],
                    "CloudTrailEvent": json.dumps(event),
                }
                for event in events
            ]
        },
        indent=4,
    )


DENIED = _event(
    "sqs.amazonaws.com", "CreateQueue", errorCode="AccessDenied", errorMessage="Access to the resource is denied."
)
ALLOWED = _event("sqs.amazonaws.com", "ListQueues")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param(json.dumps(DENIED, indent=2), ["CreateQueue"], id="one event"),
        pytest.param(json.dumps({"Records": [ALLOWED, DENIED]}), ["ListQueues", "CreateQueue"], id="trail file"),
        pytest.param(json.dumps([DENIED, ALLOWED]), ["CreateQueue", "ListQueues"], id="list of events"),
        pytest.param(_lookup_events(DENIED, ALLOWED), ["CreateQueue", "ListQueues"], id="lookup-events output"),
        pytest.param(
            json.dumps({"Records": [{"note": "not an event"}, DENIED, "text"]}),
            ["CreateQueue"],
            id="non-events dropped",
        ),
    ],
)
def test_cloudtrail_json_gives_its_events(text: str, names: list[str]) -> None:
    events = cloudtrail_events(text)
    assert events is not None
    assert [event["eventName"] for event in events] == names


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("An error occurred (AccessDenied) when calling the CreateQueue operation", id="prose"),
        pytest.param('{"Error": {"Code": "AccessDenied", "Message": "denied"}}', id="other json"),
        pytest.param('{"Records": []}', id="empty trail"),
        pytest.param('{"Records": [{"eventVersion": "1.09"', id="cut short"),
        pytest.param("[" * 100_000, id="nested past the recursion limit"),
    ],
)
def test_other_text_is_not_cloudtrail(text: str) -> None:
    assert cloudtrail_events(text) is None


def _found(events: list[dict[str, Any]], catalog: Catalog) -> list[Any]:
    text = json.dumps({"Records": events}, indent=2)
    return [found.denial for found in cloudtrail_found(events, text, catalog, find_denials)]


@pytest.mark.parametrize(
    ("event", "action", "resource"),
    [
        pytest.param(
            _event("monitoring.amazonaws.com", "PutMetricAlarm", errorCode="AccessDenied"),
            "cloudwatch:PutMetricAlarm",
            None,
            id="monitoring is cloudwatch",
        ),
        pytest.param(
            _event("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", errorCode="AccessDeniedException"),
            "lambda:UpdateFunctionCode",
            None,
            id="lambda api version dropped",
        ),
        pytest.param(
            _event(
                "s3.amazonaws.com",
                "GetObject",
                errorCode="AccessDenied",
                errorMessage="Access Denied",
                requestParameters={"bucketName": "zeet-state", "key": "env/prod.tfstate"},
            ),
            "s3:GetObject",
            "arn:aws:s3:::zeet-state/env/prod.tfstate",
            id="s3 bucket and key",
        ),
        pytest.param(
            _event(
                "ecr.amazonaws.com",
                "CreateRepository",
                errorCode="AccessDenied",
                resources=[
                    {"type": "AWS::ECR::Repository", "ARN": "arn:aws:ecr:us-east-1:123456789012:repository/app"}
                ],
            ),
            "ecr:CreateRepository",
            "arn:aws:ecr:us-east-1:123456789012:repository/app",
            id="resources arn",
        ),
    ],
)
def test_a_denied_event_names_its_action_principal_and_resource(
    event: dict[str, Any], action: str, resource: str | None, catalog: Catalog
) -> None:
    (denial,) = _found([event], catalog)
    assert (denial.action, denial.principal, denial.resource, denial.source) == (
        action,
        SESSION,
        resource,
        "cloudtrail",
    )
    assert denial.error_code == event["errorCode"]
    assert denial.operation == event["eventName"]


def test_events_that_were_not_denied_are_no_failures(catalog: Catalog) -> None:
    throttled = _event(
        "sqs.amazonaws.com", "CreateQueue", errorCode="ThrottlingException", errorMessage="Rate exceeded"
    )
    assert _found([ALLOWED, throttled], catalog) == []


def test_aws_sentence_in_the_message_gives_the_reason(catalog: Catalog) -> None:
    message = (
        f"User: {SESSION} is not authorized to perform: iam:CreateRole on resource: "
        "arn:aws:iam::123456789012:role/zeet-app because no permissions boundary allows the iam:CreateRole action"
    )
    event = _event("iam.amazonaws.com", "CreateRole", errorCode="AccessDenied", errorMessage=message)
    (denial,) = _found([event], catalog)
    assert denial.action == "iam:CreateRole"
    assert denial.resource == "arn:aws:iam::123456789012:role/zeet-app"
    assert (denial.reason.layer, denial.reason.explicit) == ("permissions_boundary", False)


def test_each_failure_starts_where_its_event_does(catalog: Catalog) -> None:
    events = [DENIED, ALLOWED, _event("sns.amazonaws.com", "CreateTopic", errorCode="AuthorizationError")]
    text = json.dumps({"Records": events}, indent=2)
    starts = [found.start for found in cloudtrail_found(events, text, catalog, find_denials)]
    openings = [n for n in range(len(text)) if text.startswith('"eventVersion"', n)]
    assert starts == [openings[0], openings[2]]


# --- moved from test_denials: the fixtures through find_denials ----------------------------------


def test_cloudtrail_details(catalog: Catalog) -> None:
    """Lines point at each event; the event name is the operation; EC2's encoded message is kept; an
    event without an error is no failure; the HEAD operation says what S3 checks."""
    text = (ERRORS / "cloudtrail-records.json").read_text(encoding="utf-8")
    lines = text.splitlines()
    denials = find_denials(text, catalog)
    assert [d.operation for d in denials] == ["HeadBucket", "CreateRole", "RunInstances", "CreateFunction20150331"]
    assert [d.error_code for d in denials] == [
        "AccessDenied",
        "AccessDenied",
        "Client.UnauthorizedOperation",
        "AccessDenied",
    ]
    for denial in denials:
        assert '"eventVersion"' in lines[denial.line - 1]
    head_bucket, _, run_instances, _ = denials
    assert head_bucket.action_note is not None
    assert "s3:ListBucket" in head_bucket.action_note
    assert run_instances.encoded is not None
    assert run_instances.encoded.startswith("4xJ2ZkQWx3b1")


def test_cloudtrail_lookup_events_output(catalog: Catalog) -> None:
    """``aws cloudtrail lookup-events`` prints each event as a JSON string in CloudTrailEvent."""
    event = (ERRORS / "cloudtrail-event.json").read_text(encoding="utf-8")
    parsed = json.loads(event)
    output = json.dumps(
        {
            "Events": [
                {
                    "EventId": parsed["eventID"],
                    "EventName": "CreateQueue",
                    "ReadOnly": "false",
                    "EventTime": "2026-05-02T09:12:44+00:00",
                    "EventSource": "sqs.amazonaws.com",
                    "Username": "zeet-1714639277",
                    "Resources": [],
                    "CloudTrailEvent": json.dumps(parsed),
                }
            ]
        },
        indent=4,
    )
    (denial,) = find_denials(output, catalog)
    assert (denial.action, denial.source, denial.reason.layer) == (
        "sqs:CreateQueue",
        "cloudtrail",
        "permissions_boundary",
    )
