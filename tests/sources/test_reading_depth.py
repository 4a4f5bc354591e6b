"""The JSON depth limit: answered from the text's brackets, the same as walking the decoded values.

``parse_json_text`` asks ``_exceeds_depth`` with the text the data came from; the answer must be the
one the walk over the decoded values gives, whatever the strings hold (brackets, quotes, backslashes,
escapes of every kind, characters beyond ASCII, lone surrogates) and however the text is laid out.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.sources import reading
from zeet_iam_audit.sources.reading import MAX_DEPTH, _exceeds_depth, parse_json_text

DEPTH = settings(
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def depth(value: Any) -> int:
    """How many lists and objects deep ``value`` is (0 for a scalar)."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def assert_same_verdicts(data: Any, text: str) -> None:
    assert json.loads(text) == data
    deepest = depth(data)
    for limit in range(-1, deepest + 3):
        walked = _exceeds_depth(data, limit)
        assert walked is (limit < 1 or deepest > limit)
        assert _exceeds_depth(data, limit, text) is walked, (limit, text)


# Strings rich in what could confuse a reader of the brackets.
tricky_text = st.text(
    alphabet=st.one_of(
        st.sampled_from('[]{}"\\/:,\n\t u'),
        st.characters(codec="utf-8"),
        st.sampled_from(["\ud800", "\udfff", "é", "\u2028", "😀"]),
    ),
    max_size=12,
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), tricky_text),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(tricky_text, children, max_size=4)),
    max_leaves=30,
)


def _escaped(text: str, choices: list[int]) -> str:
    """``text`` as a JSON string, each character written one of the ways JSON allows."""
    out = ['"']
    for position, char in enumerate(text):
        way = choices[position % len(choices)] if choices else 0
        if char in '"\\' or ord(char) < 0x20:
            out.append(json.dumps(char)[1:-1] if way % 2 else f"\\u{ord(char):04x}")
        elif char == "/" and way % 3 == 1:
            out.append("\\/")
        elif way % 4 == 3 and ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _write(value: Any, choices: list[int], spaces: str) -> str:
    """``value`` as JSON text, strings escaped by ``choices`` and ``spaces`` between the tokens."""
    if isinstance(value, dict):
        items = [
            f"{_escaped(key, choices)}{spaces}:{spaces}{_write(item, choices, spaces)}" for key, item in value.items()
        ]
        return "{" + spaces + f",{spaces}".join(items) + spaces + "}"
    if isinstance(value, list):
        return "[" + spaces + f",{spaces}".join(_write(item, choices, spaces) for item in value) + spaces + "]"
    if isinstance(value, str):
        return _escaped(value, choices)
    return json.dumps(value)


@DEPTH
@given(data=json_values, ascii_only=st.booleans(), indent=st.sampled_from([None, 0, 2]))
def test_verdict_from_the_text_is_the_walks(data: Any, ascii_only: bool, indent: int | None) -> None:
    assert_same_verdicts(data, json.dumps(data, ensure_ascii=ascii_only, indent=indent))


@DEPTH
@given(
    data=json_values,
    choices=st.lists(st.integers(0, 11), max_size=5),
    spaces=st.sampled_from(["", " ", "\n", "\t \r\n"]),
)
def test_verdict_from_hand_written_text_is_the_walks(data: Any, choices: list[int], spaces: str) -> None:
    assert_same_verdicts(data, spaces + _write(data, choices, spaces) + spaces)


@pytest.mark.parametrize(
    "text",
    [
        '"[[["',
        '["\\\\"]',
        '["\\\\\\""]',
        '["\\"]"]',
        '[["\\\\\\\\"], "]"]',
        '{"a[": "]", "b": [{}]}',
        '["", "", ""]',
        '[""]',
        '{"": ""}',
        '{"\\"": "\\\\"}',
        '["\\u005b\\u005d", "\\u0022"]',
        "[1, [2, [3]]]",
        '["\\\\\\\\\\\\"]',
        '"\\""',
        '{"a": {"b": {"c": "}}}}"}}}',
        '[[[], [[]]], [], {"x": [[[[]]]]}]',
        '["\ud800[", "\udfff"]',
        '["\\/", "/"]',
        "  \n[ ]\n ",
        '[{}, "{", "}}", {"k": "[\\"]"}]',
        "0",
        "null",
    ],
)
def test_verdicts_on_tricky_strings(text: str) -> None:
    assert_same_verdicts(json.loads(text), text)


def _nested(levels: int, inner: str = "{}") -> str:
    """``levels`` of lists and objects, brackets in strings along the way, ``inner`` at the bottom."""
    text = inner
    for level in range(levels - 1):
        text = f'{{"k{level}[": "]\\"{{", "v": {text}}}' if level % 2 else f'["[[", "\\\\", {text}, "]"]'
    return text


@pytest.mark.parametrize("levels", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 5])
def test_the_limit_is_where_it_was(levels: int) -> None:
    text = _nested(levels)
    data = json.loads(text)
    assert depth(data) == levels
    assert _exceeds_depth(data, MAX_DEPTH, text) is _exceeds_depth(data, MAX_DEPTH) is (levels > MAX_DEPTH)
    if levels <= MAX_DEPTH:
        assert parse_json_text(text, "deep.json") == data
    else:
        with pytest.raises(InputError, match=r"^deep\.json: line 1 column \d+: nested more than 128 levels deep$"):
            parse_json_text(text, "deep.json")


def test_a_deep_corner_of_a_wide_document_is_found_where_it_was() -> None:
    wide = [{"Statement": [{"Action": ["s3:*"] * 3, "Resource": "*"}]} for _ in range(200)]
    text = json.dumps({"Roles": wide, "Deep": json.loads(_nested(MAX_DEPTH))}, indent=2)
    with pytest.raises(InputError) as caught:
        parse_json_text(text, "wide.json")
    offset = reading._locate_depth(text, MAX_DEPTH)
    line, column = reading._line_column(text, offset)
    assert str(caught.value) == f"wide.json: line {line} column {column}: nested more than 128 levels deep"


def test_a_scalar_document_is_never_too_deep() -> None:
    assert not _exceeds_depth("x", 1, '"x"')
    assert _exceeds_depth("x", 0, '"x"')  # as the walk says: a limit below one refuses everything
