"""The escaping functions, one per output kind (``zeet_iam_audit/formats/printable.py``)."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from zeet_iam_audit.formats.printable import (
    HIDDEN_RANGES,
    SHOWN_LIMIT,
    bounded,
    github_data,
    github_property,
    markdown_code,
    markdown_text,
    sarif_text,
    shorten,
    stderr_text,
    terminal_text,
)

HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def test_the_hidden_ranges_are_the_unicode_categories_of_this_python() -> None:
    """Regenerate ``HIDDEN_RANGES`` from ``unicodedata`` when a new Python's Unicode adds some."""
    expected: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in HIDDEN_CATEGORIES:
            if expected and expected[-1][1] == code - 1:
                expected[-1] = (expected[-1][0], code)
            else:
                expected.append((code, code))
    assert list(HIDDEN_RANGES) == expected


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("plain", "plain", id="plain"),
        pytest.param("a\x1b[2Jb", "a\\x1b[2Jb", id="escape"),
        pytest.param("x\r\n::error::y", "x\\r\\n::error::y", id="line-break"),
        pytest.param("admin\u202enimda", "admin\\u202enimda", id="right-to-left-override"),
        pytest.param("a\u2066b\u2069", "a\\u2066b\\u2069", id="isolates"),
        pytest.param("ze\u200bet", "ze\\u200bet", id="zero-width-space"),
        pytest.param("\ufeffx", "\\ufeffx", id="byte-order-mark"),
        pytest.param("\x85", "\\x85", id="next-line"),
        pytest.param("tag\U000e0041", "tag\\U000e0041", id="tag-character"),
        pytest.param("caf\u00e9 \u6f22", "caf\u00e9 \u6f22", id="letters-stay"),
    ],
)
def test_terminal_and_stderr_text_show_hidden_characters(text: str, shown: str) -> None:
    assert terminal_text(text) == shown
    assert stderr_text(text) == shown
    assert sarif_text(text) == shown


def test_long_text_is_shortened_with_an_ellipsis() -> None:
    assert shorten("x" * SHOWN_LIMIT) == "x" * SHOWN_LIMIT
    assert shorten("x" * (SHOWN_LIMIT + 1)) == "x" * (SHOWN_LIMIT - 1) + "\u2026"
    assert terminal_text("y" * 10**6) == "y" * (SHOWN_LIMIT - 1) + "\u2026"
    assert bounded(("a" * 10**5, {"k": "b" * 10**5})) == (
        "a" * (SHOWN_LIMIT - 1) + "\u2026",
        {"k": "b" * (SHOWN_LIMIT - 1) + "\u2026"},
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("@octocat", "`@`octocat", id="mention"),
        pytest.param("see https://evil.example", "see `https`://evil.example", id="url"),
        pytest.param("www.evil.example", "`www`.evil.example", id="www"),
        pytest.param("a@b.example", "a`@`b.example", id="email"),
        pytest.param("<img src=x>", "&lt;img src=x&gt;", id="html"),
        pytest.param("*bold* | `x`", "\\*bold\\* \\| \\`x\\`", id="markup"),
        pytest.param("ze\u202eet", "ze\\\\u202eet", id="bidi"),
    ],
)
def test_markdown_text_neutralises_mentions_links_and_markup(text: str, shown: str) -> None:
    assert markdown_text(text) == shown


def test_markdown_code_spans_cannot_be_closed_early() -> None:
    assert markdown_code("a`b|c\u202e") == "`a'b\\|c\\u202e`"


def test_github_escaping_follows_the_runner() -> None:
    assert github_data("100%\r\n::error::x\u202e") == "100%25%0D%0A::error::x\\u202e"
    assert github_property("a:b,c%") == "a%3Ab%2Cc%25"
