"""Reading the SCPs that apply to an account: moto's organizations, and stubbed member accounts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.live.support import ACCOUNT, create_zeet_role, fixture_json, fixture_text, inject_error
from zeet_iam_audit import Decision, evaluate
from zeet_iam_audit.sources.live import LiveOptions, open_session, read_live
from zeet_iam_audit.sources.live_scps import read_scps
from zeet_iam_audit.sources.live_session import LiveSession

MEMBER_WALK = fixture_json("organizations-member.json")


def _organization(*, enable_scps: bool = True) -> dict[str, str]:
    """An organization managed by moto's account, with a member account in an OU carrying an SCP."""
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    if enable_scps:
        organizations.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    ou = organizations.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    member = organizations.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"][
        "AccountId"
    ]
    organizations.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    guard = organizations.create_policy(
        Name="DenyLeaveAndQueueDeletion",
        Description="Guard rails for workload accounts",
        Type="SERVICE_CONTROL_POLICY",
        Content=fixture_text("scp-deny-leave.json"),
    )["Policy"]["PolicySummary"]["Id"]
    organizations.attach_policy(PolicyId=guard, TargetId=ou)
    return {"root": root, "ou": ou, "member": member, "guard": guard}


@pytest.mark.usefixtures("aws")
def test_the_walk_gives_levels_from_the_root_to_the_account() -> None:
    org = _organization()
    session = open_session(LiveOptions())

    reading = read_scps(session, account=org["member"])

    assert reading.unknown_reason is None
    assert reading.note is None
    names = [[p.name for p in level] for level in reading.levels]
    assert names == [["FullAWSAccess"], ["FullAWSAccess", "DenyLeaveAndQueueDeletion"], ["FullAWSAccess"]]
    assert str(reading.levels[1][1].origin) == (
        f"live: organizations:DescribePolicy {org['guard']} (DenyLeaveAndQueueDeletion)"
    )
    assert reading.levels[0][0] is reading.levels[2][0]  # described once, used at every level
    assert session.calls == [
        "organizations:DescribeOrganization",
        "organizations:ListParents",
        "organizations:ListParents",
        "organizations:ListRoots",
        "organizations:ListPoliciesForTarget",
        "organizations:DescribePolicy",
        "organizations:ListPoliciesForTarget",
        "organizations:DescribePolicy",
        "organizations:ListPoliciesForTarget",
    ]
    # The levels work as the evaluator's SCP layer: the OU's deny reaches the account.
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert evaluate("sqs:DeleteQueue", "*", [allow_all], scps=reading.levels).decision is (Decision.EXPLICIT_DENY)
    assert evaluate("sqs:CreateQueue", "*", [allow_all], scps=reading.levels).decision is (Decision.ALLOWED)


@pytest.mark.parametrize(
    ("setup", "note"),
    [
        pytest.param("none", f"account {ACCOUNT} is in no AWS organization: no SCPs apply", id="no-org"),
        pytest.param(
            "management",
            f"account {ACCOUNT} is its organization's management account: SCPs do not apply to it",
            id="management",
        ),
    ],
)
@pytest.mark.usefixtures("aws")
def test_scps_that_do_not_apply_are_a_note_not_an_unknown(setup: str, note: str) -> None:
    iam = boto3.client("iam")
    arn = create_zeet_role(iam)
    if setup == "management":
        _organization()
    messages: list[str] = []

    result = read_live(LiveOptions(role_arns=(arn,), scps="auto"), progress=messages.append)

    assert (result.scps, result.scp_unknown_reason, result.notes) == ((), None, (note,))
    assert messages == [f"reading the SCPs that apply to account {ACCOUNT}", note]
    assert result.calls[-2:] == ("sts:GetCallerIdentity", "organizations:DescribeOrganization")


@pytest.mark.usefixtures("aws")
def test_scps_not_enabled_on_the_root_apply_to_nobody() -> None:
    org = _organization(enable_scps=False)
    reading = read_scps(open_session(LiveOptions()), account=org["member"])
    assert (reading.levels, reading.unknown_reason) == ((), None)
    assert reading.note == f"SCPs are not enabled in the organization of account {org['member']}"


@pytest.mark.usefixtures("aws")
def test_scps_off_reads_nothing_from_organizations() -> None:
    arn = create_zeet_role(boto3.client("iam"))
    result = read_live(LiveOptions(role_arns=(arn,)))
    assert (result.scps, result.scp_unknown_reason, result.notes) == ((), None, ())
    assert not [call for call in result.calls if not call.startswith("iam:")]


# -- a member account, as AWS answers it (stubbed from the fixture) -------------------------------


@pytest.fixture
def member_org(aws: None) -> Iterator[tuple[LiveSession, Stubber]]:
    """A session whose organizations client answers as fixtures/live/organizations-member.json."""
    session = open_session(LiveOptions())
    stubber = Stubber(session.client("organizations"))
    with stubber:
        yield session, stubber


