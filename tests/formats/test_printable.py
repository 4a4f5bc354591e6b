"""The escaping functions, one per output kind (``zeet_iam_audit/formats/printable.py``)."""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pytest

from zeet_iam_audit.audit.report import FeatureStatus, MissingGroup, MissingLayer
from zeet_iam_audit.formats.printable import (
    ELLIPSIS,
    HIDDEN_RANGES,
    SHOWN_LIMIT,
    bounded,
    github_data,
    github_property,
    markdown_code,
    markdown_text,
    printable,
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


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("HTTPS://x and WwW.y", "`HTTPS`://x and `WwW`.y", id="any-case"),
        pytest.param("a+b.c-d://e", "`a+b.c-d`://e", id="scheme-characters"),
        pytest.param("_www.x_ @@ -www.y", "\\_www.x\\_ `@``@` -`www`.y", id="markup-then-links"),
        pytest.param("awww.x www", "awww.x www", id="www-not-a-word"),
        pytest.param("\\ ~ # [a](b) İwww.x", "\\\\ \\~ \\# \\[a\\](b) İwww.x", id="backslash-and-brackets"),
        pytest.param("://x 1a://", "://x 1`a`://", id="scheme-starts-with-a-letter"),
        pytest.param("plain words", "plain words", id="nothing"),
    ],
)
def test_markdown_text_escapes_every_markup_character_and_finds_links_in_any_case(text: str, shown: str) -> None:
    assert markdown_text(text) == shown


def test_markdown_code_spans_cannot_be_closed_early() -> None:
    assert markdown_code("a`b|c\u202e") == "`a'b\\|c\\u202e`"


def test_github_escaping_follows_the_runner() -> None:
    assert github_data("100%\r\n::error::x\u202e") == "100%25%0D%0A::error::x\\u202e"
    assert github_property("a:b,c%") == "a%3Ab%2Cc%25"


@dataclass(frozen=True, slots=True)
class _Item:
    name: str
    status: FeatureStatus = FeatureStatus.OK
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    kinds: frozenset[str] = frozenset()
    count: int = 0


def test_printable_escapes_every_string_of_a_value_and_keeps_what_it_leaves_alone() -> None:
    group = MissingGroup("s3", "S3\x1b[2J", ("s3:Get\u202eObject", "s3:PutObject"), MissingLayer.NO_ALLOW, "ok")
    item = _Item("n\n", tags=("a", "b\x07"), extra={"k\r": ("v\t", 1)}, kinds=frozenset({"x\x00"}), count=3)
    shown = printable((group, item, "plain", 7, None, FeatureStatus.MISSING))
    assert shown[0] == MissingGroup(
        "s3", "S3\\x1b[2J", ("s3:Get\\u202eObject", "s3:PutObject"), MissingLayer.NO_ALLOW, "ok"
    )
    assert shown[0].layer is MissingLayer.NO_ALLOW
    assert (shown[1].name, shown[1].tags, shown[1].extra, shown[1].kinds, shown[1].count) == (
        "n\\n",
        ("a", "b\\x07"),
        {"k\\r": ("v\\t", 1)},
        frozenset({"x\\x00"}),
        3,
    )
    assert shown[2:] == ("plain", 7, None, FeatureStatus.MISSING)
    clean = (_Item("a", tags=("b",)), ("c", "d"))
    assert printable(clean) is clean  # nothing to escape: the very same value


def test_a_value_met_many_times_is_mapped_once_and_stays_shared() -> None:
    """The audit shares one value among many roles: the walk maps it once, and every place that
    held it holds the one copy."""
    calls: list[str] = []

    def counting(text: str) -> str:
        calls.append(text)
        return text.upper()

    shared = _Item("shared", tags=("t",))
    other = _Item("shared", tags=tuple("t"))  # equal, not the same tuple: mapped on its own
    shown = printable(((shared, shared), [shared], shared, other), counting)
    assert calls == ["shared", "t", "shared", "t"]
    assert shown[0][0] is shown[0][1] is shown[2]
    assert shown[0][0] == _Item("SHARED", tags=("T",))
    assert shown[3] == shown[2]
    assert shown[3] is not shown[2]
    assert shown[1] == [shared]  # a list is none of the report's shapes: left as it is


def test_bounded_shortens_every_string_of_a_shared_value() -> None:
    long = "x" * (SHOWN_LIMIT + 5)
    shared = _Item(long, tags=(long, "short"))
    shown = bounded((shared, shared))
    assert shown[0] is shown[1]
    assert shown[0].name == shown[0].tags[0] == "x" * (SHOWN_LIMIT - 1) + ELLIPSIS
    assert shown[0].tags[1] == "short"
