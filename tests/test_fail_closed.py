"""Fail closed: every place the audit cannot evaluate gives "unknown" with its reason, never "ok".

Each case is a small, real-shaped input under ``tests/hostile/fail_closed/`` holding exactly one
thing the tool cannot know, next to an ``Allow * on *`` that would make everything "ok" without it.
The walk checks three things for each: the verdicts that depend on the unknown are "unknown" (or at
worst not "ok"), the report says why, and ``--fail-on unknown`` makes the exit code 1.

The sources of unknown walked here:

==============================  ==============================================================
CloudFormation                  ``!Ref`` to a parameter without a default, ``!ImportValue``,
                                ``!GetAtt`` of another resource, an undecided ``!If`` document,
                                a ``ManagedPolicyArns`` list parameter, a boundary ARN import,
                                a condition value that is unresolved (also under ``Null`` on a
                                key the audit knows), trust principals, external ids and Deny
                                principals that are unresolved
Terraform                       a policy known only after apply
authorization details (GAAD)    invalid documents, an unknown condition operator, a missing
                                inline document, a customer managed policy not in the file, a
                                managed policy without a default version, an AWS managed policy
                                (and boundary) not shipped offline, invalid and missing trust
SCPs                            not listable (``AuditOptions(scp_unknown_reason=...)``); the live
                                path is walked in ``tests/live_faults/``
==============================  ==============================================================
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from zeet_iam_audit.audit.engine import AuditOptions, audit_roles
from zeet_iam_audit.audit.report import FeatureResult, FeatureStatus, RoleReport, TrustStatus
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import Catalog, load_catalog
from zeet_iam_audit.cli import main
from zeet_iam_audit.errors import PolicyError
from zeet_iam_audit.model import Role, Unresolved
from zeet_iam_audit.policy.evaluate import Decision, evaluate
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.rules import RuleSet, load_rules
from zeet_iam_audit.sources import load_file

CASES_DIR = Path(__file__).resolve().parent / "hostile" / "fail_closed"
ZEET = "111122223333"
EXTERNAL = "zeet-ext-5f2c9a7e"
ALL = "all"  # every feature that requires at least one action
# Features that need iam:PassRole (with iam:PassedToService in their context).
PASS_ROLE_FEATURES = frozenset({"container-management", "serverless-lambda"})


@dataclass(frozen=True)
class Case:
    file: str
    role: str
    unknown_features: str | frozenset[str]  # ALL, or the feature ids that depend on the unknown
    trust: TrustStatus
    reason: str  # a fragment of the reason the report must give


CASES = [
    # CloudFormation: values only known at deployment.
    Case(
        "cfn-ref-no-default.yaml",
        "zeet-ref-no-default",
        ALL,
        TrustStatus.OK,
        "Ref ProtectedBucket (a parameter without a default",
    ),
    Case("cfn-importvalue.yaml", "zeet-importvalue", ALL, TrustStatus.OK, "Fn::ImportValue shared-infra-EverythingArn"),
    Case("cfn-getatt.yaml", "zeet-getatt", ALL, TrustStatus.OK, "Fn::GetAtt Cluster.Arn"),
    Case("cfn-condition-unresolved.yaml", "zeet-condition-unresolved", ALL, TrustStatus.OK, "Ref Team"),
    Case(
        "cfn-condition-null-unresolved.yaml",
        "zeet-condition-null-unresolved",
        PASS_ROLE_FEATURES,
        TrustStatus.OK,
        "Ref RequireService",
    ),
    Case(
        "cfn-unresolved-attachments.yaml",
        "zeet-document-unresolved",
        ALL,
        TrustStatus.OK,
        "condition IsProduction could not be decided",
    ),
    Case(
        "cfn-unresolved-attachments.yaml",
        "zeet-managed-list-unresolved",
        ALL,
        TrustStatus.OK,
        "the managed policy list could not be resolved: Ref ExtraPolicyArns",
    ),
    Case(
        "cfn-unresolved-attachments.yaml",
        "zeet-boundary-importvalue",
        ALL,
        TrustStatus.OK,
        "Fn::ImportValue shared-infra-BoundaryPolicyArn",
    ),
    Case(
        "cfn-trust-deny-unresolved.yaml",
        "zeet-trust-deny-unresolved",
        frozenset(),
        TrustStatus.UNKNOWN,
        "Ref BlockedPrincipal",
    ),
    Case(
        "cfn-trust-allow-unresolved.yaml",
        "zeet-trust-principal-unresolved",
        frozenset(),
        TrustStatus.UNKNOWN,
        "Ref ZeetAccountId",
    ),
    Case(
        "cfn-trust-allow-unresolved.yaml",
        "zeet-trust-external-id-unresolved",
        frozenset(),
        TrustStatus.UNKNOWN,
        "does not resolve",
    ),
    # Terraform: known only after apply.
    Case(
        "terraform-after-apply.json",
        "zeet-after-apply",
        ALL,
        TrustStatus.OK,
        "aws_iam_role_policy.guardrail.policy: known only after apply",
    ),
    # Authorization details: unreadable policies.
    Case(
        "gaad-unknowns.json",
        "invalid-document",
        ALL,
        TrustStatus.OK,
        "RolePolicyList[1].PolicyDocument.Statement: expected a statement object",
    ),
    Case("gaad-unknowns.json", "unknown-operator", ALL, TrustStatus.OK, "unknown condition operator 'StringEqualz'"),
    Case(
        "gaad-unknowns.json",
        "aws-managed-not-shipped",
        ALL,
        TrustStatus.OK,
        "cannot read arn:aws:iam::aws:policy/AmazonNotShippedOffline offline",
    ),
    Case(
        "gaad-unknowns.json",
        "customer-managed-missing",
        ALL,
        TrustStatus.OK,
        "cannot read arn:aws:iam::123456789012:policy/NotInThisFile offline",
    ),
    Case(
        "gaad-unknowns.json",
        "boundary-not-shipped",
        ALL,
        TrustStatus.OK,
        "cannot read arn:aws:iam::aws:policy/AmazonNotShippedOffline offline",
    ),
    Case("gaad-unknowns.json", "managed-without-default", ALL, TrustStatus.OK, "no default version with a Document"),
    Case("gaad-unknowns.json", "inline-without-document", ALL, TrustStatus.OK, "no PolicyDocument"),
    Case(
        "gaad-unknowns.json",
        "trust-invalid",
        frozenset(),
        TrustStatus.UNKNOWN,
        "unknown condition operator 'StringEqualz'",
    ),
    Case("gaad-unknowns.json", "trust-missing", frozenset(), TrustStatus.UNKNOWN, "missing"),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def rules(catalog: Catalog) -> RuleSet:
    return load_rules(catalog=catalog)


def _options(**changes: object) -> AuditOptions:
    return AuditOptions(trust=TrustSettings(zeet_account_id=ZEET, external_id=EXTERNAL), check_excess=False, **changes)  # type: ignore[arg-type]


def _role(case: Case) -> Role:
    (role,) = [r for r in load_file(CASES_DIR / case.file).roles if r.name == case.role]
    return role


def _reasons(report: RoleReport) -> str:
    """Every reason the report gives for an unknown, as one text to search."""
    parts = list(report.unknown_policies)
    parts.extend(f.message for f in report.trust.findings)
    for feature in report.features:
        for item in (*feature.unknown, *feature.conditional):
            parts.extend(item.reasons)
    return "\n".join(parts)


def _permission_features(report: RoleReport) -> list[FeatureResult]:
    """The features that rest on the role's permissions. Cloud Connection (in the fine-grained mode
    these tests audit) rests on the trust policy alone: Zeet's sts:AssumeRole is decided by the trust
    policy and Zeet's own account, not by the role's permission policies or its account's SCPs."""
    return [f for f in report.features if f.required > 0 and f.id != "cloud-connection"]


