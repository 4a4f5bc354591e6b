"""Feature audit over the real rules: ok, missing (with the blocking layer), conditional, unknown."""

from __future__ import annotations

import pytest

from zeet_iam_audit.audit.engine import AuditOptions, audit_role
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.features import audit_feature, required_actions
from zeet_iam_audit.audit.report import FeatureStatus
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.errors import UsageError
from zeet_iam_audit.rules import RuleSet

from .support import CUSTOMER, EXTERNAL, ZEET, make_role, statement

CAPACITY = "cluster-capacity-monitoring"
OPTIONS = AuditOptions(trust=TrustSettings(zeet_account_id=ZEET, external_id=EXTERNAL))


def _capacity_actions(rules: RuleSet) -> list[str]:
    return [r.action for r in required_actions(rules[CAPACITY], ())]


def _feature(rules: RuleSet, catalog: Catalog, role, feature: str = CAPACITY):  # type: ignore[no-untyped-def]
    return audit_feature(rules[feature], RoleEvaluator(role), (), (), catalog)


def test_admin_role_passes_every_feature_in_default_mode(rules: RuleSet, catalog: Catalog) -> None:
    report = audit_role(make_role(statement("*")), rules, catalog, OPTIONS)
    assert {f.status for f in report.features} == {FeatureStatus.OK}
    assert report.default_mode.mode == "default"
    assert report.trust.status.value == "ok"
    assert any(r.action == "*" for r in report.excess.risky)


