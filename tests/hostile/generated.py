"""Hostile inputs made at test time: too big, too deep or too binary to keep in the repository.

Each entry of ``GENERATED`` writes one file into a directory and says what the CLI must make of
it (``Expect``). ``corpus/`` holds the readable ones; both are run by ``test_corpus.py``.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "corpus"
DEEP = 100_000  # nesting levels
DIGITS = 100_000  # digits in one number
MARKER_PREFIX = "zeet-iam-audit-pwned"  # a file a YAML python tag would create if it ever ran


@dataclass(frozen=True)
class Expect:
    """``error``: exit 2 and one error line holding ``fragment`` (the place); ``report``: exit 0/1
    and ``fragment`` somewhere in the JSON report (typically the reason a part is unknown)."""

    outcome: str
    fragment: str = ""


def error(fragment: str) -> Expect:
    return Expect("error", fragment)


def report(fragment: str = "") -> Expect:
    return Expect("report", fragment)


def _valid_gaad_text() -> str:
    return (CORPUS / "gaad-valid.json").read_text(encoding="utf-8")


def _gaad_with_document(document: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_valid_gaad_text())
    data["RoleDetailList"][0]["RolePolicyList"][0]["PolicyDocument"] = document
    return data


def twenty_thousand_statements() -> dict[str, Any]:
    """An authorization-details file whose one role has a 20,000-statement inline policy, mixing
    actions, wildcards, resources, conditions and Deny statements the way real policies do."""
    services = [
        "s3",
        "sqs",
        "ec2",
        "iam",
        "logs",
        "lambda",
        "rds",
        "eks",
        "sns",
        "events",
        "cloudwatch",
        "secretsmanager",
    ]
    verbs = ["Get", "Put", "List", "Describe", "Create", "Delete", "Update", "Tag"]
    tails = ["*", "Object", "Queue*", "Instance", ""]
    statements: list[dict[str, Any]] = []
    for i in range(20_000):
        statement: dict[str, Any] = {
            "Sid": f"S{i}",
            "Effect": "Deny" if i % 10 == 0 else "Allow",
            "Action": [
                f"{services[(i + k) % len(services)]}:{verbs[(i * 3 + k) % len(verbs)]}"
                f"{tails[(i + 2 * k) % len(tails)]}"
                for k in range(3)
            ],
            "Resource": [
                f"arn:aws:{services[i % len(services)]}:*:123456789012:zeet-{i}-*",
                f"arn:aws:s3:::bucket-{i}/*",
            ],
        }
        if i % 7 == 0:
            statement["Condition"] = {
                "StringEquals": {"aws:RequestedRegion": "us-east-1"},
                "StringLike": {"aws:PrincipalTag/team": "zeet-*"},
            }
        statements.append(statement)
    return _gaad_with_document({"Version": "2012-10-17", "Statement": statements})


def _json(data: Any) -> Callable[[Path], object]:
    return lambda path: path.write_text(json.dumps(data), encoding="utf-8")


def _text(text: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(text, encoding="utf-8")


def _bytes(data: bytes) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(data)


def _oversize(path: Path) -> None:
    with path.open("wb") as handle:  # sparse: the size check comes before any reading
        handle.truncate(64 * 1024 * 1024 + 1)


def _symlink_loop(path: Path) -> None:
    path.symlink_to(path.name)


def _directory(path: Path) -> None:
    path.mkdir()


def _python_tags(path: Path) -> None:
    """Every python/* tag PyYAML's unsafe loaders know, each aimed at creating a marker file."""
    marker = path.parent / f"{MARKER_PREFIX}-generated"
    path.write_text(
        "Resources:\n"
        f'  A: !!python/object/apply:os.system ["touch {marker}-apply"]\n'
        f'  B: !!python/object/apply:subprocess.call [["touch", "{marker}-call"]]\n'
        f'  C: !!python/object/new:os.system ["touch {marker}-new"]\n'
        "  D: !!python/name:os.system\n"
        "  E: !!python/module:os\n"
        f"  F: !!python/object/apply:builtins.exec [\"open('{marker}-exec', 'w').close()\"]\n",
        encoding="utf-8",
    )


def _sub_expansion(path: Path) -> None:
    """A 1 MB parameter default substituted 2,000 times: 2 GB of text from a 1 MB template."""
    template = {
        "Parameters": {"P": {"Type": "String", "Default": "x" * 1_000_000}},
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "r",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": "s3:GetObject",
                                        "Resource": {"Fn::Sub": "${P}" * 2000},
                                    }
                                ],
                            },
                        }
                    ],
                },
            }
        },
    }
    path.write_text(json.dumps(template), encoding="utf-8")


def _find_in_map_expansion(path: Path) -> None:
    """A 5,000-item mapping repeated by Fn::FindInMap in 1,000 statements: 5 million values."""
    statements = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::FindInMap": ["M", "k", "v"]}}
        for _ in range(1000)
    ]
    template = {
        "Mappings": {"M": {"k": {"v": [f"arn:aws:s3:::bucket-{i}/*" for i in range(5000)]}}},
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "r",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}
                        ],
                    },
                    "Policies": [
                        {"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
                    ],
                },
            }
        },
    }
    path.write_text(json.dumps(template), encoding="utf-8")


def _string_alias_bomb(path: Path) -> None:
    """One 1 MB string aliased 2,000 times: few values, 2 GB of text."""
    aliases = ", ".join(["*s"] * 2000)
    path.write_text(
        "Mappings:\n"
        f'  M: {{k: {{v: &s "{"x" * 1_000_000}"}}}}\n'
        "Resources:\n"
        "  R:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      Policies:\n"
        "        - PolicyName: p\n"
        "          PolicyDocument:\n"
        "            Version: '2012-10-17'\n"
        f"            Statement: [{{Effect: Allow, Action: s3:GetObject, Resource: !Join ['', [{aliases}]]}}]\n",
        encoding="utf-8",
    )


def _terraform_with_policy(policy: str) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_iam_role.zeet",
                        "mode": "managed",
                        "type": "aws_iam_role",
                        "name": "zeet",
                        "values": {"name": "zeet", "path": "/", "inline_policy": [{"name": "Odd", "policy": policy}]},
                    },
                ]
            }
        },
    }


# --- second round: bounded work, conflicting pages, special files ---------------------------------


def _role_template(resource: Any, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "Parameters": parameters or {},
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "r",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}
                        ],
                    },
                    "Policies": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}],
                            },
                        }
                    ],
                },
            }
        },
    }


def _sub_reasons_doubling(path: Path) -> None:
    """Each level's Fn::Sub depends on the level below twice, through two different templates, so
    the reason an unresolved value gives quotes the level below twice: 2^15 copies at the top."""
    lines = [
        "Parameters:",
        "  P: {Type: String}",
        "Resources:",
        "  R:",
        "    Type: AWS::IAM::Role",
        "    Properties:",
        "      RoleName: r",
        "      Policies:",
        "        - PolicyName: p",
        "          PolicyDocument:",
        "            Version: '2012-10-17'",
        "            Statement:",
        "              - Effect: Allow",
        "                Action: s3:GetObject",
        "                Resource: [&l0 !Sub '${P}-bucket'",
    ]
    for level in range(1, 16):
        lines.append(
            f"                  , &l{level} !Sub ['${{A}}/${{B}}', {{A: *l{level - 1}, "
            f"B: !Sub ['x${{C}}', {{C: *l{level - 1}}}]}}]"
        )
    lines.append("                  ]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _sub_unclosed(path: Path) -> None:
    """An Fn::Sub of 200,000 unclosed ``${``: quadratic for a scanner that looks for each one's ``}``."""
    path.write_text(json.dumps(_role_template({"Fn::Sub": "arn:aws:s3:::${" * 200_000})), encoding="utf-8")


def _duplicate_key_at_the_end(path: Path) -> None:
    """A 16 MB authorization-details file of 230,000 objects whose only duplicate key is in its very
    last object: found and placed in linear time (SECURITY.md gives the figures for 64 MB; at this
    size the case stays far below the hang guard on a busy machine)."""
    data: dict[str, Any] = json.loads(_valid_gaad_text())
    role = data["RoleDetailList"][0]
    role["Tags"] = [{"Key": f"k{i}", "Value": "v" * 40} for i in range(230_000)]
    text = json.dumps(data)
    assert text.endswith("}")
    path.write_text(text[:-1] + ', "IsTruncated": false, "IsTruncated": false}', encoding="utf-8")


def _huge_string_in_policy(path: Path) -> None:
    """A 63 MB resource string in one inline policy."""
    data: dict[str, Any] = json.loads(_valid_gaad_text())
    data["RoleDetailList"][0]["RolePolicyList"][0]["PolicyDocument"]["Statement"][0]["Resource"] = (
        "arn:aws:s3:::" + "b" * 63_000_000
    )
    path.write_text(json.dumps(data), encoding="utf-8")


def _megabyte_role_name(path: Path) -> None:
    data: dict[str, Any] = json.loads(_valid_gaad_text())
    data["RoleDetailList"][0]["RoleName"] = "zeet" + "n" * 1_000_000
    path.write_text(json.dumps(data), encoding="utf-8")


def _conflicting_pages(path: Path) -> None:
    """Two pages describing one customer managed policy differently: one allows every logs action,
    the other denies them. Whichever page is believed, the verdict rests on a guess."""
    page: dict[str, Any] = json.loads(_valid_gaad_text())
    arn = "arn:aws:iam::123456789012:policy/ZeetLogs"
    page["RoleDetailList"][0]["RolePolicyList"] = []
    page["RoleDetailList"][0]["AttachedManagedPolicies"] = [{"PolicyName": "ZeetLogs", "PolicyArn": arn}]

    def policy(effect: str) -> dict[str, Any]:
        return {
            "PolicyName": "ZeetLogs",
            "Arn": arn,
            "DefaultVersionId": "v1",
            "PolicyVersionList": [
                {
                    "VersionId": "v1",
                    "IsDefaultVersion": True,
                    "Document": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": effect, "Action": "logs:*", "Resource": "*"}],
                    },
                }
            ],
        }

    first = {**page, "Policies": [policy("Allow")], "IsTruncated": True, "Marker": "m1"}
    second = {**page, "RoleDetailList": [], "Policies": [policy("Deny")], "IsTruncated": False}
    path.write_text(json.dumps([first, second], indent=2), encoding="utf-8")


def _device(path: Path) -> None:
    path.symlink_to("/dev/zero")


GAAD_VALID = _valid_gaad_text
GENERATED: dict[str, tuple[Callable[[Path], object], Expect]] = {
    "bom-utf8.json": (lambda p: p.write_bytes(codecs.BOM_UTF8 + GAAD_VALID().encode("utf-8")), report()),
    "bom-utf16.json": (lambda p: p.write_bytes(GAAD_VALID().encode("utf-16")), report()),
    "bom-utf32.json": (
        lambda p: p.write_bytes(GAAD_VALID().encode("utf-32")),
        error("line 1 column 1: the file is UTF-32"),
    ),
    "latin1.json": (
        _bytes(b'{"RoleDetailList": [{"RoleName": "caf\xe9"}]}'),
        error("line 1 column 38: not UTF-8 text (byte 0xe9)"),
    ),
    "invalid-utf8.yaml": (_bytes(b"Resources:\n  R\xc3\x28: {}\n"), error("line 2 column 4: not UTF-8 text")),
    "truncated-utf8.json": (_bytes(b'{"RoleDetailList": ["\xe2\x82'), error("line 1 column 22: not UTF-8 text")),
    "nul-byte.json": (_bytes(b'{"RoleDetailList": []}\n\x00'), error("line 2 column 1: NUL character")),
    "nul-byte.yaml": (_bytes(b"Resources:\n  R: {Type: \x00}\n"), error("line 2 column 13: NUL character")),
    "yaml-control-character.yaml": (
        _bytes(b'Resources:\n  R: {Type: "a\x01"}\n'),
        error("line 2 column 15: character U+0001 is not allowed in YAML"),
    ),
    "random-binary.json": (_bytes(bytes(range(256)) * 64), error("not UTF-8 text")),
    "deep-arrays.json": (_text("[" * DEEP + "]" * DEEP), error("line 1 column 129: nested more than 128 levels")),
    "deep-objects.json": (
        _text('{"a":' * DEEP + "1" + "}" * DEEP),
        error("line 1 column 641: nested more than 128 levels"),
    ),
    "deep-flow.yaml": (_text("[" * DEEP + "]" * DEEP), error("nested more than 128 levels")),
    "deep-block.yaml": (_text("- " * DEEP + "x\n"), error("nested more than 128 levels")),
    "deep-policy-string.json": (
        _json(_gaad_with_document("[" * DEEP + "]" * DEEP)),
        report("PolicyDocument: the document is nested too deeply to be a policy"),
    ),
    "long-integer.json": (
        _text('{"RoleDetailList": [{"RoleName": "r", "MaxSessionDuration": 1' + "0" * DIGITS + "}]}"),
        error("line 1 column 61: a number too long to read (more than 4300 digits)"),
    ),
    "long-integer.yaml": (
        _text("Resources:\n  R:\n    Properties: {MaxSessionDuration: 1" + "0" * DIGITS + "}\n"),
        error("a number too long to read"),
    ),
    "long-float.json": (
        _text(
            GAAD_VALID().replace(
                '"Resource": "*"',
                '"Resource": "*", "Condition": {"NumericLessThan": {"s3:max-keys": 1.' + "5" * DIGITS + "}}",
            )
        ),
        report(),
    ),
    "long-integer-in-policy-string.json": (
        _json(
            _terraform_with_policy(
                '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
                '"s3:ListBucket", "Resource": "*", "Condition": {"NumericLessThan": '
                '{"s3:max-keys": 1' + "0" * DIGITS + "}}}]}"
            )
        ),
        report("aws_iam_role.zeet.inline_policy[0].policy: not valid JSON"),
    ),
    "deep-policy-in-terraform-string.json": (
        _json(_terraform_with_policy("[" * DEEP + "]" * DEEP)),
        report("the document is nested too deeply to be a policy"),
    ),
    "statements-20000.json": (_json(twenty_thousand_statements()), report('"name": "zeet"')),
    "oversize.json": (_oversize, error("larger than the 64 MB limit for an input")),
    "symlink-loop.json": (_symlink_loop, error("cannot read the file")),
    "directory.json": (_directory, error("is a directory, not a file")),
    "python-tags.yaml": (_python_tags, error("could not determine a constructor for the tag")),
    "cfn-sub-expansion.json": (
        _sub_expansion,
        error(
            "Resources.R.Properties.Policies[0].PolicyDocument.Statement[0]"
            ".Resource: the intrinsic functions expand to more than 64 MB"
        ),
    ),
    "cfn-find-in-map-expansion.json": (
        _find_in_map_expansion,
        error("the intrinsic functions expand to more than 1,000,000 values"),
    ),
    "yaml-string-alias-bomb.yaml": (_string_alias_bomb, error("expands to more than 64 MB of text through aliases")),
    # Second round.
    "cfn-sub-reasons-doubling.yaml": (_sub_reasons_doubling, report("Ref P (a parameter without a default")),
    "cfn-sub-unclosed.json": (_sub_unclosed, report('"name": "r"')),
    "duplicate-key-at-the-end.json": (_duplicate_key_at_the_end, error("duplicate key 'IsTruncated' in one object")),
    "huge-string-in-policy.json": (_huge_string_in_policy, report('"name": "zeet"')),
    "megabyte-role-name.json": (_megabyte_role_name, report('nnnn\\u2026"')),
    "gaad-conflicting-pages.json": (
        _conflicting_pages,
        report("gaad-conflicting-pages.json: $[1].Policies[0] and $[0].Policies[0] describe"),
    ),
    "device.json": (_device, error("is a device, not a file")),
}
