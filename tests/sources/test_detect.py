"""Telling input kinds apart from their content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.sources import INPUT_TYPES, detect_input_type
from zeet_iam_audit.sources.reading import load_document

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("gaad/zeet-account.json", "gaad"),
        ("role/get-role.json", "role"),
        ("role/get-role-with-policies.json", "role"),
        ("policy/zeet-capacity-policy.json", "policy"),
        ("cloudformation/zeet-role.yaml", "cloudformation"),
        ("cloudformation/zeet-role.json", "cloudformation"),
        ("cloudformation/unresolved.yaml", "cloudformation"),
        ("terraform/plan.json", "terraform"),
    ],
)
def test_fixtures(fixture: str, expected: str) -> None:
    assert detect_input_type(load_document(FIXTURES / fixture).data) == expected


SHAPES = [
    ("gaad page without users", {"RoleDetailList": [], "Policies": []}, "gaad"),
    ("gaad policies page", {"Policies": [], "UserDetailList": []}, "gaad"),
    ("list of gaad pages", [{"RoleDetailList": []}, {"Policies": [], "IsTruncated": False}], "gaad"),
    ("get-role", {"Role": {"RoleName": "r"}}, "role"),
    ("bare role detail", {"RoleName": "r", "AssumeRolePolicyDocument": POLICY}, "role"),
    ("policy document", POLICY, "policy"),
    ("get-role-policy", {"RoleName": "r", "PolicyName": "p", "PolicyDocument": POLICY}, "policy"),
    ("get-policy-version", {"PolicyVersion": {"Document": POLICY, "VersionId": "v1"}}, "policy"),
    ("template without version", {"Resources": {}}, "cloudformation"),
    ("template version only", {"AWSTemplateFormatVersion": "2010-09-09"}, "cloudformation"),
    ("plan", {"format_version": "1.2", "planned_values": {}}, "terraform"),
    ("state", {"format_version": "1.0", "values": {}}, "terraform"),
    # A template that happens to hold a resource named Statement is still a template.
    ("template with odd keys", {"Resources": {}, "Statement": []}, "cloudformation"),
]


@pytest.mark.parametrize(("data", "expected"), [pytest.param(d, e, id=i) for i, d, e in SHAPES])
def test_shapes(data: object, expected: str) -> None:
    result = detect_input_type(data)
    assert result == expected
    assert result in INPUT_TYPES


@pytest.mark.parametrize(
    ("data", "found"),
    [
        pytest.param({"Users": [], "Groups": []}, "found keys: Groups, Users", id="unknown keys"),
        pytest.param({}, "found keys: none", id="empty object"),
        pytest.param([], "found a list", id="empty list"),
        pytest.param([1, 2], "found a list", id="list of numbers"),
        pytest.param("text", "found 'text'", id="string"),
        pytest.param({"Role": "r"}, "found keys: Role", id="Role not an object"),
    ],
)
def test_nothing_fits(data: object, found: str) -> None:
    with pytest.raises(InputError) as caught:
        detect_input_type(data, where="input.json")
    message = str(caught.value)
    assert message.startswith("input.json: $: not a recognised input; expected an authorization-details")
    assert message.endswith(found)
    assert "\n" not in message


def test_detection_does_not_depend_on_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(POLICY))
    assert detect_input_type(load_document(path).data) == "policy"
