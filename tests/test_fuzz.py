"""Property-based tests and fuzzing (hypothesis).

Random *valid* policies, built from actions, resources, policy variables and conditions of every
operator family, are checked against the evaluator's invariants:

- an unconditional explicit Deny of the action wins, whatever else is there;
- adding an Allow never turns "allowed" into anything else, nor "explicit deny" into anything else;
- adding a Deny never turns a denial into "allowed", nor anything short of "allowed" into "allowed";
- with a request context (a dict) and a concrete resource, the answer is never "conditional";
- parse → serialise → parse gives an equal ``Policy`` (as a value and through JSON text).

Random *invalid* input is thrown at the parser (only ``PolicyError`` may escape, and a document
that parses can be evaluated) and at ``sources.load_file`` through real files, JSON or YAML, bare or
inside the skeleton of each input kind (only ``ZeetIamAuditError`` subclasses may escape, and what
loads can be audited and rendered in every format).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeet_iam_audit.audit.engine import AuditOptions, audit_roles
from zeet_iam_audit.audit.trust import TrustSettings, audit_trust
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.errors import PolicyError, ZeetIamAuditError
from zeet_iam_audit.formats import FORMATS, OutputFormat, RenderOptions
from zeet_iam_audit.model import Policy, PolicyKind, Role, Statement
from zeet_iam_audit.policy.evaluate import Decision, EvaluationResult, evaluate
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.rules import load_rules
from zeet_iam_audit.sources import load_file

Doc = dict[str, Any]
PROPERTY = settings(database=None, deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
FILES = settings(database=None, deadline=None, max_examples=120, suppress_health_check=list(HealthCheck))
DENIED = (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY)

# --- valid policies ------------------------------------------------------------------------------

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "sqs:SendMessage",
    "iam:PassRole",
    "ec2:RunInstances",
    "logs:FilterLogEvents",
]
ACTION_PATTERNS = [
    *ACTIONS,
    "*",
    "s3:*",
    "s3:Get*",
    "*:Get*",
    "iam:Pass?ole",
    "EC2:run*",
    "sqs:*Message",
    "logs:?ilter*",
]
RESOURCES = [
    "arn:aws:s3:::zeet/data/a.txt",
    "arn:aws:s3:::zeet/alice/a.txt",
    "arn:aws:sqs:us-east-1:123456789012:zeet-q",
    "arn:aws:iam::123456789012:role/zeet-1",
    "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
    "arn:aws:s3:::other",
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::zeet/*",
    "arn:aws:s3:::zeet/${aws:username}/*",
    "arn:aws:sqs:*:123456789012:zeet-*",
    "arn:aws:iam::123456789012:role/zeet-?",
    "arn:aws:ec2:us-east-1:*:instance/*",
    "arn:aws:s3:::other",
    "arn:aws:*:*:*:*",
    "arn:aws:s3:::${aws:PrincipalTag/team, 'zeet'}/*",
]
CONDITION_VALUES: dict[str, list[Any]] = {
    "String": ["zeet", "alice", "zeet-*", "${aws:username}", "us-east-1", "a?ice"],
    "Numeric": [0, 1, 3600, "86400", -5, 2.5],
    "Date": ["2024-01-01T00:00:00Z", "2030-01-01", 1700000000],
    "Bool": [True, False, "true", "false"],
    "Binary": ["emVldA==", "YWxpY2U="],
    "Ip": ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"],
    "Arn": ["arn:aws:iam::123456789012:role/zeet-*", "arn:aws:iam::*:root", "arn:aws:s3:::zeet"],
    "Null": [True, False],
}
OPERATORS = {
    "String": [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
    ],
    "Numeric": [
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
    ],
    "Date": ["DateEquals", "DateNotEquals", "DateLessThan", "DateGreaterThan"],
    "Bool": ["Bool"],
    "Binary": ["BinaryEquals"],
    "Ip": ["IpAddress", "NotIpAddress"],
    "Arn": ["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"],
    "Null": ["Null"],
}
CONDITION_KEYS = [
    "aws:username",
    "aws:PrincipalTag/team",
    "aws:RequestedRegion",
    "aws:MultiFactorAuthAge",
    "aws:CurrentTime",
    "aws:SecureTransport",
    "aws:SourceIp",
    "aws:PrincipalArn",
    "aws:TagKeys",
    "s3:prefix",
]
CONTEXT_VALUES: dict[str, list[str]] = {
    "aws:username": ["zeet", "alice"],
    "aws:PrincipalTag/team": ["zeet", "other"],
    "aws:RequestedRegion": ["us-east-1", "eu-west-1"],
    "aws:MultiFactorAuthAge": ["0", "3600", "99999"],
    "aws:CurrentTime": ["2025-06-01T00:00:00Z"],
    "aws:SecureTransport": ["true", "false"],
    "aws:SourceIp": ["10.1.2.3", "192.0.2.1"],
    "aws:PrincipalArn": ["arn:aws:iam::123456789012:role/zeet-1"],
    "aws:TagKeys": ["team", "env"],
    "s3:prefix": ["zeet/", ""],
}


@st.composite
def condition_blocks(draw: st.DrawFn) -> Doc:
    block: Doc = {}
    for _ in range(draw(st.integers(1, 2))):
        family = draw(st.sampled_from(sorted(OPERATORS)))
        operator = draw(st.sampled_from(OPERATORS[family]))
        if family != "Null":
            operator = draw(st.sampled_from(["", "ForAnyValue:", "ForAllValues:"])) + operator
            operator += draw(st.sampled_from(["", "IfExists"]))
        keys = draw(st.lists(st.sampled_from(CONDITION_KEYS), min_size=1, max_size=2, unique=True))
        values = st.sampled_from(CONDITION_VALUES[family])
        block[operator] = {key: draw(values | st.lists(values, min_size=1, max_size=3)) for key in keys}
    return block


def _one_or_many(items: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return items | st.lists(items, min_size=1, max_size=3)


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> Doc:
    statement: Doc = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    if draw(st.booleans()):
        statement["Sid"] = draw(st.sampled_from(["S1", "AllowThings", "DenyOthers"]))
    statement["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = draw(
        _one_or_many(st.sampled_from(ACTION_PATTERNS))
    )
    statement["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = draw(
        _one_or_many(st.sampled_from(RESOURCE_PATTERNS))
    )
    if draw(st.integers(0, 2)) == 0:
        statement["Condition"] = draw(condition_blocks())
    return statement


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    document: Doc = {}
    version = draw(st.sampled_from(["2012-10-17", "2012-10-17", "2008-10-17", None]))
    if version is not None:
        document["Version"] = version
    if draw(st.integers(0, 4)) == 0:
        document["Id"] = "fuzz"
    body = draw(st.lists(statements(), max_size=4))
    document["Statement"] = body[0] if len(body) == 1 and draw(st.booleans()) else body
    return document


contexts = st.dictionaries(st.sampled_from(sorted(CONTEXT_VALUES)), st.just(None), max_size=6).flatmap(
    lambda keys: st.fixed_dictionaries(
        {
            key: st.sampled_from(CONTEXT_VALUES[key]) | st.lists(st.sampled_from(CONTEXT_VALUES[key]), max_size=2)
            for key in keys
        }
    )
)
optional_contexts = st.none() | contexts
requests = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(RESOURCES))


def _decide(policies: list[Doc], request: tuple[str, str], context: dict[str, Any] | None) -> EvaluationResult:
    action, resource = request
    return evaluate(action, resource, policies, context=context)


@PROPERTY
@given(
    policies=st.lists(documents(), max_size=3),
    request=requests,
    context=optional_contexts,
    where=st.integers(0, 3),
    recase=st.sampled_from([str.upper, str.lower, str]),
)
def test_an_explicit_deny_wins(
    policies: list[Doc],
    request: tuple[str, str],
    context: dict[str, Any] | None,
    where: int,
    recase: Callable[[str], str],
) -> None:
    denial = {"Effect": "Deny", "Action": recase(request[0]), "Resource": "*"}
    if policies and where < 3:
        target = policies[where % len(policies)]
        body = target["Statement"]
        target["Statement"] = [*(body if isinstance(body, list) else [body]), denial]
    else:
        policies = [*policies, {"Version": "2012-10-17", "Statement": denial}]
    result = _decide(policies, request, context)
    assert result.decision is Decision.EXPLICIT_DENY, result.explain()


@PROPERTY
@given(
    policies=st.lists(documents(), max_size=3),
    request=requests,
    context=optional_contexts,
    extra=statements(effect="Allow"),
)
def test_adding_an_allow_never_takes_anything_away(
    policies: list[Doc], request: tuple[str, str], context: dict[str, Any] | None, extra: Doc
) -> None:
    before = _decide(policies, request, context)
    after = _decide([*policies, {"Version": "2012-10-17", "Statement": [extra]}], request, context)
    if before.decision is Decision.ALLOWED:
        assert after.decision is Decision.ALLOWED, after.explain()
    if before.decision is Decision.EXPLICIT_DENY:
        assert after.decision is Decision.EXPLICIT_DENY, after.explain()


@PROPERTY
@given(
    policies=st.lists(documents(), max_size=3),
    request=requests,
    context=optional_contexts,
    extra=statements(effect="Deny"),
)
def test_adding_a_deny_never_grants(
    policies: list[Doc], request: tuple[str, str], context: dict[str, Any] | None, extra: Doc
) -> None:
    before = _decide(policies, request, context)
    after = _decide([*policies, {"Version": "2012-10-17", "Statement": [extra]}], request, context)
    if before.decision in DENIED:
        assert after.decision in DENIED, after.explain()
    if before.decision is not Decision.ALLOWED:
        assert after.decision is not Decision.ALLOWED, after.explain()


@PROPERTY
@given(policies=st.lists(documents(), max_size=3), request=requests, context=contexts)
def test_with_a_context_the_answer_is_never_conditional(
    policies: list[Doc], request: tuple[str, str], context: dict[str, Any]
) -> None:
    result = _decide(policies, request, context)
    if result.decision is Decision.UNKNOWN:
        # Only a reading AWS's documentation leaves open (a wildcard in an action's service prefix, a
        # value not of the operator's type...) may leave a request with its context unanswered.
        assert result.uncertain, result.explain()
        assert all(u.undecided and not u.keys for u in result.uncertain), result.explain()
        return
    assert result.decision in (Decision.ALLOWED, *DENIED), result.explain()


def _statement_document(statement: Statement) -> Doc:
    document: Doc = {}
    if statement.sid is not None:
        document["Sid"] = statement.sid
    document["Effect"] = statement.effect.value
    for key, value in (
        ("Action", statement.actions),
        ("NotAction", statement.not_actions),
        ("Resource", statement.resources),
        ("NotResource", statement.not_resources),
    ):
        if value is not None:
            document[key] = list(value)
    for key, principal in (("Principal", statement.principal), ("NotPrincipal", statement.not_principal)):
        if principal is not None:
            document[key] = "*" if principal.wildcard else {kind: list(ids) for kind, ids in principal.entries}
    if statement.conditions:
        block: dict[str, dict[str, list[str]]] = {}
        for condition in statement.conditions:
            block.setdefault(condition.operator, {})[condition.key] = list(condition.values)
        document["Condition"] = block
    return document


def serialise(policy: Policy) -> Doc:
    """A parsed policy written back as an IAM JSON policy document."""
    document: Doc = {}
    if policy.version is not None:
        document["Version"] = policy.version
    if policy.id is not None:
        document["Id"] = policy.id
    document["Statement"] = [_statement_document(s) for s in policy.statements]
    return document


principals = st.just("*") | st.dictionaries(
    st.sampled_from(["AWS", "Service", "Federated"]),
    _one_or_many(
        st.sampled_from(
            [
                "arn:aws:iam::111122223333:root",
                "123456789012",
                "*",
                "ec2.amazonaws.com",
                "arn:aws:iam::123456789012:saml-provider/okta",
            ]
        )
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def trust_documents(draw: st.DrawFn) -> Doc:
    body = []
    for _ in range(draw(st.integers(0, 3))):
        statement: Doc = {
            "Effect": draw(st.sampled_from(["Allow", "Deny"])),
            "Action": draw(_one_or_many(st.sampled_from(["sts:AssumeRole", "sts:*", "*", "sts:TagSession"]))),
        }
        statement["NotPrincipal" if draw(st.integers(0, 6)) == 0 else "Principal"] = draw(principals)
        if draw(st.booleans()):
            statement["Condition"] = draw(condition_blocks())
        body.append(statement)
    return {"Version": "2012-10-17", "Statement": body}


@PROPERTY
@given(document=documents())
def test_parse_serialise_parse_round_trip(document: Doc) -> None:
    policy = parse_policy(document)
    assert parse_policy(serialise(policy)) == policy
    assert parse_policy(json.dumps(serialise(policy))) == policy
    assert parse_policy(quote(json.dumps(serialise(policy)))) == policy  # as the IAM API encodes them


@PROPERTY
@given(document=trust_documents())
def test_trust_policies_round_trip_and_audit(document: Doc) -> None:
    policy = parse_policy(document, kind=PolicyKind.TRUST)
    assert parse_policy(serialise(policy), kind=PolicyKind.TRUST) == policy
    role = Role(name="r", arn="arn:aws:iam::123456789012:role/r", source="fuzz", trust_policy=policy)
    result = audit_trust(role, TrustSettings(zeet_account_id="111122223333", external_id="zeet-ext-5f2c9a7e"))
    assert result.findings


# --- hostile input -------------------------------------------------------------------------------

WORDS = [
    "Version",
    "Statement",
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
    "Allow",
    "Deny",
    "*",
    "2012-10-17",
    "AWS",
    "Service",
    "StringEquals",
    "ForAnyValue:StringLike",
    "NullIfExists",
    "Null",
    "IfExists",
    "s3:GetObject",
    "sts:ExternalId",
    "${aws:username}",
    "${",
    "}",
    "arn:aws:s3:::b/*",
    "RoleName",
    "Arn",
    "RolePolicyList",
    "PolicyDocument",
    "PolicyName",
    "AttachedManagedPolicies",
    "PolicyArn",
    "PermissionsBoundary",
    "PermissionsBoundaryArn",
    "AssumeRolePolicyDocument",
    "Policies",
    "PolicyVersionList",
    "Document",
    "IsDefaultVersion",
    "Type",
    "Properties",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "Roles",
    "ManagedPolicyArns",
    "Ref",
    "Fn::Sub",
    "Fn::Join",
    "Fn::If",
    "Fn::GetAtt",
    "Fn::FindInMap",
    "Fn::Select",
    "Fn::Split",
    "Fn::ImportValue",
    "Fn::Base64",
    "Fn::ToJsonString",
    "Fn::Length",
    "AWS::NoValue",
    "Parameters",
    "Default",
    "Conditions",
    "Mappings",
    "values",
    "resources",
    "address",
    "type",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_policy",
    "aws_iam_role_policy_attachment",
    "policy",
    "role",
    "name",
    "inline_policy",
    "managed_policy_arns",
    "child_modules",
    "root_module",
    "policy_arn",
    "after_unknown",
    "resource_changes",
    "change",
    "after",
    "configuration",
    "expressions",
    "references",
    "constant_value",
    "IsTruncated",
    "Role",
    "RoleDetailList",
    "MaxSessionDuration",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "\x00",
    "\n",
    "\x1b[2J",
    "\u2028",
    "é",
]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(WORDS)
    | st.text(max_size=6)
)
json_keys = st.sampled_from(WORDS) | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_keys, inner, max_size=5),
    max_leaves=30,
)


def _replace_somewhere(document: Any, replacement: Any, choices: list[int]) -> Any:
    """``document`` with one subtree (chosen by ``choices``) replaced."""
    if not choices or not isinstance(document, dict | list) or not document:
        return replacement
    if isinstance(document, dict):
        key = list(document)[choices[0] % len(document)]
        return {**document, key: _replace_somewhere(document[key], replacement, choices[1:])}
    position = choices[0] % len(document)
    return [
        *document[:position],
        _replace_somewhere(document[position], replacement, choices[1:]),
        *document[position + 1 :],
    ]


def _parse_and_use(candidate: Any, kind: PolicyKind) -> None:
    try:
        policy = parse_policy(candidate, kind=kind)
    except PolicyError as error:
        problem: str | None = str(error)
    else:
        problem = None
    if problem is not None:
        assert problem.isprintable()  # one line, fit for a terminal
        return
    if kind is PolicyKind.IDENTITY:
        for context in (None, {"aws:username": "zeet"}):
            evaluate("s3:GetObject", "arn:aws:s3:::b/k", [policy], context=context)
    else:
        role = Role(name="r", arn="arn:aws:iam::123456789012:role/r", source="fuzz", trust_policy=policy)
        audit_trust(role, TrustSettings(zeet_account_id="111122223333", external_id="x"))


@FUZZ
@given(candidate=json_values, kind=st.sampled_from(list(PolicyKind)))
def test_random_json_raises_only_policy_errors(candidate: Any, kind: PolicyKind) -> None:
    _parse_and_use(candidate, kind)
    text = json.dumps(candidate)
    _parse_and_use(text, kind)
    _parse_and_use(quote(text), kind)


@FUZZ
@given(
    document=documents() | trust_documents(),
    replacement=json_values,
    choices=st.lists(st.integers(0, 10), max_size=6),
    kind=st.sampled_from(list(PolicyKind)),
)
def test_damaged_policies_raise_only_policy_errors(
    document: Doc, replacement: Any, choices: list[int], kind: PolicyKind
) -> None:
    _parse_and_use(_replace_somewhere(document, replacement, choices), kind)


ROLE = {"RoleName": "r", "Arn": "arn:aws:iam::123456789012:role/r"}
SKELETONS: list[Callable[[Any], Any]] = [
    lambda x: x,
    lambda x: {"RoleDetailList": [{**ROLE, "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": x}]}]},
    lambda x: {"RoleDetailList": [{**ROLE, "AssumeRolePolicyDocument": x}]},
    lambda x: {"RoleDetailList": [x]},
    lambda x: {
        "RoleDetailList": [
            {
                **ROLE,
                "AttachedManagedPolicies": [{"PolicyName": "p", "PolicyArn": "arn:aws:iam::123456789012:policy/p"}],
            }
        ],
        "Policies": [{"PolicyName": "p", "Arn": "arn:aws:iam::123456789012:policy/p", "PolicyVersionList": x}],
    },
    lambda x: {"Role": x},
    lambda x: {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": x}}},
    lambda x: {
        "Parameters": {"P": {"Type": "String"}},
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "r",
                    "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [x]}}],
                },
            }
        },
    },
    lambda x: {
        "Resources": {
            "R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r"}},
            "P": {"Type": "AWS::IAM::Policy", "Properties": x},
        }
    },
    lambda x: {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [{"address": "aws_iam_role.r", "type": "aws_iam_role", "name": "r", "values": x}]
            }
        },
    },
    lambda x: {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {"address": "aws_iam_role.r", "type": "aws_iam_role", "name": "r", "values": {"name": "r"}},
                    {"address": "aws_iam_role_policy.p", "type": "aws_iam_role_policy", "name": "p", "values": x},
                ]
            }
        },
        "configuration": x,
    },
]
RULES = load_rules(catalog=load_catalog())
OPTIONS = AuditOptions(
    features=("view-logs", "secrets-manager"),
    trust=TrustSettings(zeet_account_id="111122223333", external_id="zeet-ext-5f2c9a7e"),
)


def _load_audit_render(path: Path) -> None:
    try:
        source = load_file(path)
    except ZeetIamAuditError as error:
        problem: str | None = str(error)
    else:
        problem = None
    if problem is not None:
        assert "\n" not in problem  # the CLI prints it as one line
        assert "\r" not in problem
        return
    report = audit_roles(source.roles, RULES, load_catalog(), OPTIONS, tool_version="fuzz")
    for name in FORMATS:
        OutputFormat(name).implementation().render(report, RenderOptions(root=path.parent)).encode("utf-8")


@FILES
@given(value=json_values, skeleton=st.sampled_from(SKELETONS), syntax=st.sampled_from(["json", "yaml"]))
def test_random_files_raise_only_tool_errors(value: Any, skeleton: Callable[[Any], Any], syntax: str) -> None:
    document = skeleton(value)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"input.{syntax}"
        text = json.dumps(document) if syntax == "json" else yaml.safe_dump(document, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        _load_audit_render(path)


@FILES
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".json", ".yaml", ""]))
def test_random_bytes_raise_only_tool_errors(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"input{suffix}"
        path.write_bytes(data)
        _load_audit_render(path)
