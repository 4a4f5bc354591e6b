"""The policy parser: the IAM JSON grammar, normalisation, and errors that name their JSON path."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from zeet_iam_audit import Policy, PolicyError, PolicyKind, Unresolved, parse_policy
from zeet_iam_audit.model import Condition, Effect, Origin, Principal
from zeet_iam_audit.policy.parse import InvalidPolicy, validate_policy

from .support import allow, policy

IDENTITY = PolicyKind.IDENTITY
TRUST = PolicyKind.TRUST

ASSUME = {"Effect": "Allow", "Action": "sts:AssumeRole"}


def _one(**elements: Any) -> dict[str, Any]:
    """A 2012-10-17 identity policy with one statement made of exactly ``elements``."""
    return {"Version": "2012-10-17", "Statement": [elements]}


@pytest.mark.parametrize(
    ("document", "kind", "path", "problem"),
    [
        pytest.param(
            {
                "Version": "2012-10-17",
                "Statement": [allow("s3:*"), allow("s3:*"), {**allow("s3:*"), "Effect": "Maybe"}],
            },
            IDENTITY,
            "Statement[2].Effect",
            "expected Allow or Deny, got 'Maybe'",
            id="effect-not-allow-or-deny",
        ),
        pytest.param(
            _one(Effect="allow", Action="s3:*", Resource="*"),
            IDENTITY,
            "Statement[0].Effect",
            "expected Allow or Deny, got 'allow'",
            id="effect-is-case-sensitive",
        ),
        pytest.param(
            _one(Action="s3:*", Resource="*"),
            IDENTITY,
            "Statement[0].Effect",
            "missing",
            id="effect-missing",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", NotAction="iam:*", Resource="*"),
            IDENTITY,
            "Statement[0]",
            "exactly one of Action or NotAction",
            id="action-and-notaction-both",
        ),
        pytest.param(
            _one(Effect="Allow", Resource="*"),
            IDENTITY,
            "Statement[0]",
            "exactly one of Action or NotAction",
            id="action-and-notaction-neither",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*"),
            IDENTITY,
            "Statement[0]",
            "exactly one of Resource or NotResource",
            id="identity-needs-resource",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", NotResource="arn:aws:s3:::b"),
            IDENTITY,
            "Statement[0]",
            "at most one of Resource or NotResource",
            id="resource-and-notresource-both",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", Principal="*"),
            IDENTITY,
            "Statement[0].Principal",
            "not allowed in an identity-based policy",
            id="principal-in-identity-policy",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", NotPrincipal={"AWS": "*"}),
            IDENTITY,
            "Statement[0].NotPrincipal",
            "not allowed in an identity-based policy",
            id="notprincipal-in-identity-policy",
        ),
        pytest.param(
            _one(**ASSUME),
            TRUST,
            "Statement[0]",
            "Principal or NotPrincipal",
            id="trust-policy-needs-principal",
        ),
        pytest.param(
            _one(**ASSUME, Principal={"Robot": "x"}),
            TRUST,
            "Statement[0].Principal.Robot",
            "unknown principal type",
            id="trust-unknown-principal-type",
        ),
        pytest.param(
            _one(**ASSUME, Principal=["*"]),
            TRUST,
            "Statement[0].Principal",
            'expected "*" or an object',
            id="trust-principal-not-an-object",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", Condition="aws:SecureTransport"),
            IDENTITY,
            "Statement[0].Condition",
            "expected an object",
            id="condition-not-an-object",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", Condition={"Bool": ["aws:SecureTransport"]}),
            IDENTITY,
            "Statement[0].Condition.Bool",
            "expected an object of condition key",
            id="condition-operator-block-not-an-object",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", Condition={"Bool": {}}),
            IDENTITY,
            "Statement[0].Condition.Bool",
            "at least one condition key",
            id="condition-operator-block-empty",
        ),
        pytest.param(
            _one(
                Effect="Allow",
                Action="s3:*",
                Resource="*",
                Condition={"StringEquals": {"aws:username": {"name": "bob"}}},
            ),
            IDENTITY,
            "Statement[0].Condition.StringEquals.aws:username",
            "expected a string, number or boolean",
            id="condition-value-an-object",
        ),
        pytest.param(
            _one(
                Effect="Allow", Action="s3:*", Resource="*", Condition={"StringEquals": {"aws:username": ["bob", None]}}
            ),
            IDENTITY,
            "Statement[0].Condition.StringEquals.aws:username[1]",
            "expected a string, number or boolean, got null",
            id="condition-value-list-item-null",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", Condition={"StringEqualz": {"aws:username": "bob"}}),
            IDENTITY,
            "Statement[0].Condition.StringEqualz",
            "unknown condition operator",
            id="unknown-operator",
        ),
        # IAM itself rejects a mis-cased operator ("MalformedPolicyDocument: Invalid Condition
        # type : stringEquals"), unlike condition key names, which are case-insensitive.
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", Condition={"stringequals": {"aws:username": "bob"}}),
            IDENTITY,
            "Statement[0].Condition.stringequals",
            "unknown condition operator",
            id="operator-names-are-case-sensitive",
        ),
        pytest.param(
            _one(
                Effect="Allow",
                Action="s3:*",
                Resource="*",
                Condition={"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}},
            ),
            IDENTITY,
            "Statement[0].Condition.ForSomeValues:StringEquals",
            "unknown condition set operator",
            id="unknown-set-operator",
        ),
        pytest.param(
            _one(
                Effect="Allow", Action="s3:*", Resource="*", Condition={"NullIfExists": {"aws:TokenIssueTime": "true"}}
            ),
            IDENTITY,
            "Statement[0].Condition.NullIfExists",
            "NullIfExists is not",
            id="null-has-no-ifexists-form",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", Condition={"IfExists": {"k": "v"}}),
            IDENTITY,
            "Statement[0].Condition.IfExists",
            "unknown condition operator",
            id="bare-ifexists",
        ),
        pytest.param(
            {**_one(Effect="Allow", Action="s3:*", Resource="*"), "Version": "2012-10-18"},
            IDENTITY,
            "Version",
            "expected 2012-10-17 or 2008-10-17, got '2012-10-18'",
            id="bad-version",
        ),
        pytest.param(
            {**_one(Effect="Allow", Action="s3:*", Resource="*"), "Version": 2012},
            IDENTITY,
            "Version",
            "expected 2012-10-17 or 2008-10-17",
            id="version-not-a-string",
        ),
        pytest.param(
            {**_one(Effect="Allow", Action="s3:*", Resource="*"), "Id": 7},
            IDENTITY,
            "Id",
            "expected a string",
            id="id-not-a-string",
        ),
        pytest.param(
            {"Version": "2012-10-17"},
            IDENTITY,
            "Statement",
            "missing",
            id="statement-missing",
        ),
        pytest.param(
            {"Version": "2012-10-17", "Statement": "Allow everything"},
            IDENTITY,
            "Statement",
            "expected a statement object or a list",
            id="statement-a-string",
        ),
        pytest.param(
            {"Version": "2012-10-17", "Statement": ["Allow"]},
            IDENTITY,
            "Statement[0]",
            "expected a statement object",
            id="statement-item-a-string",
        ),
        pytest.param(
            {**_one(Effect="Allow", Action="s3:*", Resource="*"), "Statements": []},
            IDENTITY,
            "Statements",
            "unknown policy element",
            id="unknown-top-level-element",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", Resources="*"),
            IDENTITY,
            "Statement[0].Resources",
            "unknown statement element",
            id="unknown-statement-element",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource="*", Sid=3),
            IDENTITY,
            "Statement[0].Sid",
            "expected a string",
            id="sid-not-a-string",
        ),
        pytest.param(
            _one(Effect="Allow", Action=[], Resource="*"),
            IDENTITY,
            "Statement[0].Action",
            "non-empty list",
            id="action-empty-list",
        ),
        pytest.param(
            _one(Effect="Allow", Action=["s3:GetObject", 5], Resource="*"),
            IDENTITY,
            "Statement[0].Action[1]",
            "expected a string, got int",
            id="action-item-not-a-string",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3 GetObject", Resource="*"),
            IDENTITY,
            "Statement[0].Action",
            "expected an action such as 'service:Name'",
            id="action-without-service-prefix",
        ),
        pytest.param(
            _one(Effect="Allow", NotAction=["iam:*", "iam"], Resource="*"),
            IDENTITY,
            "Statement[0].NotAction[1]",
            "expected an action such as",
            id="notaction-item-malformed",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", Resource={"arn": "x"}),
            IDENTITY,
            "Statement[0].Resource",
            "expected a string or a list of strings",
            id="resource-an-object",
        ),
        pytest.param(
            _one(Effect="Allow", Action="s3:*", NotResource=[]),
            IDENTITY,
            "Statement[0].NotResource",
            "non-empty list",
            id="notresource-empty-list",
        ),
        pytest.param(
            '{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}',
            IDENTITY,
            "Version",
            "duplicate key 'Version'",
            id="duplicate-top-level-key",
        ),
        pytest.param(
            '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny",'
            ' "Action": "s3:*", "Resource": "*"}}',
            IDENTITY,
            "Statement.Effect",
            "duplicate key 'Effect'",
            id="duplicate-key-in-statement-object",
        ),
        pytest.param(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",'
            ' "Resource": "*"}, {"Effect": "Allow", "Action": "s3:*", "Resource": "*",'
            ' "Condition": {"Bool": {"aws:SecureTransport": "true",'
            ' "aws:SecureTransport": "false"}}}]}',
            IDENTITY,
            "Statement[1].Condition.Bool.aws:SecureTransport",
            "duplicate key 'aws:SecureTransport'",
            id="duplicate-condition-key",
        ),
        pytest.param(
            '{"Version": "2012-10-17", "Statement": [',
            IDENTITY,
            "",
            "not valid JSON",
            id="truncated-json",
        ),
        pytest.param("[]", IDENTITY, "", "expected a policy object, got a list", id="json-list"),
        pytest.param(
            '{"Version": "2012-10-17", "Statement": [], "Id": "x"} trailing',
            IDENTITY,
            "",
            "not valid JSON",
            id="trailing-garbage",
        ),
    ],
)
def test_grammar_errors_name_their_path(
    document: dict[str, Any] | str, kind: PolicyKind, path: str, problem: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(document, kind=kind)
    error = caught.value
    assert error.path == path
    assert problem in error.problem
    assert str(error) == (f"{path}: {error.problem}" if path else error.problem)
    assert "\n" not in str(error)


def test_error_message_reads_as_documented() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            allow("s3:*"),
            allow("s3:*"),
            {**allow("s3:*"), "Effect": "Maybe"},
        ],
    }
    with pytest.raises(
        PolicyError,
        match=r"^Statement\[2\]\.Effect: expected Allow or Deny, "
        r"got 'Maybe'$",
    ):
        parse_policy(document)


_ONE_ALLOW = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(_ONE_ALLOW, id="dict"),
        pytest.param(json.dumps(_ONE_ALLOW), id="json-text"),
        pytest.param("\n  " + json.dumps(_ONE_ALLOW) + "\n", id="json-text-with-whitespace"),
        pytest.param(quote(json.dumps(_ONE_ALLOW)), id="url-encoded-json"),
        pytest.param(quote(json.dumps(_ONE_ALLOW)).replace("%7B", "%7b"), id="url-encoded-lower"),
    ],
)
def test_accepted_input_forms(document: dict[str, Any] | str) -> None:
    parsed = parse_policy(document)
    assert parsed.version == "2012-10-17"
    assert parsed.kind is PolicyKind.IDENTITY
    (only,) = parsed.statements
    assert only.effect is Effect.ALLOW
    assert only.actions == ("s3:GetObject",)
    assert only.resources == ("*",)


def test_get_role_policy_url_encoding_with_plus_and_percent_escapes() -> None:
    # GetRolePolicy returns the document URL-encoded (RFC 3986); quote() gives the same shape.
    document = policy(allow("s3:GetObject", "arn:aws:s3:::zeet bucket/a+b%c"))
    parsed = parse_policy(quote(json.dumps(document)))
    assert parsed.statements[0].resources == ("arn:aws:s3:::zeet bucket/a+b%c",)


@pytest.mark.parametrize(
    ("elements", "field", "expected"),
    [
        pytest.param({"Action": "s3:GetObject"}, "actions", ("s3:GetObject",), id="action-scalar-to-tuple"),
        pytest.param(
            {"Action": ["s3:GetObject", "s3:PutObject"]},
            "actions",
            ("s3:GetObject", "s3:PutObject"),
            id="action-list-to-tuple",
        ),
        pytest.param({"NotAction": "iam:*"}, "not_actions", ("iam:*",), id="notaction-scalar-to-tuple"),
        pytest.param(
            {"Action": "*", "NotResource": "arn:aws:s3:::b"},
            "not_resources",
            ("arn:aws:s3:::b",),
            id="notresource-scalar-to-tuple",
        ),
        pytest.param(
            {"Action": "*", "Resource": ["arn:aws:s3:::a", "arn:aws:s3:::b"]},
            "resources",
            ("arn:aws:s3:::a", "arn:aws:s3:::b"),
            id="resource-list",
        ),
        pytest.param({"Action": "*", "Sid": "ReadAll"}, "sid", "ReadAll", id="sid-kept"),
        pytest.param({"Action": "*"}, "sid", None, id="sid-absent-is-none"),
        pytest.param({"Action": "*"}, "not_actions", None, id="absent-notaction-is-none"),
        pytest.param({"Action": "*"}, "conditions", (), id="no-condition-empty-tuple"),
        pytest.param(
            {
                "Action": "*",
                "Condition": {
                    "Bool": {"aws:SecureTransport": True},
                    "NumericLessThan": {"s3:max-keys": 10},
                    "StringEquals": {"aws:PrincipalTag/team": ["a", "b"]},
                },
            },
            "conditions",
            (
                Condition("Bool", "aws:SecureTransport", ("true",)),
                Condition("NumericLessThan", "s3:max-keys", ("10",)),
                Condition("StringEquals", "aws:PrincipalTag/team", ("a", "b")),
            ),
            id="condition-values-normalised-to-text",
        ),
        pytest.param(
            {"Action": "*", "Condition": {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "z*"}}},
            "conditions",
            (Condition("ForAnyValue:StringLikeIfExists", "aws:TagKeys", ("z*",)),),
            id="qualified-operator-kept-verbatim",
        ),
    ],
)
def test_statement_normalisation(elements: dict[str, Any], field: str, expected: object) -> None:
    elements = {"Effect": "Allow", **elements}
    if "Resource" not in elements and "NotResource" not in elements:
        elements["Resource"] = "*"
    parsed = parse_policy({"Version": "2012-10-17", "Statement": elements})
    assert getattr(parsed.statements[0], field) == expected


def test_single_statement_object_and_list_are_equivalent() -> None:
    as_object = parse_policy({"Version": "2012-10-17", "Statement": allow("s3:*")})
    as_list = parse_policy({"Version": "2012-10-17", "Statement": [allow("s3:*")]})
    assert as_object.statements == as_list.statements


def test_statement_indexes_and_labels() -> None:
    parsed = parse_policy(policy(allow("s3:*"), allow("sqs:*", Sid="Queues")))
    assert [s.index for s in parsed.statements] == [0, 1]
    assert parsed.statements[0].label == "Statement[0]"
    assert parsed.statements[1].label == 'Statement[1] (Sid "Queues")'


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        pytest.param("2012-10-17", "2012-10-17", id="current-version"),
        pytest.param("2008-10-17", "2008-10-17", id="old-version"),
        pytest.param(None, None, id="version-absent"),
    ],
)
def test_version(version: str | None, expected: str | None) -> None:
    assert parse_policy(policy(allow("s3:*"), version=version)).version == expected


def test_empty_statement_list_is_a_policy_that_grants_nothing() -> None:
    assert parse_policy({"Version": "2012-10-17", "Statement": []}).statements == ()


def test_name_origin_and_id_are_kept() -> None:
    parsed = parse_policy(
        {**policy(allow("s3:*")), "Id": "zeet"}, name="ZeetS3", origin=Origin("role.json", ("$", "RolePolicyList", 0))
    )
    assert (parsed.name, str(parsed.origin), parsed.id) == ("ZeetS3", "role.json: $.RolePolicyList[0]", "zeet")


def test_parsed_policy_passes_through() -> None:
    parsed = parse_policy(policy(allow("s3:*")))
    assert parse_policy(parsed) is parsed


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        pytest.param("*", Principal(wildcard=True), id="wildcard"),
        pytest.param(
            {"Service": "ec2.amazonaws.com"}, Principal(entries=(("Service", ("ec2.amazonaws.com",)),)), id="service"
        ),
        pytest.param(
            {"AWS": ["arn:aws:iam::111122223333:root", "444455556666"]},
            Principal(entries=(("AWS", ("arn:aws:iam::111122223333:root", "444455556666")),)),
            id="aws-list",
        ),
        pytest.param(
            {"Federated": "cognito-identity.amazonaws.com"},
            Principal(entries=(("Federated", ("cognito-identity.amazonaws.com",)),)),
            id="federated",
        ),
    ],
)
def test_trust_policy_principals(principal: object, expected: Principal) -> None:
    parsed = parse_policy(_one(**ASSUME, Principal=principal), kind=TRUST)
    assert parsed.kind is TRUST
    assert parsed.statements[0].principal == expected
    assert parsed.statements[0].resources is None


def test_trust_policy_with_notprincipal() -> None:
    parsed = parse_policy(
        _one(Effect="Deny", Action="sts:AssumeRole", NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"}), kind=TRUST
    )
    assert parsed.statements[0].not_principal == Principal(entries=(("AWS", ("arn:aws:iam::111122223333:root",)),))


def test_unresolved_template_values_pass_through_the_parser() -> None:
    bucket = Unresolved("!Ref BucketName (parameter without a default)")
    parsed = parse_policy(policy(allow([Unresolved("!Ref Action")], bucket)))
    (only,) = parsed.statements
    assert only.resources == (bucket,)
    assert isinstance(only.resources[0], Unresolved)
    assert only.resources[0].reason == "!Ref BucketName (parameter without a default)"


@pytest.mark.parametrize(
    "operator",
    [
        "StringEquals",
        "StringNotEqualsIgnoreCase",
        "StringLikeIfExists",
        "NumericGreaterThan",
        "DateLessThanEqualsIfExists",
        "Bool",
        "BoolIfExists",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddressIfExists",
        "ArnLike",
        "ArnNotEquals",
        "Null",
        "ForAllValues:StringLike",
        "ForAnyValue:StringNotEqualsIfExists",
        "ForAllValues:ArnLike",
    ],
)
def test_known_operators_parse(operator: str) -> None:
    parsed = parse_policy(policy(allow("s3:*", Condition={operator: {"aws:SomeKey": "v"}})))
    assert parsed.statements[0].conditions[0].operator == operator


def test_policy_values_are_frozen() -> None:
    parsed = parse_policy(policy(allow("s3:*")))
    assert isinstance(parsed, Policy)
    with pytest.raises(AttributeError):
        parsed.name = "changed"  # type: ignore[misc]


# --- Documents AWS refuses at upload, as values -------------------------------------------------

GRAMMAR_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"


@pytest.mark.parametrize(
    ("statement", "path", "reason"),
    [
        # GRAMMAR_DOC: an action is "*" or service:action, letters and wildcards.
        pytest.param(
            {"Effect": "Allow", "Action": "s3:Get Object", "Resource": "*"},
            "Statement[0].Action",
            "expected an action such as 'service:Name' or '*', got 's3:Get Object'",
            id="space-in-action",
        ),
        pytest.param(
            {"Effect": "Allow", "Action": ["s3:GetObject,PutObject"], "Resource": "*"},
            "Statement[0].Action[0]",
            "got 's3:GetObject,PutObject'",
            id="comma-in-action",
        ),
        pytest.param(
            {"Effect": "Deny", "NotAction": "s3:GetBucket   ", "Resource": "*"},
            "Statement[0].NotAction",
            "got 's3:GetBucket   '",
            id="trailing-spaces-in-action",
        ),
        # GRAMMAR_DOC: <effect_block> = "Effect" : ("Allow" | "Deny").
        pytest.param(
            {"Effect": "allow", "Action": "s3:*", "Resource": "*"},
            "Statement[0].Effect",
            "expected Allow or Deny, got 'allow'",
            id="lower-case-effect",
        ),
        pytest.param(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Resources": "*"},
            "Statement[0].Resources",
            "unknown statement element",
            id="unknown-element",
        ),
        # "Resource my-bucket must be in ARN format or '*'".
        pytest.param(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "my-bucket"},
            "Statement[0].Resource",
            "expected '*' or an ARN (arn:partition:service:...), got 'my-bucket'",
            id="resource-not-an-arn",
        ),
        pytest.param(
            {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::zeet", "zeet/*"]},
            "Statement[0].NotResource[1]",
            "got 'zeet/*'",
            id="notresource-not-an-arn",
        ),
    ],
)
def test_documents_aws_refuses_are_invalid_policies(statement: dict[str, Any], path: str, reason: str) -> None:
    document = {"Version": "2012-10-17", "Statement": [statement]}
    problem = validate_policy(document)
    assert isinstance(problem, InvalidPolicy)
    assert problem.path == path
    assert reason in problem.reason
    assert str(problem) == f"{problem.path}: {problem.reason}"
    with pytest.raises(PolicyError) as raised:
        parse_policy(document)
    assert InvalidPolicy.from_error(raised.value) == problem


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param("*", id="star"),
        pytest.param("arn:aws:s3:::zeet/*", id="arn"),
        pytest.param("arn:aws:sqs", id="short-arn"),
        pytest.param("${aws:username}", id="policy-variable"),
        # Text that is no ARN but holds a colon, as a CloudFormation Sub written out literally:
        # accepted (it then matches no resource).
        pytest.param('Sub "arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter"/zeet/*', id="literal-sub"),
    ],
)
def test_resources_aws_accepts(resource: str) -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": resource}]}
    parsed = validate_policy(document)
    assert isinstance(parsed, Policy)
    assert parsed.statements[0].resources == (resource,)


def test_a_trust_policy_resource_is_not_held_to_arn_format() -> None:
    document = {"Statement": [{**ASSUME, "Principal": {"Service": "ec2.amazonaws.com"}, "Resource": "x"}]}
    assert isinstance(validate_policy(document, kind=TRUST), Policy)
