"""The service control policies that apply to the caller's account, read from AWS Organizations.

The walk: ``sts:GetCallerIdentity`` names the account; ``organizations:DescribeOrganization`` says
whether it is in an organization at all, and which account manages it; ``organizations:ListParents``
climbs from the account through its OUs to the root; ``organizations:ListRoots`` says whether the
SCP policy type is enabled there; then at each level ``organizations:ListPoliciesForTarget``
(``SERVICE_CONTROL_POLICY``) and ``organizations:DescribePolicy`` give the documents. Levels come
back ordered from the root to the account, as the evaluator wants them: every level must allow.

Three answers are definite "no SCPs apply", each explained in ``ScpReading.note``: the account is
in no organization, it is the organization's management account (SCPs never restrict it), or the
SCP policy type is not enabled on the root. Anything that stops the walk (AccessDenied for a member
account without delegated administration, a document that does not parse) gives no levels and an
``unknown_reason``, so every verdict the SCPs could change becomes unknown, never silently "ok".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zeet_iam_audit.errors import PolicyError
from zeet_iam_audit.model import Origin, Policy, PolicyKind
from zeet_iam_audit.sources.attach import parse_policy_checked
from zeet_iam_audit.sources.live_session import AwsCallError, LiveSession

SCP_FILTER = "SERVICE_CONTROL_POLICY"
MAX_DEPTH = 8  # AWS allows five OU levels under the root; a longer walk means something is wrong


@dataclass(frozen=True, slots=True)
class ScpReading:
    """SCP levels (root first), or why they are unknown, or why none apply."""

    levels: tuple[tuple[Policy, ...], ...] = ()
    unknown_reason: str | None = None
    note: str | None = None


def read_scps(
    session: LiveSession,
    progress: Callable[[str], None] | None = None,
    *,
    account: str | None = None,
) -> ScpReading:
    """Read the SCPs that apply to ``account`` (default: the caller's, from sts:GetCallerIdentity).

    See the module docstring for the walk and for what "unknown" and "none apply" mean.
    """
    if account is None:
        account = str(session.call("sts", "GetCallerIdentity")["Account"])
    if progress is not None:
        progress(f"reading the SCPs that apply to account {account}")
    prefix = f"cannot read the SCPs that apply to account {account}"
    try:
        return _walk(session, account, prefix)
    except AwsCallError as error:
        return ScpReading(unknown_reason=f"{prefix}: {error.code} on {error.operation}")


def _walk(session: LiveSession, account: str, prefix: str) -> ScpReading:
    try:
        organization = session.call("organizations", "DescribeOrganization")["Organization"]
    except AwsCallError as error:
        if error.code == "AWSOrganizationsNotInUseException":
            return ScpReading(note=f"account {account} is in no AWS organization: no SCPs apply")
        raise
    if organization.get("MasterAccountId") == account:
        return ScpReading(note=f"account {account} is its organization's management account: SCPs do not apply to it")
    if organization.get("FeatureSet") == "CONSOLIDATED_BILLING":
        return ScpReading(note=f"account {account}'s organization has consolidated billing only: no SCPs apply")

    chain = [account]  # account, its OU, ..., the root
    root: str | None = None
    while root is None:
        if len(chain) > MAX_DEPTH:
            return ScpReading(unknown_reason=f"{prefix}: more than {MAX_DEPTH} levels above it")
        parents = [
            parent
            for page in session.pages("organizations", "ListParents", ChildId=chain[-1])
            for parent in page.get("Parents", ())
        ]
        if len(parents) != 1:
            return ScpReading(
                unknown_reason=f"{prefix}: organizations:ListParents gave {len(parents)} parents for {chain[-1]}"
            )
        chain.append(str(parents[0]["Id"]))
        if parents[0].get("Type") == "ROOT":
            root = chain[-1]

    status = _scp_status(session, root)
    if status is None:
        return ScpReading(note=f"SCPs are not enabled in the organization of account {account}")
    if status != "ENABLED":
        return ScpReading(unknown_reason=f"{prefix}: the SCP policy type is {status} on {root}")

    documents: dict[str, Policy] = {}
    levels: list[tuple[Policy, ...]] = []
    for target in reversed(chain):
        summaries = [
            summary
            for page in session.pages("organizations", "ListPoliciesForTarget", TargetId=target, Filter=SCP_FILTER)
            for summary in page.get("Policies", ())
        ]
        if not summaries:
            # AWS keeps at least one SCP on every target while SCPs are enabled; an empty level
            # would deny everything, so say "unknown" rather than guess.
            return ScpReading(unknown_reason=f"{prefix}: no SCP is attached to {target}")
        level = []
        for summary in summaries:
            policy_id = str(summary["Id"])
            if policy_id not in documents:
                parsed = _describe(session, policy_id)
                if isinstance(parsed, str):
                    return ScpReading(unknown_reason=f"{prefix}: {parsed}")
                documents[policy_id] = parsed
            level.append(documents[policy_id])
        levels.append(tuple(level))
    return ScpReading(levels=tuple(levels))


def _scp_status(session: LiveSession, root: str) -> str | None:
    """The SCP policy type's status on the root (``ENABLED``, ``PENDING_*``), None when absent."""
    for page in session.pages("organizations", "ListRoots"):
        for entry in page.get("Roots", ()):
            if entry.get("Id") != root:
                continue
            for policy_type in entry.get("PolicyTypes", ()):
                if policy_type.get("Type") == SCP_FILTER:
                    return str(policy_type.get("Status"))
            return None
    return None


def _describe(session: LiveSession, policy_id: str) -> Policy | str:
    """One SCP's document, parsed; or why it cannot be used."""
    policy = session.call("organizations", "DescribePolicy", PolicyId=policy_id)["Policy"]
    summary = policy.get("PolicySummary", {})
    name = str(summary.get("Name") or policy_id)
    origin = f"live: organizations:DescribePolicy {policy_id} ({name})"
    try:
        return parse_policy_checked(
            policy.get("Content"), kind=PolicyKind.IDENTITY, name=name, origin=Origin(origin, None)
        )
    except PolicyError as error:
        return f"SCP {name} ({policy_id}): {error}"
