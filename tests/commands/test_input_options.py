"""The input and selection options: declared once, the same in the audit, diff, explain and diagnose."""

from __future__ import annotations

import argparse

import pytest

from zeet_iam_audit.cli import _audit_parser
from zeet_iam_audit.commands import diagnose, diff, explain
from zeet_iam_audit.commands.input_options import role_query
from zeet_iam_audit.sources import INPUT_TYPES

PARSERS = {
    "audit": _audit_parser,
    "diff": diff.build_parser,
    "explain": explain.build_parser,
    "diagnose": diagnose.build_parser,
}
EVERYWHERE = ("--input-type", "--role", "--parameter", "--profile", "--region", "--endpoint-url", "--rules", "--config")
AUDIT_AND_DIFF = ("--all-roles", "--features", "--with", "--plan", "--mode", "--zeet-account-id", "--template-extras")


def _option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action:
    (action,) = (action for action in parser._actions if flag in action.option_strings)
    return action


def _shape(action: argparse.Action) -> tuple[object, ...]:
    choices = None if action.choices is None else tuple(action.choices)
    return (action.dest, tuple(action.option_strings), action.default, choices, action.nargs, type(action), action.type)


@pytest.mark.parametrize("flag", EVERYWHERE)
def test_every_command_reads_the_input_options_alike(flag: str) -> None:
    shapes = {name: _shape(_option(build(), flag)) for name, build in PARSERS.items()}
    assert len(set(shapes.values())) == 1, shapes


@pytest.mark.parametrize("flag", AUDIT_AND_DIFF)
def test_the_audit_and_diff_select_alike(flag: str) -> None:
    assert _shape(_option(_audit_parser(), flag)) == _shape(_option(diff.build_parser(), flag))


def test_input_type_choices_are_the_source_table() -> None:
    assert tuple(_option(_audit_parser(), "--input-type").choices or ()) == INPUT_TYPES


def test_role_query_reads_the_declared_options() -> None:
    args = explain.build_parser().parse_args(
        ["s3:GetObject", "--file", "role.json", "--input-type", "role", "--parameter", "Env=prod", "--scp", "a.json"]
    )
    query = role_query(args)
    assert str(query.file) == "role.json"
    assert query.input_type == "role"
    assert query.parameters == ("Env=prod",)
    assert [str(path) for path in query.scp] == ["a.json"]
    assert query.role_arn is None
