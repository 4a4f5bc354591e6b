"""Paths and statements → lines, for JSON and YAML inputs (formats/locate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zeet_iam_audit.audit.findings import Finding
from zeet_iam_audit.audit.report import (
    DefaultModeResult,
    ExcessResult,
    RoleReport,
    SourceLocation,
    TrustResult,
    TrustStatus,
)
from zeet_iam_audit.formats.locate import (
    StatementTarget,
    finding_line,
    index_source,
    parse_path,
    relative_path,
    statement_target,
)

ROOT = Path(__file__).resolve().parents[2]

JSON_TEXT = """{
  "RoleDetailList": [
    {
      "RoleName": "zeet",
      "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow"}]}
    },
    {
      "RoleName": "other",
      "RolePolicyList": [
        {
          "PolicyName": "Deny\\"Queues",
          "PolicyDocument": {
            "Statement": {
              "Effect": "Deny"
            }
          }
        }
      ]
    }
  ],
  "odd key": {"x": [1, 2.5e3, true, null, "a\\nb"]}
}
"""

YAML_TEXT = """\
Resources:
  ZeetRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Ref RoleName
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::111122223333:root"}
          - Effect: Deny
      Policies:
        - PolicyName: Monitoring
          PolicyDocument: &doc
            Statement:
              - Sid: Logs
                Effect: Allow
  Copy:
    Properties:
      PolicyDocument: *doc
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        pytest.param("$", 1, id="root"),
        pytest.param("$.RoleDetailList[0]", 3, id="first-role"),
        pytest.param("$.RoleDetailList[0].AssumeRolePolicyDocument.Statement[0]", 5, id="inline-statement"),
        pytest.param("$.RoleDetailList[1].RolePolicyList[0].PolicyDocument", 12, id="document"),
        pytest.param(
            "$.RoleDetailList[1].RolePolicyList[0].PolicyDocument.Statement[0]", 13, id="single-statement-object"
        ),
        pytest.param('$["odd key"].x[4]', 21, id="quoted-key"),
        pytest.param("$.RoleDetailList[1].RolePolicyList[7]", 9, id="deepest-found"),
        pytest.param("$.Nothing.Here", None, id="nothing-found"),
    ],
)
def test_json_paths_to_lines(path: str, line: int | None) -> None:
    index = index_source(JSON_TEXT)
    assert index is not None
    assert index.line_of(path) == line


@pytest.mark.parametrize(
    ("path", "line"),
    [
        pytest.param("Resources.ZeetRole", 2, id="logical-id"),
        pytest.param("Resources.ZeetRole.Properties.AssumeRolePolicyDocument.Statement[1]", 10, id="trust"),
        pytest.param("Resources.ZeetRole.Properties.Policies[0].PolicyDocument.Statement[0]", 15, id="inline"),
        pytest.param("Resources.Copy.Properties.PolicyDocument", 19, id="alias-keeps-its-own-line"),
        pytest.param("Resources.Copy.Properties.PolicyDocument.Statement[0]", 15, id="through-alias"),
    ],
)
def test_yaml_paths_to_lines_with_cloudformation_tags(path: str, line: int) -> None:
    index = index_source(YAML_TEXT)
    assert index is not None
    assert index.line_of(path) == line


def test_terraform_addresses_fall_back_to_the_resource() -> None:
    plan = {
        "planned_values": {"root_module": {"resources": [{"address": "aws_iam_role.zeet"}]}},
        "resource_changes": [{"address": "aws_iam_role_policy.monitoring"}, {"address": "aws_iam_role.zeet"}],
    }
    text = json.dumps(plan, indent=2)
    lines = text.splitlines()
    index = index_source(text)
    assert index is not None
    line = index.line_of("aws_iam_role.zeet")
    assert line is not None
    assert lines[line - 1].strip() == "{"
    assert '"aws_iam_role.zeet"' in lines[line]
    assert line > text[: text.index('"resource_changes"')].count("\n")  # the change, not the planned value
    policy = index.line_of("aws_iam_role_policy.monitoring.policy.Statement[0]")
    assert policy is not None
    assert '"aws_iam_role_policy.monitoring"' in lines[policy]


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        pytest.param("$", [], id="root"),
        pytest.param("$.A[0].B", ["A", 0, "B"], id="json-path"),
        pytest.param(
            "Resources.X.Properties.Policies[1]", ["Resources", "X", "Properties", "Policies", 1], id="template-path"
        ),
        pytest.param('$["a.b"][2]', ["a.b", 2], id="quoted"),
        pytest.param(
            'module.m.aws_iam_role.this["k"]', ["module", "m", "aws_iam_role", "this", "k"], id="terraform-address"
        ),
        pytest.param("$..", None, id="not-a-path"),
    ],
)
def test_parse_path(path: str, steps: list[str | int] | None) -> None:
    assert parse_path(path) == steps


