"""get-account-authorization-details files → roles."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import moto
import pytest

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.model import Condition, Effect, Role
from zeet_iam_audit.sources import load_file

WriteFile = Callable[[str, str | bytes], Path]
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "gaad" / "zeet-account.json"
ACCOUNT = "123456789012"


def _gaad() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def _roles(path: Path) -> dict[str, Role]:
    return {role.name: role for role in load_file(path).roles}


def _dump(write_file: WriteFile, data: object, name: str = "gaad.json") -> Path:
    return write_file(name, json.dumps(data, indent=4))


def test_fixture_roles() -> None:
    result = load_file(FIXTURE)
    assert result.input_type == "gaad"
    assert result.path == str(FIXTURE)
    assert result.skipped == ()
    assert [role.name for role in result.roles] == [
        "zeet-cloud-connection",
        "zeet-restricted",
        "zeet-bounded",
        "zeet-admin",
        "order-processor-lambda",
        "AWSServiceRoleForAmazonEKS",
    ]
    for role in result.roles:
        assert role.source == str(FIXTURE)
        assert role.input_type == "gaad"
        assert role.trust_policy is not None
        assert role.unknowns == ()


def test_zeet_role_policies_and_origins() -> None:
    role = _roles(FIXTURE)["zeet-cloud-connection"]
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/zeet-cloud-connection"
    assert role.max_session_duration is None  # GAAD does not include it
    assert [(p.name, p.arn, p.inline) for p in role.policies] == [
        ("ZeetContainerManagement", f"arn:aws:iam::{ACCOUNT}:policy/ZeetContainerManagement", False),
        ("ZeetServerlessDeploy", f"arn:aws:iam::{ACCOUNT}:policy/ZeetServerlessDeploy", False),
        ("ZeetDatabaseManagement", f"arn:aws:iam::{ACCOUNT}:policy/ZeetDatabaseManagement", False),
        ("ZeetMonitoring", f"arn:aws:iam::{ACCOUNT}:policy/ZeetMonitoring", False),
        ("ServiceQuotasReadOnlyAccess", "arn:aws:iam::aws:policy/ServiceQuotasReadOnlyAccess", False),
    ]
    assert all(p.policy is not None and p.unknown_reason is None for p in role.policies)
    first = role.policies[0]
    assert str(first.origin) == f"{FIXTURE}: $.RoleDetailList[0].AttachedManagedPolicies[0]"
    assert first.policy is not None
    assert str(first.policy.origin) == f"{FIXTURE}: $.Policies[0].PolicyVersionList[0].Document"
    quotas = role.policies[4].policy
    assert quotas is not None
    assert "offline copy from moto" in str(quotas.origin)  # not in the file (--filter LocalManagedPolicy)


def test_default_version_is_the_one_read() -> None:
    policy = _roles(FIXTURE)["zeet-cloud-connection"].policies[0].policy
    assert policy is not None
    assert [s.sid for s in policy.statements] == [
        "ContainerRegistry", "Kubernetes", "ComputeAndNetwork", "ClusterIam", "Sessions", "ControlPlaneLogs"
    ]  # fmt: skip


def test_trust_policy_is_parsed() -> None:
    role = _roles(FIXTURE)["zeet-cloud-connection"]
    assert role.trust_policy is not None
    assert str(role.trust_policy.origin) == f"{FIXTURE}: $.RoleDetailList[0].AssumeRolePolicyDocument"
    (statement,) = role.trust_policy.statements
    assert statement.principal is not None
    assert statement.principal.identifiers("AWS") == ("arn:aws:iam::111122223333:root",)
    assert [(c.operator, c.key, c.values) for c in statement.conditions] == [
        ("StringEquals", "sts:ExternalId", ("zeet-ext-5f2c9a7e",))
    ]


def test_explicit_deny_inline_policy() -> None:
    role = _roles(FIXTURE)["zeet-restricted"]
    deny = role.policies[0]
    assert (deny.name, deny.inline, deny.arn) == ("DenyQueues", True, None)
    assert str(deny.origin) == f"{FIXTURE}: $.RoleDetailList[1].RolePolicyList[0]"
    assert deny.policy is not None
    assert deny.policy.statements[0].effect is Effect.DENY
    assert deny.policy.statements[0].actions == ("sqs:*",)


def test_permissions_boundary_from_the_file() -> None:
    boundary = _roles(FIXTURE)["zeet-bounded"].permissions_boundary
    assert boundary is not None
    assert boundary.arn == f"arn:aws:iam::{ACCOUNT}:policy/ZeetBoundaryNoSqs"
    assert str(boundary.origin) == f"{FIXTURE}: $.RoleDetailList[2].PermissionsBoundary"
    assert boundary.policy is not None
    actions = {a for s in boundary.policy.statements for a in s.actions or ()}
    assert not any(a.startswith("sqs:") for a in actions)


def test_aws_managed_offline_and_unknown() -> None:
    roles = _roles(FIXTURE)
    (admin,) = roles["zeet-admin"].policies
    assert admin.policy is not None
    assert admin.policy.statements[0].actions == ("*",)
    lambda_role = roles["order-processor-lambda"]
    assert lambda_role.path == "/service-role/"
    basic, tracing = lambda_role.policies[1:]
    # Not in the file's Policies: every AWS managed policy ships with the tool...
    assert basic.policy is not None
    assert basic.unknown_reason is None
    assert "offline copy from moto" in str(basic.policy.origin)
    # ...but a customer managed one cannot be read without its document.
    assert tracing.policy is None
    assert tracing.unknown_reason == (
        "cannot read arn:aws:iam::123456789012:policy/order-processor-tracing offline; "
        "include its document or audit the live role"
    )


def test_same_policy_is_parsed_once() -> None:
    roles = _roles(FIXTURE)
    assert roles["zeet-cloud-connection"].policies[3].policy is roles["zeet-restricted"].policies[2].policy


def test_list_of_pages_is_merged(write_file: WriteFile) -> None:
    data = _gaad()
    first = {**data, "RoleDetailList": data["RoleDetailList"][:3], "Policies": [], "IsTruncated": True,
             "Marker": "AAEAAbc"}  # fmt: skip
    second = {**data, "RoleDetailList": data["RoleDetailList"][3:], "UserDetailList": []}
    result = load_file(_dump(write_file, [first, second]))
    assert result.input_type == "gaad"
    assert [r.name for r in result.roles] == [r.name for r in load_file(FIXTURE).roles]
    policy = result.roles[0].policies[0].policy
    assert policy is not None
    assert str(policy.origin).endswith(": $[1].Policies[0].PolicyVersionList[0].Document")
    assert result.skipped == ()


def test_truncated_output_is_reported(write_file: WriteFile) -> None:
    data = {**_gaad(), "IsTruncated": True, "Marker": "AAEAAbc"}
    result = load_file(_dump(write_file, data))
    (skipped,) = result.skipped
    assert "IsTruncated" in skipped.reason
    assert str(skipped.origin).endswith(": $.IsTruncated")


def test_url_encoded_documents_as_the_api_returns_them(write_file: WriteFile) -> None:
    data = _gaad()
    role = data["RoleDetailList"][1]
    role["AssumeRolePolicyDocument"] = quote(json.dumps(role["AssumeRolePolicyDocument"]))
    role["RolePolicyList"][0]["PolicyDocument"] = quote(json.dumps(role["RolePolicyList"][0]["PolicyDocument"]))
    parsed = _roles(_dump(write_file, data))["zeet-restricted"]
    assert parsed.trust_policy is not None
    assert parsed.policies[0].policy is not None
    assert parsed.policies[0].policy.statements[0].effect is Effect.DENY


def test_moto_shape_without_optional_fields(write_file: WriteFile) -> None:
    data = _gaad()
    for policy in data["Policies"]:
        del policy["PolicyName"], policy["PolicyId"], policy["PermissionsBoundaryUsageCount"]
    for role in data["RoleDetailList"]:
        del role["RoleId"], role["Tags"], role["RoleLastUsed"], role["InstanceProfileList"]
    del data["UserDetailList"], data["GroupDetailList"]
    roles = _roles(_dump(write_file, data))
    attached = roles["zeet-cloud-connection"].policies[0]
    assert attached.policy is not None
    assert attached.policy.name == "ZeetContainerManagement"


def test_reads_output_of_moto(write_file: WriteFile, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    data = _gaad()
    trust = json.dumps(data["RoleDetailList"][0]["AssumeRolePolicyDocument"])
    monitoring = json.dumps(data["Policies"][3]["PolicyVersionList"][0]["Document"])
    with moto.mock_aws():
        iam = boto3.client("iam")
        arn = iam.create_policy(PolicyName="ZeetMonitoring", PolicyDocument=monitoring)["Policy"]["Arn"]
        iam.create_role(RoleName="zeet", AssumeRolePolicyDocument=trust, PermissionsBoundary=arn)
        iam.attach_role_policy(RoleName="zeet", PolicyArn=arn)
        iam.put_role_policy(
            RoleName="zeet",
            PolicyName="deny",
            PolicyDocument=json.dumps(data["RoleDetailList"][1]["RolePolicyList"][0]["PolicyDocument"]),
        )
        output = iam.get_account_authorization_details(Filter=["Role", "LocalManagedPolicy"])
    output.pop("ResponseMetadata", None)
    (role,) = load_file(write_file("moto.json", json.dumps(output, default=str))).roles
    assert role.trust_policy is not None
    assert [(p.name, p.policy is not None) for p in role.policies] == [("deny", True), ("ZeetMonitoring", True)]
    assert role.permissions_boundary is not None
    assert role.permissions_boundary.policy is not None


def test_bad_policy_document_is_unknown_not_fatal(write_file: WriteFile) -> None:
    data = _gaad()
    data["Policies"][3]["PolicyVersionList"][0]["Document"]["Statement"][1]["Effect"] = "Maybe"
    data["RoleDetailList"][1]["AssumeRolePolicyDocument"] = "%7Bnot json"
    path = _dump(write_file, data)
    roles = _roles(path)
    monitoring = roles["zeet-cloud-connection"].policies[3]
    assert monitoring.policy is None
    assert monitoring.unknown_reason == (
        f"{path}: $.Policies[3].PolicyVersionList[0].Document.Statement[1].Effect: expected Allow or Deny, got 'Maybe'"
    )
    restricted = roles["zeet-restricted"]
    assert restricted.trust_policy is None
    assert restricted.trust_unknown_reason is not None
    assert restricted.trust_unknown_reason.startswith(
        f"{path}: $.RoleDetailList[1].AssumeRolePolicyDocument: not valid JSON"
    )


def test_attachment_not_in_the_file(write_file: WriteFile) -> None:
    data = _gaad()
    data["Policies"] = [p for p in data["Policies"] if p["PolicyName"] != "ZeetDatabaseManagement"]
    attached = _roles(_dump(write_file, data))["zeet-cloud-connection"].policies[2]
    assert attached.policy is None
    assert attached.unknown_reason == (
        f"cannot read arn:aws:iam::{ACCOUNT}:policy/ZeetDatabaseManagement offline; "
        "include its document or audit the live role"
    )


def test_policy_without_default_version(write_file: WriteFile) -> None:
    data = _gaad()
    for version in data["Policies"][1]["PolicyVersionList"]:
        version["IsDefaultVersion"] = False
    path = _dump(write_file, data)
    attached = _roles(path)["zeet-cloud-connection"].policies[1]
    assert attached.policy is None
    assert attached.unknown_reason == (
        f"{path}: $.Policies[1]: no default version with a Document in PolicyVersionList"
    )


def test_role_without_name_uses_the_arn(write_file: WriteFile) -> None:
    data = _gaad()
    del data["RoleDetailList"][4]["RoleName"]
    assert "order-processor-lambda" in _roles(_dump(write_file, data))


WRONG_SHAPES = [
    ("not an object", lambda d: [1, 2], r"\$\[0\]: expected a get-account-authorization-details page"),
    ("list not a list", lambda d: {**d, "RoleDetailList": {}},
     r"\$\.RoleDetailList: expected a list, got an object"),
    ("role not an object", lambda d: {**d, "RoleDetailList": ["zeet"]},
     r"\$\.RoleDetailList\[0\]: expected a role"),
    ("no name or arn", lambda d: {**d, "RoleDetailList": [{"Path": "/"}]},
     r"\$\.RoleDetailList\[0\]: expected RoleName"),
    ("policy arn missing", lambda d: {**d, "Policies": [{"PolicyName": "x"}]},
     r"\$\.Policies\[0\]\.Arn: expected a string"),
    ("attached arn wrong",
     lambda d: {**d, "RoleDetailList": [{"RoleName": "r", "AttachedManagedPolicies": [{"PolicyArn": 7}]}]},
     r"\$\.RoleDetailList\[0\]\.AttachedManagedPolicies\[0\]\.PolicyArn: expected a string, got the number 7"),
    ("truncated flag", lambda d: {**d, "IsTruncated": "no"}, r"\$\.IsTruncated: expected true or false"),
    ("no detail list at all", lambda d: {"IsTruncated": False}, r"\$: expected RoleDetailList"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected"), [pytest.param(c, e, id=i) for i, c, e in WRONG_SHAPES])
def test_wrong_shape_is_one_line_with_the_json_path(
    write_file: WriteFile, change: Callable[[dict[str, Any]], object], expected: str
) -> None:
    path = _dump(write_file, change(copy.deepcopy(_gaad())))
    with pytest.raises(InputError) as caught:
        load_file(path, "gaad")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert re.search(expected, message), message


def test_file_without_role_detail_list_has_no_roles_and_says_why() -> None:
    # What `aws iam get-account-authorization-details --filter User Group LocalManagedPolicy` prints.
    path = FIXTURE.parent / "users-groups-only.json"
    result = load_file(path)
    assert result.input_type == "gaad"
    assert tuple(result.roles) == ()
    (skipped,) = result.skipped
    assert skipped.name == "roles"
    assert "no RoleDetailList" in skipped.reason
    assert "--filter" in skipped.reason
    assert str(skipped.origin) == f"{path}: $"


def test_roles_share_a_trust_policy_only_when_its_document_is_the_same(write_file: WriteFile) -> None:
    """A read parses each trust document once and reuses it for the roles that have the same one;
    documents equal to Python but not the same (``true`` and ``1``, ``1`` and ``1.0``, keys in
    another order) are each read as written, as when every role is read alone."""
    data = _gaad()
    template = data["RoleDetailList"][0]

    def trusting(name: str, condition: dict[str, Any]) -> dict[str, Any]:
        role: dict[str, Any] = copy.deepcopy(template)
        role["RoleName"], role["Arn"] = name, f"arn:aws:iam::{ACCOUNT}:role/{name}"
        role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] = condition
        return role

    conditions: dict[str, dict[str, Any]] = {
        "mfa-true": {"Bool": {"aws:MultiFactorAuthPresent": True}},
        "mfa-one": {"Bool": {"aws:MultiFactorAuthPresent": 1}},
        "age-int": {"NumericLessThan": {"aws:MultiFactorAuthAge": 3600}},
        "age-float": {"NumericLessThan": {"aws:MultiFactorAuthAge": 3600.0}},
        "both": {"Bool": {"aws:MultiFactorAuthPresent": True}, "StringEquals": {"sts:ExternalId": "x"}},
        "both-swapped": {"StringEquals": {"sts:ExternalId": "x"}, "Bool": {"aws:MultiFactorAuthPresent": True}},
        "mfa-true-again": {"Bool": {"aws:MultiFactorAuthPresent": True}},
    }
    roles = [trusting(name, condition) for name, condition in conditions.items()]
    together = _roles(_dump(write_file, {**data, "RoleDetailList": roles}))
    for number, role in enumerate(roles):
        alone = _roles(_dump(write_file, {**data, "RoleDetailList": [role]}, f"alone-{number}.json"))
        name = role["RoleName"]
        trust, expected = together[name].trust_policy, alone[name].trust_policy
        assert trust is not None
        assert expected is not None
        assert trust.statements == expected.statements
        assert trust.origin is not None
        assert trust.origin.route == (
            "$",
            "RoleDetailList",
            number,
            "AssumeRolePolicyDocument",
        )
    values = {name: _trust_conditions(together[name]) for name in conditions}
    assert values["mfa-true"][0].values == ("true",)
    assert values["mfa-one"][0].values == ("1",)
    assert values["age-int"][0].values == ("3600",)
    assert values["age-float"][0].values == ("3600.0",)
    assert [c.operator for c in values["both-swapped"]] == ["StringEquals", "Bool"]
    assert values["mfa-true-again"] == values["mfa-true"]


def _trust_conditions(role: Role) -> tuple[Condition, ...]:
    assert role.trust_policy is not None
    return role.trust_policy.statements[0].conditions