def _depending(report: RoleReport, case: Case) -> set[str]:
    depending = (
        {f.id for f in _permission_features(report)} if case.unknown_features == ALL else set(case.unknown_features)
    )
    if case.trust is TrustStatus.UNKNOWN:
        depending.add("cloud-connection")  # Zeet may or may not be able to assume the role
    return depending


def _case_id(case: Case) -> str:
    return f"{case.file}:{case.role}"


def test_every_case_file_is_walked() -> None:
    walked = {case.file for case in CASES}
    assert walked == {path.name for path in CASES_DIR.iterdir() if path.is_file()}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_what_depends_on_the_unknown_is_unknown(case: Case, rules: RuleSet, catalog: Catalog) -> None:
    report = audit_roles([_role(case)], rules, catalog, _options(), tool_version="test").roles[0]
    statuses = {feature.id: feature.status for feature in report.features}
    depending = _depending(report, case)
    assert depending <= set(statuses)
    assert {f: statuses[f] for f in depending} == dict.fromkeys(depending, FeatureStatus.UNKNOWN)
    # The fixtures allow everything else: what does not depend on the unknown is ok, so the
    # unknown is precise rather than smeared over the whole role.
    assert {f for f, s in statuses.items() if s is not FeatureStatus.OK} == depending
    assert report.trust.status is case.trust
    if case.trust is TrustStatus.UNKNOWN:
        assert not any(f.severity == "ok" for f in report.trust.findings)
    assert case.reason in _reasons(report)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_fail_on_unknown_fails(case: Case) -> None:
    base = [
        "--file",
        str(CASES_DIR / case.file),
        "--role",
        case.role,
        "--zeet-account-id",
        ZEET,
        "--external-id",
        EXTERNAL,
        "--no-excess",
        "--format",
        "json",
    ]
    stdout, stderr = io.StringIO(), io.StringIO()
    assert main([*base, "--fail-on", "unknown"], stdout=stdout, stderr=stderr) == 1, stderr.getvalue()
    document = json.loads(stdout.getvalue())
    (role,) = document["roles"]
    assert role["name"] == case.role
    assert case.reason in json.dumps(role)
    assert "fails on unknown" in stderr.getvalue()


