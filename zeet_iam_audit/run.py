"""From a request to a report: settings merged, roles read and chosen, the audit run.

The request (``AuditRequest``) is a value: the CLI builds it from its arguments, the library facade
(``zeet_iam_audit.api``) from its keywords. Nothing here prints; the CLI writes what these functions
return.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from zeet_iam_audit import __version__
from zeet_iam_audit.audit.engine import AuditOptions, Auditor
from zeet_iam_audit.audit.features import required_actions
from zeet_iam_audit.audit.findings import Finding, Gate, report_findings
from zeet_iam_audit.audit.report import (
    AuditReport,
    DefaultModeResult,
    ExcessResult,
    LocationKind,
    Mode,
    RoleReport,
    SkippedItem,
    SourceLocation,
    TrustFinding,
    TrustResult,
    TrustSeverity,
    TrustStatus,
)
from zeet_iam_audit.audit.trust import TrustSettings, role_trusts_account
from zeet_iam_audit.config import Settings, load_settings, state_placeholders
from zeet_iam_audit.errors import InputError, UsageError, ZeetIamAuditError
from zeet_iam_audit.model import Effect, InputType, Origin, Role, Route
from zeet_iam_audit.policy.results import Decision
from zeet_iam_audit.waivers import Waiver, apply_waivers, waiver_messages

if TYPE_CHECKING:
    from zeet_iam_audit.catalog import Catalog
    from zeet_iam_audit.rules import RuleSet
    from zeet_iam_audit.sources.live import LiveResult

FAIL_ON_CHOICES = (*(gate.value for gate in Gate), "never")
# Fail closed: what could not be verified, or a policy AWS would refuse, does not pass by default.
DEFAULT_FAIL_ON = ("missing", "unknown", "invalid-policy", "trust")
ACCEPT_UNKNOWN = "missing,invalid-policy,trust"  # the --fail-on that accepts unknown verdicts knowingly
EXCESS_GATES = frozenset({"excess", "excess-risky"})
# What each input kind was searched for, for "no IAM role found".
LOOKED_FOR = {
    "cloudformation": "AWS::IAM::Role resources",
    "terraform": "aws_iam_role resources in the plan",
    "gaad": "RoleDetailList entries",
    "role": "a Role object",
    "policy": "a policy document",
}
EXPIRED_WAIVER = "expired-waiver"  # reached whenever a waiver is past its date (unless --fail-on never)
_ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True, slots=True)
class AuditChoices:
    """What to check, as given (None or empty: the environment's or the config file's value).

    The options the audit shares with ``diff``; ``features`` and ``variants`` may hold comma lists.
    """

    zeet_account_id: str | None = None
    external_id: str | None = None
    features: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    plan: str | None = None
    mode: str | None = None
    template_extras: Path | None = None
    no_excess: bool = False


@dataclass(frozen=True, slots=True)
class AuditRequest:
    """One audit, as asked for: the input (a file, or live roles), what to check and what fails it.

    Values are as given; settings from the environment and the config file fill what is not
    (``run_audit`` merges them, and validates both).
    """

    file: Path | None = None
    input_type: str | None = None
    role: str | None = None
    all_roles: bool = False
    parameters: tuple[str, ...] = ()  # CloudFormation parameters, NAME=VALUE
    max_input_bytes: int | None = None  # None: MAX_INPUT_BYTES
    role_arns: tuple[str, ...] = ()  # live roles
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    scps: str = "off"
    simulate: bool = False
    save: bool = False  # keep what a live run read, as an authorization-details text (AuditRun.saved)
    choices: AuditChoices = AuditChoices()
    rules: Path | None = None
    state: tuple[tuple[str, str], ...] = ()  # the Terraform state settings given (see config.STATE_SETTINGS)
    config: Path | None = None
    fail_on: tuple[str, ...] = ()  # as given (comma lists allowed); empty: the settings', else the default
    strict: bool = False


@dataclass(frozen=True, slots=True)
class AuditRun:
    report: AuditReport
    exit_code: int
    summary: str
    saved: str | None = None  # the --save file's text (live runs), written by the CLI
    reached: tuple[str, ...] = ()  # the --fail-on conditions met (and expired-waiver)
    messages: tuple[str, ...] = ()  # stderr lines besides the summary (waivers needing attention)


def _split(values: Sequence[str] | None) -> list[str]:
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def pick_setting(flag: object, settings: Settings, key: str) -> object:
    """The flag's value when given, else the setting from the environment or the config file."""
    return flag if flag not in (None, [], "") else settings.get(key)


