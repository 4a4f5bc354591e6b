"""A small role builder for audit tests."""

from __future__ import annotations

from typing import Any

from zeet_iam_audit.model import AttachedPolicy, PolicyKind, Role
from zeet_iam_audit.policy.parse import parse_policy

ZEET = "111122223333"
CUSTOMER = "123456789012"
EXTERNAL = "zeet-ext-5f2c9a7e"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ZEET}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL}},
        }
    ],
}


def statement(action: Any, resource: Any = "*", effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **extra}


def make_role(
    *statements: dict[str, Any],
    boundary: list[dict[str, Any]] | None = None,
    unreadable: str | None = None,
    name: str = "zeet",
) -> Role:
    """A role whose one inline policy holds ``statements``."""
    policies = []
    if statements:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        policies.append(
            AttachedPolicy(name="inline", arn=None, inline=True, policy=parse_policy(document, name="inline"))
        )
    if unreadable:
        policies.append(
            AttachedPolicy(
                name="Mystery", arn=unreadable, policy=None, unknown_reason=f"cannot read {unreadable} offline"
            )
        )
    bound = None
    if boundary is not None:
        document = {"Version": "2012-10-17", "Statement": boundary}
        bound = AttachedPolicy(
            name="Boundary",
            arn="arn:aws:iam::123456789012:policy/Boundary",
            policy=parse_policy(document, name="Boundary"),
        )
    return Role(
        name=name,
        arn=f"arn:aws:iam::{CUSTOMER}:role/{name}",
        source="test",
        trust_policy=parse_policy(TRUST, kind=PolicyKind.TRUST),
        policies=tuple(policies),
        permissions_boundary=bound,
        max_session_duration=3600,
    )