@pytest.mark.parametrize(
    ("text", "trust", "target"),
    [
        pytest.param(
            "identity-based policy 'DenyQueues' Statement[0] (Sid \"DenyQueues\")",
            False,
            StatementTarget("policy", "DenyQueues", 0),
            id="identity",
        ),
        pytest.param(
            "an Allow covers only part of arn:aws:s3:::*: identity-based policy 'Zeet' Statement[1]",
            False,
            StatementTarget("policy", "Zeet", 1),
            id="inside-a-reason",
        ),
        pytest.param(
            'permissions boundary "it\'s" Statement[3]',
            False,
            StatementTarget("boundary", "it's", 3),
            id="boundary-double-quoted",
        ),
        pytest.param(
            'ZeetContainerManagement Statement[3] (Sid "ClusterIam")',
            False,
            StatementTarget("policy", "ZeetContainerManagement", 3),
            id="bare-name",
        ),
        pytest.param('Statement[2] (Sid "Zeet")', True, StatementTarget("trust", None, 2), id="trust"),
        pytest.param("unresolved value Fn::Sub 'x'", False, None, id="none"),
    ],
)
def test_statement_targets(text: str, trust: bool, target: StatementTarget | None) -> None:
    assert statement_target(text, trust=trust) == target


def _role(locations: tuple[SourceLocation, ...]) -> RoleReport:
    return RoleReport(
        name="zeet",
        arn=None,
        source="t.yaml",
        trust=TrustResult(TrustStatus.OK, ()),
        features=(),
        excess=ExcessResult(0, (), ()),
        default_mode=DefaultModeResult("implicit_deny", "fine-grained", None),
        locations=locations,
    )


def _finding(check: str, statement: str | None) -> Finding:
    return Finding(
        check=check,
        level="error",
        gate=None,
        role="zeet",
        feature=None,
        subject="x",
        message="m",
        headline="m",
        group="g",
        statement=statement,
        fingerprint="f",
    )


@pytest.mark.parametrize(
    ("check", "statement", "line"),
    [
        pytest.param("missing-permission", "identity-based policy 'Monitoring' Statement[0]", 15, id="statement"),
        pytest.param("missing-permission", None, 2, id="no-statement-role"),
        pytest.param(
            "missing-permission", "identity-based policy 'Elsewhere' Statement[0]", 2, id="unknown-policy-role"
        ),
        pytest.param("trust-policy", "Statement[1]", 10, id="trust-statement"),
        pytest.param("trust-policy", None, 6, id="trust-document"),
    ],
)
def test_finding_lines(check: str, statement: str | None, line: int) -> None:
    index = index_source(YAML_TEXT)
    assert index is not None
    role = _role(
        (
            SourceLocation("role", "zeet", "Resources.ZeetRole"),
            SourceLocation("trust", "zeet", "Resources.ZeetRole.Properties.AssumeRolePolicyDocument"),
            SourceLocation("policy", "Monitoring", "Resources.ZeetRole.Properties.Policies[0].PolicyDocument"),
        )
    )
    assert finding_line(index, role, _finding(check, statement)) == line


def test_a_role_without_locations_has_no_line() -> None:
    index = index_source(YAML_TEXT)
    assert index is not None
    assert finding_line(index, _role(()), _finding("missing-permission", None)) is None


@pytest.mark.parametrize("text", ["{not json", "a: [", "\t- x: y\n  bad", ""], ids=repr)
def test_unreadable_text_gives_no_index(text: str) -> None:
    assert index_source(text) is None


def test_paths_are_relative_to_the_root_with_slashes(tmp_path: Path) -> None:
    assert relative_path("fixtures/ci/zeet-role.yaml", tmp_path) == "fixtures/ci/zeet-role.yaml"
    assert relative_path(str(tmp_path / "a" / "b.json"), tmp_path) == "a/b.json"
    assert relative_path("/elsewhere/b.json", tmp_path) == "/elsewhere/b.json"


@pytest.mark.parametrize(
    "fixture",
    [
        "gaad/zeet-account.json",
        "cloudformation/zeet-role.json",
        "terraform/plan.json",
        "role/get-role-with-policies.json",
    ],
)
def test_real_json_fixtures_index_like_json_loads(fixture: str) -> None:
    text = (ROOT / "fixtures" / fixture).read_text(encoding="utf-8")
    index = index_source(text)
    assert index is not None
    data = json.loads(text)
    # Every top-level key is found on the line where it is written.
    for key in data:
        line = index.line_of(f"$[{json.dumps(key)}]")
        assert line is not None
        assert json.dumps(key) in text.splitlines()[line - 1]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON, st.sampled_from([None, 1, 2]))
def test_every_item_is_found_on_its_line(value: object, indent: int | None) -> None:
    """For any JSON document, every value's path resolves, to the line its text is on."""
    text = json.dumps({"doc": value}, indent=indent)
    lines = text.splitlines()
    index = index_source(text)
    assert index is not None

    def check(item: object, path: str) -> None:
        line = index.line_of(path)
        assert line is not None
        if not isinstance(item, list | dict):
            assert json.dumps(item) in lines[line - 1]
        if isinstance(item, list):
            for position, child in enumerate(item):
                check(child, f"{path}[{position}]")
        elif isinstance(item, dict):
            for key, child in item.items():
                check(child, f"{path}[{json.dumps(key)}]")

    check(value, "$.doc")
