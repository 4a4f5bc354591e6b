"""Golden files for every output format, and the one command that rewrites them.

    .venv/bin/python -m tests.golden.regenerate

Each case is an audit (or a diff) of fixtures, run in process from the repository root with the
environment's ``ZEET_IAM_AUDIT_*`` variables ignored and a fixed date for waivers, rendered in every
format. Outputs are normalised so they do not depend on the machine: the tool version becomes
``0.0.0-golden`` and the repository's absolute location ``file:///SRCROOT``. ``test_golden.py`` compares
the checked-in files with fresh renderings and names this command when they drift.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
TODAY = datetime.date(2025, 6, 1)  # waivers expire relative to this date, not the real one
VERSION = "0.0.0-golden"
COMMAND = ".venv/bin/python -m tests.golden.regenerate"
AUDIT_FORMATS = {
    "table": "table.txt",
    "json": "report.json",
    "sarif": "report.sarif",
    "markdown": "report.md",
    "github": "github.txt",
}
DIFF_FORMATS = {"table": "diff.txt", "json": "diff.json", "markdown": "diff.md"}
TABLE_WIDTH = 100


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    diff: bool = False

    @property
    def files(self) -> dict[str, str]:
        return DIFF_FORMATS if self.diff else AUDIT_FORMATS


CASES = (
    # An authorization-details file (JSON): an explicit Deny, a boundary-free role, statement lines.
    Case(
        "gaad-restricted",
        (
            "--file",
            "fixtures/gaad/zeet-account.json",
            "--role",
            "zeet-restricted",
            "--zeet-account-id",
            "111122223333",
            "--external-id",
            "zeet-ext-5f2c9a7e",
        ),
    ),
    # A CloudFormation template (YAML with short-form tags): missing, conditional, unknown, risky.
    Case(
        "cloudformation",
        (
            "--file",
            "fixtures/cloudformation/zeet-role.yaml",
            "--zeet-account-id",
            "111122223333",
            "--external-id",
            "zeet-ext-5f2c9a7e",
        ),
    ),
    # The CI pair's head (SQS removed) with waivers: one applied, one expired, one matching nothing.
    Case("ci-head-waivers", ("--file", "fixtures/ci/zeet-role.yaml", "--config", "tests/golden/ci-waivers.toml")),
    # The CI pair compared: the capacity-monitoring regression.
    Case(
        "ci-diff",
        (
            "diff",
            "fixtures/ci/zeet-role.base.yaml",
            "fixtures/ci/zeet-role.yaml",
            "--config",
            "fixtures/ci/.zeet-iam-audit.toml",
        ),
        diff=True,
    ),
)


@contextlib.contextmanager
def _isolated() -> Iterator[None]:
    """Run from the repository root, without the caller's ZEET_IAM_AUDIT_* settings."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("ZEET_IAM_AUDIT_")}
    for key in saved:
        del os.environ[key]
    try:
        with contextlib.chdir(ROOT):
            yield
    finally:
        os.environ.update(saved)


def _normalise(text: str) -> str:
    return text.replace(ROOT.as_uri(), "file:///SRCROOT")


def _render_audit(case: Case) -> dict[str, str]:
    from zeet_iam_audit.cli import _audit_parser, audit_request
    from zeet_iam_audit.formats import OutputFormat, RenderOptions
    from zeet_iam_audit.run import run_audit

    args = _audit_parser().parse_args(list(case.argv))
    run = run_audit(audit_request(args), cwd=ROOT, today=TODAY)
    report = replace(run.report, tool_version=VERSION)
    sources = {str(args.file): (ROOT / args.file).read_text(encoding="utf-8")}
    options = RenderOptions(width=TABLE_WIDTH, sources=sources, root=ROOT, reached=run.reached)
    return {name: _normalise(OutputFormat(name).implementation().render(report, options)) for name in case.files}


def _render_diff(case: Case) -> dict[str, str]:
    from zeet_iam_audit.commands.diff import build_parser, compare, render_diff

    args = build_parser().parse_args(list(case.argv[1:]))
    diff = replace(compare(args, ROOT), tool_version=VERSION)
    return {name: _normalise(render_diff(diff, name)) for name in case.files}


def render(case: Case) -> dict[str, str]:
    """File name → fresh golden text for one case."""
    with _isolated():
        texts = _render_diff(case) if case.diff else _render_audit(case)
    return {case.files[name]: text for name, text in texts.items()}


def expected_files() -> set[Path]:
    return {GOLDEN / case.name / file for case in CASES for file in case.files.values()}


def existing_files() -> set[Path]:
    """The golden files checked in now (every file in a case folder)."""
    folders = [p for p in GOLDEN.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    return {p for folder in folders for p in folder.iterdir() if p.is_file()}


def main() -> int:
    for case in CASES:
        folder = GOLDEN / case.name
        folder.mkdir(exist_ok=True)
        for file, text in render(case).items():
            (folder / file).write_text(text, encoding="utf-8")
    stale = existing_files() - expected_files()
    for path in sorted(stale):
        path.unlink()
    print(
        f"wrote {len(expected_files())} golden files under {GOLDEN.relative_to(ROOT)}"
        + (f"; removed {len(stale)} stale" if stale else ""),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
