"""What an authorization failure is: ``Reason`` as reports say it, ``Denial``'s identity (when two
printed failures are one), and the role and account a principal ARN names."""

from __future__ import annotations

import pytest

from zeet_iam_audit.support.denial_values import LAYER_NAMES, Denial, Reason, principal_account, principal_role

SESSION = "arn:aws:sts::123456789012:assumed-role/zeet-cloud-connection/zeet-1714639277"


@pytest.mark.parametrize(
    ("reason", "described"),
    [
        pytest.param(
            Reason("identity", False, "because no identity-based policy allows the sqs:CreateQueue action"),
            "no identity-based policy allows it",
            id="implicit-identity",
        ),
        pytest.param(
            Reason("scp", True, "with an explicit deny in a service control policy"),
            "explicit deny in a service control policy",
            id="explicit-scp",
        ),
        pytest.param(
            Reason(
                "permissions_boundary",
                True,
                "with an explicit deny in a permissions boundary: arn:aws:iam::123456789012:policy/ZeetBoundary",
                "arn:aws:iam::123456789012:policy/ZeetBoundary",
            ),
            "explicit deny in a permissions boundary (arn:aws:iam::123456789012:policy/ZeetBoundary)",
            id="explicit-with-policy",
        ),
        pytest.param(Reason(text="Access Denied"), "Access Denied", id="no-layer-says-the-text"),
        pytest.param(Reason(), "AWS gave no reason", id="nothing-said"),
    ],
)
def test_reason_describe(reason: Reason, described: str) -> None:
    assert reason.describe() == described


@pytest.mark.parametrize("layer", sorted(LAYER_NAMES.values()))
def test_every_layer_has_a_description_naming_it_as_aws_does(layer: str) -> None:
    (aws_name,) = [name for name, value in LAYER_NAMES.items() if value == layer]
    assert Reason(layer, False).describe() == f"no {aws_name} allows it"


def test_reason_to_json_has_every_field() -> None:
    reason = Reason("scp", True, "with an explicit deny in a service control policy", "p-abc123")
    assert reason.to_json() == {
        "layer": "scp",
        "explicit": True,
        "text": "with an explicit deny in a service control policy",
        "policy": "p-abc123",
    }


def _denial(action: str | None, written: str | None = None, **changes: object) -> Denial:
    values: dict[str, object] = {
        "principal": SESSION,
        "action": action,
        "action_written": written or action,
        "resource": "arn:aws:sqs:us-east-1:123456789012:zeet-jobs",
        "reason": Reason("identity", False),
        "source": "aws",
        "line": 1,
        "message": "User: ... is not authorized to perform: sqs:CreateQueue",
        **changes,
    }
    return Denial(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param(
            _denial("sqs:CreateQueue", line=9, source="terraform", message="other text"), True, id="printed-twice"
        ),
        pytest.param(_denial(None, "SQS:createqueue"), True, id="action-written-in-another-case"),
        pytest.param(_denial("sqs:DeleteQueue"), False, id="another-action"),
        pytest.param(
            _denial("sqs:CreateQueue", resource="arn:aws:sqs:us-east-1:123456789012:other"),
            False,
            id="another-resource",
        ),
        pytest.param(_denial("sqs:CreateQueue", reason=Reason("scp", True)), False, id="another-reason"),
        pytest.param(
            _denial("sqs:CreateQueue", principal="arn:aws:iam::123456789012:user/alice"), False, id="another-principal"
        ),
    ],
)
def test_key_says_when_two_printed_failures_are_one(other: Denial, same: bool) -> None:
    assert (other.key == _denial("sqs:CreateQueue").key) is same


def test_role_name_is_the_principals_role() -> None:
    assert _denial("sqs:CreateQueue").role_name == "zeet-cloud-connection"
    assert _denial("sqs:CreateQueue", principal=None).role_name is None


@pytest.mark.parametrize(
    ("principal", "role"),
    [
        pytest.param("arn:aws:sts::123456789012:assumed-role/zeet/session", "zeet", id="assumed-role"),
        pytest.param("arn:aws:iam::123456789012:role/path/to/zeet", "zeet", id="role-with-path"),
        pytest.param("arn:aws:iam::123456789012:user/alice", None, id="user"),
        pytest.param("anonymous", None, id="anonymous"),
        pytest.param(None, None, id="none"),
    ],
)
def test_principal_role(principal: str | None, role: str | None) -> None:
    assert principal_role(principal) == role


@pytest.mark.parametrize(
    ("principal", "account"),
    [
        pytest.param(SESSION, "123456789012", id="assumed-role"),
        pytest.param("arn:aws:iam::210987654321:role/zeet", "210987654321", id="role"),
        pytest.param("arn:aws:iam::aws:policy/ReadOnlyAccess", None, id="aws-owned"),
        pytest.param("anonymous", None, id="anonymous"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_principal_account(principal: str | None, account: str | None) -> None:
    assert principal_account(principal) == account