def test_exact_grant_of_every_required_action_is_ok(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(*[statement(r.action, list(r.resources)) for r in required_actions(rules[CAPACITY], ())])
    assert _feature(rules, catalog, role).status is FeatureStatus.OK


def test_missing_sqs_is_grouped_under_the_guides_display_name(rules: RuleSet, catalog: Catalog) -> None:
    grants = [a for a in _capacity_actions(rules) if not a.startswith("sqs:")]
    result = _feature(rules, catalog, make_role(statement(grants)))
    assert result.status is FeatureStatus.MISSING
    (group,) = result.missing
    assert (group.display, group.service, group.layer) == ("SQS", "sqs", "no allow")
    assert "sqs:CreateQueue" in group.actions
    assert "sqs:ReceiveMessage" in group.actions
    assert result.summary().startswith("Cluster Capacity Monitoring lacks SQS: ")
    assert result.summary().endswith("(no identity-based policy allows them)")


def test_explicit_deny_on_sqs_names_the_statement(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(statement("*"), statement("sqs:*", effect="Deny", Sid="NoQueues"))
    result = _feature(rules, catalog, role)
    (group,) = result.missing
    assert group.layer == "explicit deny"
    assert 'Sid "NoQueues"' in str(group.statements[0])


def test_conditional_deny_makes_the_feature_conditional_not_missing(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(
        statement("*"), statement("sqs:*", effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}})
    )
    result = _feature(rules, catalog, role)
    assert result.status is FeatureStatus.CONDITIONAL
    assert all(item.keys == ("aws:SecureTransport",) and item.gates == ("Deny",) for item in result.conditional)


def test_boundary_without_sqs_blocks_at_the_boundary(rules: RuleSet, catalog: Catalog) -> None:
    boundary = statement(["sns:*", "events:*", "cloudwatch:*", "eks:*", "autoscaling:*"])
    role = make_role(statement("*"), boundary=[boundary])
    result = _feature(rules, catalog, role)
    (group,) = result.missing
    assert (group.display, group.layer) == ("SQS", "permissions boundary")


def test_region_locked_allow_is_conditional(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(statement("*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))
    result = _feature(rules, catalog, role)
    assert result.status is FeatureStatus.CONDITIONAL
    assert result.conditional[0].keys == ("aws:RequestedRegion",)
    assert result.conditional[0].gates == ("Allow",)


def test_grant_in_the_roles_own_account_covers_the_scope(rules: RuleSet, catalog: Catalog) -> None:
    grants = [
        statement(a, f"arn:aws:{a.split(':')[0]}:*:{CUSTOMER}:*")
        for a in _capacity_actions(rules)
        if a.split(":")[0] in ("sns", "sqs")
    ]
    others = [a for a in _capacity_actions(rules) if a.split(":")[0] not in ("sns", "sqs")]
    result = _feature(rules, catalog, make_role(*grants, statement(others)))
    assert result.status is FeatureStatus.OK


def test_grant_on_part_of_the_scope_is_conditional_with_the_reason(rules: RuleSet, catalog: Catalog) -> None:
    grants = [a for a in _capacity_actions(rules) if not a.startswith("sqs:")]
    role = make_role(statement(grants), statement("sqs:*", f"arn:aws:sqs:us-east-1:{CUSTOMER}:zeet-*"))
    result = _feature(rules, catalog, role)
    assert result.status is FeatureStatus.CONDITIONAL
    assert "an Allow covers only part of" in result.conditional[0].reasons[0]


def test_action_without_resource_level_needs_star(rules: RuleSet, catalog: Catalog) -> None:
    # secretsmanager:ListSecrets takes no resource-level permissions: a scoped grant never works.
    role = make_role(statement("secretsmanager:*", "arn:aws:secretsmanager:*:*:secret:zeet-*"))
    result = _feature(rules, catalog, role, "secrets-manager")
    missing = {a for g in result.missing for a in g.actions}
    assert "secretsmanager:ListSecrets" in missing


def test_unreadable_policy_makes_verdicts_unknown_never_ok(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(statement(_capacity_actions(rules)), unreadable="arn:aws:iam::aws:policy/Mystery")
    result = _feature(rules, catalog, role)
    assert result.status is FeatureStatus.UNKNOWN
    assert "cannot read arn:aws:iam::aws:policy/Mystery offline" in result.unknown[0].reasons


def test_unreadable_policy_does_not_hide_a_certain_deny(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(statement("*"), statement("sqs:*", effect="Deny"), unreadable="arn:aws:iam::aws:policy/X")
    result = _feature(rules, catalog, role)
    assert result.status is FeatureStatus.MISSING
    assert result.missing[0].layer == "explicit deny"


def test_feature_selection_and_variants(rules: RuleSet, catalog: Catalog) -> None:
    options = AuditOptions(features=("serverless-lambda",), variants=frozenset({"custom-domain"}))
    report = audit_role(make_role(statement("*")), rules, catalog, options)
    assert [f.id for f in report.features] == ["serverless-lambda"]
    assert report.features[0].variants == ("custom-domain",)
    base = len(required_actions(rules["serverless-lambda"], ()))
    assert report.features[0].required > base


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(
            AuditOptions(features=("capacity",)), "--features: unknown feature capacity", id="unknown-feature"
        ),
        pytest.param(AuditOptions(variants=frozenset({"nope"})), "--with: unknown variant nope", id="unknown-variant"),
    ],
)
def test_bad_selection_is_a_usage_error(rules: RuleSet, catalog: Catalog, options: AuditOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        audit_role(make_role(statement("*")), rules, catalog, options)


def test_plan_without_fine_grained_requires_administrator(rules: RuleSet, catalog: Catalog) -> None:
    options = AuditOptions(plan="Hobby", features=("cloud-connection", CAPACITY))
    role = make_role(statement(_capacity_actions(rules)))
    report = audit_role(role, rules, catalog, options)
    connection = report.features[0]
    assert connection.status is FeatureStatus.MISSING
    assert connection.missing[-1].display == "Account Administrator"
    assert report.default_mode.mode == "default"
    assert any("cannot customise" in f for f in report.default_mode.findings)


def test_pro_plan_allows_fine_grained(rules: RuleSet, catalog: Catalog) -> None:
    options = AuditOptions(plan="Pro", features=("cloud-connection",), trust=OPTIONS.trust)
    report = audit_role(make_role(statement("sqs:*")), rules, catalog, options)
    assert report.features[0].status is FeatureStatus.OK
    assert report.default_mode.mode == "fine-grained"


def test_excess_counts_what_no_feature_needs(rules: RuleSet, catalog: Catalog) -> None:
    options = AuditOptions(features=(CAPACITY,))
    role = make_role(
        statement(_capacity_actions(rules)), statement(["s3:GetObject", "iam:PassRole", "ec2:RunInstances"])
    )
    excess = audit_role(role, rules, catalog, options).excess
    assert excess.total == 3
    assert {s.service for s in excess.services} == {"s3", "iam", "ec2"}
    assert [r.action for r in excess.risky] == ["iam:PassRole + ec2:RunInstances"]