def _stub_walk(
    stubber: Stubber,
    *,
    until: str | None = None,
    error: str = "AccessDeniedException",
    change: dict[str, Any] | None = None,
) -> None:
    """Queue the walk's responses in call order; ``until`` fails that call with ``error``."""
    walk = json.loads(json.dumps(MEMBER_WALK))  # a copy to change
    for path, value in (change or {}).items():
        target = walk
        *keys, last = path.split("/")
        for key in keys:
            target = target[key] if not isinstance(target, list) else target[int(key)]
        target[last] = value
    account = walk["account"]
    ou = walk["ListParents"][account]["Parents"][0]["Id"]
    root = walk["ListParents"][ou]["Parents"][0]["Id"]
    steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("describe_organization", walk["DescribeOrganization"], {}),
        ("list_parents", walk["ListParents"][account], {"ChildId": account}),
        ("list_parents", walk["ListParents"][ou], {"ChildId": ou}),
        ("list_roots", walk["ListRoots"], {}),
    ]
    described: set[str] = set()
    for target in (root, ou, account):
        listing = walk["ListPoliciesForTarget"][target]
        steps.append(("list_policies_for_target", listing, {"TargetId": target, "Filter": "SERVICE_CONTROL_POLICY"}))
        for summary in listing["Policies"]:
            if summary["Id"] not in described:
                described.add(summary["Id"])
                steps.append(("describe_policy", walk["DescribePolicy"][summary["Id"]], {"PolicyId": summary["Id"]}))
    for method, response, params in steps:
        if method == until:
            stubber.add_client_error(
                method,
                service_error_code=error,
                http_status_code=400,
                service_message="You don't have permissions to access this resource.",
                expected_params=params,
            )
            return
        stubber.add_response(method, response, params)


def test_a_member_account_walk_reads_every_level(member_org: tuple[LiveSession, Stubber]) -> None:
    session, stubber = member_org
    _stub_walk(stubber)
    arn = create_zeet_role(boto3.client("iam"))

    result = read_live(LiveOptions(role_arns=(arn,), scps="auto"), session=session)

    stubber.assert_no_pending_responses()
    assert result.scp_unknown_reason is None
    assert [[p.name for p in level] for level in result.scps] == [
        ["FullAWSAccess"],
        ["FullAWSAccess", "DenyLeaveAndQueueDeletion"],
        ["FullAWSAccess"],
    ]
    assert [s.sid for s in result.scps[1][1].statements] == ["DenyLeavingTheOrganization", "DenySqsDelete"]


@pytest.mark.parametrize(
    ("until", "error", "operation"),
    [
        pytest.param("list_parents", "AccessDeniedException", "ListParents", id="member-without-delegation"),
        pytest.param("describe_organization", "AccessDeniedException", "DescribeOrganization", id="describe-denied"),
        pytest.param(
            "list_policies_for_target", "AccessDeniedException", "ListPoliciesForTarget", id="list-policies-denied"
        ),
        pytest.param("describe_policy", "AccessDeniedException", "DescribePolicy", id="describe-policy"),
    ],
)
def test_scps_that_cannot_be_read_are_unknown_naming_the_error_and_the_call(
    member_org: tuple[LiveSession, Stubber], until: str, error: str, operation: str
) -> None:
    session, stubber = member_org
    _stub_walk(stubber, until=until, error=error)
    arn = create_zeet_role(boto3.client("iam"))

    result = read_live(LiveOptions(role_arns=(arn,), scps="auto"), session=session)

    assert result.scps == ()
    assert result.scp_unknown_reason == (
        f"cannot read the SCPs that apply to account {ACCOUNT}: {error} on organizations:{operation}"
    )
    assert result.notes == ()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(
            {f"ListPoliciesForTarget/{ACCOUNT}/Policies": []}, f"no SCP is attached to {ACCOUNT}", id="empty-level"
        ),
        pytest.param(
            {"ListRoots/Roots/0/PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "PENDING_DISABLE"}]},
            "the SCP policy type is PENDING_DISABLE on r-ab12",
            id="pending",
        ),
        pytest.param(
            {
                "DescribePolicy/p-examplescp1/Policy/Content": '{"Version": "2012-10-17", '
                '"Statement": [{"Effect": "Deny", "Action": "sqs:*"}]}'
            },
            "SCP DenyLeaveAndQueueDeletion (p-examplescp1): Statement[0]: ",
            id="unparsable",
        ),
    ],
)
def test_scps_that_cannot_be_used_are_unknown_with_the_reason(
    member_org: tuple[LiveSession, Stubber], change: dict[str, Any], reason: str
) -> None:
    session, stubber = member_org
    _stub_walk(stubber, change=change)
    reading = read_scps(session, account=ACCOUNT)
    assert reading.levels == ()
    assert reading.unknown_reason is not None
    assert reading.unknown_reason.startswith(f"cannot read the SCPs that apply to account {ACCOUNT}: {reason}")


@pytest.mark.usefixtures("aws")
def test_access_denied_injected_into_moto_is_unknown() -> None:
    """The same through moto's own organizations, with the denial injected."""
    _organization()
    session = open_session(LiveOptions())
    inject_error(session.client("organizations"), "DescribeOrganization", "AccessDeniedException")
    reading = read_scps(session)
    assert reading.unknown_reason == (
        f"cannot read the SCPs that apply to account {ACCOUNT}: AccessDeniedException on "
        "organizations:DescribeOrganization"
    )
