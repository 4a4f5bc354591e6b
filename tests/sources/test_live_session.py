"""The live session: read-only guard, recorded calls, and every AWS failure as one line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from tests.live.support import (
    READ_ONLY_ACCESS,
    create_policy,
    create_zeet_role,
    fixture_json,
    fixture_text,
    inject_error,
    role_arn,
)
from zeet_iam_audit import Decision, evaluate
from zeet_iam_audit.errors import AwsAccessError
from zeet_iam_audit.sources.live import (
    LIVE_PERMISSIONS,
    LiveOptions,
    open_session,
    read_live,
    simulate_role,
)
from zeet_iam_audit.sources.live_scps import read_scps
from zeet_iam_audit.sources.live_session import (
    NO_CREDENTIALS,
    AwsCredentialsError,
    ReadOnlyError,
    is_read_only,
)

ROOT = Path(__file__).resolve().parents[2]


# -- the read-only guard --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "allowed"),
    [
        ("iam", "GetRole", True),
        ("iam", "ListAttachedRolePolicies", True),
        ("iam", "GetAccountAuthorizationDetails", True),
        ("iam", "SimulatePrincipalPolicy", True),
        ("organizations", "DescribePolicy", True),
        ("organizations", "ListPoliciesForTarget", True),
        ("sts", "GetCallerIdentity", True),
        ("sts", "DecodeAuthorizationMessage", True),
        ("iam", "CreateRole", False),
        ("iam", "PutRolePolicy", False),
        ("iam", "AttachRolePolicy", False),
        ("iam", "UpdateAssumeRolePolicy", False),
        ("iam", "GenerateCredentialReport", False),
        ("iam", "TagRole", False),
        ("organizations", "DetachPolicy", False),
        ("organizations", "LeaveOrganization", False),
        ("sts", "AssumeRole", False),
        ("sts", "GetSessionToken", False),  # mints credentials, although it starts with Get
        ("sts", "GetFederationToken", False),
    ],
)
def test_only_reads_pass_the_guard(service: str, operation: str, allowed: bool) -> None:
    assert is_read_only(service, operation) is allowed


@pytest.mark.usefixtures("aws")
def test_the_guard_refuses_writes_before_anything_is_sent() -> None:
    session = open_session(LiveOptions())
    iam = session.client("iam")
    sent: list[str] = []
    iam.meta.events.register("before-send", lambda request, **_: sent.append(request.url))

    with pytest.raises(ReadOnlyError) as caught:
        iam.create_role(RoleName="intruder", AssumeRolePolicyDocument=fixture_text("zeet-trust.json"))

    assert str(caught.value) == "refused iam:CreateRole: zeet-iam-audit is read-only"
    assert sent == []
    assert session.calls == ["iam:CreateRole"]
    assert boto3.client("iam").list_roles()["Roles"] == []  # nothing reached moto


@pytest.mark.parametrize(
    ("service", "method", "params", "label"),
    [
        ("iam", "delete_role", {"RoleName": "zeet-role"}, "iam:DeleteRole"),
        (
            "iam",
            "put_role_policy",
            {"RoleName": "zeet-role", "PolicyName": "P", "PolicyDocument": "{}"},
            "iam:PutRolePolicy",
        ),
        (
            "organizations",
            "detach_policy",
            {"PolicyId": "p-12345678", "TargetId": "r-ab12"},
            "organizations:DetachPolicy",
        ),
        ("sts", "assume_role", {"RoleArn": role_arn("zeet-role"), "RoleSessionName": "audit"}, "sts:AssumeRole"),
        # Even parameters that would not validate: the guard runs before validation.
        ("iam", "create_role", {}, "iam:CreateRole"),
    ],
)
@pytest.mark.usefixtures("aws")
def test_every_client_is_guarded(service: str, method: str, params: dict[str, Any], label: str) -> None:
    iam = boto3.client("iam")
    create_zeet_role(iam, path="/")
    session = open_session(LiveOptions())
    with pytest.raises(ReadOnlyError, match=f"refused {label}: zeet-iam-audit is read-only"):
        getattr(session.client(service), method)(**params)
    assert session.calls == [label]
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["zeet-role"]


@pytest.mark.usefixtures("aws")
def test_a_full_live_run_makes_only_the_documented_read_calls() -> None:
    """Every path: roles by ARN, every role, the SCP walk, the simulation."""
    iam = boto3.client("iam")
    secrets = create_policy(iam, "ZeetSecrets", "zeet-secrets-managed.json")
    boundary = create_policy(iam, "ZeetBoundary", "zeet-boundary.json")
    arn = create_zeet_role(
        iam, inline={"ZeetCapacity": "zeet-capacity-inline.json"}, managed=(secrets,), boundary=boundary
    )
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    organizations.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    member = organizations.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"][
        "AccountId"
    ]

    calls: list[str] = []
    by_arn = read_live(LiveOptions(role_arns=(arn,), scps="auto"))
    calls += by_arn.calls
    calls += read_live(LiveOptions(all_roles=True, scps="auto")).calls
    session = open_session(LiveOptions())
    read_scps(session, account=member)
    simulate_role(by_arn, arn, [("sqs:CreateQueue", "*", "allowed")])
    calls += session.calls + by_arn.session.calls[len(by_arn.calls) :]

    assert set(calls) == set(LIVE_PERMISSIONS)
    assert all(is_read_only(*call.split(":")) for call in calls)


# -- credentials ----------------------------------------------------------------------------------


def test_missing_credentials_are_one_line(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with pytest.raises(AwsCredentialsError) as caught:
        # An endpoint nobody listens on: nothing could leave even if credentials were found.
        read_live(LiveOptions(role_arns=(role_arn("zeet-role"),), endpoint_url="http://127.0.0.1:9", max_attempts=1))
    assert str(caught.value) == NO_CREDENTIALS
    assert str(caught.value).startswith("no AWS credentials found: set AWS_PROFILE")


def test_an_unknown_profile_is_one_line(aws_env: None) -> None:
    with pytest.raises(AwsCredentialsError) as caught:
        read_live(LiveOptions(role_arns=(role_arn("zeet-role"),), profile="zeet-audit"))
    assert str(caught.value) == ("The config profile (zeet-audit) could not be found: check --profile or AWS_PROFILE")


def test_a_profile_from_the_config_file_is_used(aws_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile zeet-audit]\nregion = eu-west-1\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = secret\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    session = open_session(LiveOptions(profile="zeet-audit"))
    client = session.client("sts")
    assert client.meta.region_name == "eu-west-1"
    assert client._request_signer._credentials.access_key == "AKIAPROFILE"


def test_an_expired_sso_session_is_one_line(aws_env: None) -> None:
    from botocore.exceptions import UnauthorizedSSOTokenError

    session = open_session(LiveOptions())

    def expired(**_: Any) -> None:
        raise UnauthorizedSSOTokenError()  # what botocore raises when the SSO token has expired

    session.client("iam").meta.events.register("before-call.iam.GetRole", expired)
    with pytest.raises(AwsCredentialsError) as caught:
        read_live(LiveOptions(role_arns=(role_arn("zeet-role"),)), session=session)
    assert str(caught.value).startswith("AWS credentials could not be loaded: The SSO session associated")
    assert str(caught.value).endswith("(for SSO run 'aws sso login')")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("code", ["ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch"])
@pytest.mark.usefixtures("aws")
def test_rejected_credentials_stop_the_run(code: str) -> None:
    session = open_session(LiveOptions())
    inject_error(session.client("iam"), "GetRole", code)
    with pytest.raises(AwsCredentialsError) as caught:
        read_live(LiveOptions(role_arns=(role_arn("zeet-role"),)), session=session)
    assert str(caught.value) == (
        f"AWS rejected the credentials ({code} on iam:GetRole): refresh them (for SSO run "
        "'aws sso login') or choose others with --profile"
    )


# -- throttling and the network -------------------------------------------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


THROTTLED = (
    b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
    b"<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    b"<RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>"
)


@pytest.mark.usefixtures("aws")
def test_throttling_beyond_the_retry_budget_names_the_operation() -> None:
    options = LiveOptions(role_arns=(role_arn("zeet-role"),), max_attempts=2)
    session = open_session(options)
    attempts: list[str] = []

    def throttle(request: Any, **_: Any) -> AWSResponse:
        attempts.append(request.url)
        return AWSResponse(request.url, 400, {"Content-Type": "text/xml"}, _Body(THROTTLED))

    session.client("iam").meta.events.register("before-send.iam.GetRole", throttle)
    with pytest.raises(AwsAccessError) as caught:
        read_live(options, session=session)

    assert len(attempts) == 2  # botocore retried, then gave up
    assert session.calls == ["iam:GetRole"]  # one call, however many attempts
    assert str(caught.value) == ("AWS throttled iam:GetRole (Throttling) through 2 attempts: try again later")


@pytest.mark.usefixtures("aws")
def test_an_answer_that_is_not_from_aws_is_one_line() -> None:
    """A proxy's (or an emulator's) HTML error page instead of AWS's XML."""
    options = LiveOptions(role_arns=(role_arn("zeet-role"),), max_attempts=1)
    session = open_session(options)
    page = b"<!doctype html>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
    session.client("iam").meta.events.register(
        "before-send.iam.GetRole",
        lambda request, **_: AWSResponse(request.url, 500, {"Content-Type": "text/html"}, _Body(page)),
    )
    with pytest.raises(AwsAccessError) as caught:
        read_live(options, session=session)
    assert str(caught.value).startswith(
        "iam:GetRole: the endpoint's answer is not an AWS response: Unable to parse response"
    )
    assert "\n" not in str(caught.value)
    assert "doctype" not in str(caught.value)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_endpoint_that_refuses_connections_is_one_line(aws_env: None) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(AwsAccessError) as caught:
        read_live(LiveOptions(role_arns=(role_arn("zeet-role"),), endpoint_url=url, max_attempts=1))
    assert str(caught.value) == (f'cannot reach AWS for iam:GetRole: Could not connect to the endpoint URL: "{url}/"')


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An HTTP endpoint that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()


