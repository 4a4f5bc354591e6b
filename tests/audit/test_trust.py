"""Trust audit: Zeet's account, the external id, wildcard and other principals, session length."""

from __future__ import annotations

from typing import Any

import pytest

from zeet_iam_audit.audit.report import TrustStatus
from zeet_iam_audit.audit.trust import TrustSettings, audit_trust, mask_external_id, role_trusts_account
from zeet_iam_audit.model import PolicyKind, Role, Unresolved
from zeet_iam_audit.policy.parse import parse_policy

ZEET = "111122223333"
CUSTOMER = "123456789012"
EXTERNAL = "zeet-ext-5f2c9a7e"


def _role(*statements: dict[str, Any], max_session: int | None = 3600) -> Role:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return Role(
        name="zeet",
        arn=f"arn:aws:iam::{CUSTOMER}:role/zeet",
        source="test",
        trust_policy=parse_policy(document, kind=PolicyKind.TRUST),
        max_session_duration=max_session,
    )


def _assume(
    principal: Any, condition: dict[str, Any] | None = None, effect: str = "Allow", action: Any = "sts:AssumeRole"
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": action}
    if condition is not None:
        statement["Condition"] = condition
    return statement


WITH_EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": EXTERNAL}}
SETTINGS = TrustSettings(zeet_account_id=ZEET, external_id=EXTERNAL)


@pytest.mark.parametrize(
    ("role", "settings", "status", "codes"),
    [
        pytest.param(
            _role(_assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, WITH_EXTERNAL_ID)),
            SETTINGS,
            TrustStatus.OK,
            {"zeet-can-assume"},
            id="zeet-root-with-external-id",
        ),
        pytest.param(
            _role(_assume({"AWS": ZEET}, WITH_EXTERNAL_ID)),
            SETTINGS,
            TrustStatus.OK,
            {"zeet-can-assume"},
            id="bare-account-id",
        ),
        pytest.param(
            _role(_assume({"AWS": f"arn:aws:iam::{ZEET}:role/zeet-deployer"}, WITH_EXTERNAL_ID)),
            SETTINGS,
            TrustStatus.OK,
            {"zeet-can-assume"},
            id="role-in-zeet-account",
        ),
        pytest.param(
            _role(_assume({"AWS": f"arn:aws:iam::{ZEET}:root"})),
            SETTINGS,
            TrustStatus.WARN,
            {"external-id-missing", "zeet-can-assume"},
            id="no-external-id-warns",
        ),
        pytest.param(
            _role(
                _assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, {"StringEquals": {"sts:ExternalId": "something-else"}})
            ),
            SETTINGS,
            TrustStatus.FAIL,
            {"external-id-mismatch"},
            id="external-id-differs-fails",
        ),
        pytest.param(
            _role(_assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, WITH_EXTERNAL_ID)),
            TrustSettings(zeet_account_id=ZEET),
            TrustStatus.OK,
            {"zeet-can-assume"},
            id="external-id-present-not-configured",
        ),
        pytest.param(
            _role(_assume({"AWS": "arn:aws:iam::444455556666:root"}, WITH_EXTERNAL_ID)),
            SETTINGS,
            TrustStatus.FAIL,
            {"zeet-cannot-assume", "other-external-principals"},
            id="other-account-only-fails",
        ),
        pytest.param(
            _role(_assume({"AWS": "*"})),
            SETTINGS,
            TrustStatus.FAIL,
            {"wildcard-principal", "external-id-missing", "zeet-can-assume"},
            id="wildcard-principal-fails",
        ),
        pytest.param(
            _role(_assume("*", WITH_EXTERNAL_ID)),
            SETTINGS,
            TrustStatus.FAIL,
            {"wildcard-principal", "zeet-can-assume"},
            id="wildcard-with-only-external-id-fails",
        ),
        pytest.param(
            _role(_assume("*", {"StringEquals": {"aws:PrincipalAccount": ZEET, "sts:ExternalId": EXTERNAL}})),
            SETTINGS,
            TrustStatus.WARN,
            {"wildcard-principal-restricted", "zeet-can-assume"},
            id="wildcard-restricted-by-principal-account",
        ),
        pytest.param(
            _role(_assume({"AWS": [f"arn:aws:iam::{ZEET}:root", "arn:aws:iam::444455556666:root"]}, WITH_EXTERNAL_ID)),
            SETTINGS,
            TrustStatus.WARN,
            {"other-external-principals", "zeet-can-assume"},
            id="other-principal-warns",
        ),
        pytest.param(
            _role(
                _assume({"AWS": f"arn:aws:iam::{CUSTOMER}:root"}),
                _assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, WITH_EXTERNAL_ID),
            ),
            SETTINGS,
            TrustStatus.OK,
            {"zeet-can-assume"},
            id="own-account-is-not-external",
        ),
        pytest.param(
            _role(_assume({"Service": "lambda.amazonaws.com"})),
            SETTINGS,
            TrustStatus.FAIL,
            {"zeet-cannot-assume"},
            id="service-role-fails",
        ),
        pytest.param(
            _role(
                _assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, WITH_EXTERNAL_ID),
                _assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, effect="Deny"),
            ),
            SETTINGS,
            TrustStatus.FAIL,
            {"zeet-denied"},
            id="explicit-deny-fails",
        ),
        pytest.param(
            _role(_assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, WITH_EXTERNAL_ID, action="sts:TagSession")),
            SETTINGS,
            TrustStatus.FAIL,
            {"zeet-cannot-assume"},
            id="wrong-action-fails",
        ),
        pytest.param(
            _role(_assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, WITH_EXTERNAL_ID, action="sts:*")),
            SETTINGS,
            TrustStatus.OK,
            {"zeet-can-assume"},
            id="sts-wildcard-action",
        ),
        pytest.param(
            _role(
                _assume(
                    {"AWS": f"arn:aws:iam::{ZEET}:root"},
                    {**WITH_EXTERNAL_ID, "Bool": {"aws:MultiFactorAuthPresent": "true"}},
                )
            ),
            SETTINGS,
            TrustStatus.FAIL,
            {"zeet-cannot-assume"},
            id="mfa-condition-fails",
        ),
        pytest.param(
            _role(_assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, WITH_EXTERNAL_ID), max_session=900),
            SETTINGS,
            TrustStatus.OK,
            {"short-session", "zeet-can-assume"},
            id="short-session-noted",
        ),
        pytest.param(
            _role(_assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, WITH_EXTERNAL_ID)),
            TrustSettings(),
            TrustStatus.UNKNOWN,
            {"zeet-account-not-configured", "other-external-principals"},
            id="no-zeet-account-configured",
        ),
        pytest.param(
            _role(
                {
                    "Effect": "Allow",
                    "NotPrincipal": {"AWS": "arn:aws:iam::444455556666:root"},
                    "Action": "sts:AssumeRole",
                }
            ),
            SETTINGS,
            TrustStatus.FAIL,
            {"not-principal-allow", "zeet-cannot-assume"},
            id="allow-with-notprincipal-fails",
        ),
    ],
)
def test_trust(role: Role, settings: TrustSettings, status: TrustStatus, codes: set[str]) -> None:
    result = audit_trust(role, settings)
    assert result.status is status, result.findings
    assert {f.code for f in result.findings} == codes


