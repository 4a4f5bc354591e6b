"""An endpoint that misbehaves rather than fails: the tool must not believe it.

Answers injected below botocore (``faults.py``) into moto's three roles (``conftest.py``):

- a listing that says ``IsTruncated`` but gives no ``Marker``, or gives the same marker again, or
  never ends: an error naming the call, and the role's verdicts unknown, never "ok";
- an HTML page answered with status 200: one line saying the answer is not AWS's;
- an error message echoing the session token URL-encoded or split by a line break: redacted;
- a role deleted mid-read: unknown for the gate (``--strict`` fails), exit 2 when nothing was audited;
- an endpoint that cannot be connected to: two connection attempts, then one line.
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from botocore.awsrequest import AWSResponse

from zeet_iam_audit.audit.report import FeatureStatus
from zeet_iam_audit.cli import main
from zeet_iam_audit.errors import AwsAccessError
from zeet_iam_audit.sources import live, live_session
from zeet_iam_audit.sources.live import LiveOptions, LiveResult, open_session, read_live

from .conftest import ACCOUNT, EXTERNAL_ID, ROLES, ZEET, role_arn
from .faults import CONNECT_TIMEOUT, GONE, Faults, Rule, _Body, body_names, error_answer, raw_answer
from .test_live_faults import _audit, _reasons

ARNS = tuple(role_arn(name) for name in ROLES)
IAM_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"
SECRETS_ARN = f"arn:aws:iam::{ACCOUNT}:policy/Secrets"


def _read(faults: Faults, arns: tuple[str, ...] = ARNS) -> LiveResult:
    options = LiveOptions(role_arns=arns, max_attempts=2)
    session = open_session(options)
    faults.install(session)
    return read_live(options, session=session)


def _attached_page(policies: list[tuple[str, str]], *, truncated: bool, marker: str | None) -> str:
    """A ListAttachedRolePolicies answer as IAM writes it."""
    members = "".join(
        f"<member><PolicyName>{name}</PolicyName><PolicyArn>{arn}</PolicyArn></member>" for name, arn in policies
    )
    marker_xml = f"<Marker>{marker}</Marker>" if marker is not None else ""
    return (
        f'<ListAttachedRolePoliciesResponse xmlns="{IAM_XMLNS}"><ListAttachedRolePoliciesResult>'
        f"<AttachedPolicies>{members}</AttachedPolicies><IsTruncated>{str(truncated).lower()}</IsTruncated>"
        f"{marker_xml}</ListAttachedRolePoliciesResult><ResponseMetadata><RequestId>fault-0002</RequestId>"
        "</ResponseMetadata></ListAttachedRolePoliciesResponse>"
    )


def _deny_secrets_first(aws: Any) -> None:
    """zeet-c's second attached policy is the one that would deny: without it, Secrets allows."""
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}]}
    arn = aws.create_policy(PolicyName="DenySecrets", PolicyDocument=json.dumps(deny))["Policy"]["Arn"]
    aws.attach_role_policy(RoleName="zeet-c", PolicyArn=arn)


# --- listings that do not really end ---------------------------------------------------------------


def test_a_truncated_listing_without_a_marker_is_unknown_never_ok(aws: Any) -> None:
    _deny_secrets_first(aws)
    page = _attached_page([("Secrets", SECRETS_ARN)], truncated=True, marker=None)
    faults = Faults(
        rules=[Rule("iam:ListAttachedRolePolicies", raw_answer(200, "text/xml", page), when=body_names("zeet-c"))]
    )
    roles = _audit(_read(faults))
    statuses = {f.id: f.status for f in roles["zeet-c"].features}
    assert statuses["secrets-manager"] is FeatureStatus.UNKNOWN
    assert FeatureStatus.OK not in statuses.values()
    assert "iam:ListAttachedRolePolicies for zeet-c: the answer says IsTruncated but gives no Marker" in _reasons(
        roles["zeet-c"]
    )
    assert {f.id: f.status for f in roles["zeet-a"].features}["view-logs"] is FeatureStatus.OK


def test_a_marker_given_twice_is_a_loop_and_unknown(aws: Any) -> None:
    page = _attached_page([("Secrets", SECRETS_ARN)], truncated=True, marker="7")  # digits: moto, asked too, parses it
    faults = Faults(
        rules=[Rule("iam:ListAttachedRolePolicies", raw_answer(200, "text/xml", page), when=body_names("zeet-c"))]
    )
    roles = _audit(_read(faults))
    assert "the endpoint gave the same Marker twice: the listing loops" in _reasons(roles["zeet-c"])
    assert FeatureStatus.OK not in {f.status for f in roles["zeet-c"].features}
    assert faults.injected["iam:ListAttachedRolePolicies"] == 2


def test_markers_that_never_repeat_stop_at_the_page_cap(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_session, "MAX_PAGES", 5)
    markers = iter(range(1000))

    def endless(request: Any, **_: Any) -> AWSResponse | None:
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        if b"ListAttachedRolePolicies" not in body or b"zeet-c" not in body:
            return None
        page = _attached_page([("Secrets", SECRETS_ARN)], truncated=True, marker=str(next(markers)))
        return AWSResponse(request.url, 200, {"Content-Type": "text/xml"}, _Body(page.encode()))

    options = LiveOptions(role_arns=ARNS, max_attempts=2)
    session = open_session(options)
    session.client("iam").meta.events.register_first("before-send.iam", endless)
    roles = _audit(read_live(options, session=session))
    assert "more than 5 pages: the listing does not end" in _reasons(roles["zeet-c"])
    assert next(markers) == 5  # five pages were read, then the listing was given up
    assert FeatureStatus.OK not in {f.status for f in roles["zeet-c"].features}


