"""Small builders for policy documents, so each test table reads as the policy it describes."""

from __future__ import annotations

from typing import Any

from zeet_iam_audit import Decision, EvaluationResult, evaluate

Document = dict[str, Any]


def policy(*statements: Document, version: str | None = "2012-10-17") -> Document:
    """A policy document holding ``statements`` (``version=None`` leaves Version out)."""
    document: Document = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return document


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> Document:
    """An Allow statement; ``extra`` adds elements such as ``Sid`` or ``Condition``."""
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> Document:
    """A Deny statement; ``extra`` adds elements such as ``Sid`` or ``Condition``."""
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def statement(effect: str, **elements: Any) -> Document:
    """Any statement, for NotAction / NotResource shapes."""
    return {"Effect": effect, **elements}


def condition_holds(
    operator: str,
    key: str,
    values: str | list[str] | bool,
    context: dict[str, str | list[str]],
    *,
    version: str | None = "2012-10-17",
) -> bool:
    """Whether one condition holds for ``context``, decided by the public ``evaluate``: an Allow
    gated only by that condition is allowed exactly when the condition is true."""
    result = evaluate(
        "s3:GetObject",
        identity_policies=[policy(allow("s3:GetObject", Condition={operator: {key: values}}), version=version)],
        context=context,
    )
    # With a context every condition is decided, so the answer is never "conditional".
    assert result.decision in (Decision.ALLOWED, Decision.IMPLICIT_DENY), result.explain()
    return result.decision is Decision.ALLOWED


def decision_of(result: EvaluationResult) -> str:
    """The decision as its string value, for compact table assertions."""
    return result.decision.value


# AWS's managed PowerUserAccess policy (statement shapes as AWS publishes them).
POWER_USER_ACCESS: Document = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "NotAction": ["iam:*", "organizations:*", "account:*"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": [
                "account:GetAccountInformation",
                "account:GetPrimaryEmail",
                "account:ListRegions",
                "iam:CreateServiceLinkedRole",
                "iam:DeleteServiceLinkedRole",
                "iam:ListRoles",
                "organizations:DescribeOrganization",
            ],
            "Resource": "*",
        },
    ],
}
