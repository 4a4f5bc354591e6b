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

ALIAS_BOMB = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)

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
    (
        "python tag refused",
        "evil.yaml",
        b'a: !!python/object/apply:os.system ["touch /tmp/pwned"]\n',
        r"line 1 column 4: could not determine a constructor for the tag "
        r"'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    ("python name tag refused", "evil2.yaml", b"a: !!python/name:os.system\n", r"line 1 column 4: could not"),
    ("alias bomb bounded", "bomb.yaml", ALIAS_BOMB.encode(), r"line \d+ column \d+: expands to more than 1,000,000"),
    ("recursive alias", "loop.yaml", b"a: &a [1, *a]\n", r"line 1 column 11: an alias refers to a value"),
    ("deep YAML", "deep.yaml", b"a: " + b"[" * 3000 + b"]" * 3000 + b"\n", r"line 1 column 131: nested more"),
    ("duplicate YAML key", "dup.yaml", b"Resources: {}\nResources: {}\n", r"line 2 column 1: duplicate key"),
    ("unknown tag", "tag.yaml", b"a: !GetParam x\n", r"line 1 column 4: could not determine a constructor"),
    ("two documents", "two.yaml", b"a: 1\n---\nb: 2\n", r"line 2 column 1: a second YAML document"),
    ("YAML syntax", "tab.yaml", b"a:\n\t- b\n", r"line 2 column 1: found character '\\t'"),
    ("YAML long integer", "big.yaml", b"a: " + b"1" * 5000 + b"\n", r"line 1 column 4: a number too long"),
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


SHORT_FORMS = [
    ("!Ref Bucket", {"Ref": "Bucket"}),
    ("!Sub 'arn:${AWS::Partition}:s3:::${B}'", {"Fn::Sub": "arn:${AWS::Partition}:s3:::${B}"}),
    ("!Sub ['${A}-x', {A: !Ref P}]", {"Fn::Sub": ["${A}-x", {"A": {"Ref": "P"}}]}),
    ("!GetAtt Role.Arn", {"Fn::GetAtt": ["Role", "Arn"]}),
    ("!GetAtt [Role, Arn]", {"Fn::GetAtt": ["Role", "Arn"]}),
    ("!Join ['', [a, !Ref B]]", {"Fn::Join": ["", ["a", {"Ref": "B"}]]}),
    ("!If [C, a, !Ref AWS::NoValue]", {"Fn::If": ["C", "a", {"Ref": "AWS::NoValue"}]}),
    ("!Select [0, !Split [',', !Ref L]]", {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "L"}]}]}),
    ("!FindInMap [M, K, V]", {"Fn::FindInMap": ["M", "K", "V"]}),
    ("!ImportValue shared-Bucket", {"Fn::ImportValue": "shared-Bucket"}),
    ("!Base64 text", {"Fn::Base64": "text"}),
    ("!Cidr [10.0.0.0/16, 4, 8]", {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}),
    ("!Equals [!Ref E, prod]", {"Fn::Equals": [{"Ref": "E"}, "prod"]}),
    ("!Not [!Condition C]", {"Fn::Not": [{"Condition": "C"}]}),
    ("!And [!Condition A, !Condition B]", {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
    ("!Or [!Condition A, !Condition B]", {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
    ("!GetAZs ''", {"Fn::GetAZs": ""}),
    ("!Transform {Name: AWS::Include}", {"Fn::Transform": {"Name": "AWS::Include"}}),
]


@pytest.mark.parametrize(("text", "expected"), SHORT_FORMS, ids=[text for text, _ in SHORT_FORMS])
def test_cloudformation_short_forms_become_long_forms(write_file: WriteFile, text: str, expected: object) -> None:
    assert load_document(write_file("t.yaml", f"value: {text}\n")).data == {"value": expected}


def test_yaml_dates_and_versions_stay_strings(write_file: WriteFile) -> None:
    data = load_document(write_file("t.yaml", "Version: 2012-10-17\nAt: 2024-05-02T10:11:12Z\n")).data
    assert data == {"Version": "2012-10-17", "At": "2024-05-02T10:11:12Z"}


def test_yaml_merge_keys_are_not_duplicates(write_file: WriteFile) -> None:
    text = "base: &base {Effect: Allow, Resource: '*'}\nstatement:\n  <<: *base\n  Effect: Deny\n"
    data = load_document(write_file("t.yaml", text)).data
    assert data["statement"] == {"Effect": "Deny", "Resource": "*"}


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
