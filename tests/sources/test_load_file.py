"""load_file, the sources package's entry point: detection, forced types, and no tracebacks ever."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeet_iam_audit.errors import InputError, UsageError
from zeet_iam_audit.sources import INPUT_TYPES, SourceResult, load_file

WriteFile = Callable[[str, str | bytes], Path]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_result_fields() -> None:
    path = FIXTURES / "policy" / "zeet-capacity-policy.json"
    result = load_file(path)
    assert isinstance(result, SourceResult)
    assert (result.input_type, result.path, result.skipped) == ("policy", str(path), ())
    assert len(result.roles) == 1


def test_forced_type_must_fit_the_content() -> None:
    path = FIXTURES / "role" / "get-role.json"
    with pytest.raises(InputError) as caught:
        load_file(path, "gaad")
    assert str(caught.value) == (
        f"{path}: $: expected RoleDetailList (the output of aws iam get-account-authorization-details)"
    )


def test_forced_type_wins_over_detection(write_file: WriteFile) -> None:
    path = write_file("doc.json", json.dumps({"Statement": [], "Resources": {}}))
    assert load_file(path).input_type == "cloudformation"
    with pytest.raises(InputError, match=r"doc\.json: \$\.Resources: unknown policy element"):
        load_file(path, "policy")


def test_unknown_forced_type_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"unknown input type 'sam'"):
        load_file(FIXTURES / "policy" / "zeet-capacity-policy.json", "sam")


def test_undetectable_file_names_the_file(write_file: WriteFile) -> None:
    path = write_file("notes.yaml", "title: my notes\nitems: [1, 2]\n")
    with pytest.raises(InputError, match=rf"^{path}: \$: not a recognised input"):
        load_file(path)


# Any JSON built from the keys the sources look at either loads or fails with one InputError line.
KEYS = st.sampled_from(
    [
        "RoleDetailList", "Policies", "RoleName", "Arn", "AssumeRolePolicyDocument", "RolePolicyList",
        "AttachedManagedPolicies", "PolicyArn", "PolicyName", "PolicyDocument", "PermissionsBoundary",
        "PermissionsBoundaryArn", "PolicyVersionList", "Document", "IsDefaultVersion", "IsTruncated",
        "Role", "RolePolicies", "AttachedPolicies", "PolicyNames", "PermissionsBoundaryPolicy",
        "PolicyVersion", "Statement", "Effect", "Action", "Resource", "Principal", "Condition",
        "Resources", "Type", "Properties", "Parameters", "Conditions", "Mappings", "Ref", "Fn::Sub",
        "Fn::If", "Fn::Join", "Fn::GetAtt", "Fn::Select", "Fn::Split", "Fn::FindInMap", "Condition",
        "Default", "Roles", "ManagedPolicyArns", "Policies", "MaxSessionDuration",
        "format_version", "planned_values", "values", "root_module", "child_modules", "resources",
        "address", "type", "name", "mode", "policy", "role", "policy_arn", "inline_policy",
        "managed_policy_arns", "resource_changes", "change", "after_unknown", "configuration",
        "expressions", "references", "module_calls", "module",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5000),
    st.sampled_from(
        [
            "", "*", "Allow", "Deny", "1.2", "2012-10-17", "AWS::IAM::Role", "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy", "aws_iam_role", "aws_iam_role_policy",
            "aws_iam_policy", "aws_iam_role_policy_attachment", "managed", "R", "P", "s3:*",
            "arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::1:policy/X", "AWS::NoValue",
            "AWS::AccountId", "${R}", "x.y", '{"Statement": []}', "%7B", "aws_iam_role.r",
        ]
    ),
)  # fmt: skip
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=JSON_VALUES, forced=st.sampled_from([None, *INPUT_TYPES]))
def test_never_a_traceback(write_file: WriteFile, data: Any, forced: str | None) -> None:
    path = write_file("fuzz.json", json.dumps(data))
    try:
        result = load_file(path, forced)
    except InputError as error:
        message = str(error)
    else:
        assert result.input_type in INPUT_TYPES
        return
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
