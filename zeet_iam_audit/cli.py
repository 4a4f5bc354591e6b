"""The command line: parse arguments, choose sources and formats, print, and set the exit code.

This is the only module that prints. Exit codes: 0 the audit ran and nothing reached ``--fail-on``;
1 it found something that did; 2 it could not run (usage, unreadable input, bad rules, credentials,
or any unexpected error — the traceback only with ``--debug``); 130 interrupted (SIGINT or SIGTERM,
no output replaced); 141 stdout closed by its reader (``| head``), quietly. Every line printed to
stderr goes through ``printable.stderr_text``: an error quoting a name from the input stays one
printable line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import importlib
import io
import json
import os
import shutil
import sys
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from zeet_iam_audit import __version__
from zeet_iam_audit.commands import COMMANDS, CommandContext, CommandResult
from zeet_iam_audit.config import add_state_arguments
from zeet_iam_audit.errors import UsageError, ZeetIamAuditError
from zeet_iam_audit.formats import FORMATS
from zeet_iam_audit.formats.printable import command_text, stderr_text
from zeet_iam_audit.writing import Target, check_targets, write_outputs

if TYPE_CHECKING:
    from zeet_iam_audit.audit.report import AuditReport
    from zeet_iam_audit.formats import OutputFormat, RenderOptions
    from zeet_iam_audit.run import AuditChoices, AuditRequest

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as the shell reports a program a Ctrl-C stopped
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as the shell reports a program whose reader went away
SUBCOMMANDS = ("audit", "catalog", "rules")
# Reading a live account imports boto3 when it starts; without the [live] extra that import fails.
_LIVE_EXTRA = frozenset({"boto3", "botocore"})
LIVE_EXTRA_MISSING = "live mode needs boto3: pip install 'zeet-iam-audit[live]' (from a clone: pip install '.[live]')"


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every usage error is one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _audit_parser() -> argparse.ArgumentParser:
    from zeet_iam_audit.commands.input_options import (
        FILE_HELP,
        add_aws_arguments,
        add_kind_arguments,
        add_rules_arguments,
        add_selection_arguments,
    )

    parser = _Parser(
        prog="zeet-iam-audit",
        description="Audit an AWS IAM role against Zeet's permissions guide, feature by feature.",
        epilog="Other commands: catalog (the action catalogue), rules [show ID] (the feature rules), "
        "explain ACTION, diagnose [TEXT], generate, diff OLD NEW; each takes --help.",
    )
    parser.add_argument("--version", action="version", version=_version_text())
    source = parser.add_argument_group("input")
    source.add_argument("--file", type=Path, help=FILE_HELP)
    add_kind_arguments(
        source,
        role_help="the role to audit in a file holding several (name or ARN)",
        all_roles_help="audit every role in the file",
    )
    source.add_argument(
        "--role-arn",
        action="append",
        metavar="ARN",
        help="audit a live role with your AWS credentials (repeatable); read-only",
    )
    source.add_argument(
        "--max-input-mb",
        type=_megabytes,
        metavar="MB",
        default=None,
        help="the largest input read, in megabytes (default: 64); checked before reading",
    )
    live = parser.add_argument_group("live account (read-only)")
    add_aws_arguments(live)
    live.add_argument(
        "--scps",
        choices=("off", "auto"),
        default="off",
        help="auto: read the SCPs that apply to the account from AWS Organizations",
    )
    live.add_argument(
        "--simulate", action="store_true", help="cross-check the verdicts with iam:SimulatePrincipalPolicy"
    )
    live.add_argument(
        "--save",
        type=Path,
        metavar="FILE",
        help="write what was read as an authorization-details file, for --file later",
    )
    what = parser.add_argument_group("what to check")
    add_selection_arguments(what, verb="audit")
    add_rules_arguments(what)
    add_state_arguments(what)
    what.add_argument("--no-excess", action="store_true", help="skip the excess analysis")
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="the report on stdout (or --output): table, json, sarif (code scanning), "
        "markdown (PR comments, job summaries) or github (workflow annotations)",
    )
    out.add_argument("--output", type=Path, help="write the report to FILE instead of stdout")
    out.add_argument(
        "--findings",
        action="store_true",
        help="JSON: list every finding with its fingerprint (default: only the waived ones)",
    )
    for name, label in (
        ("json", "JSON"),
        ("sarif", "SARIF 2.1.0"),
        ("markdown", "Markdown"),
        ("github", "GitHub workflow-command annotations"),
    ):
        out.add_argument(
            f"--{name}",
            dest=f"{name}_file",
            type=Path,
            metavar="FILE",
            help=f"also write the report as {label} to FILE (once the audit succeeded)",
        )
    out.add_argument(
        "--fail-on",
        action="append",
        metavar="WHAT[,WHAT]",
        help="what makes the exit code 1: missing, conditional, unknown, invalid-policy, "
        "trust, excess-risky, excess, or never (default: missing,unknown,invalid-policy,trust)",
    )
    out.add_argument(
        "--strict",
        action="store_true",
        help="fail closed: unknown verdicts make the exit code 1 even when --fail-on leaves "
        "them out (adds 'unknown' to --fail-on; the default includes it)",
    )
    out.add_argument(
        "--width",
        type=_width,
        help="table width in columns (default: the terminal's, COLUMNS honoured, when stdout is one; else 110)",
    )
    out.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the table: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), always or never",
    )
    out.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument(
        "--jobs",
        type=_jobs,
        metavar="N",
        default=None,
        help="accepted so that command lines that set it still run: the audit runs in one process (a number, or auto)",
    )
    return parser


def _version_text() -> str:
    """``--version``: the tool's version and the date of the offline AWS managed policy data."""
    from zeet_iam_audit.sources.managed import managed_policy_data

    data = managed_policy_data()
    # One short line: argparse rewraps the text to the terminal's width.
    return f"zeet-iam-audit {__version__} (AWS managed policies: moto {data.moto_version}, {data.date})"


