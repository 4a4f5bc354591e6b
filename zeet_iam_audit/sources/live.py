"""Live audits: roles read straight from AWS with the caller's credentials, strictly read-only.

``read_live`` reads the roles named by ``--role-arn`` (or, with ``--all-roles``, every role in the
account) and, with ``--scps auto``, the SCPs that apply to the account; ``simulate_role`` asks
``iam:SimulatePrincipalPolicy`` for a second opinion. boto3 is imported only inside the functions of
the ``live*`` modules, never when the package is imported.

**Reading one role** (``--role-arn``, repeatable): ``iam:GetRole`` (the name is the ARN's last path
segment), ``iam:ListRolePolicies`` + ``iam:GetRolePolicy`` for inline policies,
``iam:ListAttachedRolePolicies`` + ``iam:GetPolicy`` + ``iam:GetPolicyVersion`` (the default version)
for managed policies and the permissions boundary. Each managed policy is fetched and parsed once
per run, however many roles attach it. Origins name the call: ``live: iam:GetRolePolicy
zeet-role/ZeetSqs``. **Every role** (``--all-roles``): ``iam:GetAccountAuthorizationDetails`` with
every page, read by ``sources.gaad``, so a live audit and an audit of the saved file see the same
roles.

**What was read** is also returned as one get-account-authorization-details document
(``LiveResult.gaad``, written by ``--save``). ``zeet-iam-audit --file saved.json`` then gives the
same report, except for the fields that name where the data came from: ``inputs``,
``roles[].source`` (``live account 123456789012`` here, the file's path there), ``roles[].locations``
(places inside an input file: none for a live read) and the origins that unknown reasons quote
(``live: iam:GetRolePolicy ...`` here, ``saved.json: $.RoleDetailList[0]...`` there). The roles
themselves are equal but for ``source`` and their policies' ``origin`` (a test checks it).

When a read was denied the saved file keeps the gap: an inline policy without its
``PolicyDocument``, a managed policy missing from ``Policies``, and for a list call that was denied
a placeholder ``RolePolicyList`` entry without a document, whose name says what could not be read,
so the file audit stays unknown where the live one was (its reasons read differently, and an AWS
managed policy may then be resolved from the offline copy).

``--all-roles`` gives what the authorization details hold: no ``MaxSessionDuration`` (the API
leaves it out), which reading the same role by ARN includes.

``LiveOptions.max_attempts`` counts every attempt of one call, the first included (botocore's
standard retry mode, with ``total_max_attempts``).

**Failures.** Missing or rejected credentials, a role that does not exist, throttling beyond the
retry budget and network errors stop the run with one ``AwsAccessError`` line. A read that AWS
denies does not: the policy becomes unknown with ``"AccessDenied on iam:GetRolePolicy for
zeet-role/ZeetSqs: grant it to audit this policy"``, and the audit carries on with the rest. A
role deleted while it was being read is ``Skipped`` with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from zeet_iam_audit.audit.report import Disagreement, SimulationResult
from zeet_iam_audit.errors import AwsAccessError, PolicyError, UsageError
from zeet_iam_audit.model import AttachedPolicy, InputType, Origin, Policy, PolicyKind, Role
from zeet_iam_audit.sources.attach import parse_policy_checked
from zeet_iam_audit.sources.gaad import read_gaad
from zeet_iam_audit.sources.live_scps import ScpReading, read_scps
from zeet_iam_audit.sources.live_session import (
    CONNECT_TIMEOUT,
    INCOMPLETE_LISTING,
    AwsCallError,
    LiveSession,
    one_line,
)
from zeet_iam_audit.sources.result import Skipped, SourceResult
from zeet_iam_audit.sources.shape import Locator

__all__ = [
    "LIVE_PERMISSIONS",
    "LiveOptions",
    "LiveResult",
    "LiveSession",
    "open_session",
    "read_live",
    "role_name_from_arn",
    "simulate_role",
]

_ROLE_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/(?P<path>(?:[\x21-\x7e]*/)?)(?P<name>[\w+=,.@-]{1,64})$"
)
# Every permission a live audit uses, for a least-privilege policy (a test checks the calls made).
LIVE_PERMISSIONS = (
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetAccountAuthorizationDetails",  # --all-roles
    "iam:SimulatePrincipalPolicy",  # --simulate
    "sts:GetCallerIdentity",  # --scps auto (no permission needed)
    "organizations:DescribeOrganization",  # --scps auto, from here on
    "organizations:ListParents",
    "organizations:ListRoots",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
)
GAAD_FILTER = ("Role", "LocalManagedPolicy", "AWSManagedPolicy")
GAAD_DISPLAY = "live: iam:GetAccountAuthorizationDetails"
SIMULATE_BATCH = 50  # actions per SimulatePrincipalPolicy request: small requests, few of them
AWS_ALLOWED = "allowed"
AWS_DENIED = frozenset({"explicitDeny", "implicitDeny"})


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """What to read and how: the roles, the credentials, the endpoint and the patience."""

    role_arns: tuple[str, ...] = ()
    all_roles: bool = False
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    scps: str = "off"  # "off" | "auto"
    max_attempts: int = 8
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = 30


@dataclass(frozen=True, slots=True)
class LiveResult:
    """The roles read, the SCPs that apply, and a record of what was read and how."""

    source: SourceResult
    scps: tuple[tuple[Policy, ...], ...]
    scp_unknown_reason: str | None
    gaad: dict[str, Any]  # what was read, as a get-account-authorization-details document
    calls: tuple[str, ...]  # every AWS operation attempted, in order, e.g. "iam:GetRole"
    notes: tuple[str, ...] = ()  # facts worth telling, e.g. why no SCPs apply to the account
    session: Any = field(default=None, compare=False, repr=False)  # a LiveSession, for simulate_role


def open_session(options: LiveOptions) -> LiveSession:
    """A read-only AWS session for these options (nothing is called until a read needs it)."""
    return LiveSession(
        profile=options.profile,
        region=options.region,
        endpoint_url=options.endpoint_url,
        max_attempts=options.max_attempts,
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
    )


def role_name_from_arn(arn: str) -> str:
    """``arn:aws:iam::123456789012:role/path/to/name`` → ``name``; a UsageError for anything else."""
    match = _ROLE_ARN.match(arn)
    if match is None:
        raise UsageError(f"--role-arn: expected arn:aws:iam::ACCOUNT:role/[PATH/]NAME, got {arn!r}")
    return match.group("name")


def _account_of(arn: str | None) -> str | None:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def _role_source(arn: str | None) -> str:
    account = _account_of(arn)
    return f"live account {account}" if account else "live account"


def _plain(value: Any) -> Any:
    """An API response as JSON-ready data: datetimes as ISO 8601 strings, no ResponseMetadata."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _located(where: str, error: PolicyError) -> str:
    inner = error.path
    return f"{where}.{inner}" if inner and not inner.startswith("[") else f"{where}{inner}"