def parse_fail_on(values: Sequence[str]) -> frozenset[str]:
    """Validate ``--fail-on`` values; ``never`` stands alone."""
    chosen = [v.lower() for v in values] or list(DEFAULT_FAIL_ON)
    wrong = [v for v in chosen if v not in FAIL_ON_CHOICES]
    if wrong:
        raise UsageError(f"--fail-on: unknown value {', '.join(wrong)} (choose from {', '.join(FAIL_ON_CHOICES)})")
    if "never" in chosen and len(chosen) > 1:
        raise UsageError("--fail-on: 'never' cannot be combined with other values")
    return frozenset(chosen)


def parse_parameters(values: Sequence[str] | None) -> dict[str, str]:
    """``--parameter NAME=VALUE`` flags → a mapping (also used by ``diff``)."""
    parameters: dict[str, str] = {}
    for value in values or ():
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise UsageError(f"--parameter: expected NAME=VALUE, got {value!r}")
        parameters[name] = text
    return parameters


RolesT = TypeVar("RolesT", bound=Sequence[Role])


def select_roles(
    roles: RolesT, *, role: str | None, all_roles: bool, zeet_account: str | None, path: str
) -> tuple[RolesT | list[Role], list[SkippedItem]]:
    """The roles to audit: ``--role``, ``--all-roles``, or those whose trust names Zeet's account.

    With ``--all-roles`` the roles are returned as they are, unread when they are a ``LazyRoles``
    (the audit reads each where it audits it). Otherwise every role is read first, so a role that
    cannot be read is an error even when another is chosen.
    """
    if role is None and all_roles:
        return roles, []
    every = list(roles)
    if role is not None:
        chosen = [r for r in every if role in (r.name, r.arn)]
        if not chosen:
            names = ", ".join(r.name for r in every[:10]) + (" ..." if len(every) > 10 else "")
            raise UsageError(f"{path}: no role named {role!r} (roles here: {names or 'none'})")
        return chosen, []
    if len(every) <= 1:
        return every, []
    if zeet_account is None:
        raise UsageError(
            f"{path}: holds {len(every)} roles; choose one with --role NAME, audit them all with "
            "--all-roles, or set --zeet-account-id to audit the roles Zeet can assume"
        )
    chosen = [r for r in every if role_trusts_account(r, zeet_account)]
    skipped = [
        SkippedItem(r.name, f"its trust policy does not name Zeet's account {zeet_account}", r.source)
        for r in every
        if r not in chosen
    ]
    if not chosen:
        raise UsageError(
            f"{path}: none of its {len(every)} roles trusts Zeet's account {zeet_account}; "
            "choose one with --role NAME or use --all-roles"
        )
    return chosen, skipped