def test_scps_not_listable_make_every_allowed_action_unknown(rules: RuleSet, catalog: Catalog) -> None:
    reason = "AccessDenied on organizations:ListPoliciesForTarget: grant it to read the SCPs"
    role = _role(Case("gaad-unknowns.json", "trust-missing", ALL, TrustStatus.UNKNOWN, ""))  # allows *
    known = audit_roles([role], rules, catalog, _options(), tool_version="test").roles[0]
    assert {f.status for f in _permission_features(known)} == {FeatureStatus.OK}
    report = audit_roles([role], rules, catalog, _options(scp_unknown_reason=reason), tool_version="test").roles[0]
    required = _permission_features(report)
    assert {f.status for f in required} == {FeatureStatus.UNKNOWN}
    assert all(reason in item.reasons for f in required for item in f.unknown)
    assert report.scps == f"unknown: {reason}"
    assert reason in report.unknown_policies


def test_scps_not_listable_do_not_hide_a_missing_allow(rules: RuleSet, catalog: Catalog) -> None:
    """An SCP that cannot be read can only take away: what no identity policy allows stays missing."""
    role = _role(Case("gaad-unknowns.json", "trust-missing", ALL, TrustStatus.UNKNOWN, ""))
    bare = Role(name=role.name, arn=role.arn, source=role.source, trust_policy=role.trust_policy)
    report = audit_roles(
        [bare], rules, catalog, _options(scp_unknown_reason="not listable"), tool_version="test"
    ).roles[0]
    assert {f.status for f in _permission_features(report)} == {FeatureStatus.MISSING}


def test_an_unresolved_condition_value_is_never_allowed() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": Unresolved("Ref Team")}},
            },
        ],
    }
    policy = parse_policy(document)
    for context in (None, {}, {"aws:PrincipalTag/team": "zeet"}, {"aws:PrincipalTag/team": ["a", "b"]}):
        result = evaluate("s3:GetObject", "arn:aws:s3:::b/k", [policy], context=context)
        assert result.decision is Decision.UNKNOWN, context
        assert ("Ref Team",) in [u.unresolved for u in result.uncertain]


@pytest.mark.parametrize(
    "operator",
    [
        "Null",
        "StringEquals",
        "ForAllValues:StringLike",
        "NumericLessThan",
        "BoolIfExists",
        "IpAddress",
        "ArnNotLike",
        "DateGreaterThan",
    ],
)
def test_an_unresolved_value_in_a_deny_condition_keeps_the_deny_open(operator: str) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "iam:PassRole",
                "Resource": "*",
                "Condition": {operator: {"iam:PassedToService": Unresolved("Ref Flag")}},
            },
        ],
    }
    result = evaluate(
        "iam:PassRole", "*", [parse_policy(document)], context={"iam:PassedToService": "eks.amazonaws.com"}
    )
    assert result.decision is Decision.UNKNOWN


def test_an_unknown_operator_is_a_policy_error_not_a_silent_skip() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringEqualz": {"k": "v"}}},
        ],
    }
    with pytest.raises(PolicyError, match=r"Statement\[0\]\.Condition\.StringEqualz: unknown condition operator"):
        parse_policy(document)
