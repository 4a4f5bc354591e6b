"""The engine's own rules: the default mode needs an administrator evaluated as such, and Cloud
Connection follows the connection (trust) and, in the default mode, the administrator requirement."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from zeet_iam_audit.audit.engine import AuditOptions, audit_role
from zeet_iam_audit.audit.report import FeatureResult, FeatureStatus, Mode
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.model import AttachedPolicy, PolicyKind, Role
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.rules import RuleSet

from .support import EXTERNAL, ZEET, make_role, statement
from .test_administrator import managed

TRUST = TrustSettings(zeet_account_id=ZEET, external_id=EXTERNAL)
CONNECTION = ("cloud-connection",)
ALMOST_ADMIN = make_role(statement("*"), statement("iam:*", effect="Deny", Sid="NoIam"))


def _connection(rules: RuleSet, catalog: Catalog, role: Role, **options: Any) -> FeatureResult:
    report = audit_role(role, rules, catalog, AuditOptions(features=CONNECTION, trust=TRUST, **options))
    [feature] = report.features
    return feature


def _with_trust(role: Role, *statements: dict[str, Any]) -> Role:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return replace(role, trust_policy=parse_policy(document, kind=PolicyKind.TRUST))


@pytest.mark.parametrize(
    "options",
    [{"mode": Mode.DEFAULT}, {"plan": "Pro", "mode": Mode.DEFAULT}],
    ids=["default-mode", "pro-plan-in-default-mode"],
)
def test_allow_all_with_deny_iam_is_missing_in_default_mode(
    rules: RuleSet, catalog: Catalog, options: dict[str, Any]
) -> None:
    feature = _connection(rules, catalog, ALMOST_ADMIN, **options)
    assert feature.status is FeatureStatus.MISSING
    [group] = feature.missing
    assert (group.display, group.actions, group.layer) == ("Account Administrator", ("iam:*",), "explicit deny")
    assert tuple(map(str, group.statements)) == ("identity-based policy 'inline' Statement[1] (Sid \"NoIam\")",)
    assert feature.required == 2  # the trust and the administrator


def test_the_default_mode_names_what_is_carved_out(rules: RuleSet, catalog: Catalog) -> None:
    report = audit_role(ALMOST_ADMIN, rules, catalog, AuditOptions(features=CONNECTION, trust=TRUST, mode=Mode.DEFAULT))
    assert report.default_mode.administrator == "explicit_deny"
    assert report.default_mode.mode == "default"
    assert report.default_mode.findings[-1] == (
        "Account Administrator required but the role is not one: iam:* (an identity-based policy "
        "explicitly denies them)"
    )


def test_auto_mode_does_not_take_an_almost_administrator_for_one(rules: RuleSet, catalog: Catalog) -> None:
    report = audit_role(ALMOST_ADMIN, rules, catalog, AuditOptions(features=CONNECTION, trust=TRUST))
    assert report.default_mode.mode == "fine-grained"
    assert report.features[0].status is FeatureStatus.OK


def test_power_user_access_is_missing_in_default_mode(rules: RuleSet, catalog: Catalog) -> None:
    role = Role(
        name="zeet",
        arn="arn:aws:iam::123456789012:role/zeet",
        source="test",
        trust_policy=ALMOST_ADMIN.trust_policy,
        policies=(
            AttachedPolicy(
                name="PowerUserAccess",
                arn="arn:aws:iam::aws:policy/PowerUserAccess",
                policy=parse_policy(managed("PowerUserAccess"), name="PowerUserAccess"),
            ),
        ),
    )
    feature = _connection(rules, catalog, role, mode=Mode.DEFAULT)
    assert feature.status is FeatureStatus.MISSING
    [group] = feature.missing
    assert group.display == "Account Administrator"
    assert {item.split(":", 1)[0].split()[-1] for item in group.actions} == {"account", "iam", "organizations"}


def test_a_condition_on_the_admin_allow_is_conditional_in_default_mode(rules: RuleSet, catalog: Catalog) -> None:
    role = make_role(statement("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    feature = _connection(rules, catalog, role, mode=Mode.DEFAULT)
    assert feature.status is FeatureStatus.CONDITIONAL
    assert feature.conditional[0].keys == ("aws:MultiFactorAuthPresent",)


def test_an_administrator_is_ok_in_default_mode(rules: RuleSet, catalog: Catalog) -> None:
    feature = _connection(rules, catalog, make_role(statement("*")), mode=Mode.DEFAULT)
    assert feature.status is FeatureStatus.OK
    assert feature.required == 2


def test_trust_failure_makes_the_connection_missing_in_every_mode(rules: RuleSet, catalog: Catalog) -> None:
    role = _with_trust(
        make_role(statement("*")),
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"},
    )
    for mode in Mode:
        feature = _connection(rules, catalog, role, mode=mode)
        assert feature.status is FeatureStatus.MISSING, mode
        [group] = feature.missing
        assert (group.display, group.actions, group.layer) == ("Trust", ("sts:AssumeRole",), "trust policy")
        assert "cannot assume the role" in group.reason
        assert group.fix is not None
        assert group.fix.statements == ()  # a permission statement cannot fix a trust policy
        assert "trust policy" in group.fix.change


def test_unknown_trust_makes_the_connection_unknown(rules: RuleSet, catalog: Catalog) -> None:
    role = replace(
        make_role(statement("sqs:*")), trust_policy=None, trust_unknown_reason="a policy file has no trust policy"
    )
    feature = _connection(rules, catalog, role, plan="Pro")
    assert feature.status is FeatureStatus.UNKNOWN
    [item] = feature.unknown
    assert item.action == "sts:AssumeRole"
    assert "a policy file has no trust policy" in item.reasons[0]


def test_unconfigured_zeet_account_makes_the_connection_unknown(rules: RuleSet, catalog: Catalog) -> None:
    report = audit_role(make_role(statement("sqs:*")), rules, catalog, AuditOptions(features=CONNECTION))
    assert report.features[0].status is FeatureStatus.UNKNOWN


def test_trust_warnings_leave_the_connection_ok_with_a_note(rules: RuleSet, catalog: Catalog) -> None:
    role = _with_trust(
        make_role(statement("sqs:*")),
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ZEET}:root"}, "Action": "sts:AssumeRole"},
    )
    feature = _connection(rules, catalog, role, plan="Pro")
    assert feature.status is FeatureStatus.OK
    assert feature.required == 1
    assert feature.notes == ("Zeet can assume the role, but the trust policy has warnings (see Trust)",)


def test_trust_failure_and_a_missing_administrator_are_both_named(rules: RuleSet, catalog: Catalog) -> None:
    role = _with_trust(
        ALMOST_ADMIN, {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    feature = _connection(rules, catalog, role, mode=Mode.DEFAULT)
    assert [group.display for group in feature.missing] == ["Trust", "Account Administrator"]


def _module_containers() -> dict[str, int]:
    """The size of every dict, list and set held at module level by the package's modules."""
    import sys

    sizes = {}
    for name, module in list(sys.modules.items()):
        if name == "zeet_iam_audit" or name.startswith("zeet_iam_audit."):
            for attribute, value in vars(module).items():
                if isinstance(value, dict | list | set):
                    sizes[f"{name}.{attribute}"] = len(value)
    return sizes