def build_options(choices: AuditChoices, settings: Settings) -> AuditOptions:
    """Merge what was chosen over the environment and config file into audit options."""
    from zeet_iam_audit.rules import load_template_extras

    account = pick_setting(choices.zeet_account_id, settings, "zeet_account_id")
    if account is not None and not _ACCOUNT_ID.match(str(account)):
        raise UsageError(f"--zeet-account-id: expected 12 digits, got {account!r}")
    external = pick_setting(choices.external_id, settings, "external_id")
    features = _split(choices.features) or settings.get("features")
    variants = _split(choices.variants) or settings.get("variants") or []
    extras_path = pick_setting(choices.template_extras, settings, "template_extras")
    extras = load_template_extras(Path(str(extras_path))) if extras_path else ()
    return AuditOptions(
        features=tuple(features) if features else None,
        variants=frozenset(variants),
        trust=TrustSettings(
            zeet_account_id=str(account) if account else None,
            external_id=str(external) if external else None,
        ),
        plan=pick_setting(choices.plan, settings, "plan"),  # type: ignore[arg-type]
        mode=_mode(pick_setting(choices.mode, settings, "mode")),
        template_extras=tuple(extras),
        check_excess=not choices.no_excess,
    )


def _mode(value: object) -> Mode:
    """``--mode`` (or ``mode`` in the config): auto when not given."""
    if value is None:
        return Mode.AUTO
    try:
        return Mode(str(value))
    except ValueError:
        raise UsageError(f"--mode: expected one of {', '.join(Mode)}, got {str(value)!r}") from None


def check_plan(plan: str | None, rules: RuleSet) -> None:
    """``--plan`` (or ``plan`` in the config) must be one of the guide's plan names, in any case."""
    plans = rules.plans
    if plan is None or plans is None or plans.allows_fine_grained(plan):
        return
    raise UsageError(f"--plan: unknown plan {plan!r} (the guide's plans: {', '.join(plans.fine_grained)}; any case)")


def _gates(report: AuditReport) -> set[str | None]:
    """The ``--fail-on`` values the report's findings count toward, read off the verdicts (a
    skipped item that could not be read counts as unknown)."""
    gates: set[str | None] = {"unknown"} if any(item.unread for item in report.skipped) else set()
    for role in report.roles:
        if role.not_zeet is not None:
            continue  # not audited
        if role.invalid_documents:
            gates.add("invalid-policy")
        for feature in role.features:
            if feature.missing:
                gates.add("missing")
            if feature.conditional:
                gates.add("conditional")
            if feature.unknown:
                gates.add("unknown")
        severities = {finding.severity for finding in role.trust.findings}
        if "fail" in severities:
            gates.add("trust")
        if "unknown" in severities:
            gates.add("unknown")
        if role.excess.risky:
            gates.add("excess-risky")
        if role.excess.services:
            gates.add("excess")
    return gates


def fails(report: AuditReport, fail_on: frozenset[str], findings: Sequence[Finding] | None = None) -> list[str]:
    """Which ``--fail-on`` conditions the report meets, counting only findings no waiver covers.

    An expired waiver is a condition of its own (``expired-waiver``), met whatever ``--fail-on`` says
    unless it is ``never``. ``findings``: the report's, when the caller has them already.
    """
    if "never" in fail_on:
        return []
    if report.waivers:
        listed = findings if findings is not None else report_findings(report)
        gates: set[str | None] = {f.gate for f in listed if report.waiver_of(f.fingerprint) is None}
        if any(item.unread for item in report.skipped):
            gates.add("unknown")  # not a finding a waiver could cover
    else:
        gates = _gates(report)  # the same answer without building every finding
    reached = [value for value in FAIL_ON_CHOICES if value in fail_on and value in gates]
    if any(note.status == "expired" for note in report.waivers):
        reached.append(EXPIRED_WAIVER)
    return reached


def _route_in(origin: Origin | None, source: str) -> Route | None:
    """The origin's route when it is a place in ``source``; None for anything else (a policy read
    from another input, a live account, the bundled managed policies)."""
    if origin is None or origin.route is None or origin.source != source:
        return None
    return origin.route


