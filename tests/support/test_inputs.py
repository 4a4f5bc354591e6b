"""Reading the commands' inputs: SCP files in their three shapes, and the source options' rules."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from zeet_iam_audit.commands.input_options import add_input_arguments, role_query
from zeet_iam_audit.errors import InputError, UsageError
from zeet_iam_audit.run import parse_parameters
from zeet_iam_audit.support.inputs import read_roles, read_scp_levels

from .conftest import FIXTURES, GAAD
from .roles import document, statement

FULL = document(statement("*"))
DENY = document(statement("sqs:DeleteQueue", effect="Deny"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_input_arguments(parser, role_help="")
    return parser


@pytest.mark.parametrize(
    ("content", "names"),
    [
        pytest.param(FULL, ["{path}"], id="one-document"),
        pytest.param([FULL, DENY], ["{path}[0]", "{path}[1]"], id="list-of-documents"),
        pytest.param(
            {"Policy": {"PolicySummary": {"Name": "FullAWSAccess"}, "Content": json.dumps(FULL)}},
            ["FullAWSAccess"],
            id="describe-policy-output",
        ),
    ],
)
def test_scp_file_shapes(content: object, names: list[str], tmp_path: Path) -> None:
    path = tmp_path / "full.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    (level,) = read_scp_levels([path])
    assert [policy.name for policy in level] == [name.format(path=path) for name in names]


def test_scp_levels_keep_their_order(tmp_path: Path) -> None:
    root, ou = tmp_path / "root.json", tmp_path / "ou.json"
    root.write_text(json.dumps(FULL), encoding="utf-8")
    ou.write_text(json.dumps([FULL, DENY]), encoding="utf-8")
    levels = read_scp_levels([root, ou])
    assert [len(level) for level in levels] == [1, 2]
    assert str(levels[1][1].origin) == f"{ou}: $[1]"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param({"Nope": 1}, "expected an SCP document", id="not-a-policy"),
        pytest.param(
            {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}, "Statement[0].Effect", id="bad-effect"
        ),
        pytest.param({"Policy": {"Content": "{not json"}}, "$.Policy.Content: not JSON", id="bad-content"),
    ],
)
def test_bad_scp_files_are_one_line_errors(content: object, message: str, tmp_path: Path) -> None:
    path = tmp_path / "scp.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_scp_levels([path])
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param([], "no role to evaluate: give --file PATH or --role-arn ARN", id="nothing"),
        pytest.param(
            ["--file", str(GAAD), "--role-arn", "arn:aws:iam::123456789012:role/x"],
            "--file and --role-arn: choose one source",
            id="both",
        ),
        pytest.param(
            ["--file", str(GAAD), "--scps", "auto"], "--scps auto reads the live account's SCPs", id="scps-auto-offline"
        ),
    ],
)
def test_source_option_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        read_roles(role_query(_parser().parse_args(argv)))
    assert str(caught.value).startswith(message)


def test_read_roles_from_a_file_with_scps() -> None:
    args = _parser().parse_args(["--file", str(GAAD), "--scp", str(FIXTURES / "live" / "scp-deny-leave.json")])
    loaded = read_roles(role_query(args))
    assert len(loaded.roles) == 6
    assert len(loaded.scps) == 1
    assert loaded.live is False


def test_parse_parameters() -> None:
    assert parse_parameters(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(UsageError):
        parse_parameters(["novalue"])
