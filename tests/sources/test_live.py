"""Reading roles from a live account (moto in process): what is read, how, and what is saved; and
``simulate_role`` (--simulate: iam:SimulatePrincipalPolicy against our verdicts, stubbed because moto does
not implement it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.live.support import (
    ACCOUNT,
    READ_ONLY_ACCESS,
    create_policy,
    create_zeet_role,
    inject_error,
    role_arn,
    without_origins,
)
from zeet_iam_audit.audit.report import Disagreement, SimulationResult
from zeet_iam_audit.errors import AwsAccessError, UsageError
from zeet_iam_audit.model import PolicyKind, Role
from zeet_iam_audit.sources import load_file
from zeet_iam_audit.sources.live import (
    SIMULATE_BATCH,
    LiveOptions,
    LiveResult,
    open_session,
    read_live,
    role_name_from_arn,
    simulate_role,
)


def _full_role(iam: Any, name: str = "zeet-role") -> str:
    """Inline + customer managed + AWS managed + a permissions boundary."""
    secrets = create_policy(iam, "ZeetSecrets", "zeet-secrets-managed.json")
    boundary = create_policy(iam, "ZeetBoundary", "zeet-boundary.json")
    return create_zeet_role(
        iam,
        name,
        inline={"ZeetCapacity": "zeet-capacity-inline.json"},
        managed=(secrets, READ_ONLY_ACCESS),
        boundary=boundary,
    )


def _save_and_reload(result: LiveResult, tmp_path: Path) -> tuple[Any, ...]:
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(result.gaad, indent=2), encoding="utf-8")
    return tuple(load_file(saved).roles)


# -- names from ARNs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        pytest.param("arn:aws:iam::123456789012:role/zeet-role", "zeet-role", id="no-path"),
        pytest.param("arn:aws:iam::123456789012:role/path/to/zeet-role", "zeet-role", id="path"),
        pytest.param("arn:aws-us-gov:iam::123456789012:role/a/Zeet.Role+1", "Zeet.Role+1", id="gov"),
    ],
)
def test_role_name_is_the_last_path_segment(arn: str, name: str) -> None:
    assert role_name_from_arn(arn) == name


@pytest.mark.parametrize(
    "arn",
    [
        pytest.param("zeet-role", id="bare-name"),
        pytest.param("arn:aws:iam::123456789012:user/zeet", id="user"),
        pytest.param("arn:aws:iam::12345:role/zeet", id="short-account"),
        pytest.param("arn:aws:iam::123456789012:role/", id="no-name"),
    ],
)
def test_a_malformed_role_arn_is_a_usage_error(arn: str) -> None:
    with pytest.raises(UsageError, match="--role-arn: expected arn:aws:iam::ACCOUNT:role/"):
        read_live(LiveOptions(role_arns=(arn,)))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(LiveOptions(), "nothing to read", id="nothing"),
        pytest.param(LiveOptions(role_arns=(role_arn("a"),), all_roles=True), "choose one", id="both"),
        pytest.param(LiveOptions(role_arns=(role_arn("a"),), scps="on"), "--scps", id="scps"),
    ],
)
def test_options_that_do_not_fit_are_usage_errors(options: LiveOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        read_live(options)


# -- one role, every kind of policy ---------------------------------------------------------------


@pytest.mark.usefixtures("aws_managed")
def test_reads_inline_customer_managed_aws_managed_and_boundary() -> None:
    iam = boto3.client("iam")
    arn = _full_role(iam)

    result = read_live(LiveOptions(role_arns=(arn,)))

    assert result.source.input_type == "live"
    assert result.source.skipped == ()
    (role,) = result.source.roles
    assert (role.name, role.arn, role.path) == ("zeet-role", arn, "/zeet/")
    assert role.source == f"live account {ACCOUNT}"
    assert role.max_session_duration == 7200
    assert role.unknowns == ()
    assert role.trust_policy is not None
    assert role.trust_policy.kind is PolicyKind.TRUST
    assert str(role.trust_policy.origin) == "live: iam:GetRole zeet-role"
    summary = {
        p.name: (p.arn, p.inline, str(p.origin), str(p.policy.origin) if p.policy else None) for p in role.policies
    }
    secrets = f"arn:aws:iam::{ACCOUNT}:policy/ZeetSecrets"
    read_only_origin = str(summary["ReadOnlyAccess"][3])
    assert summary == {
        "ZeetCapacity": (
            None,
            True,
            "live: iam:GetRolePolicy zeet-role/ZeetCapacity",
            "live: iam:GetRolePolicy zeet-role/ZeetCapacity",
        ),
        "ZeetSecrets": (
            secrets,
            False,
            "live: iam:ListAttachedRolePolicies zeet-role",
            f"live: iam:GetPolicyVersion {secrets} v1",
        ),
        "ReadOnlyAccess": (READ_ONLY_ACCESS, False, "live: iam:ListAttachedRolePolicies zeet-role", read_only_origin),
    }
    assert read_only_origin.startswith(f"live: iam:GetPolicyVersion {READ_ONLY_ACCESS} v")
    assert role.policies[0].name == "ZeetCapacity"  # inline first, as in the gaad reader
    assert all(p.policy is not None and p.policy.statements for p in role.policies)
    assert role.policies[0].policy is not None
    assert [s.sid for s in role.policies[0].policy.statements] == ["CapacityTopics", "CapacityQueues", "CapacityEvents"]
    boundary = role.permissions_boundary
    assert boundary is not None
    assert boundary.name == "ZeetBoundary"
    assert str(boundary.origin) == "live: iam:GetRole zeet-role PermissionsBoundary"
    assert boundary.policy is not None
    assert [s.sid for s in boundary.policy.statements] == ["Everything", "NoUsers"]
    assert result.calls == (
        "iam:GetRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
    )
    assert result.scps == ()
    assert result.scp_unknown_reason is None


@pytest.mark.usefixtures("aws_managed")
def test_the_saved_document_reads_back_as_the_same_role(tmp_path: Path) -> None:
    iam = boto3.client("iam")
    arn = _full_role(iam)

    result = read_live(LiveOptions(role_arns=(arn,)))
    reloaded = _save_and_reload(result, tmp_path)

    assert [without_origins(r) for r in reloaded] == [without_origins(r) for r in result.source.roles]
    (detail,) = result.gaad["RoleDetailList"]
    assert detail["MaxSessionDuration"] == 7200
    assert isinstance(detail["CreateDate"], str)  # datetimes become ISO 8601 text
    assert [p["Arn"] for p in result.gaad["Policies"]] == sorted(
        [READ_ONLY_ACCESS, f"arn:aws:iam::{ACCOUNT}:policy/ZeetBoundary", f"arn:aws:iam::{ACCOUNT}:policy/ZeetSecrets"]
    )
    for entry in result.gaad["Policies"]:
        (version,) = entry["PolicyVersionList"]
        assert version["IsDefaultVersion"] is True
        assert version["VersionId"] == entry["DefaultVersionId"]
        assert "Tags" not in entry


@pytest.mark.usefixtures("aws")
def test_url_encoded_documents_are_read_and_saved_as_they_came(tmp_path: Path) -> None:
    """The real API URL-encodes policy documents; botocore usually decodes them, moto varies."""
    from urllib.parse import quote

    iam = boto3.client("iam")
    arn = create_zeet_role(iam, inline={"ZeetCapacity": "zeet-capacity-inline.json"})
    session = open_session(LiveOptions())

    def encode(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetRolePolicy" and "PolicyDocument" in parsed:
            parsed["PolicyDocument"] = quote(json.dumps(parsed["PolicyDocument"]))

    # After botocore's own decoding (registered on "after-call.iam"), as if it had not decoded.
    session.client("iam").meta.events.register_last("after-call.iam", encode)
    result = read_live(LiveOptions(role_arns=(arn,)), session=session)

    (role,) = result.source.roles
    assert role.policies[0].policy is not None
    assert result.gaad["RoleDetailList"][0]["RolePolicyList"][0]["PolicyDocument"].startswith("%7B")
    reloaded = _save_and_reload(result, tmp_path)
    assert [without_origins(r) for r in reloaded] == [without_origins(role)]


@pytest.mark.usefixtures("aws")
def test_a_document_that_does_not_parse_is_unknown_naming_the_call_and_the_place() -> None:
    iam = boto3.client("iam")
    arn = create_zeet_role(iam, inline={"ZeetCapacity": "zeet-capacity-inline.json"})
    session = open_session(LiveOptions())

    def spoil(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetRolePolicy":
            parsed["PolicyDocument"] = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}],
            }

    session.client("iam").meta.events.register_last("after-call.iam", spoil)
    (role,) = read_live(LiveOptions(role_arns=(arn,)), session=session).source.roles

    (policy,) = role.policies
    assert policy.policy is None
    assert policy.unknown_reason == (
        "live: iam:GetRolePolicy zeet-role/ZeetCapacity: PolicyDocument.Statement[0].Effect: "
        "expected Allow or Deny, got 'Maybe'"
    )


# -- several roles, shared policies ---------------------------------------------------------------


@pytest.mark.usefixtures("aws_managed")
def test_each_managed_policy_is_fetched_once_across_roles() -> None:
    iam = boto3.client("iam")
    secrets = create_policy(iam, "ZeetSecrets", "zeet-secrets-managed.json")
    boundary = create_policy(iam, "ZeetBoundary", "zeet-boundary.json")
    arns = tuple(
        create_zeet_role(iam, name, managed=(secrets, READ_ONLY_ACCESS), boundary=boundary)
        for name in ("zeet-a", "zeet-b", "zeet-c")
    )
    messages: list[str] = []

    result = read_live(LiveOptions(role_arns=arns), progress=messages.append)

    assert result.calls.count("iam:GetRole") == 3
    assert result.calls.count("iam:GetPolicy") == 3  # three distinct ARNs, not nine
    assert result.calls.count("iam:GetPolicyVersion") == 3
    first, *others = result.source.roles
    for other in others:
        for mine, theirs in zip(first.policies, other.policies, strict=True):
            assert mine.policy is theirs.policy  # parsed once, shared
        assert first.permissions_boundary is not None
        assert other.permissions_boundary is not None
        assert first.permissions_boundary.policy is other.permissions_boundary.policy
    assert messages == ["reading role 1/3: zeet-a", "reading role 2/3: zeet-b", "reading role 3/3: zeet-c"]
    assert [e["Arn"] for e in result.gaad["Policies"]] == sorted([secrets, boundary, READ_ONLY_ACCESS])


@pytest.mark.usefixtures("aws")
def test_a_repeated_role_arn_is_read_once() -> None:
    iam = boto3.client("iam")
    arn = create_zeet_role(iam)
    result = read_live(LiveOptions(role_arns=(arn, arn)))
    assert len(result.source.roles) == 1
    assert result.calls.count("iam:GetRole") == 1


@pytest.mark.usefixtures("aws_managed")
def test_all_roles_reads_the_authorization_details_with_the_gaad_reader(tmp_path: Path) -> None:
    iam = boto3.client("iam")
    full = _full_role(iam)
    plain = create_zeet_role(iam, "zeet-plain", path="/", inline={"ZeetCapacity": "zeet-capacity-inline.json"})
    messages: list[str] = []

    result = read_live(LiveOptions(all_roles=True), progress=messages.append)

    assert result.calls == ("iam:GetAccountAuthorizationDetails",)
    assert messages == ["reading the account's authorization details: page 1, 2 roles so far"]
    assert result.source.path == "live: iam:GetAccountAuthorizationDetails"
    roles = {r.arn: r for r in result.source.roles}
    assert set(roles) == {full, plain}
    assert {r.source for r in roles.values()} == {f"live account {ACCOUNT}"}
    assert str(roles[plain].policies[0].origin) == (
        "live: iam:GetAccountAuthorizationDetails: $.RoleDetailList[1].RolePolicyList[0]"
    )
    # The same roles as reading each by ARN, except MaxSessionDuration (the authorization details
    # do not include it) and the order of attachments (moto lists them in either order).
    one_by_one = read_live(LiveOptions(role_arns=(full, plain))).source.roles
    assert [_comparable(r) for r in result.source.roles] == [
        replace(_comparable(r), max_session_duration=None) for r in one_by_one
    ]
    reloaded = _save_and_reload(result, tmp_path)
    assert [without_origins(r) for r in reloaded] == [without_origins(r) for r in result.source.roles]


def _comparable(role: Role) -> Role:
    bare = without_origins(role)
    return replace(bare, policies=tuple(sorted(bare.policies, key=lambda p: (not p.inline, p.name))))


@pytest.mark.usefixtures("aws")
def test_all_roles_denied_stops_naming_the_permission() -> None:
    session = open_session(LiveOptions())
    inject_error(session.client("iam"), "GetAccountAuthorizationDetails")
    with pytest.raises(AwsAccessError) as caught:
        read_live(LiveOptions(all_roles=True), session=session)
    assert str(caught.value) == (
        "AccessDenied on iam:GetAccountAuthorizationDetails: grant it to audit every role, or name "
        "the roles with --role-arn"
    )


# -- AccessDenied: carry on with what could be read -----------------------------------------------


@pytest.mark.usefixtures("aws")
def test_access_denied_on_one_inline_policy_makes_it_unknown_and_reading_carries_on(
    tmp_path: Path,
) -> None:
    iam = boto3.client("iam")
    secrets = create_policy(iam, "ZeetSecrets", "zeet-secrets-managed.json")
    arn = create_zeet_role(
        iam,
        inline={"ZeetCapacity": "zeet-capacity-inline.json", "ZeetSqs": "zeet-capacity-inline.json"},
        managed=(secrets,),
    )
    session = open_session(LiveOptions())
    hits = inject_error(session.client("iam"), "GetRolePolicy", when=lambda body: body.get("PolicyName") == "ZeetSqs")

    result = read_live(LiveOptions(role_arns=(arn,)), session=session)

    assert len(hits) == 1
    (role,) = result.source.roles
    by_name = {p.name: p for p in role.policies}
    assert by_name["ZeetCapacity"].policy is not None
    assert by_name["ZeetSecrets"].policy is not None
    denied = by_name["ZeetSqs"]
    assert denied.policy is None
    assert denied.inline
    assert denied.unknown_reason == (
        "AccessDenied on iam:GetRolePolicy for zeet-role/ZeetSqs: grant it to audit this policy"
    )
    assert result.calls[-2:] == ("iam:GetPolicy", "iam:GetPolicyVersion")  # carried on
    # The saved file keeps the gap: the policy without its document reads back as unknown.
    saved_inline = result.gaad["RoleDetailList"][0]["RolePolicyList"]
    assert {"PolicyName": "ZeetSqs"} in saved_inline
    (reloaded,) = _save_and_reload(result, tmp_path)
    assert [p.policy is None for p in reloaded.policies] == [p.policy is None for p in role.policies]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        pytest.param(
            "GetRole",
            {
                "unknowns": [
                    "AccessDenied on iam:GetRole for zeet-role: grant it to read the role's "
                    "trust policy and permissions boundary"
                ],
                "trust": "AccessDenied on iam:GetRole for zeet-role: grant it to read the role's trust "
                "policy and permissions boundary",
            },
            id="GetRole",
        ),
        pytest.param(
            "ListRolePolicies",
            {
                "unknowns": [
                    "AccessDenied on iam:ListRolePolicies for zeet-role: grant it to audit the role's inline policies"
                ]
            },
            id="ListRolePolicies",
        ),
        pytest.param(
            "ListAttachedRolePolicies",
            {
                "unknowns": [
                    "AccessDenied on iam:ListAttachedRolePolicies for zeet-role: grant it to "
                    "audit the role's managed policies"
                ]
            },
            id="ListAttachedRolePolicies",
        ),
        pytest.param(
            "GetPolicy",
            {
                "policy": f"AccessDenied on iam:GetPolicy for arn:aws:iam::{ACCOUNT}:policy/ZeetSecrets: "
                "grant it to audit this policy"
            },
            id="GetPolicy",
        ),
        pytest.param(
            "GetPolicyVersion",
            {
                "policy": f"AccessDenied on iam:GetPolicyVersion for arn:aws:iam::{ACCOUNT}:policy/"
                "ZeetSecrets: grant it to audit this policy"
            },
            id="GetPolicyVersion",
        ),
    ],
)
@pytest.mark.usefixtures("aws")
def test_access_denied_on_each_read_is_unknown_with_the_missing_permission(
    operation: str, expected: dict[str, Any], tmp_path: Path
) -> None:
    iam = boto3.client("iam")
    secrets = create_policy(iam, "ZeetSecrets", "zeet-secrets-managed.json")
    arn = create_zeet_role(iam, inline={"ZeetCapacity": "zeet-capacity-inline.json"}, managed=(secrets,))
    session = open_session(LiveOptions())
    inject_error(session.client("iam"), operation)

    result = read_live(LiveOptions(role_arns=(arn,)), session=session)

    (role,) = result.source.roles
    assert list(role.unknowns) == expected.get("unknowns", [])
    if "trust" in expected:
        assert role.trust_policy is None
        assert role.trust_unknown_reason == expected["trust"]
    if "policy" in expected:
        (managed,) = [p for p in role.policies if p.arn == secrets]
        assert managed.policy is None
        assert managed.unknown_reason == expected["policy"]
    # Whatever was denied, the saved file audits as unknown too (never as "grants nothing").
    (reloaded,) = _save_and_reload(result, tmp_path)
    assert any(p.policy is None for p in reloaded.policies)


# -- roles that are not there ---------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_a_role_that_does_not_exist_stops_the_run_naming_the_arn() -> None:
    arn = role_arn("not-there", "/zeet/")
    with pytest.raises(AwsAccessError) as caught:
        read_live(LiveOptions(role_arns=(arn,)))
    assert str(caught.value) == (
        f"role not found: {arn} (NoSuchEntity on iam:GetRole; check the ARN and that the credentials "
        f"are for account {ACCOUNT})"
    )


@pytest.mark.usefixtures("aws")
def test_a_role_arn_with_another_path_is_not_taken_for_the_role() -> None:
    iam = boto3.client("iam")
    actual = create_zeet_role(iam, path="/zeet/")
    wrong = role_arn("zeet-role", "/elsewhere/")
    with pytest.raises(AwsAccessError, match=f"the role named zeet-role in the credentials' account is {actual}"):
        read_live(LiveOptions(role_arns=(wrong,)))


@pytest.mark.usefixtures("aws")
def test_a_role_deleted_while_being_read_is_skipped_with_the_reason() -> None:
    iam = boto3.client("iam")
    doomed = create_zeet_role(iam, "zeet-doomed")
    kept = create_zeet_role(iam, "zeet-kept")
    session = open_session(LiveOptions())

    def delete_first(params: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or {}
        if body.get("RoleName") == "zeet-doomed":
            iam.delete_role(RoleName="zeet-doomed")  # someone else, between our two reads

    session.client("iam").meta.events.register("before-call.iam.ListAttachedRolePolicies", delete_first)
    result = read_live(LiveOptions(role_arns=(doomed, kept)), session=session)

    assert [r.name for r in result.source.roles] == ["zeet-kept"]
    (skipped,) = result.source.skipped
    assert skipped.name == "zeet-doomed"
    assert skipped.reason == (
        "could not be read: the role was deleted while it was being read (NoSuchEntity on iam:ListAttachedRolePolicies)"
    )
    assert skipped.unread
    assert str(skipped.origin) == "live: iam:ListAttachedRolePolicies zeet-doomed"
    assert [d["RoleName"] for d in result.gaad["RoleDetailList"]] == ["zeet-kept"]


# --simulate: simulate_role

SIMULATED_ARN = role_arn("zeet-role", "/zeet/")
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
    assert arn == SIMULATED_ARN
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
            "PolicySourceArn": SIMULATED_ARN,
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

    simulation = simulate_role(result, SIMULATED_ARN, checks)

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
        {"PolicySourceArn": SIMULATED_ARN, "ActionNames": ["sns:CreateTopic"]},
    )
    for batch in (many[:SIMULATE_BATCH], many[SIMULATE_BATCH:]):
        stubber.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [_answer(a, "allowed", QUEUES) for a in batch]},
            {"PolicySourceArn": SIMULATED_ARN, "ActionNames": batch, "ResourceArns": [QUEUES]},
        )
    checks = [("sns:CreateTopic", "*", "allowed")] + [(a, QUEUES, "allowed") for a in many]

    simulation = simulate_role(result, SIMULATED_ARN, checks)

    stubber.assert_no_pending_responses()
    assert simulation == SimulationResult(checked=len(checks))


def test_pages_of_results_are_followed(live: tuple[LiveResult, Stubber]) -> None:
    result, stubber = live
    params = {"PolicySourceArn": SIMULATED_ARN, "ActionNames": ["sns:CreateTopic", "sns:DeleteTopic"]}
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
    simulation = simulate_role(
        result, SIMULATED_ARN, [("sns:CreateTopic", "*", "allowed"), ("sns:DeleteTopic", "*", "denied")]
    )
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
    simulation = simulate_role(result, SIMULATED_ARN, [("sns:CreateTopic", "*", "allowed")])
    assert simulation == SimulationResult(
        checked=0, error="AccessDenied on iam:SimulatePrincipalPolicy: grant it to use --simulate"
    )


def test_nothing_to_compare_makes_no_call(live: tuple[LiveResult, Stubber]) -> None:
    result, _ = live
    before = list(result.session.calls)
    simulation = simulate_role(result, SIMULATED_ARN, [("sqs:SendMessage", "*", "conditional")])
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
    assert simulate_role(bare, SIMULATED_ARN, [("sns:CreateTopic", "*", "allowed")]) == SimulationResult(
        checked=0, error="no AWS session to simulate with"
    )