def role_locations(role: Role) -> tuple[SourceLocation, ...]:
    """Where the role, its trust policy and its policies are written in its input file."""
    locations: list[SourceLocation] = []
    trust = _route_in(role.trust_policy.origin, role.source) if role.trust_policy else None
    own: Route | None
    if role.logical_id:
        own = ("Resources", role.logical_id)
    elif role.address:
        own = (role.address,)
    elif trust:
        own = trust[:-1] or ("$",)  # the object holding the trust policy
    elif role.input_type is InputType.POLICY:
        own = ("$",)
    else:
        own = None
    if own is not None:
        locations.append(SourceLocation(LocationKind.ROLE, role.name, own))
    if trust is not None:
        locations.append(SourceLocation(LocationKind.TRUST, role.name, trust))
    attached = [(LocationKind.POLICY, p) for p in role.policies]
    if role.permissions_boundary is not None:
        attached.append((LocationKind.BOUNDARY, role.permissions_boundary))
    seen: set[tuple[str, str]] = set()
    for kind, item in attached:
        if item.policy is None:
            continue
        route = _route_in(item.policy.origin, role.source)
        name = item.policy.name or item.name
        if route is not None and (kind, name) not in seen:
            seen.add((kind, name))
            locations.append(SourceLocation(kind, name, route))
    return tuple(locations)


def with_locations(report: AuditReport, roles: Sequence[Role]) -> AuditReport:
    """The report with each role's locations (``roles`` in the order they were audited)."""
    located = tuple(
        replace(role_report, locations=role_locations(role))
        for role_report, role in zip(report.roles, roles, strict=True)
    )
    return replace(report, roles=located)


def audit_located(
    roles: Sequence[Role],
    rules: RuleSet,
    catalog: Catalog,
    options: AuditOptions,
    *,
    zeet_only: bool = False,
) -> list[RoleReport]:
    """Every role audited, in order, with its locations.

    With ``zeet_only`` (``--all-roles``), a role whose trust policy does not let Zeet in is not
    audited (see ``not_zeet_reason``).
    """
    from zeet_iam_audit.formats.printable import bounded, has_long_name

    auditor = Auditor(rules, catalog, options)  # a wrong --features or --with fails before any role is read
    located = []
    for role in roles:  # a LazyRoles reads each role here, once
        report = _audit_or_pass_over(role, auditor, zeet_only, role_locations(role))
        # A megabyte-long name would be repeated in every finding of every format: such a role's
        # report is bounded (the check looks at the names only; the walk costs a third of an audit).
        located.append(bounded(report) if has_long_name(role) else report)
    return located


def no_role_message(path: str, input_type: str, skipped: Sequence[object] = ()) -> str:
    """ "FILE: no IAM role found (looked for AWS::IAM::Role resources)"."""
    looked = LOOKED_FOR.get(input_type, "IAM roles")
    left = f"; {len(skipped)} item{'s' if len(skipped) != 1 else ''} skipped" if skipped else ""
    return f"{path}: no IAM role found (looked for {looked}{left})"


def _principals(role: Role) -> list[str] | None:
    """Who the trust policy's Allow statements name (None: anyone might be Zeet, so audit it)."""
    assert role.trust_policy is not None
    named: list[str] = []
    for statement in role.trust_policy.statements:
        if statement.effect is not Effect.ALLOW:
            continue
        if statement.not_principal is not None:
            return None
        principal = statement.principal
        if principal is None or principal.wildcard:
            return None
        for kind, identifiers in principal.entries:
            if kind == "AWS" and identifiers:
                return None  # an account or a role: it may be Zeet's
            named.extend(identifiers)
    return named


def not_zeet_reason(role: Role, zeet_account: str | None) -> str | None:
    """Why the role is not one Zeet uses ("trusts lambda.amazonaws.com"), or None when it may be.

    With Zeet's account known: the trust policy does not name it. Without: it trusts no AWS account
    or role at all (only services or identity providers), so Zeet cannot assume it. A role whose trust
    policy could not be read may be Zeet's: it is audited.
    """
    if role.trust_policy is None:
        return None
    if zeet_account is not None:
        if role_trusts_account(role, zeet_account):
            return None
        principals = [
            i
            for s in role.trust_policy.statements
            if s.effect is Effect.ALLOW and s.principal
            for _, ids in s.principal.entries
            for i in ids
        ]
    else:
        found = _principals(role)
        if found is None:
            return None
        principals = found
    listed = ", ".join(dict.fromkeys(principals))
    return f"trusts {listed}" if listed else "trusts no one (its trust policy allows no principal)"


