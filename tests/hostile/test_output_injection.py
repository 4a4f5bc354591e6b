"""Names from an input file must not drive the terminal or the CI log that shows the report.

An input is untrusted: a template in a pull request can name its role
``"zeet\\u001b[2J\\r\\n::error::injected"``. Printed raw, the escape sequence clears the terminal or
retitles it, and the line break starts a line that GitHub Actions runs as a workflow command
(``::error::``, ``::add-mask::``, ``::stop-commands::``). Every format must neutralise control
characters for its medium; JSON and SARIF escape them by construction.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeet_iam_audit.audit.report import AuditReport
from zeet_iam_audit.cli import main
from zeet_iam_audit.formats import FORMATS, OutputFormat, RenderOptions
from zeet_iam_audit.formats.printable import printable

HOSTILE = Path(__file__).resolve().parent / "corpus" / "control-characters-in-names.json"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # all but tab and line feed


def _render(name: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(
        ["--file", str(HOSTILE), "--all-roles", "--format", name, "--width", "120"], stdout=stdout, stderr=stderr
    )
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


# --- second round: bidi and zero-width characters, mentions and links, errors, the property -------

STEERING = Path(__file__).resolve().parent / "corpus" / "names-that-steer-reviews.json"
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _hidden(text: str) -> list[str]:
    """Characters a reader cannot see (or that steer a terminal); the line feed is layout."""
    return [char for char in text if char != "\n" and unicodedata.category(char) in HIDDEN_CATEGORIES]


def _render_file(path: Path, name: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(["--file", str(path), "--all-roles", "--format", name, "--width", "200"], stdout=stdout, stderr=stderr)
    assert code in (0, 1), stderr.getvalue()
    return stdout.getvalue()


@pytest.mark.parametrize("name", FORMATS)
def test_no_bidi_or_zero_width_character_reaches_any_format(name: str) -> None:
    text = _render_file(STEERING, name)
    assert _hidden(text) == []
    if name in ("json", "sarif"):
        # Escaped by JSON, and escaped again as visible text where a viewer would decode it.
        assert "\\u202e" in text
    else:
        assert "\\u202e" in text  # shown, not hidden


def _outside_code_spans(markdown: str) -> str:
    return re.sub(r"`[^`\n]*`", "", markdown)


def test_markdown_neither_mentions_nor_links() -> None:
    text = _render_file(STEERING, "markdown")
    loose = _outside_code_spans(text)
    assert "octocat" in text
    assert "evil.example" in loose  # the text is there, only its scheme and "www" are in code spans
    assert "@" not in loose
    assert not re.search(r"(?i)\bwww\.", loose)
    assert not re.search(r"(?i)https?://", loose)


def test_github_annotations_escape_as_the_runner_expects() -> None:
    text = _render_file(STEERING, "github")
    for line in text.splitlines():
        assert line.startswith("::"), line
        command, _, message = line[2:].partition("::")
        assert "\r" not in message
        assert "%0A" not in command or "%" in command
        properties = command.partition(" ")[2]
        for pair in filter(None, properties.split(",")):
            _, _, value = pair.partition("=")
            assert ":" not in value, pair
    assert "::error::injected" not in text


def test_a_usage_error_quoting_names_from_the_input_stays_one_printable_line() -> None:
    stderr = io.StringIO()
    code = main(["--file", str(STEERING), "--role", "nope\x1b]52;c;cHduZWQ=\x07"], stdout=io.StringIO(), stderr=stderr)
    assert code == 2
    (line,) = [line for line in stderr.getvalue().splitlines() if "auditing" not in line]
    assert _hidden(line) == []
    assert "\\u202e" in line
    assert "\\x1b]52" in line


def test_a_file_name_with_control_characters_is_printed_escaped(tmp_path: Path) -> None:
    path = tmp_path / "r\x1b[2J\r::error::x\u202e.json"
    path.write_bytes(HOSTILE.read_bytes())
    stderr = io.StringIO()
    code = main(["--file", str(path), "--all-roles", "--format", "json"], stdout=io.StringIO(), stderr=stderr)
    assert code in (0, 1)
    lines = stderr.getvalue().splitlines()
    assert all(_hidden(line) == [] for line in lines), lines
    assert any("r\\x1b[2J\\r::error::x\\u202e.json" in line for line in lines)
    missing = io.StringIO()
    assert main(["--file", str(path) + "\n::error::gone"], stdout=io.StringIO(), stderr=missing) == 2
    assert [_hidden(line) for line in missing.getvalue().splitlines()] == [[], []]
    assert not any(line.startswith("::") for line in missing.getvalue().splitlines())


@pytest.fixture(scope="module")
def placeholder_report() -> AuditReport:
    """One audited role whose every name is ``PLACEHOLDER`` (substituted per example below)."""
    stdout = io.StringIO()
    source = (Path(__file__).resolve().parent / "corpus" / "gaad-valid.json").read_text(encoding="utf-8")
    data = json.loads(
        source.replace('"zeet"', '"PLACEHOLDER"')
        .replace('"Logs"', '"PLACEHOLDER-policy"')
        .replace("role/zeet", "role/PLACEHOLDER")
    )
    from zeet_iam_audit.audit.engine import AuditOptions, audit_roles
    from zeet_iam_audit.catalog import load_catalog
    from zeet_iam_audit.rules import load_rules
    from zeet_iam_audit.sources.gaad import read_gaad
    from zeet_iam_audit.sources.shape import Locator

    roles, _ = read_gaad(data, Locator("PLACEHOLDER.json"))
    catalog = load_catalog()
    report = audit_roles(
        list(roles),
        load_rules(catalog=catalog),
        catalog,
        AuditOptions(),
        tool_version="property",
        inputs=("PLACEHOLDER.json",),
    )
    assert stdout.getvalue() == ""
    return report


NAMES = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40) | st.sampled_from(
    [
        "\u202e",
        "\u2066x\u2069",
        "\u200b",
        "\ufeff",
        "\x1b[2J",
        "\r\n::error::x",
        "\u2028",
        "\x85",
        "%0A",
        "a:b,c",
        "@octocat",
        "https://evil.example",
        "\U000e0041",
    ]
)


@given(name=NAMES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_hidden_character_survives_any_format(placeholder_report: AuditReport, name: str) -> None:
    report = printable(placeholder_report, lambda text: text.replace("PLACEHOLDER", name))
    options = RenderOptions(width=120)
    for format_name in FORMATS:
        text = OutputFormat(format_name).implementation().render(report, options)
        assert _hidden(text) == [], (format_name, name)
        if format_name == "github":
            assert not any(line.startswith("::error::x") for line in text.splitlines())


@pytest.mark.parametrize("output", ["table", "json"])
def test_other_commands_show_names_escaped_and_json_stays_json(output: str) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(
        ["explain", "logs:FilterLogEvents", "--file", str(STEERING), "--format", output], stdout=stdout, stderr=stderr
    )
    assert code == 0, stderr.getvalue()
    text = stdout.getvalue()
    assert [char for char in text if char != "\t" and char in _hidden(text)] == []
    assert "\\u202e" in text
    if output == "json":
        assert "\u202e" in json.loads(text)["roles"][0]["name"]  # the same value, escaped
