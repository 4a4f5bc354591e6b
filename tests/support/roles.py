"""Small role builders for the support tests."""

from __future__ import annotations

from typing import Any

from zeet_iam_audit.model import AttachedPolicy, Origin, PolicyKind, Role
from zeet_iam_audit.policy.parse import parse_policy

ACCOUNT = "123456789012"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "zeet-ext-5f2c9a7e"}},
        }
    ],
}


def statement(action: Any, resource: Any = "*", effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **extra}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def make_role(
    *statements: dict[str, Any],
    boundary: list[dict[str, Any]] | None = None,
    unreadable: bool = False,
    name: str = "zeet",
) -> Role:
    """A role whose one inline policy ``ZeetInline`` holds ``statements``."""
    policies = [
        AttachedPolicy(
            name="ZeetInline",
            arn=None,
            inline=True,
            origin=Origin("role.json", ("$", "RolePolicies", 0)),
            policy=parse_policy(
                document(*statements),
                name="ZeetInline",
                origin=Origin("role.json", ("$", "RolePolicies", 0, "PolicyDocument")),
            ),
        )
    ]
    if unreadable:
        policies.append(
            AttachedPolicy(
                name="Mystery",
                arn=f"arn:aws:iam::{ACCOUNT}:policy/Mystery",
                policy=None,
                unknown_reason="cannot read arn:aws:iam::123456789012:policy/Mystery offline",
            )
        )
    bound = None
    if boundary is not None:
        bound = AttachedPolicy(
            name="Boundary",
            arn=f"arn:aws:iam::{ACCOUNT}:policy/Boundary",
            policy=parse_policy(document(*boundary), name="Boundary", origin=Origin("boundary.json", ("$",))),
        )
    return Role(
        name=name,
        arn=f"arn:aws:iam::{ACCOUNT}:role/{name}",
        source="test",
        trust_policy=parse_policy(TRUST, kind=PolicyKind.TRUST),
        policies=tuple(policies),
        permissions_boundary=bound,
        max_session_duration=3600,
    )
