"""Decoding EC2's encoded authorization messages: folding the decoded document into the denial."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.sources.live_session import LiveSession
from zeet_iam_audit.support.decode import DECODE_HINT, apply_decoded, decode_denials, without_decoding
from zeet_iam_audit.support.denials import Denial, Reason, find_denials

from .conftest import ERRORS

DECODED: dict[str, Any] = {
    "allowed": False,
    "explicitDeny": False,
    "matchedStatements": {"items": []},
    "failures": {"items": []},
    "context": {
        "principal": {
            "id": "AROAQX7EXAMPLEZ3BD03:zeet-1714639277",
            "arn": "arn:aws:sts::123456789012:assumed-role/zeet-restricted/zeet-1714639277",
        },
        "action": "ec2:RunInstances",
        "resource": "arn:aws:ec2:us-east-1:123456789012:instance/*",
        "conditions": {
            "items": [
                {"key": "ec2:InstanceType", "values": {"items": [{"value": "t3.medium"}]}},
                {"key": "aws:Region", "values": {"items": [{"value": "us-east-1"}]}},
            ]
        },
    },
}


def _encoded(catalog: Catalog) -> Denial:
    (denial,) = find_denials((ERRORS / "ec2-encoded.txt").read_text(encoding="utf-8"), catalog)
    return denial


def test_apply_decoded_fills_principal_resource_and_context(catalog: Catalog) -> None:
    denial = apply_decoded(_encoded(catalog), json.dumps(DECODED), catalog)
    assert denial.principal == "arn:aws:sts::123456789012:assumed-role/zeet-restricted/zeet-1714639277"
    assert denial.action == "ec2:RunInstances"
    assert denial.resource == "arn:aws:ec2:us-east-1:123456789012:instance/*"
    assert denial.decoded_context == (("ec2:InstanceType", ("t3.medium",)), ("aws:Region", ("us-east-1",)))
    assert denial.reason.explicit is False
    assert denial.decode_error is None


def test_apply_decoded_explicit_deny_lists_matched_statements(catalog: Catalog) -> None:
    document = {
        **DECODED,
        "explicitDeny": True,
        "matchedStatements": {"items": [{"statementId": "DenyBigInstances", "effect": "DENY"}]},
    }
    denial = apply_decoded(_encoded(catalog), document, catalog)
    assert denial.reason.explicit is True
    assert denial.matched_statements == ('Deny Sid "DenyBigInstances"',)


@pytest.mark.parametrize("decoded", ["not json", "[1, 2]"])
def test_apply_decoded_rejects_what_is_not_a_decoded_message(decoded: str, catalog: Catalog) -> None:
    denial = apply_decoded(_encoded(catalog), decoded, catalog)
    assert denial.decode_error is not None
    assert denial.principal is None


def test_without_decoding_gives_the_hint(catalog: Catalog) -> None:
    assert without_decoding(_encoded(catalog)).decode_error == f"not decoded: {DECODE_HINT}"


def test_decode_denials_calls_sts(aws_env: None, catalog: Catalog) -> None:
    denial = _encoded(catalog)
    session = LiveSession(region="us-east-1")
    client = session.client("sts")
    with Stubber(client) as stubber:
        stubber.add_response(
            "decode_authorization_message", {"DecodedMessage": json.dumps(DECODED)}, {"EncodedMessage": denial.encoded}
        )
        plain = Denial(
            principal=None,
            action="sqs:CreateQueue",
            action_written="sqs:CreateQueue",
            resource=None,
            reason=Reason(),
            source="aws",
            line=1,
            message="",
        )
        decoded = decode_denials([denial, plain], session, catalog)
        stubber.assert_no_pending_responses()
    assert decoded[0].resource == "arn:aws:ec2:us-east-1:123456789012:instance/*"
    assert decoded[1] is plain
    assert session.calls == ["sts:DecodeAuthorizationMessage"]


def test_decode_denials_records_a_refusal(aws_env: None, catalog: Catalog) -> None:
    denial = _encoded(catalog)
    session = LiveSession(region="us-east-1")
    with Stubber(session.client("sts")) as stubber:
        stubber.add_client_error(
            "decode_authorization_message",
            service_error_code="AccessDenied",
            service_message="not allowed",
            http_status_code=403,
        )
        (decoded,) = decode_denials([denial], session, catalog)
    assert decoded.decode_error == (
        "could not decode: sts:DecodeAuthorizationMessage failed: AccessDenied: not allowed"
    )
    assert decoded.encoded == denial.encoded
