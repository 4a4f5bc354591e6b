"""Policy documents found in an input, attached to a role: parsed, or unknown with a reason naming the
file and the place, never dropped (fail-closed). A problem that sits on a value the source could not
resolve says so instead of blaming the grammar; one AWS would refuse is an ``InvalidPolicy``."""

from __future__ import annotations

from typing import Any

import pytest

from zeet_iam_audit.model import AttachedPolicy, InvalidPolicy, Origin, Policy, PolicyKind, Route, Unresolved
from zeet_iam_audit.sources.attach import (
    attach_document,
    find_unresolved,
    read_policy,
    read_trust,
    unknown_attachment,
)
from zeet_iam_audit.sources.shape import Locator

TEMPLATE = Locator("zeet-role.yaml")
ROUTE: Route = ("Resources", "ZeetRole", "Properties", "Policies", 0, "PolicyDocument")
PATH = "Resources.ZeetRole.Properties.Policies[0].PolicyDocument"  # the route as messages write it
BUCKET_PARAMETER = Unresolved("Ref StateBucket (a parameter without a default; pass --parameter StateBucket=VALUE)")
STATEMENT: dict[str, Any] = {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:FilterLogEvents"], "Resource": "*"}
DOCUMENT = {"Version": "2012-10-17", "Statement": [STATEMENT]}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "zeet-ext-5f2c9a7e"}},
        }
    ],
}


def _with_statement(**changes: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{**STATEMENT, **changes}]}


@pytest.mark.parametrize(
    ("value", "found"),
    [
        pytest.param(DOCUMENT, None, id="nothing-unresolved"),
        pytest.param(BUCKET_PARAMETER, BUCKET_PARAMETER, id="the-value-itself"),
        pytest.param(
            _with_statement(Resource=["arn:aws:s3:::a", BUCKET_PARAMETER]), BUCKET_PARAMETER, id="deep-in-a-list"
        ),
        pytest.param(
            [{"a": Unresolved("first")}, Unresolved("second")], Unresolved("first"), id="the-first-depth-first"
        ),
    ],
)
def test_find_unresolved(value: Any, found: Unresolved | None) -> None:
    assert find_unresolved(value) == found


def test_a_document_that_parses_is_a_policy_with_its_origin() -> None:
    policy = read_policy(DOCUMENT, locator=TEMPLATE, route=ROUTE, name="ZeetMonitoring")
    assert isinstance(policy, Policy)
    assert policy.name == "ZeetMonitoring"
    assert policy.origin == Origin("zeet-role.yaml", ROUTE)
    assert str(policy.origin) == f"zeet-role.yaml: {PATH}"
    assert [statement.sid for statement in policy.statements] == ["Logs"]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        pytest.param(
            BUCKET_PARAMETER,
            f"zeet-role.yaml: {PATH}: the document could not be resolved: {BUCKET_PARAMETER.reason}",
            id="the-whole-document-unresolved",
        ),
        pytest.param(
            _with_statement(Effect=Unresolved("Ref EffectParameter (a parameter without a default)")),
            f"zeet-role.yaml: {PATH}.Statement[0].Effect: depends on a value that could not be resolved: "
            "Ref EffectParameter (a parameter without a default)",
            id="the-grammar-fails-on-an-unresolved-value",
        ),
    ],
)
def test_an_unresolved_document_says_what_could_not_be_resolved(document: Any, reason: str) -> None:
    assert read_policy(document, locator=TEMPLATE, route=ROUTE, name="ZeetMonitoring") == reason


def test_a_document_aws_would_refuse_is_an_invalid_policy_naming_the_place() -> None:
    result = read_policy(_with_statement(Effect="Maybe"), locator=TEMPLATE, route=ROUTE, name="ZeetMonitoring")
    assert isinstance(result, InvalidPolicy)
    assert (result.file, result.path, result.policy) == (
        "zeet-role.yaml",
        f"{PATH}.Statement[0].Effect",
        "ZeetMonitoring",
    )
    assert result.problem.startswith("expected Allow or Deny")
    assert str(result) == f"zeet-role.yaml: {PATH}.Statement[0].Effect: {result.problem}"


def test_a_document_nested_past_the_recursion_limit_is_invalid_not_a_crash() -> None:
    deep: Any = "s3:GetObject"
    for _ in range(5000):
        deep = [deep]
    result = read_policy(_with_statement(Action=deep), locator=TEMPLATE, route=ROUTE, name="Deep")
    assert isinstance(result, str)
    assert not isinstance(result, Policy)
    assert result.startswith(f"zeet-role.yaml: {PATH}")


def test_attach_document_keeps_the_attachment_fields_either_way() -> None:
    good = attach_document(
        DOCUMENT,
        locator=TEMPLATE,
        route=ROUTE,
        name="ZeetMonitoring",
        inline=True,
        attachment_route=ROUTE[:-1],
    )
    assert (good.name, good.arn, good.inline, good.unknown_reason) == ("ZeetMonitoring", None, True, None)
    assert good.origin == Origin("zeet-role.yaml", ("Resources", "ZeetRole", "Properties", "Policies", 0))
    assert good.policy is not None
    bad = attach_document(
        _with_statement(Effect="Maybe"),
        locator=Locator("gaad.json"),
        route=("$", "Policies", 4, "PolicyVersionList", 0, "Document"),
        name="ZeetSecrets",
        arn="arn:aws:iam::123456789012:policy/ZeetSecrets",
    )
    assert bad.policy is None
    assert isinstance(bad.unknown_reason, InvalidPolicy)
    assert str(bad.origin) == "gaad.json: $.Policies[4].PolicyVersionList[0].Document"
    assert bad.arn == "arn:aws:iam::123456789012:policy/ZeetSecrets"


def test_unknown_attachment() -> None:
    assert unknown_attachment(
        name="ReadOnlyAccess",
        arn="arn:aws:iam::aws:policy/ReadOnlyAccess",
        origin=Origin("role.json", ("$", "AttachedPolicies", 0)),
        reason="the file does not include the managed policy's document",
    ) == AttachedPolicy(
        name="ReadOnlyAccess",
        arn="arn:aws:iam::aws:policy/ReadOnlyAccess",
        policy=None,
        origin=Origin("role.json", ("$", "AttachedPolicies", 0)),
        unknown_reason="the file does not include the managed policy's document",
    )


@pytest.mark.parametrize(
    ("document", "policy", "reason"),
    [
        pytest.param(TRUST, True, None, id="a-trust-policy"),
        pytest.param(
            None,
            False,
            "role.json: $.Role.AssumeRolePolicyDocument: missing (the file does not include the trust policy)",
            id="missing",
        ),
        pytest.param(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]},
            False,
            "role.json: $.Role.AssumeRolePolicyDocument.Statement[0]",
            id="a-trust-policy-without-a-principal",
        ),
    ],
)
def test_read_trust(document: Any, policy: bool, reason: str | None) -> None:
    found, why = read_trust(
        document, locator=Locator("role.json"), route=("$", "Role", "AssumeRolePolicyDocument"), name="trust"
    )
    assert (found is not None) is policy
    if policy:
        assert found is not None
        assert found.kind is PolicyKind.TRUST
        assert why is None
    else:
        assert why is not None
        assert reason is not None
        assert why.startswith(reason)