def _managed_policies_summary() -> dict[str, object]:
    """What ``catalog`` says of the offline AWS managed policy data."""
    from zeet_iam_audit.sources.managed import managed_policy_data

    data = managed_policy_data()
    return {"source": f"moto {data.moto_version}", "data_date": data.date, "count": data.count}


def _width(value: str) -> int:
    """``--width``: a number of columns, at least 20."""
    try:
        width = int(value)
    except ValueError:
        width = 0
    if width < 20:
        raise argparse.ArgumentTypeError(f"expected a number of columns (20 or more), got {value!r}")
    return width


def output_width(requested: int | None, stream: TextIO) -> int:
    """The width text is laid out in: ``--width``; else the terminal's when ``stream`` is one (COLUMNS
    honoured, as the shell sets it); else 110, so piped and saved output does not depend on a terminal."""
    from zeet_iam_audit.textlayout import DEFAULT_WIDTH, MIN_WIDTH

    if requested is not None:
        return requested
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return DEFAULT_WIDTH
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def _jobs(value: str) -> int | None:
    """``--jobs``: a whole number of processes, at least 1, or ``auto`` (None)."""
    if value.strip().lower() == "auto":
        return None
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes (1 or more) or auto, got {value!r}")
    return jobs


def _megabytes(value: str) -> int:
    """``--max-input-mb``: a positive number of megabytes → bytes."""
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = 0
    if not 0 < megabytes <= 1024 * 1024:
        raise argparse.ArgumentTypeError(f"expected a number of megabytes above 0, got {value!r}")
    return int(megabytes * 1024 * 1024)