def test_unknown_trust_when_the_input_has_none() -> None:
    role = Role(name="bare", arn=None, source="policy.json", trust_unknown_reason="a bare policy document")
    result = audit_trust(role, SETTINGS)
    assert result.status is TrustStatus.UNKNOWN
    assert "a bare policy document" in result.findings[0].message


def test_external_id_is_masked_in_findings() -> None:
    role = _role(_assume({"AWS": ZEET}, {"StringEquals": {"sts:ExternalId": "abcdefgh-1234"}}))
    result = audit_trust(role, TrustSettings(zeet_account_id=ZEET, external_id="zyxwvuts-9876"))
    text = " ".join(f.message for f in result.findings)
    assert "abcdefgh" not in text
    assert "zyxwvuts" not in text
    assert "1234" in text
    assert "9876" in text
    assert mask_external_id("zeet-ext-5f2c9a7e").endswith("9a7e")


def test_role_trusts_account() -> None:
    assert role_trusts_account(_role(_assume({"AWS": ZEET})), ZEET)
    assert not role_trusts_account(_role(_assume({"Service": "lambda.amazonaws.com"})), ZEET)


def test_roles_sharing_a_trust_document_are_judged_each_with_its_own_account_and_session() -> None:
    """The trust verdict is kept per document for speed: what differs between the roles that share
    it (their account, their session length, the settings) still changes the verdict."""
    from dataclasses import replace

    shared = _role(
        _assume({"AWS": f"arn:aws:iam::{ZEET}:root"}, WITH_EXTERNAL_ID),
        _assume({"AWS": f"arn:aws:iam::{CUSTOMER}:root"}),
    )
    assert audit_trust(shared, SETTINGS).status is TrustStatus.OK
    # The same statements on a role of another account: the customer account is now foreign.
    other = replace(shared, arn="arn:aws:iam::444455556666:role/zeet")
    assert other.trust_policy is not None
    assert shared.trust_policy is not None
    assert other.trust_policy.statements is shared.trust_policy.statements
    assert any(f.code == "other-external-principals" for f in audit_trust(other, SETTINGS).findings)
    short = replace(shared, max_session_duration=900)
    assert any(f.code == "short-session" for f in audit_trust(short, SETTINGS).findings)
    wrong_id = TrustSettings(zeet_account_id=ZEET, external_id="another-external-id")
    assert audit_trust(shared, wrong_id).status is TrustStatus.FAIL
    assert audit_trust(shared, SETTINGS).status is TrustStatus.OK


