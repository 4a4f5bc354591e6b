"""Helpers for live tests: the fixtures' documents, a Zeet-shaped role, injected AWS errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

from zeet_iam_audit.model import AttachedPolicy, Policy, Role

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "live"
ACCOUNT = "123456789012"  # moto's default account
ZEET_ACCOUNT = "111122223333"
EXTERNAL_ID = "zeet-external-id-0001"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture_text(name))


def role_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


def create_policy(iam: Any, name: str, fixture: str) -> str:
    """A customer managed policy from a fixture document; returns its ARN."""
    return str(iam.create_policy(PolicyName=name, PolicyDocument=fixture_text(fixture))["Policy"]["Arn"])


def create_zeet_role(
    iam: Any,
    name: str = "zeet-role",
    *,
    path: str = "/zeet/",
    inline: Mapping[str, str] | None = None,
    managed: tuple[str, ...] = (),
    boundary: str | None = None,
    max_session_duration: int = 7200,
) -> str:
    """A role Zeet's account can assume, with inline policies (name → fixture) and attachments."""
    extra: dict[str, Any] = {"PermissionsBoundary": boundary} if boundary else {}
    arn = iam.create_role(
        RoleName=name,
        Path=path,
        AssumeRolePolicyDocument=fixture_text("zeet-trust.json"),
        MaxSessionDuration=max_session_duration,
        **extra,
    )["Role"]["Arn"]
    for policy_name, fixture in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=fixture_text(fixture))
    for policy_arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return str(arn)


def error_response(code: str, message: str = "", status: int = 403) -> tuple[AWSResponse, dict[str, Any]]:
    """What a before-call hook returns to make botocore raise ``code`` as AWS would."""
    http = AWSResponse("https://aws.invalid/", status, {}, None)
    parsed = {
        "Error": {"Type": "Sender", "Code": code, "Message": message or f"simulated {code}"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return http, parsed


def inject_error(
    client: Any,
    operation: str,
    code: str = "AccessDenied",
    *,
    when: Callable[[Mapping[str, Any]], bool] | None = None,
    status: int = 403,
) -> list[Mapping[str, Any]]:
    """Make ``operation`` on ``client`` fail with ``code`` (when ``when(params)`` holds).

    The hook runs on ``before-call``, after the read-only guard, and returns an error response in
    place of the HTTP exchange: botocore raises it exactly as it raises AWS's own errors. Returns
    the list the hook appends the matched request bodies to.
    """
    hits: list[Mapping[str, Any]] = []
    service = client.meta.service_model.service_id.hyphenize()
    message = (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/auditor/session is not authorized to perform: "
        f"{client.meta.service_model.service_name}:{operation}"
    )

    def hook(params: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params.get("body")
        fields: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        if when is not None and not when(fields):
            return None
        hits.append(fields)
        return error_response(code, message, status)

    client.meta.events.register(f"before-call.{service}.{operation}", hook)
    return hits


def _no_origin(policy: Policy | None) -> Policy | None:
    return None if policy is None else replace(policy, origin=None)


def _attachment_without_origin(attached: AttachedPolicy | None) -> AttachedPolicy | None:
    if attached is None:
        return None
    return replace(attached, origin=None, policy=_no_origin(attached.policy))


def without_origins(role: Role) -> Role:
    """The role with ``source`` and every ``origin`` blanked: what live and file reads share."""
    return replace(
        role,
        source="",
        trust_policy=_no_origin(role.trust_policy),
        policies=tuple(a for a in map(_attachment_without_origin, role.policies) if a is not None),
        permissions_boundary=_attachment_without_origin(role.permissions_boundary),
    )
