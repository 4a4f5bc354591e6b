"""``zeet-iam-audit diff OLD NEW``: audit two versions of a role and say what the change does, by feature.

A pull-request gate runs it against the base branch's version of the template: the exit code is 1
when a feature regresses (its status gets worse, or it lacks actions it did not lack), the trust
policy weakens, or an audited role is gone; 0 otherwise; 2 when it could not run. OLD and NEW may be
files of any supported kind; ``--old-role-arn ARN`` compares a live role (read-only) with NEW.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from zeet_iam_audit import __version__
from zeet_iam_audit.audit.engine import AuditOptions, audit_roles
from zeet_iam_audit.audit.report import AuditReport, SkippedItem
from zeet_iam_audit.commands import CommandContext, CommandResult, Output, new_parser
from zeet_iam_audit.diffing import DiffReport, FeatureChange, RoleDiff, diff_reports
from zeet_iam_audit.errors import UsageError

if TYPE_CHECKING:
    from zeet_iam_audit.catalog import Catalog
    from zeet_iam_audit.rules import RuleSet


def build_parser() -> argparse.ArgumentParser:
    from zeet_iam_audit.commands.input_options import (
        add_aws_arguments,
        add_kind_arguments,
        add_rules_arguments,
        add_selection_arguments,
    )

    parser = new_parser(
        "diff",
        "Compare two versions of a role feature by feature: coverage gained "
        "and lost, excess and risky grants, trust. Exit 1 when the change regresses.",
    )
    parser.add_argument("old", nargs="?", type=Path, help="the role before the change (a file)")
    parser.add_argument("new", nargs="?", type=Path, help="the role after the change (a file)")
    parser.add_argument(
        "--old-role-arn",
        metavar="ARN",
        help="read the old role from AWS (read-only) instead of a file; then give only NEW",
    )
    add_kind_arguments(
        parser,
        role_help="the role to compare in files holding several (name or ARN)",
        all_roles_help="compare every role, paired by name",
    )
    add_selection_arguments(parser, verb="compare")
    add_rules_arguments(parser)
    parser.add_argument("--no-excess", action="store_true", help="skip the excess comparison")
    add_aws_arguments(parser)  # for --old-role-arn
    parser.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    parser.add_argument("--output", type=Path, help="write the comparison to FILE instead of stdout")
    return parser


def _audit_file(
    path: Path, args: argparse.Namespace, options: AuditOptions, rules: RuleSet, catalog: Catalog
) -> AuditReport:
    from zeet_iam_audit.run import parse_parameters, select_roles, with_locations
    from zeet_iam_audit.sources import load_file

    source = load_file(path, args.input_type, parameters=parse_parameters(args.parameter))
    roles, _ = select_roles(
        source.roles,
        role=args.role,
        all_roles=args.all_roles,
        zeet_account=options.trust.zeet_account_id,
        path=str(path),
    )
    skipped = [SkippedItem(s.name, s.reason, s.origin) for s in source.skipped]
    report = audit_roles(roles, rules, catalog, options, tool_version=__version__, skipped=skipped, inputs=(str(path),))
    return with_locations(report, roles)


def _audit_live(
    arn: str, args: argparse.Namespace, options: AuditOptions, rules: RuleSet, catalog: Catalog
) -> AuditReport:
    try:
        from zeet_iam_audit.sources.live import LiveOptions, read_live
    except ImportError as error:
        raise UsageError(
            f"--old-role-arn: the live source is not available ({error}); "
            "install zeet-iam-audit[live] or compare two files"
        ) from None
    result = read_live(
        LiveOptions(role_arns=(arn,), profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)
    )
    roles = list(result.source.roles)
    return audit_roles(roles, rules, catalog, options, tool_version=__version__, inputs=(arn,))


# --- rendering -----------------------------------------------------------------------------------


def _feature_lines(change: FeatureChange) -> list[str]:
    mark = "REGRESSED" if change.regression else "improved" if change.improvement else "changed"
    lines = [
        f"    {mark:<9}  {change.section} {change.title} ({change.id}): "
        f"{change.old or 'not audited'} → {change.new or 'not audited'}"
    ]
    if change.newly_missing:
        lines.append(f"               newly missing: {', '.join(change.newly_missing)}")
    if change.newly_granted:
        lines.append(f"               newly granted: {', '.join(change.newly_granted)}")
    for action in change.actions:
        if action.new not in ("missing", "allowed"):
            lines.append(f"               {action.action}: {action.old} → {action.new}")
    return lines


def _role_table(role: RoleDiff) -> list[str]:
    if role.new_name is None:
        return [f"Role {role.old_name}: gone (REGRESSED)"]
    if role.old_name is None:
        return [f"Role {role.new_name}: new (not in the old version)"]
    name = role.new_name if role.old_name == role.new_name else f"{role.old_name} → {role.new_name}"
    lines = [f"Role {name}", "  Features"]
    changed = [f for f in role.features if f.changed]
    for change in changed:
        lines += _feature_lines(change)
    unchanged = len(role.features) - len(changed)
    lines.append(
        f"    {unchanged} feature{'s' if unchanged != 1 else ''} unchanged" if changed else "    no feature changed"
    )
    trust = role.trust
    if trust is not None:
        weakened = " (WEAKENED)" if trust.weakened else ""
        lines.append(
            f"  Trust: {trust.old} → {trust.new}{weakened}" if trust.changed else f"  Trust: {trust.new}, unchanged"
        )
        lines.extend(f"    + {f.severity}  {f.message}" for f in trust.added)
        lines.extend(f"    - {f.severity}  {f.message}" for f in trust.removed)
    excess = role.excess
    if excess is not None:
        delta = excess.new - excess.old
        lines.append(f"  Excess: {excess.old} → {excess.new} allowed actions no selected feature needs ({delta:+d})")
        lines.extend(f"    {s.service}: {s.old} → {s.new}" for s in excess.services)
        lines.extend(f"    + risky: {grant}" for grant in excess.risky_added)
        lines.extend(f"    - risky: {grant}" for grant in excess.risky_removed)
    return lines


def _verdict(diff: DiffReport) -> str:
    regressions = diff.regressions
    if not regressions:
        return "no regression"
    return f"{len(regressions)} regression{'s' if len(regressions) != 1 else ''}"


def render_diff_table(diff: DiffReport) -> str:
    lines = [f"zeet-iam-audit diff: {', '.join(diff.old_inputs)} → {', '.join(diff.new_inputs)}", ""]
    for role in diff.roles:
        lines += [*_role_table(role), ""]
    if not diff.roles:
        lines += ["No role to compare.", ""]
    lines.append(f"Result: {_verdict(diff)}")
    lines.extend(f"  {line}" for line in diff.regressions)
    return "\n".join(lines) + "\n"


def render_diff_markdown(diff: DiffReport) -> str:
    from zeet_iam_audit.formats.markdown import code, md

    result = "**fails**" if diff.regressions else "**passes**"
    lines = [
        "## zeet-iam-audit diff",
        "",
        f"{', '.join(code(i) for i in diff.old_inputs)} → {', '.join(code(i) for i in diff.new_inputs)}: "
        f"{result} ({_verdict(diff)}).",
        "",
    ]
    lines.extend(f"- {md(line)}" for line in diff.regressions)
    if diff.regressions:
        lines.append("")
    for role in diff.roles:
        if role.new_name is None or role.old_name is None:
            state = "gone" if role.new_name is None else "new"
            lines += [f"### Role {code(role.name)}: {state}", ""]
            continue
        lines += [f"### Role {code(role.name)}", ""]
        changed = [f for f in role.features if f.changed]
        if changed:
            lines += ["| Feature | Before | After | Change |", "| --- | --- | --- | --- |"]
            for change in changed:
                parts = []
                if change.newly_missing:
                    parts.append("newly missing: " + ", ".join(code(a) for a in change.newly_missing))
                if change.newly_granted:
                    parts.append("newly granted: " + ", ".join(code(a) for a in change.newly_granted))
                parts += [
                    f"{code(a.action)} now {a.new}" for a in change.actions if a.new not in ("missing", "allowed")
                ]
                mark = "**regressed**" if change.regression else "improved" if change.improvement else "changed"
                lines.append(
                    f"| {md(change.title)} | {change.old or '-'} | {change.new or '-'} | "
                    f"{mark}: {'<br>'.join(parts) or 'status only'} |"
                )
            lines.append("")
        lines.append(f"{len(role.features) - len(changed)} features unchanged.")
        lines.append("")
        if role.trust is not None and role.trust.changed:
            weakened = " (**weakened**)" if role.trust.weakened else ""
            lines += [f"Trust: {role.trust.old} → {role.trust.new}{weakened}", ""]
            lines.extend(f"- added **{f.severity}**: {md(f.message)}" for f in role.trust.added)
            lines.extend(f"- removed {f.severity}: {md(f.message)}" for f in role.trust.removed)
            lines.append("")
        excess = role.excess
        if excess is not None and excess.changed:
            lines += [
                f"<details><summary>Excess: {excess.old} → {excess.new} allowed actions no selected "
                "feature needs</summary>",
                "",
            ]
            lines.extend(f"- {code(s.service)}: {s.old} → {s.new}" for s in excess.services)
            lines.extend(f"- risky grant added: {code(g)}" for g in excess.risky_added)
            lines.extend(f"- risky grant removed: {code(g)}" for g in excess.risky_removed)
            lines += ["", "</details>", ""]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def render_diff(diff: DiffReport, name: str) -> str:
    """The comparison as ``table``, ``json`` or ``markdown``."""
    if name == "json":
        return json.dumps(diff.to_json(), indent=2, ensure_ascii=False) + "\n"
    if name == "markdown":
        return render_diff_markdown(diff)
    return render_diff_table(diff)


def compare(args: argparse.Namespace, cwd: Path) -> DiffReport:
    """Audit both sides with the same options and compare them."""
    from zeet_iam_audit.catalog import load_catalog
    from zeet_iam_audit.cli import audit_choices
    from zeet_iam_audit.config import load_settings
    from zeet_iam_audit.rules import load_rules
    from zeet_iam_audit.run import build_options, check_plan, pick_setting

    if args.old_role_arn:
        if args.old is None or args.new is not None:
            raise UsageError("zeet-iam-audit diff: with --old-role-arn give one file, the new version")
        args.new, args.old = args.old, None
    elif args.old is None or args.new is None:
        raise UsageError("zeet-iam-audit diff: give OLD and NEW files (or --old-role-arn ARN and NEW)")
    settings = load_settings(args.config, cwd)
    options = build_options(audit_choices(args), settings)
    catalog = load_catalog()
    rules_dir = pick_setting(args.rules, settings, "rules")
    rules = load_rules(Path(str(rules_dir)) if rules_dir else None, catalog=catalog)
    check_plan(options.plan, rules)
    if args.old_role_arn:
        old = _audit_live(args.old_role_arn, args, options, rules, catalog)
    else:
        old = _audit_file(args.old, args, options, rules, catalog)
    new = _audit_file(args.new, args, options, rules, catalog)
    return diff_reports(old, new)


def run(args: argparse.Namespace, context: CommandContext) -> CommandResult:
    diff = compare(args, context.cwd)
    regressions = diff.regressions
    summary = f"zeet-iam-audit: diff: {_verdict(diff)}"
    if regressions:
        summary += ": " + "; ".join(regressions)
    return CommandResult(
        outputs=(Output(render_diff(diff, args.format), args.output),),
        exit_code=1 if regressions else 0,
        messages=(summary,),
    )