def _audit_or_pass_over(
    role: Role, auditor: Auditor, zeet_only: bool, locations: tuple[SourceLocation, ...]
) -> RoleReport:
    options = auditor.options
    reason = not_zeet_reason(role, options.trust.zeet_account_id) if zeet_only else None
    if reason is None:
        return auditor.audit(role, locations)
    return RoleReport(
        locations=locations,
        name=role.name,
        arn=role.arn,
        source=role.source,
        trust=TrustResult(
            TrustStatus.FAIL, (TrustFinding("not-a-zeet-role", TrustSeverity.INFO, f"not a Zeet role: {reason}"),)
        ),
        features=(),
        excess=ExcessResult(total=0, services=(), risky=(), analysed=False),
        default_mode=DefaultModeResult(administrator=Decision.UNKNOWN, mode=options.mode, plan=options.plan),
        not_zeet=reason,
    )


def _relative(origin: str, cwd: Path) -> str:
    try:
        return str(Path(origin).relative_to(cwd))
    except ValueError:
        return origin


def with_waivers(
    report: AuditReport, waivers: Sequence[Waiver], today: datetime.date, findings: Sequence[Finding] | None = None
) -> AuditReport:
    """The report with what each waiver did on ``today`` (pure: the caller gives the date);
    ``findings``: the report's, when the caller has them already."""
    if not waivers:
        return report
    listed = findings if findings is not None else report_findings(report)
    return replace(report, waivers=apply_waivers(listed, waivers, today))


def summarise(report: AuditReport, reached: Sequence[str]) -> str:
    """The one-line summary for stderr."""
    audited = [role for role in report.roles if role.not_zeet is None]
    roles = len(audited)
    counts = Counter(f.status.value for role in audited for f in role.features)
    features = ", ".join(f"{counts[s]} {s}" for s in ("ok", "missing", "conditional", "unknown") if counts[s])
    trust = Counter(role.trust.status.value for role in audited)
    trust_text = ", ".join(f"{n} {s}" for s, n in sorted(trust.items()))
    verdict = f"fails on {', '.join(reached)}" if reached else "passes"
    others = len(report.roles) - roles
    others_text = f"; {others} not Zeet role{'s' if others != 1 else ''} (not audited)" if others else ""
    invalid = sum(len(role.invalid_documents) for role in audited)
    invalid_text = f"; {invalid} invalid polic{'ies' if invalid != 1 else 'y'}" if invalid else ""
    skipped = f"; {len(report.skipped)} skipped" if report.skipped else ""
    waived = len({fp for note in report.waivers if note.status == "applied" for fp in note.fingerprints})
    waived_text = f"; {waived} finding{'s' if waived != 1 else ''} waived" if waived else ""
    empty = f"{report.no_role}; " if report.no_role else ""
    return (
        f"zeet-iam-audit: {empty}{roles} role{'s' if roles != 1 else ''} audited; features: "
        f"{features or 'none'}; trust: {trust_text or 'none'}{invalid_text}{others_text}{skipped}"
        f"{waived_text}; {verdict}"
    )


_LISTED_REASONS = 5