def _listing_parser(name: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=f"zeet-iam-audit {name}")
    if name == "rules":
        parser.add_argument("action", nargs="?", choices=("list", "show"), default="list")
        parser.add_argument("id", nargs="?")
        parser.add_argument("--rules", type=Path, metavar="DIR")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--width", type=_width, help="table width (default: the terminal's, else 110)")
    parser.add_argument("--debug", action="store_true")
    return parser


def _run_listing(name: str, argv: Sequence[str], stdout: TextIO) -> int:
    args = _listing_parser(name).parse_args(argv)
    if name == "catalog":
        from zeet_iam_audit.catalog import load_catalog
        from zeet_iam_audit.catalog.render import catalog_report
        from zeet_iam_audit.textlayout import wrap_lines

        catalog = load_catalog()
        managed = _managed_policies_summary()
        if args.format == "json":
            stdout.write(json.dumps({**catalog.summary(), "aws_managed_policies": managed}, indent=2) + "\n")
        else:
            text = catalog_report(catalog, args.format) + (
                f"AWS managed policies (offline): {managed['count']} from {managed['source']}, "
                f"data date {managed['data_date']}\n"
            )
            stdout.write(wrap_lines(text, output_width(args.width, stdout)) if args.format == "table" else text)
        return EXIT_OK
    from zeet_iam_audit.catalog import load_catalog
    from zeet_iam_audit.rules import load_rules
    from zeet_iam_audit.rules_render import render_rule, render_rules_list

    ruleset = load_rules(args.rules, catalog=load_catalog())
    if args.action == "show":
        if not args.id:
            raise UsageError("zeet-iam-audit rules show: which rule? (an id from 'zeet-iam-audit rules')")
        rule = ruleset.get(args.id)
        if rule is None:
            known = ", ".join(r.id for r in ruleset)
            raise UsageError(f"zeet-iam-audit rules show: unknown rule {args.id!r} (known: {known})")
        stdout.write(render_rule(rule, args.format, output_width(args.width, stdout)))
    else:
        stdout.write(render_rules_list(ruleset, args.format, output_width(args.width, stdout)))
    return EXIT_OK


def _use_color(args: argparse.Namespace, stream: TextIO) -> bool:
    """``--color``; with auto, NO_COLOR (set and not empty) turns colour off, FORCE_COLOR (set, not empty
    and not 0) turns it on, else a terminal decides. A report written to a file is never coloured."""
    if args.output is not None or args.color == "never":
        return False
    if args.color == "always":
        return True
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _outputs(args: argparse.Namespace) -> list[tuple[str, Path | None]]:
    """(format, file) for every report asked for; None is stdout (or --output)."""
    outputs: list[tuple[str, Path | None]] = [(args.format, args.output)]
    outputs += [
        (name, getattr(args, f"{name}_file"))
        for name in ("json", "sarif", "markdown", "github")
        if getattr(args, f"{name}_file") is not None
    ]
    return outputs


def _flag(name: str, index: int) -> str:
    """The option that asked for the ``index``-th of ``_outputs``: --output, then --json, ..."""
    return "--output" if index == 0 else f"--{name}"


def _source_texts(args: argparse.Namespace, formats: set[str]) -> dict[str, str]:
    """The input file's text, for the formats that point at its lines (a regular file only: standard
    input and a FIFO cannot be read twice)."""
    from zeet_iam_audit.formats import OutputFormat

    points = any(OutputFormat(name).implementation().points_at_lines for name in formats)
    if args.file is None or not points or str(args.file) == "-" or not args.file.is_file():
        return {}
    from zeet_iam_audit.sources.reading import MAX_INPUT_BYTES, read_text

    try:
        return {str(args.file): read_text(args.file, limit=args.max_input_mb or MAX_INPUT_BYTES)}
    except ZeetIamAuditError:
        return {}  # it was read a moment ago; without it the formats just give no line numbers


def audit_choices(args: argparse.Namespace) -> AuditChoices:
    """The "what to check" options (the audit's and ``diff``'s) as a value."""
    from zeet_iam_audit.run import AuditChoices

    return AuditChoices(
        zeet_account_id=args.zeet_account_id,
        external_id=args.external_id,
        features=tuple(args.features or ()),
        variants=tuple(args.variants or ()),
        plan=args.plan,
        mode=args.mode,
        template_extras=args.template_extras,
        no_excess=args.no_excess,
    )


def audit_request(args: argparse.Namespace) -> AuditRequest:
    """The audit's arguments as the request ``run_audit`` takes."""
    from zeet_iam_audit.config import state_flags
    from zeet_iam_audit.run import AuditRequest

    return AuditRequest(
        file=args.file,
        input_type=args.input_type,
        role=args.role,
        all_roles=args.all_roles,
        parameters=tuple(args.parameter or ()),
        max_input_bytes=args.max_input_mb,
        role_arns=tuple(args.role_arn or ()),
        profile=args.profile,
        region=args.region,
        endpoint_url=args.endpoint_url,
        scps=args.scps,
        simulate=args.simulate,
        save=args.save is not None,
        choices=audit_choices(args),
        rules=args.rules,
        state=tuple((key, str(value)) for key, value in state_flags(args).items() if value is not None),
        config=args.config,
        fail_on=tuple(args.fail_on or ()),
        strict=args.strict,
    )


def _render(chosen: OutputFormat, report: AuditReport, options: RenderOptions) -> str | tuple[str, ...]:
    """The report in the chosen format. JSON comes in pieces that share the texts of shared values,
    written one after the other: an account-wide report is never also held as one string."""
    from zeet_iam_audit.formats import OutputFormat

    if chosen is OutputFormat.JSON:
        from zeet_iam_audit.formats.json_format import render_pieces

        return tuple(render_pieces(report, options))
    return chosen.implementation().render(report, options)


def _run_audit(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from zeet_iam_audit.formats import OutputFormat, RenderOptions
    from zeet_iam_audit.progress import Progress
    from zeet_iam_audit.run import run_audit

    outputs = _outputs(args)
    targets = [Target("", path, _flag(name, index)) for index, (name, path) in enumerate(outputs)]
    if args.save is not None:
        targets.append(Target("", args.save, "--save"))
    inputs = [args.file] if args.file is not None else []
    check_targets(targets, inputs)  # before the audit: a wrong --output costs no time
    shown = None if args.file is None else stderr_text("standard input" if str(args.file) == "-" else str(args.file))
    if shown is not None:
        stderr.write(f"zeet-iam-audit: auditing {shown}\n")
    # A status line on a terminal's stderr once the run lasts a second (bulk files, live reads).
    with Progress(stderr) as status:
        status.stage(f"auditing {shown}" if shown is not None else "reading and auditing the live roles")

        def progress(message: str) -> None:
            status.message(f"zeet-iam-audit: {stderr_text(message)}")

        run = run_audit(audit_request(args), progress=progress, today=datetime.date.today())
        status.stage("writing the report")
        # A report written to --output is laid out as for a pipe: 110 columns unless --width says.
        width = output_width(args.width, stdout if args.output is None else io.StringIO())
        options = RenderOptions(
            color=_use_color(args, stdout),
            width=width,
            sources=_source_texts(args, {name for name, _ in outputs}),
            root=Path.cwd(),
            reached=run.reached,
            all_findings=args.findings,
        )
        # Render everything before writing anything: a failing format leaves no file half-updated.
        texts = [
            (_render(OutputFormat(name), run.report, options if path is None else replace(options, color=False)), path)
            for name, path in outputs
        ]
    written = [
        Target(text, path, _flag(name, index))
        for index, ((text, path), (name, _)) in enumerate(zip(texts, outputs, strict=True))
    ]
    if run.saved is not None and args.save is not None:
        written.append(Target(run.saved, args.save, "--save"))
    write_outputs(written, stdout, inputs)
    for message in run.messages:
        stderr.write(f"zeet-iam-audit: {stderr_text(message)}\n")
    stderr.write(stderr_text(run.summary) + "\n")
    return run.exit_code


def _run_command(name: str, argv: Sequence[str], stdout: TextIO, stderr: TextIO, stdin: TextIO) -> int:
    module = importlib.import_module(COMMANDS[name])
    args = module.build_parser().parse_args(argv)
    # Every file the command reads, so that none of them is overwritten by its --output.
    inputs = [
        value
        for key, given in vars(args).items()
        if key != "output"
        for value in (given if isinstance(given, list | tuple) else [given])
        if isinstance(value, Path)
    ]
    destination = getattr(args, "output", None)
    if isinstance(destination, Path):
        check_targets([Target("", destination)], inputs)  # before the work: nothing is read or written

    def prompt(line: str) -> None:
        stderr.write(stderr_text(line) + "\n")
        stderr.flush()

    result: CommandResult = module.run(
        args, CommandContext(stdin=stdin, width=output_width(None, stdout), prompt=prompt)
    )
    # On stdout, names from the input must not steer the terminal (files are data, written as made).
    write_outputs(
        [
            Target(output.text if output.path is not None else command_text(output.text), output.path)
            for output in result.outputs
        ],
        stdout,
        inputs,
    )
    for message in result.messages:
        stderr.write(stderr_text(message.rstrip("\n")) + "\n")
    return result.exit_code


def _closed_stdout(stdout: TextIO, program: bool) -> int:
    """The reader of stdout went away (``| head``): end quietly, as a program killed by SIGPIPE
    would (status 141 in the shell). Stdout is pointed at /dev/null so that the interpreter's last
    flush does not complain about the pipe again (the recipe of Python's ``signal`` documentation)."""
    if program:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stdout.fileno())
    return EXIT_BROKEN_PIPE


def _dispatch(argv: list[str], stdout: TextIO, stderr: TextIO, stdin: TextIO) -> int:
    if argv and argv[0] in ("catalog", "rules"):
        return _run_listing(argv[0], argv[1:], stdout)
    if argv and argv[0] in COMMANDS:
        return _run_command(argv[0], argv[1:], stdout, stderr, stdin)
    if argv and argv[0] == "audit":
        argv = argv[1:]
    return _run_audit(_audit_parser().parse_args(argv), stdout, stderr)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit code (the console script exits with it).

    Called with no arguments it is the program itself: stdout is flushed before returning, so that
    a reader that went away is answered here, quietly (see ``_closed_stdout``).
    """
    program = argv is None and stdout is None and stderr is None and stdin is None
    argv = list(sys.argv[1:] if argv is None else argv)
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    stdin = stdin or sys.stdin
    debug = "--debug" in argv
    if program:
        # The audit builds many long-lived objects and no cycles: each full collection (the collector
        # runs one whenever the objects it tracks grew by a quarter) finds nothing to free, yet cost a
        # fifth of a 2,000-role run's CPU. A full collection at most every 100 middle ones (default:
        # 10); the collector stays on.
        gc.set_threshold(*gc.get_threshold()[:2], 100)
    try:
        code = _dispatch(argv, stdout, stderr, stdin)
        if program:
            stdout.flush()
            # The report is written: what is left lives until the process ends, and the interpreter's
            # last full collection would only walk it (a sixth of the CPU time of a large run).
            gc.freeze()
        return code
    except ZeetIamAuditError as error:
        if debug:
            traceback.print_exc(file=stderr)
        stderr.write(f"zeet-iam-audit: error: {stderr_text(str(error))}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        # No output was replaced (see writing): the shell's status for a SIGINT.
        stderr.write("zeet-iam-audit: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _closed_stdout(stdout, program)
    except Exception as error:  # the last guard: never a traceback unless --debug
        if debug:
            traceback.print_exc(file=stderr)
        if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] in _LIVE_EXTRA:
            stderr.write(f"zeet-iam-audit: error: {LIVE_EXTRA_MISSING}\n")
            return EXIT_ERROR
        stderr.write(
            f"zeet-iam-audit: internal error: {type(error).__name__}: "
            f"{stderr_text(str(error))} (run again with --debug for the traceback)\n"
        )
        return EXIT_ERROR
