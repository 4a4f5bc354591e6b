"""get-role output (with or without its policies) and bare policy documents → roles."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.model import Effect
from zeet_iam_audit.sources import load_file

WriteFile = Callable[[str, str | bytes], Path]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GET_ROLE = FIXTURES / "role" / "get-role.json"
WITH_POLICIES = FIXTURES / "role" / "get-role-with-policies.json"
POLICY = FIXTURES / "policy" / "zeet-capacity-policy.json"
ACCOUNT = "123456789012"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _dump(write_file: WriteFile, data: object, name: str = "role.json") -> Path:
    return write_file(name, json.dumps(data, indent=4))


def test_plain_get_role_output() -> None:
    result = load_file(GET_ROLE)
    assert result.input_type == "role"
    (role,) = result.roles
    assert role.name == "zeet-cloud-connection"
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/zeet-cloud-connection"
    assert role.max_session_duration == 3600
    assert role.trust_policy is not None
    assert str(role.trust_policy.origin) == f"{GET_ROLE}: $.Role.AssumeRolePolicyDocument"
    assert role.policies == ()
    # get-role says nothing about policies: that is unknown, not "no permissions".
    assert len(role.unknowns) == 2
    assert "RolePolicies" in role.unknowns[0]
    assert "AttachedPolicies" in role.unknowns[1]


def test_role_with_its_policies() -> None:
    (role,) = load_file(WITH_POLICIES).roles
    assert role.name == "zeet-bounded"
    assert role.max_session_duration == 7200
    assert role.unknowns == ()
    assert [(p.name, p.inline, str(p.origin)) for p in role.policies] == [
        ("ZeetMonitoring", True, f"{WITH_POLICIES}: $.RolePolicies[0]"),
        ("ZeetContainerManagement", False, f"{WITH_POLICIES}: $.AttachedPolicies[0]"),
        ("CloudWatchLogsReadOnlyAccess", False, f"{WITH_POLICIES}: $.AttachedPolicies[1]"),
    ]
    inline, container, logs = role.policies
    assert inline.policy is not None
    assert str(inline.policy.origin) == f"{WITH_POLICIES}: $.RolePolicies[0].PolicyDocument"
    assert container.policy is not None
    assert str(container.policy.origin) == f"{WITH_POLICIES}: $.AttachedPolicies[0].PolicyDocument"
    assert logs.policy is not None  # AWS managed, from the offline copy
    boundary = role.permissions_boundary
    assert boundary is not None
    assert boundary.arn == f"arn:aws:iam::{ACCOUNT}:policy/ZeetBoundaryNoSqs"
    assert boundary.policy is not None
    assert str(boundary.policy.origin) == f"{WITH_POLICIES}: $.PermissionsBoundaryPolicy.PolicyDocument"


def test_empty_lists_state_that_there_are_no_policies(write_file: WriteFile) -> None:
    data = {**_load(GET_ROLE), "RolePolicies": [], "AttachedPolicies": []}
    (role,) = load_file(_dump(write_file, data)).roles
    assert role.unknowns == ()
    assert role.policies == ()


def test_listed_inline_policy_without_document_is_unknown(write_file: WriteFile) -> None:
    data = {
        **_load(WITH_POLICIES),
        "PolicyNames": ["ZeetMonitoring", "LegacyAccess"],
    }
    path = _dump(write_file, data)
    (role,) = load_file(path).roles
    assert [p.name for p in role.policies] == [
        "ZeetMonitoring", "LegacyAccess", "ZeetContainerManagement", "CloudWatchLogsReadOnlyAccess"
    ]  # fmt: skip
    legacy = role.policies[1]
    assert (legacy.name, legacy.inline, legacy.policy) == ("LegacyAccess", True, None)
    assert str(legacy.origin) == f"{path}: $.PolicyNames[1]"
    assert legacy.unknown_reason is not None
    assert "its document is not in the file" in legacy.unknown_reason


def test_customer_policy_without_document_is_unknown(write_file: WriteFile) -> None:
    data = _load(WITH_POLICIES)
    del data["AttachedPolicies"][0]["PolicyDocument"]
    (role,) = load_file(_dump(write_file, data)).roles
    assert role.policies[1].policy is None
    assert role.policies[1].unknown_reason == (
        f"cannot read arn:aws:iam::{ACCOUNT}:policy/ZeetContainerManagement offline; "
        "include its document or audit the live role"
    )


def test_get_policy_version_form_for_a_document(write_file: WriteFile) -> None:
    data = _load(WITH_POLICIES)
    entry = data["AttachedPolicies"][0]
    entry["PolicyVersion"] = {
        "Document": entry.pop("PolicyDocument"), "VersionId": "v2", "IsDefaultVersion": True,
        "CreateDate": "2024-03-01T12:00:19+00:00",
    }  # fmt: skip
    path = _dump(write_file, data)
    (role,) = load_file(path).roles
    assert role.policies[1].policy is not None
    assert str(role.policies[1].policy.origin) == f"{path}: $.AttachedPolicies[0].PolicyVersion.Document"


def test_boundary_document_without_arn(write_file: WriteFile) -> None:
    data = _load(WITH_POLICIES)
    del data["PermissionsBoundaryPolicy"]["PolicyArn"]
    (role,) = load_file(_dump(write_file, data)).roles
    assert role.permissions_boundary is not None
    assert role.permissions_boundary.policy is not None


def test_boundary_not_given_is_unknown(write_file: WriteFile) -> None:
    data = _load(WITH_POLICIES)
    del data["PermissionsBoundaryPolicy"]
    (role,) = load_file(_dump(write_file, data)).roles
    assert role.permissions_boundary is not None
    assert role.permissions_boundary.policy is None
    assert role.permissions_boundary.unknown_reason is not None


def test_bare_role_detail_object(write_file: WriteFile) -> None:
    detail = json.loads((FIXTURES / "gaad" / "zeet-account.json").read_text())["RoleDetailList"][1]
    path = _dump(write_file, detail)
    result = load_file(path)
    assert result.input_type == "role"
    (role,) = result.roles
    assert role.name == "zeet-restricted"
    assert role.policies[0].policy is not None
    assert str(role.policies[0].origin) == f"{path}: $.RolePolicyList[0]"
    # Its customer managed policies are not in this file.
    assert role.policies[1].policy is None


def test_bad_inline_document_is_unknown(write_file: WriteFile) -> None:
    data = _load(WITH_POLICIES)
    data["RolePolicies"][0]["PolicyDocument"]["Statement"][0]["Action"] = ["cloudwatch Get*"]
    path = _dump(write_file, data)
    (role,) = load_file(path).roles
    assert role.policies[0].policy is None
    assert role.policies[0].unknown_reason == (
        f"{path}: $.RolePolicies[0].PolicyDocument.Statement[0].Action[0]: "
        "expected an action such as 'service:Name' or '*', got 'cloudwatch Get*'"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(lambda d: {**d, "Role": []}, "$.Role: expected a role object", id="Role not an object"),
        pytest.param(lambda d: {**d, "RolePolicies": {}}, "$.RolePolicies: expected a list", id="RolePolicies"),
        pytest.param(
            lambda d: {**d, "RolePolicies": [{"PolicyName": "x"}]},
            "$.RolePolicies[0].PolicyDocument: missing",
            id="inline without document",
        ),
        pytest.param(
            lambda d: {**d, "AttachedPolicies": [{"PolicyName": "x"}]},
            "$.AttachedPolicies[0].PolicyArn: expected a string, got null",
            id="attached without ARN",
        ),
        pytest.param(
            lambda d: {**d, "Role": {**d["Role"], "MaxSessionDuration": "long"}},
            "$.Role.MaxSessionDuration: expected a number, got 'long'",
            id="duration",
        ),
    ],
)
def test_wrong_shape(write_file: WriteFile, change: Callable[[dict[str, Any]], object], expected: str) -> None:
    path = _dump(write_file, change(_load(WITH_POLICIES)))
    with pytest.raises(InputError) as caught:
        load_file(path, "role")
    assert str(caught.value) == f"{path}: {expected}" or str(caught.value).startswith(f"{path}: {expected}")


def test_bare_policy_document() -> None:
    result = load_file(POLICY)
    assert result.input_type == "policy"
    (role,) = result.roles
    assert role.name == "zeet-capacity-policy"
    assert role.arn is None
    assert role.trust_policy is None
    assert role.trust_unknown_reason is not None
    (attached,) = role.policies
    assert attached.policy is not None
    assert str(attached.origin) == f"{POLICY}: $"
    assert [s.sid for s in attached.policy.statements] == [
        "CapacityTopics", "CapacityQueues", "AutoscalingEvents", "CapacityMetrics"
    ]  # fmt: skip


def test_get_role_policy_output_as_a_policy_file(write_file: WriteFile) -> None:
    document = _load(POLICY)
    path = _dump(
        write_file,
        {"RoleName": "zeet", "PolicyName": "ZeetCapacity", "PolicyDocument": document},
        "inline.json",
    )
    result = load_file(path)
    assert result.input_type == "policy"
    (role,) = result.roles
    assert role.name == "ZeetCapacity"
    assert str(role.policies[0].origin) == f"{path}: $.PolicyDocument"


def test_get_policy_version_output_as_a_policy_file(write_file: WriteFile) -> None:
    path = _dump(write_file, {"PolicyVersion": {"Document": _load(POLICY), "VersionId": "v1"}}, "v1.json")
    (role,) = load_file(path).roles
    assert role.policies[0].policy is not None
    assert role.policies[0].policy.statements[0].effect is Effect.ALLOW


def test_invalid_policy_file_is_an_input_error(write_file: WriteFile) -> None:
    document = _load(POLICY)
    document["Statement"][2]["Resource"] = []
    path = _dump(write_file, document, "bad-policy.json")
    with pytest.raises(InputError) as caught:
        load_file(path)
    assert str(caught.value) == (
        f"{path}: $.Statement[2].Resource: expected a string or a non-empty list of strings, got an empty list"
    )
