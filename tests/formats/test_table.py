"""The table (formats/table.py) and the other texts for terminals: within the width, words whole.
The CLI's choice of width (--width, the terminal's, 110) and colour (--color, NO_COLOR, FORCE_COLOR)
is tests/test_cli.py's."""

from __future__ import annotations

import io
import re

import pytest

from tests.formats.conftest import ROOT, ZEET
from zeet_iam_audit.cli import main

GAAD = "fixtures/gaad/zeet-account.json"
EXAMPLES = {
    "gaad": ("--file", GAAD, "--all-roles", *ZEET),
    "cloudformation": ("--file", "fixtures/cloudformation/zeet-role.yaml", *ZEET),
    "unresolved": ("--file", "fixtures/cloudformation/unresolved.yaml", *ZEET),
    "terraform": ("--file", "fixtures/terraform/plan.json", *ZEET),
    "ci": ("--file", "fixtures/ci/zeet-role.yaml"),
}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    """stdout as a terminal."""

    def isatty(self) -> bool:
        return True


def _run(argv: list[str] | tuple[str, ...], stdout: io.StringIO | None = None) -> tuple[int, str, str]:
    out = stdout if stdout is not None else io.StringIO()
    err = io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for key in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(key, raising=False)


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("example", list(EXAMPLES))
def test_the_table_fits_the_width(example: str, width: int) -> None:
    code, out, err = _run([*EXAMPLES[example], "--width", str(width)])
    assert code in (0, 1), err
    assert _widest(out) <= width
    if width == 80:  # at 80 columns no word is cut, unless it is longer than a line (an ARN)
        _, wide, _ = _run([*EXAMPLES[example], "--width", "1000"])
        words = set(wide.split())
        cut = set(out.split()) - words - {"\u2500" * 80}
        assert all(any(piece in word and len(word) > 70 for word in words) for piece in cut), cut


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["rules"], id="rules"),
        *[
            pytest.param(["rules", "show", rule], id=f"rules-show-{rule}")
            for rule in sorted(p.stem for p in (ROOT / "rules").glob("*.toml"))
        ],
        pytest.param(["catalog"], id="catalog"),
        pytest.param(["explain", "sqs:CreateQueue", "--file", GAAD, "--all-roles"], id="explain"),
    ],
)
@pytest.mark.parametrize("columns", [80, 100])
def test_the_other_texts_fit_the_terminal(argv: list[str], columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, err = _run(argv, Terminal())
    assert code == 0, err
    assert _widest(out) <= columns
    _, piped, _ = _run(argv)  # not a terminal: 110, COLUMNS or not
    assert _widest(piped) <= 110


def test_rules_list_keeps_its_rows_whole_when_wide() -> None:
    _, out, _ = _run(["rules", "--width", "200"])
    assert len(out.splitlines()) == 11  # a header and one line per rule: nothing wrapped
