"""textlayout.py: wrapping with indents, column widths fitted to a width."""

from __future__ import annotations

import pytest

from zeet_iam_audit.textlayout import fit_widths, render_columns, wrap, wrap_lines


@pytest.mark.parametrize(
    ("text", "width", "indent", "hanging", "expected"),
    [
        pytest.param("short", 20, 2, 0, ["  short"], id="fits"),
        pytest.param("one two three four", 10, 0, 0, ["one two", "three four"], id="words"),
        pytest.param("one two three four", 12, 2, 2, ["  one two", "    three", "    four"], id="hanging"),
        pytest.param(
            "arn:aws:iam::123456789012:role/x",
            12,
            0,
            0,
            ["arn:aws:iam:", ":12345678901", "2:role/x"],
            id="long-word-cut",
        ),
    ],
)
def test_wrap(text: str, width: int, indent: int, hanging: int, expected: list[str]) -> None:
    assert wrap(text, width, indent, hanging) == expected
    assert all(len(line) <= width for line in wrap(text, width, indent, hanging))


def test_wrap_lines_keeps_each_lines_indent() -> None:
    text = "top line that is long\n    deep line that is long too\n\nlast\n"
    assert wrap_lines(text, 14) == "top line that\n  is long\n    deep line\n      that is\n      long too\n\nlast\n"


@pytest.mark.parametrize(
    ("natural", "width", "minimum", "expected"),
    [
        pytest.param([5, 10, 30], 60, {2: 10}, [5, 10, 30], id="fits"),
        pytest.param([5, 10, 30], 40, {2: 10}, [5, 10, 21], id="one-column"),
        pytest.param([5, 20, 30], 40, {2: 10, 1: 10}, [5, 16, 15], id="widest-first"),
        pytest.param([5, 20, 30], 20, {2: 10, 1: 10}, [5, 10, 10], id="cannot-fit"),
    ],
)
def test_fit_widths(natural: list[int], width: int, minimum: dict[int, int], expected: list[int]) -> None:
    assert fit_widths(natural, width, 2, minimum) == expected


def test_render_columns() -> None:
    rows = [("a", "a long cell that wraps"), ("bb", "short")]
    lines = render_columns(("K", "VALUE"), rows, 14, shrink={1: 5}, indent=2)
    assert all(len(line) <= 14 for line in lines)
    assert lines == ["  K   VALUE", "  a   a long", "      cell", "      that", "      wraps", "  bb  short"]
    styled = render_columns(("K", "V"), [("x", "y")], 80, shrink={}, styles={1: lambda t: f"<{t}>"})
    assert styled == ["K  V", "x  <y>"]
