"""Names from an input file must not drive the terminal or the CI log that shows the report.

An input is untrusted: a template in a pull request can name its role
``"zeet\\u001b[2J\\r\\n::error::injected"``. Printed raw, the escape sequence clears the terminal or
retitles it, and the line break starts a line that GitHub Actions runs as a workflow command
(``::error::``, ``::add-mask::``, ``::stop-commands::``). Every format must neutralise control
characters for its medium; JSON and SARIF escape them by construction.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from zeet_iam_audit.cli import main
from zeet_iam_audit.formats import FORMATS

HOSTILE = Path(__file__).resolve().parent / "corpus" / "control-characters-in-names.json"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # all but tab and line feed


def _render(name: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(["--file", str(HOSTILE), "--all-roles", "--format", name, "--width", "120"],
                stdout=stdout, stderr=stderr)
    assert code in (0, 1), stderr.getvalue()
    return stdout.getvalue()


@pytest.mark.parametrize("name", FORMATS)
def test_no_control_character_or_injected_command_reaches_the_output(name: str) -> None:
    text = _render(name)
    assert CONTROL.findall(text) == []
    injected = [line for line in text.splitlines() if line.startswith("::error::injected")]
    assert injected == []


def test_an_error_listing_names_from_the_input_stays_one_printable_line() -> None:
    stderr = io.StringIO()
    code = main(["--file", str(HOSTILE), "--role", "nope"], stdout=io.StringIO(), stderr=stderr)
    assert code == 2
    (line,) = [line for line in stderr.getvalue().splitlines() if "auditing" not in line]
    assert line.isprintable()
