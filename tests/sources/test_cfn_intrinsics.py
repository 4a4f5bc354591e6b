"""Intrinsic functions of one CloudFormation template: what the template alone decides is resolved, the
rest stays ``Unresolved`` with a reason naming what to pass; the logical ids a value mentions."""

from __future__ import annotations

from typing import Any

import pytest

from zeet_iam_audit.model import OWN_ACCOUNT, Unresolved
from zeet_iam_audit.sources.cfn_intrinsics import MAX_REASON, NO_VALUE, TemplateResolver, mentions, scalar_text
from zeet_iam_audit.sources.shape import Locator

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "prod"},
        "Names": {"Type": "CommaDelimitedList", "Default": "a, b,c"},
        "NoDefault": {"Type": "String"},
        "Ssm": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/zeet/id"},
        "Port": {"Type": "Number", "Default": 443},
    },
    "Mappings": {"Accounts": {"prod": {"Zeet": "111122223333"}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Unknown": {"Fn::Equals": [{"Ref": "NoDefault"}, "x"]},
        "ProdOrUnknown": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Unknown"}]},
        "DevAndUnknown": {"Fn::And": [{"Condition": "IsDev"}, {"Condition": "Unknown"}]},
        "ProdAndUnknown": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "Unknown"}]},
        "Loop": {"Condition": "Loop"},
        "InProdAccount": {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "123456789012"]},
    },
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "zeet", "Path": "/ops/"}},
        "Generated": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Bucket": {"Type": "AWS::S3::Bucket"},
    },
}


def _resolver(**given: str) -> TemplateResolver:
    return TemplateResolver(TEMPLATE, Locator("t.yaml"), given)


