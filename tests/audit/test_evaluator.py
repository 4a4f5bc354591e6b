"""The audit's questions to the evaluator (zeet_iam_audit/audit/evaluator.py): the literal request for
an action that takes no resources, the whole scope for one that does, end to end from an
authorization-details file as ``aws iam get-account-authorization-details`` prints it.

AWS evaluates an action that takes no resource-level permissions on the resource ``*``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html: "some
actions don't support resource-level permissions ... specify a wildcard (*)"), so a
``Deny ... NotResource [other resources]`` applies to it, and an ``Allow ... NotResource [...]`` grants
it (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zeet_iam_audit.audit.action_sets import action_index
from zeet_iam_audit.audit.engine import AuditOptions, audit_roles
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.report import FeatureResult, FeatureStatus, RoleReport
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.model import Role
from zeet_iam_audit.policy.evaluate import GET_CALLER_IDENTITY_NOTE, KEY_POLICY_NOTE, Decision
from zeet_iam_audit.rules import RuleSet
from zeet_iam_audit.sources import load_file

from .support import make_role, statement

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "gaad" / "bucket-guard.json"
GUARD = "identity-based policy 'only-zeet-buckets' Statement[0] (Sid \"OnlyZeetBuckets\")"


@pytest.fixture(scope="module")
def roles() -> dict[str, Role]:
    return {role.name: role for role in load_file(FIXTURE).roles}


@pytest.fixture(scope="module")
def guarded(roles: dict[str, Role], rules: RuleSet, catalog: Catalog) -> RoleReport:
    options = AuditOptions(trust=TrustSettings(zeet_account_id="111122223333"))
    report = audit_roles([roles["zeet-bucket-guard"]], rules, catalog, options, tool_version="test")
    (role,) = report.roles
    return role


def _feature(role: RoleReport, feature: str) -> FeatureResult:
    return next(f for f in role.features if f.id == feature)


def test_only_our_buckets_guard_denies_view_metrics(guarded: RoleReport) -> None:
    metrics = _feature(guarded, "view-metrics")
    assert metrics.status is FeatureStatus.MISSING
    (group,) = metrics.missing
    assert (group.service, group.layer) == ("cloudwatch", "explicit deny")
    assert set(group.actions) == {"cloudwatch:GetMetricData", "cloudwatch:ListMetrics"}
    assert tuple(map(str, group.statements)) == (GUARD,)
    assert metrics.conditional == ()


def test_only_our_buckets_guard_denies_every_describe_of_container_management(
    guarded: RoleReport, rules: RuleSet
) -> None:
    containers = _feature(guarded, "container-management")
    assert containers.status is FeatureStatus.MISSING
    denied = {action for group in containers.missing if group.layer == "explicit deny" for action in group.actions}
    describes = {
        r.action
        for rule in rules
        if rule.id == "container-management"
        for r in rule.required
        if ":Describe" in r.action
    }
    assert describes
    assert describes <= denied
    assert not any(":Describe" in open_.action for open_ in containers.conditional)


def test_only_our_buckets_guard_leaves_our_buckets_open(guarded: RoleReport) -> None:
    # Terraform state lives in some bucket: the guard spares zeet-* ones, so it depends on which.
    terraform = _feature(guarded, "terraform-modules")
    assert terraform.status is FeatureStatus.CONDITIONAL
    assert all(open_.action.startswith("s3:") for open_ in terraform.conditional)


@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        pytest.param("sagemaker:ListModels", "*", Decision.ALLOWED, id="no-resource-action-granted"),
        pytest.param(
            "sagemaker:CreateModel",
            "arn:aws:sagemaker:us-east-1:123456789012:model/m",
            Decision.ALLOWED,
            id="resource-outside-the-list",
        ),
        pytest.param(
            "sagemaker:CreatePresignedDomainUrl",
            "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/alice",
            Decision.IMPLICIT_DENY,
            id="resource-in-the-list",
        ),
        pytest.param(
            "sagemaker:DeleteDomain", "arn:aws:sagemaker:*:*:domain/*", Decision.IMPLICIT_DENY, id="scope-in-the-list"
        ),
    ],
)
def test_allow_with_not_resource_grants_what_it_does_not_list(
    roles: dict[str, Role], catalog: Catalog, action: str, resource: str, expected: Decision
) -> None:
    evaluator = RoleEvaluator(roles["zeet-sagemaker-models"], index=action_index(catalog))
    assert evaluator.decide(action, resource).decision is expected


@pytest.mark.parametrize(
    ("statements", "resource_level", "expected"),
    [
        # A scoped Allow never grants the request on "*" (the action takes no resource).
        pytest.param(
            [statement("ec2:DescribeVpcs", "arn:aws:ec2:*:*:vpc/*")],
            False,
            Decision.IMPLICIT_DENY,
            id="scoped-allow-no-resource-action",
        ),
        # ...but covers part of the scope of an action that takes resources.
        pytest.param(
            [statement("ec2:DeleteVpc", "arn:aws:ec2:*:*:vpc/*")],
            True,
            Decision.CONDITIONAL,
            id="scoped-allow-resource-action",
        ),
        # A Deny on one resource never applies to the request on "*".
        pytest.param(
            [statement("ec2:*"), statement("ec2:*", "arn:aws:ec2:*:*:vpc/vpc-1", "Deny")],
            False,
            Decision.ALLOWED,
            id="deny-on-one-resource-no-resource-action",
        ),
        pytest.param(
            [statement("ec2:*"), statement("ec2:*", "arn:aws:ec2:*:*:vpc/vpc-1", "Deny")],
            True,
            Decision.CONDITIONAL,
            id="deny-on-one-resource-resource-action",
        ),
    ],
)
def test_requirement_on_star_asks_the_literal_request_when_the_action_takes_no_resource(
    statements: list[dict[str, object]], resource_level: bool, expected: Decision
) -> None:
    action = "ec2:DescribeVpcs" if not resource_level else "ec2:DeleteVpc"
    evaluator = RoleEvaluator(make_role(*statements))
    decision = evaluator.decide_requirement(action, "*", resource_level=resource_level)
    assert decision.decision is expected, decision.result.explain()


def test_decide_and_decide_requirement_do_not_share_answers(catalog: Catalog) -> None:
    # An Allow on part of "*" is conditional for a requirement, no allow for decide(): each
    # question keeps its own memo entry, whichever is asked first.
    role = make_role(statement("iam:PassRole", "arn:aws:iam::*:role/zeet-*"))
    evaluator = RoleEvaluator(role, index=action_index(catalog))
    assert evaluator.decide_requirement("iam:PassRole", "*").decision is Decision.CONDITIONAL
    assert evaluator.decide("iam:PassRole", "*").decision is Decision.IMPLICIT_DENY


def test_kms_key_requirement_is_conditional_with_the_key_policy_reason(rules: RuleSet, catalog: Catalog) -> None:
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html: identity-based
    # policies alone never give access to a KMS key.
    options = AuditOptions(
        features=("container-management",),
        variants=frozenset({"secrets-encryption"}),
        trust=TrustSettings(zeet_account_id="111122223333"),
    )
    report = audit_roles([make_role(statement("*"))], rules, catalog, options, tool_version="test")
    (feature,) = report.roles[0].features
    assert feature.status is FeatureStatus.CONDITIONAL
    assert feature.missing == ()
    keyed = [open_ for open_ in feature.conditional if ":key/" in open_.resource]
    assert keyed
    assert len(keyed) == len(feature.conditional)
    assert all(open_.reasons == (KEY_POLICY_NOTE,) for open_ in keyed)


def test_get_caller_identity_is_allowed_though_no_policy_names_it(catalog: Catalog) -> None:
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    evaluator = RoleEvaluator(
        make_role(statement("s3:GetObject"), statement("sts:*", effect="Deny")), index=action_index(catalog)
    )
    decision = evaluator.decide_requirement("sts:GetCallerIdentity", "*", resource_level=False)
    assert decision.decision is Decision.ALLOWED
    assert decision.reasons == (GET_CALLER_IDENTITY_NOTE,)


def test_a_context_with_several_values_is_one_request_per_value() -> None:
    # RequiredAction: "iam:PassedToService with EKS and EC2 means both must be allowed".
    only_eks = statement("iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": "eks.amazonaws.com"}})
    evaluator = RoleEvaluator(make_role(only_eks))
    context = (("iam:PassedToService", ("eks.amazonaws.com", "ec2.amazonaws.com")),)
    assert evaluator.decide_requirement("iam:PassRole", "*", context).decision is Decision.IMPLICIT_DENY
    both = statement(
        "iam:PassRole", Condition={"StringEquals": {"iam:PassedToService": ["eks.amazonaws.com", "ec2.amazonaws.com"]}}
    )
    assert RoleEvaluator(make_role(both)).decide_requirement("iam:PassRole", "*", context).decision is Decision.ALLOWED


@pytest.mark.parametrize("fixture", ["zeet-account.json", "bucket-guard.json"])
def test_the_naming_policies_read_from_the_focus_are_those_the_policies_name(
    rules: RuleSet, catalog: Catalog, fixture: str
) -> None:
    """The evaluator passes the policies that name an action, read from the focus's masks, to the
    policy set; every required action's decision must be the one the policy set reaches when it asks
    each policy itself."""
    from zeet_iam_audit.audit.engine import Auditor
    from zeet_iam_audit.audit.features import required_actions
    from zeet_iam_audit.policy.evaluate import PolicySet

    auditor = Auditor(rules, catalog, AuditOptions())
    focus = auditor.plans[0].focus
    assert focus is not None
    checked = 0
    for role in load_file(Path("fixtures/gaad") / fixture).roles:
        evaluator = RoleEvaluator(role, index=auditor.index, memo=auditor.memo)
        evaluator.unnamed(focus, focus.all)  # the focus view, as the audit makes it
        alone = PolicySet.build(
            [ap.policy for ap in role.policies if ap.policy is not None],
            role.permissions_boundary.policy if role.permissions_boundary else None,
        )
        for plan in auditor.plans:
            for requirement in required_actions(plan.rule, ()):
                named = evaluator._named(requirement.action)
                if named is None:
                    continue
                lowered = requirement.action.lower()
                assert named == tuple(p for p in evaluator.policy_set.identity if p.candidates(lowered))
                via_focus = evaluator.policy_set.decide_scope(requirement.action, "*", named=named)
                asked = alone.decide_scope(requirement.action, "*")
                assert (via_focus.decision, str(via_focus.deciding)) == (asked.decision, str(asked.deciding))
                checked += 1
    assert checked > 100
