"""Tests for zeet_iam_audit/rules_render.py: the ``rules`` and ``rules show ID`` outputs."""

from __future__ import annotations

import json

import pytest

from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.errors import UsageError
from zeet_iam_audit.rules import SOURCES, RuleSet, load_rules
from zeet_iam_audit.rules_render import (
    JSON_VERSION,
    render_rule,
    render_rules_list,
    render_table,
    rule_to_json,
)

# The services the guide lists per use case, in its order.
GUIDE_SERVICES: dict[str, tuple[str, ...]] = {
    "cloud-connection": (),
    "container-management": ("ECR", "EKS", "EC2", "VPC", "Route53", "Autoscaling", "IAM", "STS"),
    "serverless-lambda": ("CloudFormation", "S3", "ACM", "APIGateway", "Lambda", "ECR", "IAM"),
    "rds-management": ("S3", "RDS"),
    "terraform-modules": ("S3",),
    "view-logs": ("CloudWatch", "Logs"),
    "view-metrics": ("CloudWatch",),
    "cloud-quota-monitoring": ("ServiceQuotas",),
    "cluster-capacity-monitoring": ("SNS", "SQS", "CloudWatch"),
    "secrets-manager": ("SecretsManager",),
}


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_rules(catalog=load_catalog())


def test_list_table_has_one_aligned_row_per_rule_in_guide_order(ruleset: RuleSet) -> None:
    lines = render_rules_list(ruleset, "table").splitlines()
    header, rows = lines[0], lines[1:]
    assert header.split() == ["ID", "SECTION", "TITLE", "SERVICES", "REQUIRED", "OPTIONAL"]
    assert [row.split()[0] for row in rows] == list(ruleset.ids)
    section_column = header.index("SECTION")
    for row, rule in zip(rows, ruleset, strict=True):
        assert row[section_column:].startswith(rule.section)
        assert row.split()[-2:] == [str(len(rule.required)), str(len(rule.optional))]


def test_list_table_names_the_guide_services(ruleset: RuleSet) -> None:
    text = render_rules_list(ruleset, "table")
    assert "SNS, SQS, CloudWatch" in text
    assert "ECR, EKS, EC2, VPC, Route53, Autoscaling, IAM, STS" in text


def test_list_json(ruleset: RuleSet) -> None:
    document = json.loads(render_rules_list(ruleset, "json"))
    assert document["version"] == JSON_VERSION
    assert [f["id"] for f in document["features"]] == list(ruleset.ids)
    logs = next(f for f in document["features"] if f["id"] == "view-logs")
    assert logs == {
        "id": "view-logs",
        "section": "2.3.1",
        "title": "View Logs",
        "services": ["CloudWatch", "Logs"],
        "required": len(ruleset["view-logs"].required),
        "optional": len(ruleset["view-logs"].optional),
    }


@pytest.mark.parametrize(
    "rule_id",
    [
        "cloud-connection",
        "container-management",
        "serverless-lambda",
        "rds-management",
        "terraform-modules",
        "view-logs",
        "view-metrics",
        "cloud-quota-monitoring",
        "cluster-capacity-monitoring",
        "secrets-manager",
    ],
)
def test_show_table_lists_everything(ruleset: RuleSet, rule_id: str) -> None:
    rule = ruleset[rule_id]
    text = render_rule(rule, "table")
    assert text.startswith(f"{rule.id}: {rule.section} {rule.title}\n")
    for action in (*rule.required, *rule.optional):
        assert action.action in text
        assert action.why in text
    for variant in rule.variants:
        assert f"Variant {variant.name} ({len(variant.actions)} optional)" in text
    for ref in rule.services:
        assert ref.guide_text in text


@pytest.mark.parametrize("rule_id", list(GUIDE_SERVICES))
def test_show_still_lists_the_guide_services(ruleset: RuleSet, rule_id: str) -> None:
    # Whatever the template evidence moved, every service the guide lists stays on show, in order.
    text = render_rule(ruleset[rule_id], "table")
    services = text.split("Services (as the guide lists them):\n", 1)[1].split("\n\n", 1)[0]
    shown = [
        line.split()[0]
        for line in services.splitlines()[1:]
        if line.startswith("  ") and not line.startswith("   ") and " needs no action" not in line
    ]
    assert shown == list(GUIDE_SERVICES[rule_id]) or (shown == ["(none)"] and not GUIDE_SERVICES[rule_id])


