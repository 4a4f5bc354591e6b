"""The output formats' interface: every ``OutputFormat`` has a ``Format``, imported only when chosen."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from zeet_iam_audit.formats import FORMATS, Format, OutputFormat

ROOT = Path(__file__).resolve().parents[2]
MODULES = {
    OutputFormat.TABLE: "zeet_iam_audit.formats.table",
    OutputFormat.JSON: "zeet_iam_audit.formats.json_format",
    OutputFormat.SARIF: "zeet_iam_audit.formats.sarif",
    OutputFormat.MARKDOWN: "zeet_iam_audit.formats.markdown",
    OutputFormat.GITHUB: "zeet_iam_audit.formats.github",
}
# SARIF lays its log out as the JSON report does (compact past the same number of roles).
ALSO_IMPORTS = {OutputFormat.SARIF: {"zeet_iam_audit.formats.json_format"}}


def _format_modules_after(code: str) -> set[str]:
    """The format modules imported by a fresh interpreter that runs ``code``."""
    names = sorted(MODULES.values())
    script = code + f"\nimport sys, json\nprint(json.dumps(sorted(m for m in sys.modules if m in {names!r})))\n"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    found: list[str] = json.loads(result.stdout)
    return set(found)


def test_the_format_names_are_the_enum() -> None:
    assert FORMATS == ("table", "json", "sarif", "markdown", "github")
    assert tuple(OutputFormat) == FORMATS
    assert set(MODULES) == set(OutputFormat)


@pytest.mark.parametrize("member", list(OutputFormat))
def test_every_member_has_an_implementation_of_the_protocol(member: OutputFormat) -> None:
    implementation = member.implementation()
    assert isinstance(implementation, Format)
    assert implementation.name == member.value
    assert type(implementation).__module__ == MODULES[member]


def test_only_sarif_and_github_point_at_input_lines() -> None:
    pointing = {member for member in OutputFormat if member.implementation().points_at_lines}
    assert pointing == {OutputFormat.SARIF, OutputFormat.GITHUB}


def test_the_cli_and_the_formats_package_import_no_format() -> None:
    assert _format_modules_after("import zeet_iam_audit.cli, zeet_iam_audit.formats") == set()


@pytest.mark.parametrize("member", list(OutputFormat))
def test_choosing_a_format_imports_only_it(member: OutputFormat) -> None:
    code = f"from zeet_iam_audit.formats import OutputFormat\nOutputFormat({member.value!r}).implementation()"
    assert _format_modules_after(code) == {MODULES[member]} | ALSO_IMPORTS.get(member, set())


@pytest.mark.parametrize("roles", [1, 25], ids=["indented", "compact"])
@pytest.mark.parametrize("member", list(OutputFormat))
def test_the_pieces_are_the_text(member: OutputFormat, roles: int) -> None:
    """What the command line writes (the pieces, one after the other) is the rendered text."""
    from zeet_iam_audit import audit_file
    from zeet_iam_audit.formats import RenderOptions

    report = audit_file(ROOT / "fixtures/gaad/zeet-account.json", all_roles=True, zeet_account_id="111122223333")
    report = replace(report, roles=report.roles * roles)  # past 20 roles, JSON and SARIF are compact
    implementation = member.implementation()
    options = RenderOptions(width=100)
    pieces = implementation.render_pieces(report, options)
    assert all(isinstance(piece, str) for piece in pieces)
    assert "".join(pieces) == implementation.render(report, options)
