"""fixes.py: every missing group says how to fix it, and the proposed statements really fix it.

The round trip, per feature: a role trusted by Zeet with no permissions lacks every required action;
adding every statement the report proposes, as a policy of the role, makes that feature ok. When a
Deny, the permissions boundary or an SCP blocks the actions, no statement is proposed (an Allow would
not help) and the fix says what must change.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.audit.support import CUSTOMER, make_role, statement
from zeet_iam_audit.audit.engine import AuditOptions, audit_role
from zeet_iam_audit.audit.fixes import propose_fix, proposed_statements
from zeet_iam_audit.audit.report import FeatureResult, FeatureStatus, Mode, RoleReport
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.model import AttachedPolicy, Policy, Role
from zeet_iam_audit.policy.evaluate import KEY_POLICY_NOTE
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.rules import RequiredAction, load_rules

CATALOG = load_catalog()
RULES = load_rules(catalog=CATALOG)
FEATURES = [rule.id for rule in RULES if rule.required]
VARIANTS = frozenset(variant.name for rule in RULES for variant in rule.variants)


def _feature(report: RoleReport, feature_id: str) -> FeatureResult:
    return next(f for f in report.features if f.id == feature_id)


def _with_policy(role: Role, statements: list[dict[str, Any]], name: str = "ZeetFix") -> Role:
    document = {"Version": "2012-10-17", "Statement": statements}
    policy: Policy = parse_policy(document, name=name)
    attached = AttachedPolicy(name=name, arn=None, policy=policy, inline=True)
    return Role(
        name=role.name,
        arn=role.arn,
        source=role.source,
        trust_policy=role.trust_policy,
        policies=(*role.policies, attached),
        permissions_boundary=role.permissions_boundary,
        max_session_duration=role.max_session_duration,
    )


@pytest.mark.parametrize("variants", [frozenset(), VARIANTS], ids=["required", "with-every-variant"])
@pytest.mark.parametrize("feature_id", FEATURES)
def test_adding_the_proposed_statements_makes_the_feature_ok(feature_id: str, variants: frozenset[str]) -> None:
    options = AuditOptions(features=(feature_id,), variants=variants, mode=Mode.FINE_GRAINED, check_excess=False)
    bare = make_role(statement("sts:GetCallerIdentity"))
    before = _feature(audit_role(bare, RULES, CATALOG, options), feature_id)
    assert before.status is FeatureStatus.MISSING
    proposed: list[dict[str, Any]] = []
    for group in before.missing:
        assert group.layer == "no allow"
        assert group.fix is not None
        assert group.fix.statements, group
        granted = {a for s in group.fix.statements for a in s.actions}
        assert granted == set(group.actions)  # exactly the missing actions, no more
        proposed.extend(s.to_json() for s in group.fix.statements)
    after = _feature(audit_role(_with_policy(bare, proposed), RULES, CATALOG, options), feature_id)
    # Actions on KMS keys (some variants) stay conditional whatever the role's policies say: the key
    # policy must also allow the account. Nothing else may be left open.
    assert after.status in (FeatureStatus.OK, FeatureStatus.CONDITIONAL), after.summary()
    assert all(item.reasons == (KEY_POLICY_NOTE,) and item.action.startswith("kms:") for item in after.conditional)
    assert not after.missing
    assert not after.unknown


def test_a_deny_gets_what_must_change_and_no_statement() -> None:
    role = make_role(statement("*"), {"Sid": "NoQueues", **statement("sqs:*", effect="Deny")})
    options = AuditOptions(features=("cluster-capacity-monitoring",), mode=Mode.FINE_GRAINED, check_excess=False)
    feature = _feature(audit_role(role, RULES, CATALOG, options), "cluster-capacity-monitoring")
    (group,) = feature.missing
    assert group.layer == "explicit deny"
    assert group.fix is not None
    assert group.fix.statements == ()
    assert 'Statement[1] (Sid "NoQueues")' in group.fix.change
    assert "no Allow overrides an explicit Deny" in group.fix.change
    assert group.to_json()["fix"] == {"change": group.fix.change, "statements": []}


def test_a_boundary_that_does_not_allow_gets_what_must_change() -> None:
    role = make_role(statement("*"), boundary=[statement(["logs:*", "cloudwatch:*"])])
    options = AuditOptions(features=("cluster-capacity-monitoring",), mode=Mode.FINE_GRAINED, check_excess=False)
    feature = _feature(audit_role(role, RULES, CATALOG, options), "cluster-capacity-monitoring")
    assert feature.missing
    for group in feature.missing:
        assert group.layer == "permissions boundary"
        assert group.fix is not None
        assert group.fix.statements == ()
        assert "permissions boundary" in group.fix.change


def test_request_context_becomes_a_condition_every_request_meets() -> None:
    passed = ("eks.amazonaws.com", "ec2.amazonaws.com")
    requirement = RequiredAction(
        action="iam:PassRole",
        service="IAM",
        why="nodes",
        resource=f"arn:aws:iam::{CUSTOMER}:role/zeet-*",
        context=(("iam:PassedToService", passed),),
    )
    (proposed,) = proposed_statements([requirement])
    assert proposed.to_json() == {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": f"arn:aws:iam::{CUSTOMER}:role/zeet-*",
        "Condition": {"StringEquals": {"iam:PassedToService": list(passed)}},
    }


def test_actions_on_one_scope_share_a_statement_and_other_scopes_get_their_own() -> None:
    bucket = RequiredAction(action="s3:ListBucket", service="S3", why="", resource="arn:aws:s3:::zeet-*")
    objects = [
        RequiredAction(action=a, service="S3", why="", resource="arn:aws:s3:::zeet-*/*")
        for a in ("s3:PutObject", "s3:GetObject")
    ]
    fix = propose_fix("no allow", "no identity-based policy allows them", (), [bucket, *objects])
    assert [s.to_json() for s in fix.statements] == [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::zeet-*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::zeet-*/*"},
    ]
    assert fix.change == "add these 2 statements to an identity-based policy of the role"


def test_an_scp_block_says_who_must_change_it() -> None:
    fix = propose_fix(
        "SCP",
        "no service control policy allows them",
        (),
        [RequiredAction(action="sqs:CreateQueue", service="SQS", why="")],
    )
    assert fix.statements == ()
    assert "service control policies" in fix.change


def test_the_default_mode_gets_the_administrator_statement_and_it_works() -> None:
    options = AuditOptions(
        features=("cloud-connection",),
        mode=Mode.DEFAULT,
        check_excess=False,
        trust=TrustSettings(zeet_account_id="111122223333", external_id="zeet-ext-5f2c9a7e"),
    )
    bare = make_role(statement("logs:*"))
    before = _feature(audit_role(bare, RULES, CATALOG, options), "cloud-connection")
    (group,) = before.missing
    assert group.fix is not None
    assert "AdministratorAccess" in group.fix.change
    proposed = [s.to_json() for s in group.fix.statements]
    assert proposed == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    after = _feature(audit_role(_with_policy(bare, proposed), RULES, CATALOG, options), "cloud-connection")
    assert after.status is FeatureStatus.OK, after.summary()


def test_a_failing_trust_policy_says_the_trust_policy_must_change() -> None:
    options = AuditOptions(
        features=("cloud-connection",),
        mode=Mode.FINE_GRAINED,
        check_excess=False,
        trust=TrustSettings(zeet_account_id="444455556666"),
    )
    feature = _feature(audit_role(make_role(statement("*")), RULES, CATALOG, options), "cloud-connection")
    (group,) = feature.missing
    assert group.layer == "trust policy"
    assert group.fix is not None
    assert group.fix.statements == ()
    assert group.fix.change.startswith("change the trust policy")
