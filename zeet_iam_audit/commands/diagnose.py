"""``zeet-iam-audit diagnose [TEXT]``: every authorization failure in pasted text, explained and fixed.

Reads TEXT (a file when TEXT names one), or standard input when TEXT is absent or ``-`` (with a
one-line prompt when it is a terminal), or ``--log FILE``; finds every
authorization failure AWS or its tools printed (plain AWS messages, JSON and XML error bodies, the
AWS CLI, Terraform, CloudFormation events, CDK, the SAM CLI, EC2's encoded messages; see
``zeet_iam_audit.support.denials``) and reports, for each, the principal, the action (in the
catalogue's spelling), the resource, the reason AWS gave, the Zeet features that need the action and
the fix. With a role (``--file``, choosing the role the message names unless ``--role`` says, or
``--role-arn``) it also evaluates the role on that resource and names the layer and statement that
block. EC2's encoded messages are decoded with ``sts:DecodeAuthorizationMessage`` when ``--role-arn``
or ``--decode`` gives live credentials; otherwise they are reported as encoded, with the command
that decodes them.

Exit codes: 0 at least one authorization failure was found and reported; 1 the text holds none;
2 it could not run (bad arguments, unreadable input or role file, AWS errors).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from zeet_iam_audit.commands import CommandContext, CommandResult, Output, new_parser
from zeet_iam_audit.config import load_settings
from zeet_iam_audit.errors import InputError, UsageError

EXIT_FOUND = 0
EXIT_NONE = 1
MAX_TEXT = 16 * 1024 * 1024  # characters: a CI log, not a disk image


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``zeet-iam-audit diagnose``."""
    from zeet_iam_audit.commands.input_options import add_input_arguments

    parser = new_parser(
        "diagnose",
        "Find every AccessDenied in pasted text (AWS messages, CLI, Terraform, CloudFormation, CDK, SAM "
        "output), map each to the Zeet features that need the action, and say what blocks it and how to "
        "fix it. Exit code 0 when failures were found, 1 when the text holds none, 2 when it cannot run.",
    )
    parser.add_argument(
        "text", nargs="?", help="the error text, or a file holding it (default, or '-': standard input)"
    )
    parser.add_argument("--log", type=Path, metavar="FILE", help="read the text from FILE (a CI log, saved output)")
    add_input_arguments(
        parser,
        role_help="the role to evaluate every failure on (default: the role each message names, found in --file)",
    )
    parser.add_argument(
        "--decode",
        action="store_true",
        help="decode EC2's encoded messages with sts:DecodeAuthorizationMessage using your "
        "AWS credentials (automatic with --role-arn)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--output", type=Path, help="write the diagnosis to FILE instead of stdout")
    return parser


PROMPT = (
    "zeet-iam-audit diagnose: paste the error text, then press Ctrl-D on a new line "
    "(or give it as TEXT, --log FILE, or through a pipe)"
)
# A TEXT that is one word ending like a saved log or output, but names no file: probably a wrong path.
_FILE_LIKE = re.compile(r"^[^\s]*\.(?:log|txt|json|out|xml|yaml|yml)$", re.IGNORECASE)


def _read_file(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return str(handle.read(MAX_TEXT + 1))
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None


def _names_a_file(text: str, cwd: Path) -> Path | None:
    """The file TEXT names, when it is one line that is the path of a readable file."""
    if not text or "\n" in text or len(text) > 4096:
        return None
    path = Path(text.strip()).expanduser()
    path = path if path.is_absolute() else cwd / path
    try:
        return path if path.is_file() else None
    except OSError:  # a name too long, or not a path at all
        return None


def _read_text(args: argparse.Namespace, context: CommandContext) -> tuple[str, list[str]]:
    """The text to diagnose, and notes about where it came from."""
    notes: list[str] = []
    if args.log is not None:
        if args.text not in (None, "-"):
            raise UsageError("diagnose: give the text as TEXT or --log FILE, not both")
        text = _read_file(args.log)
    elif args.text not in (None, "-"):
        text = str(args.text)
        named = _names_a_file(text, context.cwd)
        if named is not None:
            notes.append(f"zeet-iam-audit diagnose: read the file {args.text} (--log FILE says so explicitly)")
            text = _read_file(named)
        elif _FILE_LIKE.match(text.strip()):
            raise UsageError(
                f"diagnose: {text.strip()!r} looks like a file name, but there is no such file; "
                "give the error text itself, or the file with --log FILE"
            )
    else:
        if context.stdin is None:
            raise UsageError("diagnose: no text: give TEXT, --log FILE, or pipe it to standard input")
        isatty = getattr(context.stdin, "isatty", None)
        if context.prompt is not None and isatty is not None and isatty():
            context.prompt(PROMPT)
        text = str(context.stdin.read(MAX_TEXT + 1))
    if len(text) > MAX_TEXT:
        raise InputError(f"diagnose: the text is longer than {MAX_TEXT} characters; give the part with the errors")
    return text, notes


def run(args: argparse.Namespace, context: CommandContext) -> CommandResult:
    """Diagnose every authorization failure in the text."""
    from zeet_iam_audit.catalog import load_catalog
    from zeet_iam_audit.commands.input_options import role_query
    from zeet_iam_audit.rules import load_rules
    from zeet_iam_audit.support.decode import decode_denials, without_decoding
    from zeet_iam_audit.support.denials import find_denials
    from zeet_iam_audit.support.diagnosis import RoleChoice, diagnose, render_json, render_text, summary
    from zeet_iam_audit.support.inputs import open_live_session, read_roles

    text, messages = _read_text(args, context)
    settings = load_settings(args.config, context.cwd)
    catalog = load_catalog()
    rules_dir = args.rules or settings.get("rules")
    rules = load_rules(Path(str(rules_dir)) if rules_dir else None, catalog=catalog)
    notes: list[str] = []

    choice = RoleChoice()
    session = None
    if args.file is not None or args.role_arn:
        loaded = read_roles(role_query(args), progress=lambda line: messages.append(f"zeet-iam-audit: {line}"))
        notes.extend(loaded.notes)
        forced = None
        if args.role:
            if loaded.live:
                raise UsageError("--role chooses among a file's roles; with --role-arn the role is the one named")
            forced = next((r for r in loaded.roles if args.role in (r.name, r.arn)), None)
            if forced is None:
                names = ", ".join(r.name for r in loaded.roles[:10])
                raise UsageError(f"{loaded.source}: no role named {args.role!r} (roles here: {names or 'none'})")
        elif loaded.live and len(loaded.roles) == 1:
            forced = loaded.roles[0]
        choice = RoleChoice(
            roles=loaded.roles,
            forced=forced,
            source=loaded.source,
            scps=loaded.scps,
            scp_unknown_reason=loaded.scp_unknown_reason,
        )
        session = loaded.session
    elif args.role:
        raise UsageError("--role needs --file (the file holding the role)")

    denials = find_denials(text, catalog)
    if any(d.encoded for d in denials):
        if session is None and args.decode:
            session = open_live_session(role_query(args))
        if session is not None:
            denials = decode_denials(denials, session, catalog)
        else:
            denials = tuple(without_decoding(d) if d.encoded else d for d in denials)
    result = diagnose(denials, rules, catalog, choice, notes)
    rendered = render_json(result) if args.format == "json" else render_text(result)
    messages.append(summary(result))
    return CommandResult(
        outputs=(Output(rendered, args.output),),
        exit_code=EXIT_FOUND if result.findings else EXIT_NONE,
        messages=tuple(messages),
    )