def test_nothing_a_run_remembers_outlives_it(rules: RuleSet, catalog: Catalog) -> None:
    from pathlib import Path

    from zeet_iam_audit.audit.engine import Auditor
    from zeet_iam_audit.sources import load_file

    roles = list(load_file(Path("fixtures/gaad/zeet-account.json")).roles)
    assert len(roles) > 1
    Auditor(rules, catalog, AuditOptions(trust=TRUST)).audit(roles[0])  # imports and warms every module
    before = _module_containers()
    auditor = Auditor(rules, catalog, AuditOptions(trust=TRUST))
    reports = [auditor.audit(role) for role in roles]
    assert len(auditor.memo.evaluation.compiled) > 0  # the run's own memo
    assert len(auditor.memo.features) > 0
    grown = {name: (size, _module_containers().get(name)) for name, size in before.items()}
    assert {name: sizes for name, sizes in grown.items() if sizes[0] != sizes[1]} == {}
    # A second run starts empty and answers alike.
    again = Auditor(rules, catalog, AuditOptions(trust=TRUST))
    assert len(again.memo.evaluation.compiled) == 0
    assert [again.audit(role) for role in roles] == reports


def test_roles_sharing_policies_get_the_answers_each_would_get_alone(rules: RuleSet, catalog: Catalog) -> None:
    """The run shares a feature's result among roles whose policies naming its actions are the same
    objects; what else decides it (the account a scope is placed in, the boundary) must not leak from
    one role to the next."""
    from zeet_iam_audit.audit.engine import Auditor

    def attached(name: str, *statements: dict[str, Any]) -> AttachedPolicy:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        arn = f"arn:aws:iam::aws:policy/{name}"
        return AttachedPolicy(name=name, arn=arn, policy=parse_policy(document, name=name))

    sns = attached("Topics", statement("sns:*", "arn:aws:sns:*:123456789012:zeet-eks-*"))
    reads = attached("Reads", statement(["ec2:Describe*", "eks:Describe*", "cloudwatch:Get*"]))
    denies = attached("NoTopics", statement("sns:*", effect="Deny"))
    boundary = attached("Boundary", statement(["sns:*", "ec2:*"]))
    base = make_role()
    roles = [
        replace(
            base, name=name, arn=f"arn:aws:iam::{account}:role/{name}", policies=policies, permissions_boundary=bound
        )
        for name, account, policies, bound in [
            ("a", "123456789012", (sns, reads), None),
            ("b", "210987654321", (sns, reads), None),  # the same policies in another account
            ("c", "123456789012", (reads, sns), None),
            ("d", "123456789012", (sns, reads), boundary),
            ("e", "123456789012", (sns, denies), None),
            ("f", "123456789012", (sns,), None),
        ]
    ]
    options = AuditOptions(trust=TRUST)
    auditor = Auditor(rules, catalog, options)
    together = [auditor.audit(role).features for role in roles]
    alone = [audit_role(role, rules, catalog, options).features for role in roles]
    assert together == alone
    # The account matters: "a" is granted the topics, "b" (another account) is not.
    capacity = [next(f for f in features if f.id == "cluster-capacity-monitoring") for features in together]
    lacking = [{action for group in feature.missing for action in group.actions} for feature in capacity]
    assert "sns:CreateTopic" not in lacking[0]
    assert "sns:CreateTopic" in lacking[1]