@pytest.mark.parametrize("rule_id", list(GUIDE_SERVICES))
def test_show_prints_a_legend_of_the_source_keys_it_uses(ruleset: RuleSet, rule_id: str) -> None:
    rule = ruleset[rule_id]
    text = render_rule(rule, "table")
    legend = text.split("\nSources:\n", 1)[1]
    keys = [line.split()[0] for line in legend.splitlines()[1:]]
    used = {a.source for a in (*rule.required, *rule.optional)}
    if rule.trust is not None:
        used.update(rule.trust.sources)
    assert set(keys) == used | ({rule.default_mode.source} if rule.default_mode else set()) | (
        {rule.plans.source} if rule.plans else set()
    )
    assert all(SOURCES[key] in legend for key in keys)


def test_show_marks_what_the_guide_does_not_list_and_what_needs_no_action(ruleset: RuleSet) -> None:
    text = render_rule(ruleset["container-management"], "table")
    assert "STS          sts          Grants temporary security credentials to containers. [no action needed]" in text
    assert "STS needs no action of Zeet's role: Containers get temporary credentials through the IRSA roles" in text
    beyond = text.split("Required services not in the guide's list for this use case:\n", 1)[1]
    assert beyond.startswith("  CloudWatch Logs (logs): Not in the guide's list for this use case, but the template")


def test_show_names_unset_state_settings(ruleset: RuleSet) -> None:
    text = render_rule(ruleset["terraform-modules"], "table")
    assert "arn:aws:s3:::* (unset: state_bucket)" in text
    given = load_rules(catalog=load_catalog(), placeholders={"state_bucket": "acme-tf"})
    text = render_rule(given["terraform-modules"], "table")
    assert "arn:aws:s3:::acme-tf " in text
    assert "arn:aws:s3:::acme-tf/* (unset: state_key_prefix)" in text


def test_show_table_for_cloud_connection(ruleset: RuleSet) -> None:
    text = render_rule(ruleset["cloud-connection"], "table")
    assert "Trust: assumable by Zeet Management Account" in text
    assert "sts:ExternalId with StringEquals" in text
    assert "Default mode (1.1): Account Administrator" in text
    assert "allows * on *" in text
    assert "fine-grained permissions only on Pro, Scale, Enterprise" in text


def test_show_table_shows_conditional_services_and_context(ruleset: RuleSet) -> None:
    text = render_rule(ruleset["serverless-lambda"], "table")
    assert "[only with variant custom-domain]" in text
    assert "[context: iam:PassedToService = lambda.amazonaws.com]" in text
    assert "arn:aws:cloudformation:*:aws:transform/Serverless-2016-10-31" in text


def test_show_json_round_trips(ruleset: RuleSet) -> None:
    rule = ruleset["cluster-capacity-monitoring"]
    document = json.loads(render_rule(rule, "json"))
    assert document == {"version": JSON_VERSION, "feature": rule_to_json(rule)}
    feature = document["feature"]
    assert [s["display"] for s in feature["services"]] == ["SNS", "SQS", "CloudWatch"]
    assert feature["services"][2]["prefixes"] == ["cloudwatch", "events"]
    assert len(feature["required"]) == len(rule.required)
    first = feature["required"][0]
    assert first == {
        "action": "sns:CreateTopic",
        "service": "SNS",
        "why": rule.required[0].why,
        "resource": "arn:aws:sns:*:*:zeet-eks-*",
        "also_resources": [],
        "source": "Z3",
        "context": {},
        "unset_settings": [],
    }
    assert feature["trust"] is None
    # The legend of the source keys the rule cites, and the reads outside the guide's list.
    assert set(feature["sources"]) == {a.source for a in (*rule.required, *rule.optional)}
    assert feature["sources"]["CP"].startswith("cloudposse/terraform-aws-cloudwatch-events 0.6.1")
    eks = next(s for s in feature["other_services"] if s["display"] == "EKS")
    assert eks["in_guide_list"] is False
    assert "Not in the guide's list" in eks["why"]


def test_show_json_for_cloud_connection(ruleset: RuleSet) -> None:
    feature = json.loads(render_rule(ruleset["cloud-connection"], "json"))["feature"]
    assert feature["trust"]["action"] == "sts:AssumeRole"
    assert feature["default_mode"]["actions"] == ["*"]
    assert feature["plans"]["fine_grained"] == ["Pro", "Scale", "Enterprise"]


@pytest.mark.parametrize("fmt", ["yaml", "TABLE", ""])
def test_unknown_format(ruleset: RuleSet, fmt: str) -> None:
    with pytest.raises(UsageError, match="unknown rules format"):
        render_rules_list(ruleset, fmt)
    with pytest.raises(UsageError, match="unknown rules format"):
        render_rule(ruleset["view-logs"], fmt)


def test_render_table_pads_all_but_the_last_column() -> None:
    text = render_table(("A", "BB", "C"), [("xxx", "y", "long last cell"), ("1", "2", "3")], "  ")
    assert text == "  A    BB  C\n  xxx  y   long last cell\n  1    2   3\n"
