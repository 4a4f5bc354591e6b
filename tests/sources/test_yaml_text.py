"""YAML input (``parse_yaml``): CloudFormation's short forms become long forms, dates stay text, merge
keys work, and hostile or broken YAML is one line naming the file, the line and the column."""

from __future__ import annotations

import re

import pytest

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.sources.yaml_text import CFN_SHORT_FORMS, parse_yaml

ALIAS_BOMB = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)

BAD_YAML = [
    # (id, file name, content, expected message after "NAME: ")
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
    ("control character", "ctl.yaml", b"a: b\x01\n", r"line 1 column 5: character U\+0001 is not allowed in YAML"),
]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [pytest.param(name, content, expected, id=case) for case, name, content, expected in BAD_YAML],
)
def test_bad_yaml_is_one_line_naming_file_and_place(name: str, content: bytes, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml(content.decode("utf-8"), name)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{name}: ")
    assert re.search(expected, message[len(f"{name}: ") :]), message


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
    ("!Length [a, b]", {"Fn::Length": ["a", "b"]}),
    ("!ToJsonString {a: [1]}", {"Fn::ToJsonString": {"a": [1]}}),
]


@pytest.mark.parametrize(("text", "expected"), SHORT_FORMS, ids=[text for text, _ in SHORT_FORMS])
def test_cloudformation_short_forms_become_long_forms(text: str, expected: object) -> None:
    assert parse_yaml(f"value: {text}\n", "t.yaml") == {"value": expected}


def test_yaml_dates_and_versions_stay_strings() -> None:
    data = parse_yaml("Version: 2012-10-17\nAt: 2024-05-02T10:11:12Z\n", "t.yaml")
    assert data == {"Version": "2012-10-17", "At": "2024-05-02T10:11:12Z"}


def test_yaml_merge_keys_are_not_duplicates() -> None:
    text = "base: &base {Effect: Allow, Resource: '*'}\nstatement:\n  <<: *base\n  Effect: Deny\n"
    data = parse_yaml(text, "t.yaml")
    assert data["statement"] == {"Effect": "Deny", "Resource": "*"}


def test_every_short_form_is_tested() -> None:
    written = {tag for text, _ in SHORT_FORMS for tag in re.findall(r"![A-Za-z0-9]+", text)}
    assert written == set(CFN_SHORT_FORMS)