RESOLVED = [
    ("plain string", "s3:GetObject", "s3:GetObject"),
    ("parameter", {"Ref": "Env"}, "prod"),
    ("number parameter", {"Ref": "Port"}, "443"),
    ("list parameter", {"Ref": "Names"}, ["a", "b", "c"]),
    ("partition", {"Ref": "AWS::Partition"}, "aws"),
    ("role name", {"Ref": "Role"}, "zeet"),
    ("sub", {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Env}-${Role}/*"}, "arn:aws:s3:::prod-zeet/*"),
    ("sub with variables", {"Fn::Sub": ["${A}:${B}", {"A": "x", "B": {"Ref": "Env"}}]}, "x:prod"),
    ("sub literal", {"Fn::Sub": "${!Literal}-${Env}"}, "${Literal}-prod"),
    ("sub keeps IAM variables", {"Fn::Sub": "home/${aws:username}/*"}, "home/${aws:username}/*"),
    ("join", {"Fn::Join": ["-", ["a", {"Ref": "Env"}, 7]]}, "a-prod-7"),
    ("select", {"Fn::Select": ["1", {"Ref": "Names"}]}, "b"),
    ("split", {"Fn::Split": [",", "x,y"]}, ["x", "y"]),
    ("find in map", {"Fn::FindInMap": ["Accounts", {"Ref": "Env"}, "Zeet"]}, "111122223333"),
    ("find in map default", {"Fn::FindInMap": ["Accounts", "dev", "Zeet", {"DefaultValue": "0"}]}, "0"),
    ("if true", {"Fn::If": ["IsProd", "p", "d"]}, "p"),
    ("if false", {"Fn::If": ["IsDev", "d", "p"]}, "p"),
    ("if undecided, same branches", {"Fn::If": ["Unknown", "same", "same"]}, "same"),
    ("or decided by true", {"Fn::If": ["ProdOrUnknown", "yes", "no"]}, "yes"),
    ("and decided by false", {"Fn::If": ["DevAndUnknown", "yes", "no"]}, "no"),
    ("no value in a list", ["a", {"Ref": "AWS::NoValue"}, "b"], ["a", "b"]),
    ("no value in a map", {"A": 1, "B": {"Fn::If": ["IsDev", 2, {"Ref": "AWS::NoValue"}]}}, {"A": 1}),
    ("base64", {"Fn::Base64": "hi"}, "aGk="),
    ("length", {"Fn::Length": [1, 2, 3]}, 3),
    ("to json", {"Fn::ToJsonString": {"a": [1]}}, '{"a":[1]}'),
]


@pytest.mark.parametrize(("value", "expected"), [pytest.param(v, e, id=i) for i, v, e in RESOLVED])
def test_resolves(value: object, expected: object) -> None:
    assert _resolver().resolve(value, "x") == expected


UNRESOLVED_VALUES = [
    (
        "parameter without default",
        {"Ref": "NoDefault"},
        "a parameter without a default; pass --parameter NoDefault=VALUE",
    ),
    ("SSM parameter", {"Ref": "Ssm"}, "an SSM parameter, read at deployment; pass --parameter Ssm=VALUE"),
    (
        "region",
        {"Ref": "AWS::Region"},
        "AWS::Region (known when the stack is deployed; pass --parameter AWS::Region=VALUE)",
    ),
    (
        "condition on the account",
        {"Fn::If": ["InProdAccount", "a", "b"]},
        "AWS::AccountId (the account the stack is deployed to; pass --parameter AWS::AccountId=VALUE)",
    ),
    (
        "mapping keyed by the account",
        {"Fn::FindInMap": ["Accounts", {"Ref": "AWS::AccountId"}, "Tier"]},
        "pass --parameter AWS::AccountId=VALUE",
    ),
    ("region in sub", {"Fn::Sub": "arn:aws:sqs:${AWS::Region}:1:q"}, "AWS::Region"),
    ("generated role name", {"Ref": "Generated"}, "the role's name is generated"),
    ("other resource", {"Ref": "Bucket"}, "AWS::S3::Bucket"),
    ("unknown name", {"Ref": "Nope"}, "not a parameter or resource"),
    ("import", {"Fn::ImportValue": "shared-X"}, "Fn::ImportValue shared-X"),
    ("azs", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}, "Fn::GetAZs"),
    ("cidr", {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, "Fn::Cidr"),
    ("transform", {"Fn::Transform": {"Name": "AWS::Include"}}, "Fn::Transform"),
    ("role arn of a generated name", {"Fn::GetAtt": ["Generated", "Arn"]}, "Fn::GetAtt Generated.Arn"),
    ("other attribute", {"Fn::GetAtt": ["Bucket", "Arn"]}, "Fn::GetAtt Bucket.Arn"),
    ("undecided if", {"Fn::If": ["Unknown", "a", "b"]}, "condition Unknown could not be decided"),
    ("and undecided", {"Fn::If": ["ProdAndUnknown", "a", "b"]}, "could not be decided"),
    ("self-referring condition", {"Fn::If": ["Loop", "a", "b"]}, "refers to itself"),
    ("join of unknown", {"Fn::Join": ["", ["a", {"Ref": "NoDefault"}]]}, "NoDefault"),
    ("select out of range", {"Fn::Select": [5, ["a"]]}, "out of range"),
    ("unknown function", {"Fn::Magic": 1}, "Fn::Magic"),
]


@pytest.mark.parametrize(("value", "reason"), [pytest.param(v, r, id=i) for i, v, r in UNRESOLVED_VALUES])
def test_stays_unresolved_with_a_reason(value: object, reason: str) -> None:
    result = _resolver().resolve(value, "x")
    assert isinstance(result, Unresolved)
    assert reason in result.reason
    assert str(result).startswith("${unresolved:")


def test_account_id_resolves_to_the_roles_own_account() -> None:
    resolver = _resolver()
    assert resolver.resolve({"Ref": "AWS::AccountId"}, "x") == OWN_ACCOUNT
    assert resolver.resolve({"Fn::GetAtt": ["Role", "Arn"]}, "x") == f"arn:aws:iam::{OWN_ACCOUNT}:role/ops/zeet"
    assert resolver.resolve({"Fn::Sub": "arn:aws:sqs:us-east-1:${AWS::AccountId}:jobs"}, "x") == (
        f"arn:aws:sqs:us-east-1:{OWN_ACCOUNT}:jobs"
    )
    # Given, the account decides the condition it could not decide symbolically.
    assert _resolver(**{"AWS::AccountId": "123456789012"}).resolve({"Fn::If": ["InProdAccount", "a", "b"]}, "x") == "a"


def test_given_values_override_defaults_and_pseudo_parameters() -> None:
    resolver = _resolver(Env="dev", **{"AWS::AccountId": "123456789012", "AWS::Region": "eu-west-1"})
    assert resolver.resolve({"Fn::If": ["IsDev", "d", "p"]}, "x") == "d"
    assert resolver.resolve({"Fn::GetAtt": ["Role", "Arn"]}, "x") == "arn:aws:iam::123456789012:role/ops/zeet"
    assert resolver.resolve({"Fn::Sub": "${AWS::Region}"}, "x") == "eu-west-1"
    assert resolver.resolve({"Ref": "AWS::NoValue"}, "x") is NO_VALUE


def test_a_reason_quoting_many_unresolved_values_stays_bounded() -> None:
    """Reasons quote the reasons they depend on; nesting must not multiply them past MAX_REASON."""
    value: Any = {"Ref": "NoDefault"}
    for _ in range(40):
        value = {"Fn::Sub": ["${Inner}-${AWS::Region}", {"Inner": value}]}
    result = _resolver().resolve(value, "x")
    assert isinstance(result, Unresolved)
    assert result.reason.startswith("Fn::Sub '${Inner}-${AWS::Region}': ")
    assert len(result.reason) == MAX_REASON
    assert result.reason.endswith("…")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("prod", "prod", id="string"),
        pytest.param(443, "443", id="number"),
        pytest.param(1.5, "1.5", id="float"),
        pytest.param(True, "true", id="true as CloudFormation writes it"),
        pytest.param(False, "false", id="false as CloudFormation writes it"),
        pytest.param(["a"], None, id="list is not a scalar"),
        pytest.param({"Ref": "Env"}, None, id="mapping is not a scalar"),
        pytest.param(None, None, id="null is not a scalar"),
    ],
)
def test_scalar_text_is_the_text_cloudformation_passes(value: object, expected: str | None) -> None:
    assert scalar_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"Ref": "ZeetRole"}, {"ZeetRole"}, id="ref"),
        pytest.param({"Fn::GetAtt": ["ZeetRole", "Arn"]}, {"ZeetRole"}, id="get-att list"),
        pytest.param({"Fn::GetAtt": "ZeetRole.Arn"}, {"ZeetRole"}, id="get-att dotted"),
        pytest.param(
            {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ZeetRole}-${Bucket.Arn}"},
            {"AWS::Partition", "AWS::AccountId", "ZeetRole", "Bucket"},
            id="sub variables",
        ),
        pytest.param(
            {"Fn::Sub": ["${Prefix}-${Name}", {"Name": {"Ref": "Env"}}]},
            {"Prefix", "Name", "Env"},
            id="sub with a variable map",
        ),
        pytest.param(
            {"Roles": [{"Ref": "RoleA"}, {"Fn::If": ["IsProd", {"Ref": "RoleB"}, {"Ref": "AWS::NoValue"}]}]},
            {"RoleA", "RoleB", "AWS::NoValue"},
            id="nested in lists and conditions",
        ),
        pytest.param({"PolicyName": "ZeetSecrets", "Roles": ["zeet-role"]}, set(), id="plain values mention nothing"),
    ],
)
def test_mentions_names_the_logical_ids_a_value_refers_to(value: Any, expected: set[str]) -> None:
    assert mentions(value) == expected
