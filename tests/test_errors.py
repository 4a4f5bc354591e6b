"""One base error with a subclass per cause: a policy error joins its place and its problem, can be
placed in a file, and every error the tool raises reaches the user as one line with exit code 2."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from zeet_iam_audit.cli import main
from zeet_iam_audit.errors import (
    AwsAccessError,
    CatalogError,
    InputError,
    PolicyError,
    RulesError,
    UsageError,
    ZeetIamAuditError,
)
from zeet_iam_audit.policy.parse import parse_policy

VALID_GAAD = Path(__file__).resolve().parent / "hostile" / "corpus" / "gaad-valid.json"


@pytest.mark.parametrize(
    ("error", "text"),
    [
        pytest.param(
            PolicyError("Statement[2].Effect", "expected Allow or Deny, got 'Maybe'"),
            "Statement[2].Effect: expected Allow or Deny, got 'Maybe'",
            id="path-and-problem",
        ),
        pytest.param(
            PolicyError("", "expected a JSON object, got a list"), "expected a JSON object, got a list", id="no-path"
        ),
        pytest.param(
            PolicyError("Statement[0].Action", "missing", where="role.json: $.RolePolicyList[0].PolicyDocument"),
            "role.json: $.RolePolicyList[0].PolicyDocument: Statement[0].Action: missing",
            id="placed",
        ),
    ],
)
def test_a_policy_error_joins_where_path_and_problem(error: PolicyError, text: str) -> None:
    assert str(error) == text


def test_a_placed_policy_error_keeps_its_path_and_problem() -> None:
    error = PolicyError("Statement[0].Effect", "missing")
    placed = error.located("template.yaml: Resources.ZeetRole.Properties.Policies[1].PolicyDocument")
    assert (placed.path, placed.problem, placed.where) == (
        "Statement[0].Effect",
        "missing",
        "template.yaml: Resources.ZeetRole.Properties.Policies[1].PolicyDocument",
    )
    assert str(error) == "Statement[0].Effect: missing"  # the original is unchanged


def test_error_can_be_placed_in_a_file() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy({"Version": "2012-10-17", "Statement": [{"Action": "s3:*", "Resource": "*"}]})
    located = caught.value.located("role.json: $.RolePolicyList[0]")
    assert str(located).startswith("role.json: $.RolePolicyList[0]: Statement[0].Effect: missing")


class _FailingStdout(io.StringIO):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def write(self, text: str) -> int:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(PolicyError("Statement[0].Effect", "missing", where="role.json"), id="policy"),
        pytest.param(InputError("plan.json: line 3 column 1: not valid JSON"), id="input"),
        pytest.param(RulesError("rules/view-logs.toml: required[0].action: missing"), id="rules"),
        pytest.param(CatalogError("catalog/data/actions.json.gz: damaged (CRC check failed)"), id="catalog"),
        pytest.param(AwsAccessError("AccessDenied on iam:GetRole: grant it to read the role"), id="aws-access"),
        pytest.param(UsageError("--role-arn and --all-roles cannot be combined"), id="usage"),
    ],
)
def test_every_error_reaches_the_user_as_one_line_with_exit_2(
    error: ZeetIamAuditError, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(error, ZeetIamAuditError)
    for name in list(os.environ):
        if name.startswith("ZEET_IAM_AUDIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .zeet-iam-audit.toml applies
    stderr = io.StringIO()
    code = main(["--file", str(VALID_GAAD)], stdout=_FailingStdout(error), stderr=stderr, stdin=io.StringIO())
    assert code == 2
    lines = [line for line in stderr.getvalue().splitlines() if not line.startswith("zeet-iam-audit: auditing ")]
    assert lines == [f"zeet-iam-audit: error: {error}"]
