"""The command line as the output and process tests run it: in this process from a directory, or as a
child process with an environment that holds nothing of the developer's."""

from __future__ import annotations

import io
import os
from pathlib import Path

from zeet_iam_audit.cli import main

ROOT = Path(__file__).resolve().parent.parent


def child_environment(home: Path) -> dict[str, str]:
    """A child's whole environment: a PATH, a home of its own, UTF-8, no colour, this checkout."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }


def run_in(cwd: Path, *args: str) -> tuple[int, str, str]:
    """``zeet-iam-audit ARGS`` in this process, from ``cwd``: (exit code, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        code = main(list(args), stdout=stdout, stderr=stderr)
    finally:
        os.chdir(previous)
    return code, stdout.getvalue(), stderr.getvalue()
