"""AWS managed policies known offline, for roles that reference them only by ARN.

The data (``data/aws_managed_policies.json.gz``, with its provenance in
``data/aws_managed_policies.meta.json``) is generated from moto's bundled copy by
``scripts/generate_managed_policies.py``: the default version of every AWS managed policy moto
carries. It is read only when a role references an AWS managed policy, and each document is parsed
only when referenced. A customer managed policy whose document is not in the input (or an AWS
managed policy newer than the copy) cannot be read offline: its attachment becomes unknown with
``offline_unknown_reason(arn)``, never "grants nothing".
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from zeet_iam_audit.errors import PolicyError, ZeetIamAuditError
from zeet_iam_audit.model import AttachedPolicy, Origin, Policy
from zeet_iam_audit.policy.parse import parse_policy

POLICIES_FILE = "aws_managed_policies.json.gz"
META_FILE = "aws_managed_policies.meta.json"
AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"


@dataclass(frozen=True, slots=True)
class ManagedPolicyData:
    """Where the offline copy came from: moto's version, its newest policy update, what it holds."""

    moto_version: str
    data_as_of: str
    count: int
    missing: tuple[str, ...]  # policies Zeet's features need that moto did not have

    @property
    def date(self) -> str:
        """The day of ``data_as_of`` (``2026-09-30``)."""
        return self.data_as_of[:10]


def _damaged(name: str, error: Exception) -> ZeetIamAuditError:
    return ZeetIamAuditError(
        f"the packaged AWS managed policy data ({name}) is missing or damaged: {error}; reinstall zeet-iam-audit"
    )


def _data_file(name: str) -> bytes:
    return resources.files("zeet_iam_audit.sources").joinpath("data", name).read_bytes()


@functools.cache
def managed_policy_data() -> ManagedPolicyData:
    """Provenance of the offline AWS managed policies (for ``--version`` and ``catalog``)."""
    try:
        raw = json.loads(_data_file(META_FILE))
        return ManagedPolicyData(
            moto_version=str(raw["moto_version"]),
            data_as_of=str(raw["data_as_of"]),
            count=int(raw["count"]),
            missing=tuple(raw.get("missing", ())),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise _damaged(META_FILE, error) from None


@functools.cache
def _policies() -> Mapping[str, tuple[str, str, str, str]]:
    """ARN → (name, default version id, update date, document text); read on first use."""
    try:
        raw = json.loads(gzip.decompress(_data_file(POLICIES_FILE)))
        return {str(arn): (str(n), str(v), str(u), str(d)) for arn, (n, v, u, d) in raw.items()}
    except (OSError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise _damaged(POLICIES_FILE, error) from None


def known_managed_policy_arns() -> tuple[str, ...]:
    """Every ARN that ``resolve_managed_policy`` can answer, sorted."""
    return tuple(sorted(_policies()))


def managed_policy_names() -> dict[str, str]:
    """Every shipped AWS managed policy's name → its ARN (what a SAM ``Policies`` name means)."""
    return {entry[0]: arn for arn, entry in _policies().items()}


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
    if not is_aws_managed_arn(arn):
        return None  # not read: the data is loaded only for AWS managed policies
    entry = _policies().get(arn)
    if entry is None:
        return None
    name, version, _, document = entry
    copy = f"AWS managed policy {name} {version} (offline copy from moto {managed_policy_data().moto_version})"
    return parse_policy(json.loads(document), name=name, origin=Origin(copy, None))


def managed_attachment(arn: str, *, name: str | None, origin: Origin | None) -> AttachedPolicy:
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
