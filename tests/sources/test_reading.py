"""Reading input files safely: every failure is one InputError line naming the file and the place."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.sources.reading import choose_syntax, load_document

WriteFile = Callable[[str, str | bytes], Path]

BAD_INPUTS = [
    # (id, file name, content, expected message after "PATH: ")
    ("empty", "empty.json", b"", r"the file is empty$"),
    ("whitespace only", "blank.yaml", b"  \n\t\n", r"the file is empty$"),
    ("truncated JSON", "gaad.json", b'{"RoleDetailList": [{"RoleName": "x"', r"line 1 column 37: not valid JSON"),
    ("not UTF-8", "latin1.json", b'{"RoleName": "caf\xe9"}', r"line 1 column 18: not UTF-8 text \(byte 0xe9\)"),
    ("NUL byte", "binary.json", b'{"a": 1}\n\x00\x01', r"line 2 column 1: NUL character"),
    ("UTF-32", "wide.json", codecs.BOM_UTF32_LE + '{"a": 1}'.encode("utf-32-le"), r"UTF-32"),
    (
        "duplicate JSON key",
        "dup.json",
        b'{\n  "Effect": "Allow",\n  "x": {"a": 1, "a": 2}\n}',
        r"line 3 column 8: duplicate key 'a'",
    ),
    (
        "duplicate JSON key after other objects",
        "dup-later.json",
        b'[{"a": 1}, {"b": {"c": 1}},\n {"d": 1, "e": {}, "d": 2}, {"f": 1}]',
        r"line 2 column 2: duplicate key 'd' in one object \(the object starts here\)$",
    ),
    ("NaN", "nan.json", b'{"MaxSessionDuration": NaN}', r"line 1 column 24: NaN is not valid JSON"),
    ("integer too long", "big.json", b'{"n": ' + b"9" * 5000 + b"}", r"line 1 column 7: a number too long"),
    ("deep JSON", "deep.json", b"[" * 5000 + b"]" * 5000, r"line 1 column 129: nested more than 128"),
]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [pytest.param(name, content, expected, id=case) for case, name, content, expected in BAD_INPUTS],
)
def test_bad_input_is_one_line_naming_file_and_place(
    write_file: WriteFile, name: str, content: bytes, expected: str
) -> None:
    path = write_file(name, content)
    with pytest.raises(InputError) as caught:
        load_document(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert re.search(expected, message[len(f"{path}: ") :]), message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r": no such file$"):
        load_document(tmp_path / "absent.json")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r": is a directory"):
        load_document(tmp_path)


def test_size_limit(write_file: WriteFile) -> None:
    path = write_file("huge.json", b'{"a": "' + b"x" * (1024 * 1024) + b'"}')
    with pytest.raises(
        InputError,
        match=r"huge.json: larger than the 1 MB limit for an input "
        r"\(raise it with --max-input-mb\)",
    ):
        load_document(path, limit=1024 * 1024)
    assert load_document(path, limit=2 * 1024 * 1024).data == {"a": "x" * (1024 * 1024)}


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(codecs.BOM_UTF8 + b'{"Statement": []}', id="UTF-8 BOM"),
        pytest.param('{"Statement": []}'.encode("utf-16"), id="UTF-16 with BOM (PowerShell >)"),
        pytest.param(b'\n\n  {"Statement": []}  \n', id="surrounding whitespace"),
    ],
)
def test_accepted_encodings(write_file: WriteFile, content: bytes) -> None:
    assert load_document(write_file("doc.json", content)).data == {"Statement": []}


def test_the_display_name_is_used_in_messages(write_file: WriteFile) -> None:
    path = write_file("x.json", b"{")
    with pytest.raises(InputError, match=r"^shown\.json: line 1 column 2: "):
        load_document(path, display="shown.json")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("plan.json", "Resources: {}", "json"),
        ("template.yaml", '{"Resources": {}}', "yaml"),
        ("template.yml", "a: 1", "yaml"),
        ("template.template", '  {"Resources": {}}', "json"),
        ("template.template", "Resources: {}", "yaml"),
        ("gaad", "[{}]", "json"),
    ],
)
def test_choose_syntax(name: str, text: str, expected: str) -> None:
    assert choose_syntax(Path(name), text) == expected
