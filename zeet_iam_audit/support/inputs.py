"""The roles and SCPs ``explain`` and ``diagnose`` work on: read from a file or from the live account.

The same inputs as the audit (``--file`` with ``--input-type`` and ``--parameter``; or ``--role-arn``
with ``--profile``, ``--region``, ``--endpoint-url``, ``--scps auto``), given as a ``RoleQuery``
(``commands.input_options`` declares the options and builds it), plus ``--scp FILE`` to evaluate
service control policies offline: each ``--scp`` is one level of the organization, from the root
down to the account, and every level must allow. A file holds one SCP
document, a JSON list of them (the policies attached at that level), or ``aws organizations
describe-policy`` output.

The live reader (``zeet_iam_audit.sources.live``) is imported only when ``--role-arn`` is used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zeet_iam_audit.errors import InputError, PolicyError, UsageError
from zeet_iam_audit.model import Origin, Policy, PolicyKind, Role, Route, route_text
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.run import parse_parameters
from zeet_iam_audit.sources import load_file
from zeet_iam_audit.sources.reading import load_document


@dataclass(frozen=True, slots=True)
class RoleQuery:
    """Where the roles are: a file (its kind, CloudFormation parameters) or a live role, and the SCPs."""

    file: Path | None = None
    input_type: str | None = None
    parameters: tuple[str, ...] = ()  # NAME=VALUE
    role_arn: str | None = None
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    scps: str = "off"  # auto: read the live account's SCPs
    scp: tuple[Path, ...] = ()  # SCP levels, root first


@dataclass(frozen=True, slots=True)
class RoleInput:
    """Roles read for a command, the SCP levels that apply, and the live session if one was opened."""

    roles: tuple[Role, ...]
    source: str
    scps: tuple[tuple[Policy, ...], ...] = ()
    scp_unknown_reason: str | None = None
    live: bool = False
    session: Any = field(default=None, compare=False, repr=False)
    notes: tuple[str, ...] = ()


def _scp_documents(data: Any, display: str) -> list[tuple[Any, str, Route]]:
    """(document, name, route to it) for each SCP in one ``--scp`` file."""
    if isinstance(data, list):
        found = []
        for position, item in enumerate(data):
            for document, name, route in _scp_documents(item, display):
                found.append(
                    (document, name if name != display else f"{display}[{position}]", ("$", position, *route[1:]))
                )
        return found
    if isinstance(data, Mapping) and isinstance(data.get("Policy"), Mapping):
        policy = data["Policy"]
        summary = policy.get("PolicySummary") if isinstance(policy.get("PolicySummary"), Mapping) else {}
        assert isinstance(summary, Mapping)
        name = str(summary.get("Name") or display)
        content = policy.get("Content")
        if isinstance(content, str):
            try:
                return [(json.loads(content), name, ("$", "Policy", "Content"))]
            except json.JSONDecodeError as error:
                raise InputError(f"{display}: $.Policy.Content: not JSON ({error.msg})") from None
        raise InputError(f"{display}: $.Policy.Content: expected the policy document as a string")
    if isinstance(data, Mapping) and "Statement" in data:
        return [(data, display, ("$",))]
    raise InputError(
        f"{display}: $: expected an SCP document (Statement), a list of them, or "
        "describe-policy output (Policy.Content)"
    )


def read_scp_levels(paths: Sequence[Path]) -> tuple[tuple[Policy, ...], ...]:
    """One SCP level per file, root first."""
    levels: list[tuple[Policy, ...]] = []
    for path in paths:
        display = str(path)
        document = load_document(path, display)
        policies = []
        for raw, name, route in _scp_documents(document.data, display):
            try:
                policies.append(parse_policy(raw, kind=PolicyKind.IDENTITY, name=name, origin=Origin(display, route)))
            except PolicyError as error:
                raise InputError(f"{display}: {route_text(route)}: {error}") from None
        levels.append(tuple(policies))
    return tuple(levels)


def read_roles(args: RoleQuery, *, progress: Callable[[str], None] | None = None) -> RoleInput:
    """The roles ``--file`` or ``--role-arn`` name (every role of a file; the caller chooses)."""
    if args.file is None and not args.role_arn:
        raise UsageError("no role to evaluate: give --file PATH or --role-arn ARN")
    if args.file is not None and args.role_arn:
        raise UsageError("--file and --role-arn: choose one source")
    if args.scps != "off" and not args.role_arn:
        raise UsageError("--scps auto reads the live account's SCPs: use it with --role-arn, or give --scp FILE")
    if args.scp and args.scps != "off":
        raise UsageError("--scp and --scps auto: choose one way to give SCPs")
    scps = read_scp_levels(args.scp or ())
    if args.file is not None:
        source = load_file(args.file, args.input_type, parameters=parse_parameters(args.parameters))
        notes = tuple(f"skipped {s.name}: {s.reason}" for s in source.skipped)
        return RoleInput(roles=tuple(source.roles), source=str(args.file), scps=scps, notes=notes)
    assert args.role_arn is not None  # not a file: a live role
    try:
        from zeet_iam_audit.sources.live import LiveOptions, read_live
    except ImportError as error:  # the live reader is optional (boto3, or a build without it)
        raise UsageError(
            f"--role-arn needs the live reader, which is not available here ({error}); "
            "pip install 'zeet-iam-audit[live]', or save the role with get-role and use --file"
        ) from None
    live = read_live(
        LiveOptions(
            role_arns=(args.role_arn,),
            profile=args.profile,
            region=args.region,
            endpoint_url=args.endpoint_url,
            scps=args.scps,
        ),
        progress=progress,
    )
    return RoleInput(
        roles=tuple(live.source.roles),
        source=args.role_arn,
        scps=scps or live.scps,
        scp_unknown_reason=live.scp_unknown_reason,
        live=True,
        session=live.session,
        notes=tuple(live.notes),
    )


def open_live_session(args: RoleQuery) -> Any:
    """A live session for calls that need no role (``diagnose --decode``)."""
    try:
        from zeet_iam_audit.sources.live import LiveOptions, open_session
    except ImportError as error:
        raise UsageError(
            f"--decode needs the live reader, which is not available here ({error}); pip install 'zeet-iam-audit[live]'"
        ) from None
    return open_session(LiveOptions(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url))
