"""Paths, routes and statements → lines, for JSON and YAML inputs (formats/locate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zeet_iam_audit.audit.findings import Finding, FindingLevel
from zeet_iam_audit.audit.report import (
    DefaultModeResult,
    ExcessResult,
    LocationKind,
    RoleReport,
    SourceLocation,
    TrustResult,
    TrustStatementRef,
    TrustStatus,
)
from zeet_iam_audit.formats.locate import (
    finding_line,
    index_source,
    parse_path,
    relative_path,
)
from zeet_iam_audit.model import Effect, Origin
from zeet_iam_audit.policy.results import Layer, StatementRef

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


def _finding(check: str, ref: StatementRef | TrustStatementRef | None) -> Finding:
    return Finding(
        check=check,
        level=FindingLevel.ERROR,
        gate=None,
        role="zeet",
        feature=None,
        subject="x",
        message="m",
        headline="m",
        group="g",
        statement=str(ref) if ref is not None else None,
        fingerprint="f",
        ref=ref,
    )


MONITORING = ("Resources", "ZeetRole", "Properties", "Policies", 0, "PolicyDocument")


def _ref(policy: str, index: int, origin: Origin | None) -> StatementRef:
    return StatementRef(Layer.IDENTITY, policy, index, None, Effect.ALLOW, origin)


@pytest.mark.parametrize(
    ("check", "ref", "line"),
    [
        pytest.param("missing-permission", _ref("Monitoring", 0, Origin("t.yaml", MONITORING)), 15, id="statement"),
        pytest.param("missing-permission", None, 2, id="no-statement-role"),
        pytest.param(
            "missing-permission",
            _ref("Monitoring", 0, Origin("other.yaml", MONITORING)),
            2,
            id="statement-in-another-file-role",
        ),
        pytest.param("missing-permission", _ref("Monitoring", 0, Origin("live: x", None)), 2, id="live-role"),
        pytest.param("missing-permission", _ref("Monitoring", 0, None), 2, id="no-origin-role"),
        pytest.param("trust-policy", TrustStatementRef(1), 10, id="trust-statement"),
        pytest.param("trust-policy", None, 6, id="trust-document"),
        pytest.param("missing-permission", TrustStatementRef(0), 8, id="cloud-connection-trust-statement"),
    ],
)
def test_finding_lines(check: str, ref: StatementRef | TrustStatementRef | None, line: int) -> None:
    index = index_source(YAML_TEXT)
    assert index is not None
    role = _role(
        (
            SourceLocation(LocationKind.ROLE, "zeet", ("Resources", "ZeetRole")),
            SourceLocation(
                LocationKind.TRUST, "zeet", ("Resources", "ZeetRole", "Properties", "AssumeRolePolicyDocument")
            ),
            SourceLocation(LocationKind.POLICY, "Monitoring", MONITORING),
        )
    )
    assert finding_line(index, role, _finding(check, ref)) == line


@pytest.mark.parametrize(
    ("route", "line"),
    [
        pytest.param(("$",), 1, id="root"),
        pytest.param((), 1, id="empty"),
        pytest.param(("$", "RoleDetailList", 1, "RolePolicyList", 0, "PolicyDocument", "Statement", 0), 13, id="gaad"),
        pytest.param(("$", "odd key", "x", 4), 21, id="odd-key"),
        pytest.param(("$", "Nothing"), None, id="nothing-found"),
    ],
)
def test_routes_to_lines(route: tuple[str | int, ...], line: int | None) -> None:
    index = index_source(JSON_TEXT)
    assert index is not None
    assert index.line_at(route) == line


def test_terraform_routes_start_at_the_resource_address() -> None:
    plan = {"resource_changes": [{"address": "aws_iam_role_policy.monitoring"}, {"address": "aws_iam_role.zeet"}]}
    text = json.dumps(plan, indent=2)
    index = index_source(text)
    assert index is not None
    line = index.line_at(("aws_iam_role_policy.monitoring", "policy", "Statement", 0))
    assert line is not None
    assert '"aws_iam_role_policy.monitoring"' in text.splitlines()[line]
    assert index.line_at(("aws_iam_role.other", "policy")) is None


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