def test_a_read_timeout_is_one_line(aws_env: None, silent_endpoint: str) -> None:
    options = LiveOptions(
        role_arns=(role_arn("zeet-role"),), endpoint_url=silent_endpoint, max_attempts=1, read_timeout=0.2
    )
    with pytest.raises(AwsAccessError) as caught:
        read_live(options)
    assert str(caught.value) == (
        f'cannot reach AWS for iam:GetRole: Read timeout on endpoint URL: "{silent_endpoint}/"'
    )


@pytest.mark.usefixtures("aws")
def test_an_unexpected_aws_error_stops_the_run_in_one_line() -> None:
    session = open_session(LiveOptions())
    inject_error(session.client("iam"), "GetRole", "ServiceFailure", status=500)
    with pytest.raises(AwsAccessError) as caught:
        read_live(LiveOptions(role_arns=(role_arn("zeet-role"),)), session=session)
    assert str(caught.value).startswith("iam:GetRole failed: ServiceFailure: User: arn:aws:sts::")
    assert "\n" not in str(caught.value)


# -- boto3 stays out of everything else -----------------------------------------------------------


def test_importing_the_package_and_the_live_modules_does_not_import_boto3() -> None:
    code = (
        "import sys, json\n"
        "import zeet_iam_audit.cli, zeet_iam_audit.run, zeet_iam_audit.sources\n"
        "import zeet_iam_audit.sources.live, zeet_iam_audit.sources.live_scps\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


# -- the least-privilege policy for running the tool ----------------------------------------------

ROLE = role_arn("zeet-role", "/zeet/")
CUSTOMER_POLICY = "arn:aws:iam::123456789012:policy/ZeetSecrets"
# Each permission with the resources a live audit uses it on.
_USES = {
    "iam:GetRole": (ROLE,),
    "iam:ListRolePolicies": (ROLE,),
    "iam:GetRolePolicy": (ROLE,),
    "iam:ListAttachedRolePolicies": (ROLE,),
    "iam:GetPolicy": (CUSTOMER_POLICY, READ_ONLY_ACCESS),
    "iam:GetPolicyVersion": (CUSTOMER_POLICY, READ_ONLY_ACCESS),
    "iam:GetAccountAuthorizationDetails": ("*",),
    "iam:SimulatePrincipalPolicy": (ROLE,),
    "organizations:DescribeOrganization": ("*",),
    "organizations:ListParents": ("*",),
    "organizations:ListRoots": ("*",),
    "organizations:ListPoliciesForTarget": ("*",),
    "organizations:DescribePolicy": ("*",),
}


def test_every_permission_has_its_uses() -> None:
    assert set(_USES) == set(LIVE_PERMISSIONS) - {"sts:GetCallerIdentity"}


@pytest.mark.parametrize(("permission", "resources"), sorted(_USES.items()))
def test_the_documented_policy_allows_every_call(permission: str, resources: tuple[str, ...]) -> None:
    """fixtures/live/zeet-iam-audit-policy.json: what an auditor needs (GetCallerIdentity is free)."""
    policy = fixture_json("zeet-iam-audit-policy.json")
    for resource in resources:
        assert evaluate(permission, resource, [policy]).decision is Decision.ALLOWED, resource


def test_the_documented_policy_grants_nothing_else() -> None:
    policy = fixture_json("zeet-iam-audit-policy.json")
    granted = {
        action
        for statement in policy["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert granted == set(LIVE_PERMISSIONS) - {"sts:GetCallerIdentity"}