def _parse(document: Any, *, kind: PolicyKind, name: str, origin: str, where: str) -> tuple[Policy | None, str | None]:
    """A document as an API call returned it: the Policy, or why it is unknown."""
    try:
        return parse_policy_checked(document, kind=kind, name=name, origin=Origin(origin, None)), None
    except PolicyError as error:
        return None, f"{origin}: {_located(where, error)}: {error.problem}"


class _RoleGone(Exception):
    """The role disappeared between two reads."""

    def __init__(self, error: AwsCallError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class _Managed:
    """One managed policy as read once per run: parsed, or unknown; and its GAAD ``Policies`` entry."""

    name: str
    policy: Policy | None
    reason: str | None
    entry: dict[str, Any] | None


class _Reader:
    """Reads roles and managed policies through one session, sharing managed policies across roles."""

    def __init__(self, session: LiveSession, progress: Callable[[str], None] | None) -> None:
        self.session = session
        self.progress = progress
        self._managed: dict[str, _Managed] = {}

    # -- one role at a time ------------------------------------------------------------------

    def read_roles(self, arns: Sequence[str]) -> tuple[SourceResult, dict[str, Any]]:
        roles: list[Role] = []
        skipped: list[Skipped] = []
        details: list[dict[str, Any]] = []
        for number, arn in enumerate(arns, 1):
            if len(arns) > 1 and self.progress is not None:
                self.progress(f"reading role {number}/{len(arns)}: {role_name_from_arn(arn)}")
            outcome = self._read_role(arn)
            if isinstance(outcome, Skipped):
                skipped.append(outcome)
                continue
            role, detail = outcome
            roles.append(role)
            details.append(detail)
        entries = [m.entry for _, m in sorted(self._managed.items()) if m.entry is not None]
        gaad = _gaad_document(details, entries)
        path = ", ".join(dict.fromkeys(_role_source(arn) for arn in arns))
        result = SourceResult(roles=tuple(roles), skipped=tuple(skipped), input_type="live", path=path)
        return result, gaad

    def _read_role(self, arn: str) -> tuple[Role, dict[str, Any]] | Skipped:
        name = role_name_from_arn(arn)
        unknowns: list[str] = []
        got: Mapping[str, Any] | None
        try:
            got = self.session.call("iam", "GetRole", RoleName=name)["Role"]
        except AwsCallError as error:
            if error.code == "NoSuchEntity":
                raise _not_found(arn, error) from None
            if not error.denied:
                raise
            got = None
            unknowns.append(
                f"{error.code} on iam:GetRole for {name}: grant it to read the role's trust policy "
                "and permissions boundary"
            )
        if got is not None and str(got.get("Arn", "")).lower() != arn.lower():
            raise AwsAccessError(
                f"{arn}: not found; the role named {name} in the credentials' account is "
                f"{got.get('Arn')} (use credentials for account {_account_of(arn)}, or correct the path)"
            )
        try:
            inline, inline_details = self._inline(name, unknowns)
            attached, attached_details = self._attached(name, unknowns)
        except _RoleGone as gone:
            if got is None:
                raise _not_found(arn, gone.error) from None
            return Skipped(
                name=name,
                reason=f"could not be read: the role was deleted while it was being read "
                f"({gone.error.code} on {gone.error.operation})",
                origin=f"live: {gone.error.operation} {name}",
                unread=True,
            )

        trust: Policy | None = None
        trust_reason: str | None = unknowns[0] if got is None else None
        boundary: AttachedPolicy | None = None
        if got is not None:
            trust, trust_reason = _parse(
                got.get("AssumeRolePolicyDocument"),
                kind=PolicyKind.TRUST,
                name="AssumeRolePolicyDocument",
                origin=f"live: iam:GetRole {name}",
                where="AssumeRolePolicyDocument",
            )
            boundary_arn = (got.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if boundary_arn:
                boundary = self._attachment(str(boundary_arn), None, f"live: iam:GetRole {name} PermissionsBoundary")
        role_id = got.get("RoleId") if got is not None else None
        role = Role(
            name=str(got["RoleName"]) if got is not None else name,
            arn=str(got["Arn"]) if got is not None else arn,
            source=_role_source(arn),
            trust_policy=trust,
            trust_unknown_reason=trust_reason,
            policies=(*inline, *attached),
            permissions_boundary=boundary,
            max_session_duration=_int_or_none(got.get("MaxSessionDuration")) if got else None,
            unknowns=tuple(unknowns),
            path=str(got.get("Path") or "/") if got is not None else _path_of(arn),
            input_type=InputType.LIVE,
            role_id=role_id if isinstance(role_id, str) else None,
        )
        detail: dict[str, Any] = (
            dict(_plain(got)) if got is not None else {"Path": _path_of(arn), "RoleName": name, "Arn": arn}
        )
        # A list call that was denied leaves a gap the file format cannot express; a placeholder
        # entry without a document keeps the saved file's audit unknown there too.
        detail["RolePolicyList"] = inline_details + [{"PolicyName": f"(not read) {reason}"} for reason in unknowns]
        detail["AttachedManagedPolicies"] = attached_details
        return role, detail

    def _listed(self, operation: str, key: str, name: str, unknowns: list[str], what: str) -> list[Any] | None:
        """Every item of a paginated List call on the role; None (with the reason recorded in
        ``unknowns``) when the call is denied."""
        try:
            return [item for page in self.session.pages("iam", operation, RoleName=name) for item in page.get(key, ())]
        except AwsCallError as error:
            if error.code == "NoSuchEntity":
                raise _RoleGone(error) from None
            if error.code == INCOMPLETE_LISTING:
                # What was listed may miss a Deny: nothing of it counts, the role's verdicts are unknown.
                unknowns.append(f"{error.operation} for {name}: {error.detail}")
                return None
            if not error.denied:
                raise
            unknowns.append(f"{error.code} on iam:{operation} for {name}: grant it to audit the role's {what}")
            return None

    def _inline(self, name: str, unknowns: list[str]) -> tuple[list[AttachedPolicy], list[dict[str, Any]]]:
        listed = self._listed("ListRolePolicies", "PolicyNames", name, unknowns, "inline policies")
        if listed is None:
            return [], []
        names = [str(policy_name) for policy_name in listed]
        policies: list[AttachedPolicy] = []
        details: list[dict[str, Any]] = []
        for policy_name in names:
            label = f"{name}/{policy_name}"
            origin = f"live: iam:GetRolePolicy {label}"
            try:
                response = self.session.call("iam", "GetRolePolicy", RoleName=name, PolicyName=policy_name)
            except AwsCallError as error:
                if error.denied:
                    reason = f"{error.code} on iam:GetRolePolicy for {label}: grant it to audit this policy"
                elif error.code == "NoSuchEntity":
                    reason = (
                        f"NoSuchEntity on iam:GetRolePolicy for {label}: the policy was deleted while "
                        "the role was being read; audit again"
                    )
                else:
                    raise
                policies.append(
                    AttachedPolicy(
                        name=policy_name,
                        arn=None,
                        policy=None,
                        origin=Origin(origin, None),
                        unknown_reason=reason,
                        inline=True,
                    )
                )
                details.append({"PolicyName": policy_name})
                continue
            document = response.get("PolicyDocument")
            parsed, problem = _parse(
                document,
                kind=PolicyKind.IDENTITY,
                name=policy_name,
                origin=origin,
                where="PolicyDocument",
            )
            policies.append(
                AttachedPolicy(
                    name=policy_name,
                    arn=None,
                    policy=parsed,
                    origin=Origin(origin, None),
                    unknown_reason=problem,
                    inline=True,
                )
            )
            details.append({"PolicyName": policy_name, "PolicyDocument": _plain(document)})
        return policies, details

    def _attached(self, name: str, unknowns: list[str]) -> tuple[list[AttachedPolicy], list[dict[str, Any]]]:
        items = self._listed("ListAttachedRolePolicies", "AttachedPolicies", name, unknowns, "managed policies")
        if items is None:
            return [], []
        origin = f"live: iam:ListAttachedRolePolicies {name}"
        policies = []
        details = []
        for item in items:
            arn = str(item["PolicyArn"])
            policy_name = item.get("PolicyName")
            policies.append(self._attachment(arn, str(policy_name) if policy_name else None, origin))
            details.append({"PolicyName": policy_name, "PolicyArn": arn})
        return policies, details

    def _attachment(self, arn: str, name: str | None, origin: str) -> AttachedPolicy:
        managed = self._managed_policy(arn)
        return AttachedPolicy(
            name=name or managed.name,
            arn=arn,
            policy=managed.policy,
            origin=Origin(origin, None),
            unknown_reason=managed.reason,
        )

    def _managed_policy(self, arn: str) -> _Managed:
        """GetPolicy + GetPolicyVersion of the default version, once per ARN per run."""
        cached = self._managed.get(arn)
        if cached is not None:
            return cached
        fallback_name = arn.rsplit("/", 1)[-1]
        try:
            summary = self.session.call("iam", "GetPolicy", PolicyArn=arn)["Policy"]
            version_id = str(summary["DefaultVersionId"])
            version = self.session.call("iam", "GetPolicyVersion", PolicyArn=arn, VersionId=version_id)["PolicyVersion"]
        except AwsCallError as error:
            if error.denied:
                reason = f"{error.code} on {error.operation} for {arn}: grant it to audit this policy"
            elif error.code == "NoSuchEntity":
                reason = (
                    f"NoSuchEntity on {error.operation} for {arn}: the policy was deleted or changed "
                    "while the role was being read; audit again"
                )
            else:
                raise
            managed = _Managed(name=fallback_name, policy=None, reason=reason, entry=None)
            self._managed[arn] = managed
            return managed
        name = str(summary.get("PolicyName") or fallback_name)
        document = version.get("Document")
        policy, problem = _parse(
            document,
            kind=PolicyKind.IDENTITY,
            name=name,
            origin=f"live: iam:GetPolicyVersion {arn} {version_id}",
            where="Document",
        )
        entry = dict(_plain(summary))
        entry.pop("Tags", None)  # not part of the authorization-details shape
        entry["PolicyVersionList"] = [
            {
                "Document": _plain(document),
                "VersionId": version_id,
                "IsDefaultVersion": True,
                **({"CreateDate": _plain(version["CreateDate"])} if "CreateDate" in version else {}),
            }
        ]
        managed = _Managed(name=name, policy=policy, reason=problem, entry=entry)
        self._managed[arn] = managed
        return managed

    # -- the whole account --------------------------------------------------------------------

    def read_account(self) -> tuple[SourceResult, dict[str, Any]]:
        details: list[Any] = []
        policies: dict[str, Any] = {}
        try:
            for number, page in enumerate(
                self.session.pages("iam", "GetAccountAuthorizationDetails", Filter=list(GAAD_FILTER)),
                1,
            ):
                details.extend(page.get("RoleDetailList", ()))
                for entry in page.get("Policies", ()):
                    policies.setdefault(str(entry.get("Arn")), entry)
                if self.progress is not None:
                    noun = "role" if len(details) == 1 else "roles"
                    self.progress(
                        f"reading the account's authorization details: page {number}, {len(details)} {noun} so far"
                    )
        except AwsCallError as error:
            if error.denied:
                raise AwsAccessError(
                    f"{error.code} on iam:GetAccountAuthorizationDetails: grant it to audit every "
                    "role, or name the roles with --role-arn"
                ) from None
            raise
        gaad = _gaad_document([_plain(d) for d in details], [_plain(p) for p in policies.values()])
        roles, skipped = read_gaad(gaad, Locator(GAAD_DISPLAY))
        live_roles = tuple(replace(role, source=_role_source(role.arn), input_type=InputType.LIVE) for role in roles)
        result = SourceResult(roles=live_roles, skipped=tuple(skipped), input_type="live", path=GAAD_DISPLAY)
        return result, gaad


def _not_found(arn: str, error: AwsCallError) -> AwsAccessError:
    return AwsAccessError(
        f"role not found: {arn} ({error.code} on {error.operation}; check the ARN and that the "
        f"credentials are for account {_account_of(arn)})"
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _path_of(arn: str) -> str:
    match = _ROLE_ARN.match(arn)
    return "/" + match.group("path") if match is not None else "/"


def _gaad_document(details: list[Any], policies: list[Any]) -> dict[str, Any]:
    return {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": details,
        "Policies": sorted(policies, key=lambda entry: str(entry.get("Arn"))),
        "IsTruncated": False,
    }


def _check_options(options: LiveOptions) -> tuple[str, ...]:
    arns = tuple(dict.fromkeys(options.role_arns))
    if options.all_roles and arns:
        raise UsageError("--role-arn and --all-roles: choose one (--all-roles reads every role)")
    if not options.all_roles and not arns:
        raise UsageError("nothing to read: give --role-arn ARN or --all-roles")
    if options.scps not in ("off", "auto"):
        raise UsageError(f"--scps: expected off or auto, got {options.scps!r}")
    if options.max_attempts < 1:
        raise UsageError(f"max_attempts: expected at least 1, got {options.max_attempts}")
    for arn in arns:
        role_name_from_arn(arn)
    return arns


def read_live(
    options: LiveOptions,
    progress: Callable[[str], None] | None = None,
    *,
    session: LiveSession | None = None,
) -> LiveResult:
    """Read the roles (and, with ``scps="auto"``, the SCPs) from AWS; see the module docstring.

    ``progress`` receives one line per role when several are read, per page of
    get-account-authorization-details, and for the SCP walk. ``session`` replaces the one the
    options would open (tests pass one whose clients they stub). Raises ``UsageError`` for options
    that do not fit and ``AwsAccessError`` for whatever stops the reading.
    """
    arns = _check_options(options)
    live = session if session is not None else open_session(options)
    reader = _Reader(live, progress)
    source, gaad = reader.read_account() if options.all_roles else reader.read_roles(arns)
    scps = read_scps(live, progress) if options.scps == "auto" else ScpReading()
    notes = (scps.note,) if scps.note else ()
    if progress is not None:
        for note in notes:
            progress(note)
    return LiveResult(
        source=source,
        scps=scps.levels,
        scp_unknown_reason=scps.unknown_reason,
        gaad=gaad,
        calls=tuple(live.calls),
        notes=notes,
        session=live,
    )


def _batches(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def simulate_role(live: LiveResult, role_arn: str, checks: Sequence[tuple[str, str, str]]) -> SimulationResult:
    """Cross-check our verdicts with ``iam:SimulatePrincipalPolicy`` for one role.

    ``checks`` are ``(action, resource, ours)`` with ``ours`` one of ``allowed``, ``denied``,
    ``conditional``, ``unknown``. Only ``allowed`` and ``denied`` are compared: a conditional or
    unknown verdict says the answer depends on something neither side knows (AWS simulates without
    context keys here), so those checks are skipped and not counted. AWS's ``allowed`` agrees with
    ours ``allowed``; ``explicitDeny`` and ``implicitDeny`` agree with ``denied``; anything else is a
    ``Disagreement``. Actions are sent in batches of ``SIMULATE_BATCH``, one resource per request
    (``*`` sends no ResourceArns). The simulation includes the permissions boundary and, in an
    organization, the SCPs, so a role audited without ``--scps auto`` may disagree where an SCP
    denies.

    When the simulation cannot run (AccessDenied, an endpoint that does not implement it, a network
    error) the result has ``checked=0`` and a one-line ``error``; it never stops the audit.
    """
    compared: dict[tuple[str, str], tuple[str, str]] = {}
    for action, resource, ours in checks:
        if ours in ("allowed", "denied"):
            compared.setdefault((action.lower(), resource), (action, ours))
    if not compared:
        return SimulationResult(checked=0)
    session = live.session
    if not isinstance(session, LiveSession):
        return SimulationResult(checked=0, error="no AWS session to simulate with")
    by_resource: dict[str, list[str]] = {}
    for (_, resource), (action, _) in compared.items():
        by_resource.setdefault(resource, []).append(action)
    answers: dict[tuple[str, str], str] = {}
    try:
        for resource, actions in sorted(by_resource.items()):
            for batch in _batches(sorted(actions), SIMULATE_BATCH):
                params: dict[str, Any] = {"PolicySourceArn": role_arn, "ActionNames": list(batch)}
                if resource != "*":
                    params["ResourceArns"] = [resource]
                for page in session.pages("iam", "SimulatePrincipalPolicy", **params):
                    for answer in page.get("EvaluationResults", ()):
                        key = (str(answer.get("EvalActionName", "")).lower(), resource)
                        answers[key] = str(answer.get("EvalDecision", ""))
    except AwsCallError as error:
        if error.denied:
            return SimulationResult(
                checked=0, error=f"{error.code} on iam:SimulatePrincipalPolicy: grant it to use --simulate"
            )
        return SimulationResult(checked=0, error=str(error))
    except AwsAccessError as error:
        return SimulationResult(checked=0, error=str(error))
    except NotImplementedError as error:  # moto in process
        return SimulationResult(checked=0, error=f"iam:SimulatePrincipalPolicy: {one_line(error)}")
    checked = 0
    disagreements = []
    for key, (action, ours) in sorted(compared.items()):
        aws = answers.get(key)
        if aws is None:
            continue
        checked += 1
        agrees = aws == AWS_ALLOWED if ours == "allowed" else aws in AWS_DENIED
        if not agrees:
            disagreements.append(Disagreement(action=action, resource=key[1], ours=ours, aws=aws))
    return SimulationResult(checked=checked, disagreements=tuple(disagreements))