def unverified_messages(report: AuditReport, reached: Sequence[str]) -> list[str]:
    """When unknown verdicts fail the gate: what could not be verified, and how to accept it knowingly."""
    if "unknown" not in reached:
        return []
    # reason → (required actions it leaves unknown, by role; the features they belong to)
    reasons: dict[str, tuple[dict[str, int], set[str]]] = {}
    for role in report.roles:
        if role.not_zeet is not None:
            continue
        for group in role.unknown:
            counts, features = reasons.setdefault(role.reason_text(group.reason), ({}, set()))
            counts[role.name] = group.actions
            features.update(group.features)
        for finding in role.trust.findings:
            if finding.severity == "unknown":
                reasons.setdefault(f"trust policy: {finding.message}", ({}, set()))[0][role.name] = 0
    lines = []
    for reason, (counts, features) in list(reasons.items())[:_LISTED_REASONS]:
        count, names = sum(counts.values()), counts
        what = (
            (
                f"{count} required action{'s' if count != 1 else ''} of {len(features)} "
                f"feature{'s' if len(features) != 1 else ''}"
            )
            if features
            else "trust"
        )
        where = f" in {len(names)} roles" if len(names) > 1 else ""
        lines.append(f"could not verify {what}{where}: {reason}")
    if len(reasons) > _LISTED_REASONS:
        lines.append(f"... and {len(reasons) - _LISTED_REASONS} more reasons (see the report)")
    lines.append(
        f"unknown is not a pass: give what is missing, or accept it knowingly with --fail-on "
        f'{ACCEPT_UNKNOWN} or a waiver (check = "unknown-permission")'
    )
    return lines


def run_audit(
    request: AuditRequest,
    *,
    cwd: Path | None = None,
    progress: Callable[[str], None] | None = None,
    today: datetime.date | None = None,
    settings: Settings | None = None,
) -> AuditRun:
    """Everything from the request to the report, its exit code and its summary line.

    ``today`` decides which waivers have expired (the CLI passes ``datetime.date.today()``).
    ``settings``: None reads the config file (``request.config``, else the one in ``cwd``) and the
    environment, as the CLI does; the library facade passes its own.
    """
    args = request
    live = bool(args.role_arns) or (args.all_roles and args.file is None)
    if args.file is None and not live:
        raise UsageError("nothing to audit: give --file PATH or --role-arn ARN (see --help)")
    if args.file is not None and args.role_arns:
        raise UsageError("--file and --role-arn: choose one source")
    if not live and (args.save or args.simulate or args.scps != "off"):
        raise UsageError("--save, --simulate and --scps apply to live audits (--role-arn or --all-roles)")
    cwd = cwd or Path.cwd()
    settings = settings if settings is not None else load_settings(args.config, cwd)
    fail_on = parse_fail_on(_split(args.fail_on) or settings.get("fail_on") or [])
    if args.strict and "never" not in fail_on:
        fail_on = fail_on | {"unknown"}
    if args.choices.no_excess and fail_on & EXCESS_GATES:
        raise UsageError(
            f"--no-excess: cannot be combined with --fail-on "
            f"{','.join(sorted(fail_on & EXCESS_GATES))} (the excess would not be analysed)"
        )
    options = build_options(args.choices, settings)
    waivers = [replace(w, origin=_relative(w.origin, cwd)) for w in settings.get("waivers") or ()]

    from zeet_iam_audit.catalog import load_catalog
    from zeet_iam_audit.rules import load_rules
    from zeet_iam_audit.sources import load_file
    from zeet_iam_audit.sources.reading import MAX_INPUT_BYTES

    catalog = load_catalog()
    rules_dir = pick_setting(args.rules, settings, "rules")
    rules = load_rules(
        Path(str(rules_dir)) if rules_dir else None,
        catalog=catalog,
        placeholders=state_placeholders(dict(args.state), settings),
    )
    check_plan(options.plan, rules)
    saved: str | None = None
    no_role: str | None = None
    live_result = None
    roles: Sequence[Role]
    if live:
        from zeet_iam_audit.sources.live import LiveOptions, read_live

        live_result = read_live(
            LiveOptions(
                role_arns=args.role_arns,
                all_roles=bool(args.all_roles),
                profile=args.profile,
                region=args.region,
                endpoint_url=args.endpoint_url,
                scps=args.scps,
            ),
            progress=progress,
        )
        source = live_result.source
        options = replace(options, scps=live_result.scps, scp_unknown_reason=live_result.scp_unknown_reason)
        roles, not_chosen = list(source.roles), list[SkippedItem]()
        if args.save:
            saved = json.dumps(live_result.gaad, indent=2, default=str) + "\n"
        inputs: tuple[str, ...] = args.role_arns or ("live account",)
    else:
        # Lazy: with --all-roles, each role is read where it is audited (see sources/lazy.py).
        assert args.file is not None  # not live: a file was given
        max_bytes = args.max_input_bytes or MAX_INPUT_BYTES
        source = load_file(
            args.file, args.input_type, parameters=parse_parameters(args.parameters), lazy=True, max_bytes=max_bytes
        )
        if not len(source.roles):
            no_role = no_role_message(source.path, source.input_type, source.skipped)
            if not args.all_roles:
                raise InputError(no_role)  # a gate pointed at the wrong file must not pass
        roles, not_chosen = select_roles(
            source.roles,
            role=args.role,
            all_roles=args.all_roles,
            zeet_account=options.trust.zeet_account_id,
            path=source.path,
        )
        inputs = (source.path,)
    skipped = [SkippedItem(s.name, s.reason, s.origin, s.unread) for s in source.skipped] + not_chosen
    unread = [item for item in skipped if item.unread]
    if unread and not roles:
        # Nothing was audited because it could not be read: that is no pass.
        raise ZeetIamAuditError("nothing audited: " + "; ".join(f"{item.name} {item.reason}" for item in unread))
    located = audit_located(roles, rules, catalog, options, zeet_only=bool(args.all_roles))
    report = AuditReport(
        tool_version=__version__, roles=tuple(located), skipped=tuple(skipped), inputs=inputs, no_role=no_role
    )
    if live_result is not None and args.simulate:
        report = _with_simulation(report, rules, options, live_result)
    # The findings, computed once for the waivers and the gate (they depend on the roles only).
    findings = report_findings(report) if waivers else None
    report = with_waivers(report, waivers, today or datetime.date.today(), findings)
    reached = fails(report, fail_on, findings)
    messages = [*waiver_messages(report.waivers), *unverified_messages(report, reached)]
    return AuditRun(
        report=report,
        exit_code=1 if reached else 0,
        summary=summarise(report, reached),
        saved=saved,
        reached=tuple(reached),
        messages=tuple(messages),
    )


