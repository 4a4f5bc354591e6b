"""The rules as values: a required action's prefix, resources and settle hint; a rule's variants,
services and needs; the rule set's order and lookups; trust principals and plans."""

from __future__ import annotations

import pytest

from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.rules import load_rules
from zeet_iam_audit.rules_model import (
    PLACEHOLDERS,
    FeatureRule,
    Plans,
    RequiredAction,
    RuleSet,
    ServiceRef,
    TrustRequirement,
    Variant,
    setting_hint,
)

SQS = ServiceRef("SQS", ("sqs",), guide_text="SQS")
EVENTS = ServiceRef("EventBridge", ("events",), in_guide=False, why="the capacity monitor's rule")
CREATE_QUEUE = RequiredAction("sqs:CreateQueue", "SQS", "Creates the capacity events queue.", source="guide")


def _rule(rule_id: str, section: str, *required: RequiredAction, variants: tuple[Variant, ...] = ()) -> FeatureRule:
    return FeatureRule(
        id=rule_id,
        section=section,
        title=rule_id.replace("-", " ").title(),
        description="",
        services=(SQS,),
        required=required,
        variants=variants,
        other_services=(EVENTS,),
    )


@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_setting_hint_names_the_option_the_variable_and_the_config_key(name: str) -> None:
    option = "--" + name.replace("_", "-")
    assert setting_hint(name) == f"{option}, ZEET_IAM_AUDIT_{name.upper()} or {name} in the config file"


@pytest.mark.parametrize(
    ("action", "hint"),
    [
        pytest.param(CREATE_QUEUE, "", id="nothing-unset"),
        pytest.param(
            RequiredAction("s3:GetObject", "S3", "Reads state.", "arn:aws:s3:::*/*", unset=("state_bucket",)),
            "set state_bucket (--state-bucket, ZEET_IAM_AUDIT_STATE_BUCKET or state_bucket in the config file)",
            id="one-setting",
        ),
        pytest.param(
            RequiredAction(
                "s3:PutObject", "S3", "Writes state.", "arn:aws:s3:::*/*", unset=("state_bucket", "state_key_prefix")
            ),
            "set state_bucket (--state-bucket, ZEET_IAM_AUDIT_STATE_BUCKET or state_bucket in the config file); "
            "set state_key_prefix (--state-key-prefix, ZEET_IAM_AUDIT_STATE_KEY_PREFIX or state_key_prefix in "
            "the config file)",
            id="two-settings-in-order",
        ),
    ],
)
def test_settle_hint_says_which_settings_would_narrow_the_scope(action: RequiredAction, hint: str) -> None:
    assert action.settle_hint == hint


def test_a_required_action_lists_its_resources_main_first_and_its_prefix_lower_case() -> None:
    action = RequiredAction(
        "CloudFormation:CreateChangeSet",
        "CloudFormation",
        "Deploys through change sets.",
        "arn:aws:cloudformation:*:*:stack/*",
        also_resources=("arn:aws:cloudformation:*:aws:transform/Serverless-2016-10-31",),
    )
    assert action.prefix == "cloudformation"
    assert action.resources == (
        "arn:aws:cloudformation:*:*:stack/*",
        "arn:aws:cloudformation:*:aws:transform/Serverless-2016-10-31",
    )


def test_a_rule_finds_its_variants_services_and_needs() -> None:
    purge = RequiredAction("sqs:PurgeQueue", "SQS", "Empties the queue on reset.")
    rule = _rule(
        "cluster-capacity-monitoring", "2.3.4", CREATE_QUEUE, variants=(Variant("reset", "On reset.", (purge,)),)
    )
    assert rule.optional == (purge,)
    assert rule.variant("reset") == Variant("reset", "On reset.", (purge,))
    assert rule.variant("nope") is None
    assert rule.service("SQS") is SQS
    assert rule.service("EventBridge") is EVENTS
    assert rule.service("SNS") is None
    assert rule.needs("SQS:createqueue")
    assert not rule.needs("sqs:PurgeQueue")  # optional, not required


def test_a_rule_set_is_in_section_order_whatever_order_it_is_given() -> None:
    rules = RuleSet(
        [
            _rule("view-metrics", "2.3.2"),
            _rule("cluster-capacity-monitoring", "2.3.10", CREATE_QUEUE),
            _rule("cloud-connection", "1.1"),
            _rule("view-logs", "2.3.1"),
        ]
    )
    # "2.3.10" after "2.3.2": sections compare as numbers, not as text.
    assert rules.ids == ("cloud-connection", "view-logs", "view-metrics", "cluster-capacity-monitoring")
    assert [rule.id for rule in rules.features_needing("sqs:createqueue")] == ["cluster-capacity-monitoring"]
    assert rules.trust is None
    assert rules.plans is None
    assert rules.fine_grained_plans == ()


def test_trust_principals_fill_in_the_account() -> None:
    trust = TrustRequirement(
        assumable_by="Zeet's management account",
        action="sts:AssumeRole",
        principals=("arn:aws:iam::{account}:root", "{account}"),
        external_id_key="sts:ExternalId",
        external_id_operators=("StringEquals",),
        informational_actions=("sts:TagSession",),
        min_session_duration=3600,
        sources=("Z4",),
    )
    assert trust.principals_for("111122223333") == ("arn:aws:iam::111122223333:root", "111122223333")


@pytest.mark.parametrize(
    ("plan", "fine_grained"),
    [("Pro", True), (" scale ", True), ("ENTERPRISE", True), ("free", False), ("", False)],
)
def test_plans_compare_names_in_any_case(plan: str, fine_grained: bool) -> None:
    plans = Plans(section="1.1", fine_grained=("Pro", "Scale", "Enterprise"), otherwise="default mode", source="Z0")
    assert plans.allows_fine_grained(plan) is fine_grained


# --- moved from test_rules: the shipped rules' lookups ------------------------------------------


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_rules(catalog=load_catalog())


def test_features_needing_is_case_insensitive(ruleset: RuleSet) -> None:
    ids = [rule.id for rule in ruleset.features_needing("S3:PUTOBJECT")]
    assert ids == ["serverless-lambda", "rds-management", "terraform-modules"]
    assert ruleset.features_needing("eks:CreateAccessEntry") == ()  # optional only
    assert ruleset.features_needing("nope:Nothing") == ()


def test_ruleset_lookups(ruleset: RuleSet) -> None:
    assert ruleset.get("view-logs") is ruleset["view-logs"]
    assert ruleset.get("nope") is None
    assert "view-logs" in ruleset
    assert len(ruleset) == len(list(ruleset)) == 10
    with pytest.raises(KeyError):
        ruleset["nope"]