def test_an_account_listing_without_a_marker_stops_the_run_naming_the_call(aws: Any) -> None:
    page = (
        f'<GetAccountAuthorizationDetailsResponse xmlns="{IAM_XMLNS}"><GetAccountAuthorizationDetailsResult>'
        "<RoleDetailList/><IsTruncated>true</IsTruncated></GetAccountAuthorizationDetailsResult>"
        "<ResponseMetadata><RequestId>f</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>"
    )
    faults = Faults(rules=[Rule("iam:GetAccountAuthorizationDetails", raw_answer(200, "text/xml", page))])
    options = LiveOptions(all_roles=True, max_attempts=2)
    session = open_session(options)
    faults.install(session)
    with pytest.raises(
        AwsAccessError,
        match=r"^iam:GetAccountAuthorizationDetails failed: IncompleteListing: "
        r"the answer says IsTruncated but gives no Marker",
    ):
        read_live(options, session=session)


# --- answers that are not AWS's ------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"])
def test_an_html_page_answered_with_200_is_one_line(operation: str, aws: Any) -> None:
    page = "<!DOCTYPE html><html><head><title>Sign in</title></head><body><p>Sign in</p></body></html>"
    faults = Faults(rules=[Rule(operation, raw_answer(200, "text/html; charset=utf-8", page))])
    with pytest.raises(AwsAccessError) as raised:
        _read(faults)
    message = str(raised.value)
    assert message.startswith(f"{operation}: the endpoint's answer is not an AWS response")
    assert "\n" not in message


# --- secrets echoed back -----------------------------------------------------------------------

TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+zeetTOKEN+secret/value=="


@pytest.mark.parametrize(
    "echo",
    [
        pytest.param(lambda token: token, id="as-is"),
        pytest.param(lambda token: quote(token, safe=""), id="url-encoded"),
        pytest.param(lambda token: quote_plus(token), id="form-encoded"),
        pytest.param(lambda token: quote(token, safe="").lower(), id="url-encoded-lower-case"),
        pytest.param(lambda token: token[:20] + "\n" + token[20:], id="split-by-a-line-break"),
        pytest.param(lambda token: token[:30] + " " + token[30:], id="split-by-a-space"),
    ],
)
def test_an_echoed_session_token_is_redacted_in_every_form(
    echo: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    message = f"request rejected; token was {echo(TOKEN)}; see logs"
    faults = Faults(rules=[Rule("iam:GetRole", ("answer", 400, "ValidationError", message))])
    with pytest.raises(AwsAccessError) as raised:
        _read(faults)
    text = str(raised.value)
    assert "[redacted]" in text
    for form in (TOKEN, quote(TOKEN, safe=""), quote_plus(TOKEN), TOKEN[:20], TOKEN[-20:]):
        assert form not in text
        assert form.lower() not in text.lower()
    assert text.endswith("; see logs")


def test_error_answers_are_built_as_aws_writes_them() -> None:
    """The fault helper's own answer (the shape the redaction test relies on)."""
    answer = error_answer("iam", "https://iam.amazonaws.com/", 400, "ValidationError", "m")
    assert answer.status_code == 400


# --- a role that vanishes mid-read ---------------------------------------------------------------


def _cli(arns: tuple[str, ...], faults: Faults, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, str, str]:
    opened = live.open_session

    def open_with_faults(options: LiveOptions) -> Any:
        session = opened(options)
        faults.install(session)
        return session

    monkeypatch.setattr(live, "open_session", open_with_faults)
    argv = [arg for arn in arns for arg in ("--role-arn", arn)]
    argv += ["--zeet-account-id", ZEET, "--external-id", EXTERNAL_ID, "--format", "json", "--no-excess", *extra]
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(argv, stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def _vanishing(name: str) -> Faults:
    return Faults(rules=[Rule("iam:ListAttachedRolePolicies", GONE, when=body_names(name))])


def test_a_role_deleted_mid_read_fails_a_strict_gate(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    code, stdout, stderr = _cli(ARNS[:2], _vanishing("zeet-a"), monkeypatch, "--strict", "--features", "view-logs")
    assert code == 1, stderr
    assert "fails on unknown" in stderr
    (skipped,) = json.loads(stdout)["skipped"]
    assert skipped["name"] == "zeet-a"
    assert skipped["unread"] is True
    assert skipped["reason"].startswith("could not be read: the role was deleted while it was being read")


def test_a_run_whose_only_role_vanished_is_an_error(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    code, stdout, stderr = _cli(ARNS[:1], _vanishing("zeet-a"), monkeypatch)
    assert code == 2
    assert stdout == ""
    assert stderr.splitlines() == [
        "zeet-iam-audit: error: nothing audited: zeet-a could not be read: the role was deleted while it was "
        "being read (NoSuchEntity on iam:ListAttachedRolePolicies)"
    ]


# --- an endpoint that cannot be reached ----------------------------------------------------------


def test_an_unreachable_endpoint_is_given_up_after_two_connection_attempts(aws: Any) -> None:
    options = LiveOptions(role_arns=ARNS[:1], max_attempts=8)
    session = open_session(options)
    faults = Faults(rules=[Rule("*", CONNECT_TIMEOUT)])
    faults.install(session)
    with pytest.raises(AwsAccessError, match=r"^cannot reach AWS for iam:GetRole: Connect timeout"):
        read_live(options, session=session)
    assert faults.attempts["iam:GetRole"] == live_session.CONNECT_ATTEMPTS == 2
    assert session.connect_timeout <= 5