ZEET_ROOT = {"AWS": f"arn:aws:iam::{ZEET}:root"}


@pytest.mark.parametrize(
    ("condition", "code", "why"),
    [
        pytest.param(
            {"StringLike": {"sts:ExternalId": "*"}},
            "external-id-any",
            'StringLike sts:ExternalId = "*"',
            id="string-like-star",
        ),
        pytest.param({"StringLike": {"sts:ExternalId": "?*"}}, "external-id-any", '"?*"', id="string-like-one-or-more"),
        pytest.param(
            {"Null": {"sts:ExternalId": "false"}},
            "external-id-any",
            'Null sts:ExternalId = "false"',
            id="null-false-alone",
        ),
        pytest.param(
            {"StringNotEquals": {"sts:ExternalId": "not-this-one"}},
            "external-id-any",
            "StringNotEquals",
            id="string-not-equals",
        ),
        pytest.param(
            {"StringEqualsIfExists": {"sts:ExternalId": EXTERNAL}},
            "external-id-optional",
            "also holds when no external id is sent",
            id="if-exists",
        ),
    ],
)
def test_an_external_id_condition_that_protects_nothing_warns(condition: dict[str, Any], code: str, why: str) -> None:
    result = audit_trust(_role(_assume(ZEET_ROOT, condition)), SETTINGS)
    assert result.status is TrustStatus.WARN, result.findings
    assert {f.code for f in result.findings} == {code, "zeet-can-assume"}
    [warning] = [f for f in result.findings if f.code == code]
    assert why in warning.message
    assert EXTERNAL not in warning.message  # the secret itself is never quoted


def test_an_external_id_that_must_be_present_and_equal_is_ok() -> None:
    condition = {"Null": {"sts:ExternalId": "false"}, "StringEquals": {"sts:ExternalId": EXTERNAL}}
    assert audit_trust(_role(_assume(ZEET_ROOT, condition)), SETTINGS).status is TrustStatus.OK


@pytest.mark.parametrize(
    "settings", [SETTINGS, TrustSettings(zeet_account_id=ZEET)], ids=["configured", "not-configured"]
)
def test_null_external_id_true_means_zeet_cannot_assume(settings: TrustSettings) -> None:
    """The CDK bootstrap's roles carry ``Null sts:ExternalId = true``: the id must be absent, and
    Zeet always sends one."""
    result = audit_trust(_role(_assume(ZEET_ROOT, {"Null": {"sts:ExternalId": "true"}})), settings)
    assert result.status is TrustStatus.FAIL
    [finding] = result.findings
    assert finding.code == "zeet-cannot-assume"
    assert finding.message == (
        'Zeet cannot assume this role: its condition Null sts:ExternalId = "true" lets the '
        "role be assumed only when no external id is sent, and Zeet always sends one"
    )
    assert "requires" not in finding.message
    assert "****" not in finding.message


