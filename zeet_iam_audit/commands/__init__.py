"""Subcommands other than the audit: each a module with ``build_parser()`` and ``run(args, context)``.

A command never prints: it returns a ``CommandResult`` (texts for stdout or files, lines for stderr,
the exit code) and the CLI writes it. Parsers come from ``new_parser`` so that usage errors are one
line and exit code 2, like everything else.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from zeet_iam_audit.errors import UsageError

# name → module; imported only when that command runs.
COMMANDS = {
    "explain": "zeet_iam_audit.commands.explain",
    "diagnose": "zeet_iam_audit.commands.diagnose",
    "generate": "zeet_iam_audit.commands.generate",
    "diff": "zeet_iam_audit.commands.diff",
}


@dataclass(frozen=True, slots=True)
class Output:
    """Text for stdout (``path`` None) or for a file the user named."""

    text: str
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class CommandResult:
    outputs: tuple[Output, ...] = ()
    exit_code: int = 0
    messages: tuple[str, ...] = ()  # lines for stderr (progress, the summary)


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What a command may read besides its arguments."""

    stdin: TextIO | None = None
    cwd: Path = field(default_factory=Path.cwd)
    width: int = 110  # the width stdout's text is laid out in (the terminal's when it is one)
    prompt: Callable[[str], None] | None = None  # says a line to the person at a terminal (stderr)


class CommandParser(argparse.ArgumentParser):
    """argparse that raises ``UsageError`` instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def new_parser(name: str, description: str) -> argparse.ArgumentParser:
    """A parser for ``zeet-iam-audit NAME`` with the options every command shares."""
    parser = CommandParser(prog=f"zeet-iam-audit {name}", description=description)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser
