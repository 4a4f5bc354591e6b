"""CloudFormation templates → roles, with intrinsic functions resolved or marked Unresolved."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zeet_iam_audit.errors import InputError, UsageError
from zeet_iam_audit.model import OWN_ACCOUNT, AttachedPolicy, Policy, Role, Unresolved
from zeet_iam_audit.sources import load_file

WriteFile = Callable[[str, str | bytes], Path]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cloudformation"
YAML = FIXTURES / "zeet-role.yaml"
JSON = FIXTURES / "zeet-role.json"
UNRESOLVED = FIXTURES / "unresolved.yaml"


def _role(path: Path, **parameters: str) -> Role:
    (role,) = load_file(path, parameters=parameters or None).roles
    return role


def _policy(attached: AttachedPolicy) -> Policy:
    assert attached.policy is not None, attached.unknown_reason
    return attached.policy


def test_zeet_role_template() -> None:
    result = load_file(YAML)
    assert result.input_type == "cloudformation"
    assert result.skipped == ()
    (role,) = result.roles
    assert role.name == "zeet-cloud-connection"
    assert role.logical_id == "ZeetRole"
    # The account is the one the stack is deployed to: symbolic until given.
    assert role.arn == f"arn:aws:iam::{OWN_ACCOUNT}:role/zeet-cloud-connection"
    assert role.max_session_duration == 3600
    assert role.unknowns == ()
    assert [(p.name, p.inline) for p in role.policies] == [
        ("ZeetMonitoring", True),
        ("ZeetDatabaseManagement", True),
        ("ZeetContainerManagement", False),
        ("ZeetServerlessDeploy", False),
        ("ServiceQuotasReadOnlyAccess", False),
        ("ZeetSecrets", True),
        ("ZeetServiceQuotas", True),
    ]
    assert all(p.policy is not None for p in role.policies)


def test_origins_are_template_paths() -> None:
    role = _role(YAML)
    assert str(role.policies[1].origin) == f"{YAML}: Resources.ZeetRole.Properties.Policies[1]"
    assert str(_policy(role.policies[1]).origin) == (
        f"{YAML}: Resources.ZeetRole.Properties.Policies[1].PolicyDocument"
    )
    assert str(role.policies[2].origin) == f"{YAML}: Resources.ZeetRole.Properties.ManagedPolicyArns[0]"
    assert str(_policy(role.policies[2]).origin) == (
        f"{YAML}: Resources.ZeetContainerManagementPolicy.Properties.PolicyDocument"
    )
    assert str(role.policies[5].origin) == f"{YAML}: Resources.ZeetSecretsPolicy"
    assert role.trust_policy is not None
    assert str(role.trust_policy.origin) == f"{YAML}: Resources.ZeetRole.Properties.AssumeRolePolicyDocument"


def test_parameters_and_pseudo_parameters_are_resolved() -> None:
    role = _role(YAML)
    assert role.trust_policy is not None
    (statement,) = role.trust_policy.statements
    assert statement.principal is not None
    assert statement.principal.identifiers("AWS") == ("arn:aws:iam::111122223333:root",)
    assert statement.conditions[0].values == ("zeet-ext-5f2c9a7e",)
    database = _policy(role.policies[1])
    assert database.statements[1].resources == (
        "arn:aws:s3:::zeet-terraform-state-123456789012",
        "arn:aws:s3:::zeet-terraform-state-123456789012/*",
    )


def test_account_id_is_the_roles_own_account_until_given() -> None:
    secrets = _policy(_role(YAML).policies[5])
    assert secrets.statements[1].resources == (f"arn:aws:secretsmanager:*:{OWN_ACCOUNT}:secret:*",)

    role = _role(YAML, **{"AWS::AccountId": "123456789012", "ExternalId": "zeet-ext-0000"})
    assert role.arn == "arn:aws:iam::123456789012:role/zeet-cloud-connection"
    assert _policy(role.policies[5]).statements[1].resources == ("arn:aws:secretsmanager:*:123456789012:secret:*",)
    assert role.policies[2].arn == "arn:aws:iam::123456789012:policy/ZeetContainerManagement"
    assert role.trust_policy is not None
    assert role.trust_policy.statements[0].conditions[0].values == ("zeet-ext-0000",)


def test_condition_false_removes_the_policy_and_reports_it() -> None:
    result = load_file(YAML, parameters={"EnableServerless": "false"})
    (role,) = result.roles
    assert "ZeetServerlessDeploy" not in [p.name for p in role.policies]
    # Positions stay those of the written list (the NoValue item is dropped, not renumbered).
    assert str(role.policies[3].origin) == f"{YAML}: Resources.ZeetRole.Properties.ManagedPolicyArns[2]"
    (skipped,) = result.skipped
    assert skipped.name == "ZeetServerlessPolicy"
    assert "condition ServerlessEnabled is false" in skipped.reason


def _comparable(role: Role) -> Any:
    """A role without where it came from, to compare templates written two ways."""

    def policy(p: Policy | None) -> Any:
        return None if p is None else dataclasses.replace(p, origin=None)

    return (
        role.name,
        role.arn,
        policy(role.trust_policy),
        [(a.name, a.arn, a.inline, a.unknown_reason, policy(a.policy)) for a in role.policies],
        role.unknowns,
    )


def test_yaml_short_forms_and_json_long_forms_agree() -> None:
    assert _comparable(_role(YAML)) == _comparable(_role(JSON))


def test_unresolved_template() -> None:
    result = load_file(UNRESOLVED)
    (role,) = result.roles
    assert role.name == "ZeetRole"  # RoleName depends on a parameter without a default
    assert role.arn is None
    assert role.unknowns == (
        f"{UNRESOLVED}: Resources.ZeetRole.Properties.ManagedPolicyArns: the managed policy list "
        "could not be resolved: Ref ExtraPolicyArns (a parameter without a default; "
        "pass --parameter ExtraPolicyArns=VALUE)",
    )
    by_name = {p.name: p for p in role.policies}
    state = _policy(by_name["TerraformState"]).statements[0].resources or ()
    assert all(isinstance(r, Unresolved) for r in state)
    assert "Fn::ImportValue shared-infra-StateBucketArn" in state[0].reason  # type: ignore[attr-defined]
    guardrail = by_name["ProductionGuardrail"]
    assert guardrail.policy is None
    assert guardrail.unknown_reason is not None
    assert "condition IsProduction could not be decided" in guardrail.unknown_reason
    eks = _policy(by_name["ZeetEksAccess"])
    assert all(isinstance(s.resources[0], Unresolved) for s in eks.statements if s.resources)
    boundary = role.permissions_boundary
    assert boundary is not None
    assert boundary.policy is None
    assert boundary.unknown_reason is not None
    assert "shared-infra-BoundaryPolicyArn" in boundary.unknown_reason
    assert role.trust_policy is not None
    principal = role.trust_policy.statements[0].principal
    assert principal is not None
    assert isinstance(principal.identifiers("AWS")[0], Unresolved)


def test_unresolved_template_with_values_given() -> None:
    role = _role(
        UNRESOLVED,
        ZeetAccountId="111122223333",
        Environment="production",
        ExtraPolicyArns="arn:aws:iam::aws:policy/ReadOnlyAccess, arn:aws:iam::123456789012:policy/Extra",
    )
    assert role.name == "zeet-production"
    assert role.unknowns == ()
    by_name = {p.name: p for p in role.policies}
    assert by_name["ReadOnlyAccess"].policy is not None
    assert by_name["Extra"].policy is None
    assert by_name["ProductionGuardrail"].policy is not None
    assert by_name["ZeetEksAccess"].policy is not None


def test_undeclared_parameter_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"parameter 'ZeetAcountId' is not declared"):
        load_file(YAML, parameters={"ZeetAcountId": "1"})


# --- roles and policies linked across resources -------------------------------------------------


def _template(resources: dict[str, Any], **sections: Any) -> str:
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", **sections, "Resources": resources})


TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def test_managed_policy_attached_through_its_roles_property(write_file: WriteFile) -> None:
    path = write_file("t.json", _template({
        "R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
        "P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Roles": [{"Ref": "R"}], "PolicyDocument": DOCUMENT}},
    }))  # fmt: skip
    (role,) = load_file(path).roles
    assert role.name == "R"
    (attached,) = role.policies
    assert (attached.name, attached.inline, str(attached.origin)) == ("P", False, f"{path}: Resources.P")
    assert attached.policy is not None


def test_managed_policy_listed_twice_is_attached_once(write_file: WriteFile) -> None:
    path = write_file("t.json", _template({
        "R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": TRUST, "ManagedPolicyArns": [{"Fn::GetAtt": ["P", "PolicyArn"]}]}},
        "P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Roles": [{"Ref": "R"}], "PolicyDocument": DOCUMENT}},
    }))  # fmt: skip
    (role,) = load_file(path).roles
    assert [p.name for p in role.policies] == ["P"]


def test_policy_for_a_role_outside_the_template_is_skipped(write_file: WriteFile) -> None:
    path = write_file("t.json", _template({
        "P": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "extra", "Roles": ["existing-role"], "PolicyDocument": DOCUMENT}},
        "F": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.12"}},
    }, Transform="AWS::Serverless-2016-10-31"))  # fmt: skip
    result = load_file(path)
    assert result.roles == ()
    assert [(s.name, s.origin) for s in result.skipped] == [
        ("F", f"{path}: Resources.F"),
        ("P (existing-role)", f"{path}: Resources.P.Properties.Roles"),
    ] or [(s.name, s.origin) for s in result.skipped] == [
        ("P (existing-role)", f"{path}: Resources.P.Properties.Roles"),
        ("F", f"{path}: Resources.F"),
    ]


def test_policy_with_unresolvable_roles_makes_every_role_unknown(write_file: WriteFile) -> None:
    path = write_file("t.json", _template({
        "R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
        "P": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "x", "Roles": [{"Fn::ImportValue": "other-RoleName"}], "PolicyDocument": DOCUMENT}},
    }))  # fmt: skip
    (role,) = load_file(path).roles
    (unknown,) = role.unknowns
    assert unknown.startswith(f"{path}: Resources.P.Properties.Roles: may attach to this role")


def test_unknown_macro_makes_the_role_unknown(write_file: WriteFile) -> None:
    path = write_file("t.json", _template({
        "R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
    }, Transform=["AWS::Serverless-2016-10-31", "ZeetMacro"]))  # fmt: skip
    (role,) = load_file(path).roles
    assert role.unknowns == (f"{path}: Transform: the macro 'ZeetMacro' may change the template before deployment",)


def test_role_with_undecided_condition(write_file: WriteFile) -> None:
    path = write_file("t.json", _template(
        {"R": {"Type": "AWS::IAM::Role", "Condition": "C", "Properties": {"AssumeRolePolicyDocument": TRUST}}},
        Parameters={"P": {"Type": "String"}},
        Conditions={"C": {"Fn::Equals": [{"Ref": "P"}, "x"]}},
    ))  # fmt: skip
    (role,) = load_file(path).roles
    (unknown,) = role.unknowns
    assert "the role exists only if condition C could not be decided" in unknown


def test_invalid_document_is_unknown_with_its_path(write_file: WriteFile) -> None:
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    path = write_file("t.json", _template({
        "R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": TRUST, "Policies": [{"PolicyName": "bad", "PolicyDocument": bad}]}},
    }))  # fmt: skip
    (role,) = load_file(path).roles
    assert role.policies[0].unknown_reason == (
        f"{path}: Resources.R.Properties.Policies[0].PolicyDocument.Statement[0]: "
        "expected exactly one of Resource or NotResource"
    )


def test_unresolved_effect_says_so(write_file: WriteFile) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": {"Fn::If": ["C", "Allow", "Deny"]}, "Action": "s3:*", "Resource": "*"}],
    }
    path = write_file("t.json", _template(
        {"R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": TRUST, "Policies": [{"PolicyName": "p", "PolicyDocument": document}]}}},
        Parameters={"P": {"Type": "String"}},
        Conditions={"C": {"Fn::Equals": [{"Ref": "P"}, "x"]}},
    ))  # fmt: skip
    (role,) = load_file(path).roles
    reason = role.policies[0].unknown_reason
    assert reason is not None
    assert reason.startswith(
        f"{path}: Resources.R.Properties.Policies[0].PolicyDocument.Statement[0].Effect: "
        "depends on a value that could not be resolved: Fn::If C"
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param({"AWSTemplateFormatVersion": "2010-09-09"}, "Resources: missing", id="no Resources"),
        pytest.param({"Resources": []}, "Resources: expected an object", id="Resources a list"),
        pytest.param({"Resources": {"R": "role"}}, "Resources.R: expected a resource object", id="resource"),
        pytest.param({"Resources": {"R": {"Properties": {}}}}, "Resources.R.Type: expected a resource type",
                     id="no Type"),
        pytest.param({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": TRUST, "Policies": [{"PolicyName": "x"}]}}}},
            "Resources.R.Properties.Policies[0].PolicyDocument: missing", id="inline without document"),
        pytest.param({"Parameters": [], "Resources": {}}, "Parameters: expected an object", id="Parameters"),
    ],
)  # fmt: skip
def test_wrong_shape(write_file: WriteFile, template: dict[str, Any], expected: str) -> None:
    path = write_file("t.json", json.dumps(template))
    with pytest.raises(InputError) as caught:
        load_file(path, "cloudformation")
    assert str(caught.value).startswith(f"{path}: {expected}")


def test_a_rule_scope_in_the_roles_own_account_is_covered_by_account_id() -> None:
    # The template's ${AWS::AccountId} and a rule's "any account" scope both mean the role's own account.
    from zeet_iam_audit.audit.evaluator import RoleEvaluator
    from zeet_iam_audit.policy.evaluate import Decision

    evaluator = RoleEvaluator(_role(YAML))
    decided = evaluator.decide_requirement("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:secret:*")
    assert decided.decision is Decision.ALLOWED
    assert decided.unknown_reasons == ()
    # Another account's secrets are not the role's own.
    other = evaluator.decide_requirement(
        "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:444455556666:secret:*"
    )
    assert other.decision is not Decision.ALLOWED


# --- nested stacks and StackSets -----------------------------------------------------------------

NESTED = YAML.parent / "nested-stacks.yaml"
STACK_SETS = YAML.parent / "stack-sets.yaml"


def test_nested_stacks_are_named_in_skipped_with_their_template() -> None:
    result = load_file(NESTED)
    skipped = {s.name: s for s in result.skipped}
    assert sorted(skipped) == ["AlarmsStack", "WorkerPoliciesStack", "ZeetPermissionsStack"]
    permissions = skipped["ZeetPermissionsStack"]
    assert permissions.reason == (
        "a nested stack (AWS::CloudFormation::Stack): its template (TemplateURL "
        "https://zeet-templates.s3.amazonaws.com/v3/permissions.yaml) is not in this file, so the roles "
        "and policies it creates are not audited; audit that template on its own"
    )
    assert str(permissions.origin) == f"{NESTED}: Resources.ZeetPermissionsStack"


def test_a_role_passed_to_a_nested_stack_is_unknown_naming_the_stack() -> None:
    roles = {role.logical_id: role for role in load_file(NESTED).roles}
    # By the parameter the role's own name comes from, and by Fn::GetAtt of a generated name's ARN.
    assert roles["ZeetRole"].unknowns == (
        f"{NESTED}: Resources.ZeetPermissionsStack.Properties.Parameters.IAMRoleName: a nested stack "
        "(AWS::CloudFormation::Stack) ZeetPermissionsStack receives this role in its parameter IAMRoleName "
        "and may attach policies to it; its template is not in this file",
    )
    (worker,) = roles["WorkerRole"].unknowns
    assert "WorkerPoliciesStack receives this role in its parameter WorkerRoleArn" in worker
    # A role no nested stack is given keeps its verdicts.
    assert roles["AuditRole"].unknowns == ()


def test_features_of_a_role_passed_to_a_nested_stack_are_unknown_not_missing() -> None:
    from zeet_iam_audit.audit.evaluator import RoleEvaluator
    from zeet_iam_audit.policy.evaluate import Decision

    roles = {role.logical_id: role for role in load_file(NESTED).roles}
    passed = RoleEvaluator(roles["ZeetRole"]).decide_requirement("eks:CreateCluster", "*")
    assert passed.decision is Decision.UNKNOWN
    assert "ZeetPermissionsStack" in passed.unknown_reasons[0]
    kept = RoleEvaluator(roles["AuditRole"]).decide_requirement("eks:CreateCluster", "*")
    assert kept.decision is Decision.IMPLICIT_DENY


def test_stack_set_template_body_is_read_with_its_parameters() -> None:
    result = load_file(STACK_SETS)
    (role,) = result.roles
    assert role.name == "zeet-cloud-connection"
    # Reports point at the StackSet, the place in the file that holds the role.
    assert role.logical_id == "ZeetRoleStackSet"
    assert role.template_body_logical_id == "ZeetRole"
    assert role.source == str(STACK_SETS)
    # Each target account is the role's own account.
    assert role.arn == f"arn:aws:iam::{OWN_ACCOUNT}:role/zeet-cloud-connection"
    assert role.trust_policy is not None
    principal = role.trust_policy.statements[0].principal
    assert principal is not None
    assert principal.identifiers("AWS") == ("arn:aws:iam::111122223333:root",)  # ParameterValue
    (secrets,) = role.policies
    assert _policy(secrets).statements[0].resources == (f"arn:aws:secretsmanager:*:{OWN_ACCOUNT}:secret:zeet/*",)
    assert str(secrets.origin) == (
        f"{STACK_SETS}: Resources.ZeetRoleStackSet.Properties.TemplateBody: Resources.ZeetSecrets"
    )
    skipped = {s.name: s.reason for s in result.skipped}
    assert skipped["ZeetRoleStackSet"].startswith(
        "a StackSet (AWS::CloudFormation::StackSet): its TemplateBody is read"
    )
    assert skipped["BaselineStackSet"].startswith(
        "a StackSet (AWS::CloudFormation::StackSet): its template (TemplateURL "
        "https://zeet-templates.s3.amazonaws.com/baseline.yaml) is not in this file"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("Resources: [unclosed", "its TemplateBody could not be read", id="not yaml"),
        pytest.param("just text", "its TemplateBody is not a template with Resources", id="no resources"),
    ],
)
def test_stack_set_body_that_cannot_be_read_is_skipped_with_why(write_file: WriteFile, body: str, reason: str) -> None:
    path = write_file(
        "t.json",
        _template(
            {
                "Set": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateBody": body}},
            }
        ),
    )
    result = load_file(path)
    assert tuple(result.roles) == ()
    (skipped,) = result.skipped
    assert skipped.name == "Set"
    assert reason in skipped.reason


def test_an_external_id_from_a_parameter_names_the_parameter_and_the_option() -> None:
    path = FIXTURES / "external-id-parameter.yaml"
    role = _role(path)
    assert role.trust_policy is not None
    (condition,) = role.trust_policy.statements[0].conditions
    assert condition.key == "sts:ExternalId"
    (value,) = condition.values
    assert isinstance(value, Unresolved)
    assert value.reason == ("Ref ZeetExternalId (a parameter without a default; pass --parameter ZeetExternalId=VALUE)")
    given = _role(path, ZeetExternalId="zeet-ext-0000")
    assert given.trust_policy is not None
    assert given.trust_policy.statements[0].conditions[0].values == ("zeet-ext-0000",)