def our_decisions(role_report: RoleReport, rules: RuleSet, options: AuditOptions) -> list[tuple[str, str, str]]:
    """(action, resource, our verdict) for every required action audited on the role.

    The verdict is ``allowed``, ``denied``, ``conditional`` or ``unknown``, as the report says.
    """
    by_id = {feature.id: feature for feature in role_report.features}
    checks: dict[tuple[str, str], str] = {}
    for rule in rules:
        feature = by_id.get(rule.id)
        if feature is None:
            continue
        denied = {a.lower() for group in feature.missing for a in group.actions}
        conditional = {a.action.lower() for a in feature.conditional}
        unknown = {a.action.lower() for a in feature.unknown}
        for requirement in required_actions(rule, options.variants):
            action = requirement.action.lower()
            verdict = (
                "denied"
                if action in denied
                else "conditional"
                if action in conditional
                else "unknown"
                if action in unknown
                else "allowed"
            )
            checks[(requirement.action, requirement.resource)] = verdict
    return [(action, resource, verdict) for (action, resource), verdict in sorted(checks.items())]


def _with_simulation(
    report: AuditReport, rules: RuleSet, options: AuditOptions, live_result: LiveResult
) -> AuditReport:
    """Cross-check every required action of every audited role with iam:SimulatePrincipalPolicy."""
    from zeet_iam_audit.sources.live import simulate_role

    roles = []
    for role_report in report.roles:
        checks = our_decisions(role_report, rules, options)
        simulation = simulate_role(live_result, role_report.arn or role_report.name, checks)
        roles.append(replace(role_report, simulation=simulation))
    return replace(report, roles=tuple(roles))