@pytest.mark.parametrize(
    ("condition", "because"),
    [
        pytest.param({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, "without MFA", id="mfa"),
        pytest.param({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, "without MFA", id="mfa-age"),
        pytest.param({"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}}, "VPC endpoints", id="vpce"),
        pytest.param({"StringEquals": {"aws:SourceVpc": "vpc-0f1e2d3c4b5a69788"}}, "VPCs", id="vpc"),
        pytest.param(
            {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}, "private ranges", id="private-source-ip"
        ),
        pytest.param({"StringEquals": {"aws:PrincipalTag/team": "platform"}}, "no tag", id="principal-tag"),
        pytest.param({"StringEquals": {"aws:RequestTag/zeet": "true"}}, "no session tags", id="request-tag"),
        pytest.param({"StringEquals": {"sts:SourceIdentity": "zeet"}}, "no source identity", id="source-identity"),
        pytest.param({"StringEquals": {"aws:SourceAccount": ZEET}}, "not through an AWS service", id="source-account"),
    ],
)
def test_a_condition_zeet_never_meets_fails(condition: dict[str, Any], because: str) -> None:
    result = audit_trust(_role(_assume(ZEET_ROOT, {**WITH_EXTERNAL_ID, **condition})), SETTINGS)
    assert result.status is TrustStatus.FAIL, result.findings
    [finding] = result.findings
    assert finding.code == "zeet-cannot-assume"
    assert finding.message.startswith("Zeet cannot assume this role: its condition ")
    assert because in finding.message


def test_a_public_source_ip_range_is_unknown() -> None:
    condition = {**WITH_EXTERNAL_ID, "IpAddress": {"aws:SourceIp": "34.120.12.0/24"}}
    result = audit_trust(_role(_assume(ZEET_ROOT, condition)), SETTINGS)
    assert result.status is TrustStatus.UNKNOWN
    assert [f.code for f in result.findings] == ["trust-condition-unknown"]
    assert "Zeet publishes no addresses" in result.findings[0].message


def test_conditions_that_hold_without_mfa_are_met() -> None:
    condition = {
        **WITH_EXTERNAL_ID,
        "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
        "Null": {"aws:PrincipalTag/team": "true"},
    }
    assert audit_trust(_role(_assume(ZEET_ROOT, condition)), SETTINGS).status is TrustStatus.OK


def test_a_statement_for_people_with_mfa_does_not_fail_zeets() -> None:
    people = _assume({"AWS": f"arn:aws:iam::{ZEET}:role/admins"}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    result = audit_trust(_role(people, _assume(ZEET_ROOT, WITH_EXTERNAL_ID)), SETTINGS)
    assert result.status is TrustStatus.OK


def test_a_deny_without_mfa_blocks_zeet() -> None:
    deny = _assume("*", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, effect="Deny")
    result = audit_trust(_role(_assume(ZEET_ROOT, WITH_EXTERNAL_ID), deny), SETTINGS)
    assert result.status is TrustStatus.FAIL
    assert {f.code for f in result.findings} == {"zeet-denied"}


def test_a_deny_that_needs_a_vpc_endpoint_does_not_apply_to_zeet() -> None:
    deny = _assume("*", {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}}, effect="Deny")
    result = audit_trust(_role(_assume(ZEET_ROOT, WITH_EXTERNAL_ID), deny), SETTINGS)
    assert result.status is TrustStatus.OK


def _parameter(name: str) -> Unresolved:
    """An external id taken from a template parameter without a value, as the CloudFormation source
    gives it."""
    return Unresolved(f"Ref {name} (a parameter without a default; pass --parameter {name}=VALUE)")


def test_a_parameterised_external_id_is_unknown_naming_the_parameter() -> None:
    condition = {"StringEquals": {"sts:ExternalId": _parameter("ZeetExternalId")}}
    result = audit_trust(_role(_assume(ZEET_ROOT, condition)), SETTINGS)
    assert result.status is TrustStatus.UNKNOWN
    [finding] = result.findings
    assert finding.code == "trust-unresolved"
    assert "ZeetExternalId" in finding.message
    assert "--parameter ZeetExternalId=VALUE" in finding.message
    assert "requires" not in finding.message


def test_an_unresolved_external_id_without_a_parameter_name_gives_its_reason() -> None:
    value = Unresolved("Fn::ImportValue ZeetExternalIdExport (an export of another stack)")
    result = audit_trust(_role(_assume(ZEET_ROOT, {"StringEquals": {"sts:ExternalId": value}})), SETTINGS)
    assert result.status is TrustStatus.UNKNOWN
    assert "Fn::ImportValue ZeetExternalIdExport" in result.findings[0].message


def test_a_condition_aws_documents_no_answer_for_is_unknown_not_a_crash() -> None:
    """ArnNotEquals on aws:SecureTransport compares a boolean with an ARN: AWS documents no rule."""
    condition = {**WITH_EXTERNAL_ID, "ArnNotEquals": {"aws:SecureTransport": f"arn:aws:iam::{CUSTOMER}:role/zeet-*"}}
    result = audit_trust(_role(_assume(ZEET_ROOT, condition)), SETTINGS)
    assert result.status is TrustStatus.UNKNOWN
    assert [f.code for f in result.findings] == ["trust-condition-unknown"]
    assert "aws:SecureTransport" in result.findings[0].message
