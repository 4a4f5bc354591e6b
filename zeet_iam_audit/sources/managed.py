"""AWS managed policies known offline, for roles that reference them only by ARN.

The data (``data/aws_managed_policies.json``) is generated from moto's bundled copy by
``scripts/generate_managed_policies.py``; it holds the default version of each policy Zeet's
features touch (the list is in the generator). A managed policy outside that set, or a customer
managed policy whose document is not in the input, cannot be read offline: its attachment becomes
unknown with ``offline_unknown_reason(arn)``, never "grants nothing".
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from zeet_iam_audit.errors import PolicyError, ZeetIamAuditError
from zeet_iam_audit.model import AttachedPolicy, Policy
from zeet_iam_audit.policy.parse import parse_policy

DATA_FILE = "aws_managed_policies.json"
AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"


@dataclass(frozen=True, slots=True)
class ManagedPolicyData:
    """Where the offline copy came from: moto's version, its newest policy update, what it holds."""

    moto_version: str
    data_as_of: str
    count: int
    missing: tuple[str, ...]  # names the generator asked for that moto did not have


@functools.cache
def _load() -> tuple[ManagedPolicyData, Mapping[str, Mapping[str, Any]]]:
    try:
        text = (
            resources.files("zeet_iam_audit.sources").joinpath("data", DATA_FILE).read_text("utf-8")
        )
        raw = json.loads(text)
        policies: Mapping[str, Mapping[str, Any]] = raw["policies"]
        info = ManagedPolicyData(
            moto_version=str(raw["moto_version"]),
            data_as_of=str(raw["data_as_of"]),
            count=len(policies),
            missing=tuple(raw.get("missing", ())),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ZeetIamAuditError(
            f"the packaged AWS managed policy data ({DATA_FILE}) is missing or damaged: {error}; "
            "reinstall zeet-iam-audit"
        ) from None
    return info, policies


def managed_policy_data() -> ManagedPolicyData:
    """Provenance of the offline AWS managed policies (for reports and ``--version`` output)."""
    return _load()[0]


def known_managed_policy_arns() -> tuple[str, ...]:
    """Every ARN that ``resolve_managed_policy`` can answer, sorted."""
    return tuple(sorted(_load()[1]))


def is_aws_managed_arn(arn: str) -> bool:
    """True for ``arn:aws:iam::aws:policy/...`` (an AWS managed policy in the aws partition)."""
    return arn.startswith(AWS_MANAGED_PREFIX)


def offline_unknown_reason(arn: str) -> str:
    """Why an ARN-only policy attachment is unknown."""
    return f"cannot read {arn} offline; include its document or audit the live role"


@functools.cache
def resolve_managed_policy(arn: str) -> Policy | None:
    """The parsed default version of an AWS managed policy, or None when it is not shipped.

    Raises ``PolicyError`` only if a shipped document does not parse (a bug: a test parses all).
    """
    info, policies = _load()
    entry = policies.get(arn)
    if entry is None:
        return None
    origin = (
        f"AWS managed policy {entry['name']} {entry['version']} "
        f"(offline copy from moto {info.moto_version})"
    )
    return parse_policy(entry["document"], name=str(entry["name"]), origin=origin)


def managed_attachment(arn: str, *, name: str | None, origin: str) -> AttachedPolicy:
    """An attachment known only by ARN: resolved offline when shipped, else unknown with why."""
    shown = name or arn.rsplit("/", 1)[-1]
    try:
        policy = resolve_managed_policy(arn)
    except PolicyError as error:
        return AttachedPolicy(
            name=shown,
            arn=arn,
            policy=None,
            origin=origin,
            unknown_reason=f"offline copy of {arn}: {error}",
        )
    if policy is None:
        return AttachedPolicy(
            name=shown,
            arn=arn,
            policy=None,
            origin=origin,
            unknown_reason=offline_unknown_reason(arn),
        )
    return AttachedPolicy(name=shown, arn=arn, policy=policy, origin=origin)
