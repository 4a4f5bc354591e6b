"""``zeet-iam-audit explain ACTION``: how a role's policies decide one action, layer by layer.

Shows the decision (allowed, explicit or implicit deny, conditional, unknown), each layer's own
verdict (identity-based policies, permissions boundary, each SCP level when SCPs are given) with the
statements that decide it (policy, statement index and Sid, and where the policy was read: file and
JSON path, or the live API call), the conditions on those statements, and the Zeet features that need
the action. Without ``--context``, conditions stay open and a conditional answer names its keys;
with it, every condition is decided (``--context KEY=VALUE``, repeatable; a key given twice holds a
list; keys not given are absent from the request).

Exit codes: 0 whenever the explanation was produced (it is informational, whatever the decision);
2 when it could not run (bad arguments, unreadable input, an unknown action, AWS errors).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from zeet_iam_audit.commands import CommandContext, CommandResult, Output, new_parser
from zeet_iam_audit.config import load_settings
from zeet_iam_audit.errors import UsageError

EXIT_OK = 0


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``zeet-iam-audit explain``."""
    from zeet_iam_audit.commands.input_options import add_input_arguments

    parser = new_parser(
        "explain",
        "Explain how a role's policies decide one action: the decision per layer, the deciding statements "
        "and their conditions, and the Zeet features that need the action. Exit code 0 when explained, "
        "2 when it cannot run.",
    )
    parser.add_argument("action", help="the IAM action, e.g. sqs:CreateQueue (any case)")
    parser.add_argument(
        "--resource", default="*", help="the resource ARN, or a pattern such as a rule's scope (default: *)"
    )
    parser.add_argument(
        "--context",
        action="append",
        metavar="KEY=VALUE",
        help="a request context value (repeatable; a key given twice holds a list); with "
        "any, conditions are decided and keys not given are absent",
    )
    add_input_arguments(parser, role_help="the role to explain in a file holding several (name or ARN)")
    parser.add_argument("--all-roles", action="store_true", help="explain for every role in the file")
    parser.add_argument(
        "--zeet-account-id", help="in a file with several roles, explain for those Zeet's account can assume"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--output", type=Path, help="write the explanation to FILE instead of stdout")
    return parser


def parse_context(values: Sequence[str] | None) -> dict[str, tuple[str, ...]] | None:
    """``KEY=VALUE`` values → context (a key repeated, in any case, holds a list); None when none given."""
    if not values:
        return None
    context: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--context: expected KEY=VALUE, got {value!r}")
        shown = spelling.setdefault(key.lower(), key)  # condition keys compare case-insensitively
        context.setdefault(shown, []).append(text)
    return {key: tuple(items) for key, items in context.items()}


def run(args: argparse.Namespace, context: CommandContext) -> CommandResult:
    """Explain the action for the chosen roles."""
    from zeet_iam_audit.catalog import load_catalog
    from zeet_iam_audit.commands.input_options import role_query
    from zeet_iam_audit.rules import load_rules
    from zeet_iam_audit.run import select_roles
    from zeet_iam_audit.support.actions import resolve_action
    from zeet_iam_audit.support.explanation import explain, render_json, render_text
    from zeet_iam_audit.support.inputs import read_roles
    from zeet_iam_audit.textlayout import DEFAULT_WIDTH, wrap_lines

    settings = load_settings(args.config, context.cwd)
    catalog = load_catalog()
    rules_dir = args.rules or settings.get("rules")
    rules = load_rules(Path(str(rules_dir)) if rules_dir else None, catalog=catalog)
    if "*" in args.action or "?" in args.action:
        raise UsageError(f"explain: give one action, not a pattern: {args.action!r}")
    resolved = resolve_action(args.action, catalog)
    if resolved.action is None:
        raise UsageError(f"explain: {resolved.note}")
    request_context = parse_context(args.context)
    messages: list[str] = []
    notes = [resolved.note] if resolved.note else []

    loaded = read_roles(role_query(args), progress=lambda line: messages.append(f"zeet-iam-audit: {line}"))
    notes.extend(loaded.notes)
    roles = list(loaded.roles)
    if not loaded.live:
        account = args.zeet_account_id or settings.get("zeet_account_id")
        roles, skipped = select_roles(
            roles,
            role=args.role,
            all_roles=args.all_roles,
            zeet_account=str(account) if account else None,
            path=loaded.source,
        )
        notes.extend(f"not explained: {item.name} ({item.reason})" for item in skipped)
    elif args.role:
        raise UsageError("--role chooses among a file's roles; with --role-arn the role is the one named")
    explanation = explain(
        resolved.action,
        args.resource,
        request_context,
        roles,
        rules,
        catalog,
        scps=loaded.scps,
        scp_unknown_reason=loaded.scp_unknown_reason,
        notes=notes,
    )
    if args.format == "json":
        text = render_json(explanation)
    else:  # within the terminal's width on stdout, 110 columns in a file
        text = wrap_lines(render_text(explanation), context.width if args.output is None else DEFAULT_WIDTH)
    verdicts = ", ".join(f"{role.role}: {role.decision.value}" for role in explanation.roles)
    messages.append(f"zeet-iam-audit explain: {explanation.action} on {explanation.resource}: {verdicts}")
    return CommandResult(outputs=(Output(text, args.output),), exit_code=EXIT_OK, messages=tuple(messages))
