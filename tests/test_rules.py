"""Tests for zeet_iam_audit/rules.py: invariants over the shipped rules/, loader errors, template
extras, and the rules inside an installed wheel."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib import resources as importlib_resources
from pathlib import Path

import pytest

from zeet_iam_audit.catalog import Catalog, load_catalog, load_resource_catalog
from zeet_iam_audit.errors import RulesError
from zeet_iam_audit.rules import (
    PLACEHOLDERS,
    SOURCE_KEYS,
    SOURCES,
    FeatureRule,
    RequiredAction,
    RuleSet,
    load_rules,
)

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"

# What Zeet's AWS IAM Permissions Guide (1.0.0) says per use case: section, title and the services
# it lists, spelled and ordered as the guide writes them.
GUIDE: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "cloud-connection": ("1.1", "Cloud Connection", ()),
    "container-management": (
        "2.2.1",
        "Container Management",
        ("ECR", "EKS", "EC2", "VPC", "Route53", "Autoscaling", "IAM", "STS"),
    ),
    "serverless-lambda": (
        "2.2.2",
        "Serverless via AWS Lambda Management",
        ("CloudFormation", "S3", "ACM", "APIGateway", "Lambda", "ECR", "IAM"),
    ),
    "rds-management": ("2.2.3", "RDS Management", ("S3", "RDS")),
    "terraform-modules": ("2.2.4", "Terraform Module Management", ("S3",)),
    "view-logs": ("2.3.1", "View Logs", ("CloudWatch", "Logs")),
    "view-metrics": ("2.3.2", "View Metrics", ("CloudWatch",)),
    "cloud-quota-monitoring": ("2.3.3", "Cloud Quota Monitoring", ("ServiceQuotas",)),
    "cluster-capacity-monitoring": (
        "2.3.4",
        "Cluster Capacity Monitoring",
        ("SNS", "SQS", "CloudWatch"),
    ),
    "secrets-manager": ("2.3.5", "AWS Secret Manager Integration", ("SecretsManager",)),
}

# The IAM prefixes each guide service may stand for (zeet-actions.md §3). CloudWatch also covers
# logs: where the guide means CloudWatch Logs (View Logs) and events: for CloudWatch Events
# (Cluster Capacity Monitoring).
PREFIXES: dict[str, frozenset[str]] = {
    "ECR": frozenset({"ecr"}),
    "EKS": frozenset({"eks"}),
    "EC2": frozenset({"ec2"}),
    "VPC": frozenset({"ec2"}),
    "Route53": frozenset({"route53"}),
    "Autoscaling": frozenset({"autoscaling"}),
    "IAM": frozenset({"iam"}),
    "STS": frozenset({"sts"}),
    "CloudFormation": frozenset({"cloudformation"}),
    "S3": frozenset({"s3"}),
    "ACM": frozenset({"acm"}),
    "APIGateway": frozenset({"apigateway", "execute-api"}),
    "Lambda": frozenset({"lambda"}),
    "RDS": frozenset({"rds"}),
    "CloudWatch": frozenset({"cloudwatch", "logs", "events"}),
    "Logs": frozenset({"logs"}),
    "ServiceQuotas": frozenset({"servicequotas"}),
    "SNS": frozenset({"sns"}),
    "SQS": frozenset({"sqs"}),
    "SecretsManager": frozenset({"secretsmanager"}),
}

# Resources AWS documents but the Service Authorization Reference does not list as a resource type.
DOCUMENTED_RESOURCES = {
    # AWS SAM guide (A5): CreateChangeSet on the SAM transform.
    (
        "cloudformation:CreateChangeSet",
        "arn:aws:cloudformation:*:aws:transform/Serverless-2016-10-31",
    ),
}

# Resource types the catalogue marks required that a rule's action does not name, and why: the
# reference marks each type an action can act on, of which one request names one.
NOT_NAMED_TYPES = {
    # Zeet tags hosted zones, never health checks (the call acts on one or the other).
    ("route53:ChangeTagsForResource", "healthcheck"),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def ruleset(catalog: Catalog) -> RuleSet:
    return load_rules(catalog=catalog)


def every_action(rule: FeatureRule) -> Iterator[tuple[str, RequiredAction]]:
    """(where, action) for every required and optional action of a rule."""
    for index, action in enumerate(rule.required):
        yield f"required[{index}]", action
    for variant in rule.variants:
        for index, action in enumerate(variant.actions):
            yield f"variant {variant.name}[{index}]", action


# -- invariants over the shipped rules ------------------------------------------------------------


def test_exactly_the_ten_use_cases_in_guide_order(ruleset: RuleSet) -> None:
    assert list(ruleset.ids) == list(GUIDE)


def test_ids_equal_file_stems() -> None:
    for path in sorted(RULES_DIR.glob("*.toml")):
        assert tomllib.loads(path.read_text(encoding="utf-8"))["id"] == path.stem, path.name
    assert sorted(path.stem for path in RULES_DIR.glob("*.toml")) == sorted(GUIDE)


def test_packaged_rules_are_the_rules_directory() -> None:
    packaged = importlib_resources.files("zeet_iam_audit") / "rules"
    names = sorted(item.name for item in packaged.iterdir() if item.name.endswith(".toml"))
    assert names == sorted(path.name for path in RULES_DIR.glob("*.toml"))


@pytest.mark.parametrize("rule_id", list(GUIDE))
def test_section_title_and_services_as_the_guide_writes_them(ruleset: RuleSet, rule_id: str) -> None:
    section, title, services = GUIDE[rule_id]
    rule = ruleset[rule_id]
    assert (rule.section, rule.title) == (section, title)
    assert tuple(ref.display for ref in rule.services) == services


@pytest.mark.parametrize("rule_id", list(GUIDE))
def test_service_prefixes_are_the_known_ones(ruleset: RuleSet, rule_id: str) -> None:
    for ref in ruleset[rule_id].services:
        assert set(ref.prefixes) <= PREFIXES[ref.display], ref.display


@pytest.mark.parametrize("rule_id", list(GUIDE))
def test_every_guide_service_has_a_required_action(ruleset: RuleSet, rule_id: str) -> None:
    rule = ruleset[rule_id]
    for ref in rule.services:
        required = [a for a in rule.required if a.service == ref.display]
        if ref.no_action is not None:
            # The rule says why Zeet's role needs nothing of this service, and requires nothing.
            assert len(ref.no_action) > 80, ref.display
            assert not required
        elif ref.only_with is None:
            assert required, f"{ref.display} has no required action"
        else:
            variant = rule.variant(ref.only_with)
            assert variant is not None
            assert not required
            assert any(a.service == ref.display for a in variant.actions)


@pytest.mark.parametrize("rule_id", list(GUIDE))
def test_required_actions_outside_the_guide_services_say_why(ruleset: RuleSet, rule_id: str) -> None:
    rule = ruleset[rule_id]
    for where, action in every_action(rule):
        if where.startswith("required"):
            ref = rule.service(action.service)
            assert ref is not None
            assert action.prefix in ref.prefixes
            # A service the guide does not list is required only with the reason the rule gives.
            assert ref.in_guide or (ref.why is not None and "not in the guide's list" in ref.why.lower()), where


def test_only_container_management_and_capacity_monitoring_go_beyond_the_guide(ruleset: RuleSet) -> None:
    beyond = {
        (rule.id, action.service)
        for rule in ruleset
        for action in rule.required
        if not (ref := rule.service(action.service)) or not ref.in_guide
    }
    assert beyond == {
        ("container-management", "CloudWatch Logs"),
        ("cluster-capacity-monitoring", "EKS"),
        ("cluster-capacity-monitoring", "Autoscaling"),
    }


@pytest.mark.parametrize("rule_id", list(GUIDE))
def test_every_action_is_known_and_spelled_as_aws_does(catalog: Catalog, ruleset: RuleSet, rule_id: str) -> None:
    raw = tomllib.loads((RULES_DIR / f"{rule_id}.toml").read_text(encoding="utf-8"))
    written = [entry["action"] for entry in raw.get("required", [])] + [
        entry["action"] for variant in raw.get("variants", []) for entry in variant["actions"]
    ]
    for name in written:
        info = catalog.get(name)
        assert info is not None, name
        assert info.full == name, f"{name} is spelled {info.full} by AWS"
    entries = [*raw.get("required", []), *(e for variant in raw.get("variants", []) for e in variant["actions"])]
    # Twice only in two request contexts (iam:PassRole to EKS, and to EC2 for GPU nodes).
    keyed = {(e["action"].lower(), json.dumps(e.get("context"), sort_keys=True)) for e in entries}
    assert len(written) == len(keyed), "an action is listed twice"
    assert len(written) == len(list(every_action(ruleset[rule_id])))


@pytest.mark.parametrize("rule_id", list(GUIDE))
def test_no_action_that_needs_no_permission_or_has_wildcards(ruleset: RuleSet, rule_id: str) -> None:
    for where, action in every_action(ruleset[rule_id]):
        # GetCallerIdentity needs no permission (A13): requiring it would report false gaps.
        assert action.action.lower() != "sts:getcalleridentity", where
        assert "*" not in action.action, where
        assert "?" not in action.action, where


@pytest.mark.parametrize("rule_id", list(GUIDE))
def test_sources_are_keys_of_the_legend(ruleset: RuleSet, rule_id: str) -> None:
    for where, action in every_action(ruleset[rule_id]):
        assert action.source in SOURCE_KEYS, f"{where}: {action.source}"
        assert SOURCES[action.source].strip(), action.source


def test_the_v17_minimum_policy_is_cited_for_no_required_action() -> None:
    # A2 documents terraform-aws-eks v17 (its permissions page was removed in v18.0.0); Zeet's
    # template pins v18.20, so the template's needs cite EKS18, the provider (TP) or Pike.
    rules = load_rules(catalog=load_catalog())
    assert [a.action for rule in rules for a in rule.required if a.source == "A2"] == []
    assert "removed in v18" in SOURCES["A2"]


def test_what_rests_on_the_guide_alone_says_so(ruleset: RuleSet) -> None:
    rule = ruleset["cluster-capacity-monitoring"]
    guide_only = [a for a in rule.required if a.source == "guide"]
    assert {a.prefix for a in guide_only} == {"sqs", "cloudwatch"}
    assert all("guide alone" in a.why for a in guide_only)


@pytest.mark.parametrize("rule_id", list(GUIDE))
def test_resource_scopes_fit_the_actions_resource_types(ruleset: RuleSet, rule_id: str) -> None:
    types = load_resource_catalog()
    for where, action in every_action(ruleset[rule_id]):
        known = types.resource_types(action.action)
        for resource in action.resources:
            if resource == "*" or (action.action, resource) in DOCUMENTED_RESOURCES:
                continue
            assert known, f"{where}: {action.action} takes no resource types, so needs '*'"
            assert types.types_of(action.action, resource), f"{where}: {action.action} on {resource}"


@pytest.mark.parametrize("rule_id", list(GUIDE))
def test_every_required_resource_type_is_named(ruleset: RuleSet, rule_id: str) -> None:
    # A resource type AWS checks on every request of the action must be in the rule's scope, so the
    # audit requires it and generate grants it (kms:CreateAlias: the alias and the key).
    types = load_resource_catalog()
    for where, action in every_action(ruleset[rule_id]):
        for resource_type in types.resource_types(action.action):
            if not resource_type.required or (action.action, resource_type.name) in NOT_NAMED_TYPES:
                continue
            assert any(resource_type.could_be(r) for r in action.resources), (
                f"{where}: {action.action} is also authorised on {resource_type.name}"
            )


def test_rules_hold_no_account_id_or_external_id() -> None:
    for path in sorted(RULES_DIR.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<![0-9])[0-9]{12}(?![0-9])", text), path.name
        assert 'ExternalId" =' not in text, path.name


# -- the specific things the guide says -----------------------------------------------------------


def test_cloud_connection_trust_default_mode_and_plans(ruleset: RuleSet) -> None:
    rule = ruleset["cloud-connection"]
    assert rule.trust is not None
    assert rule.trust.action == "sts:AssumeRole"
    assert rule.trust.external_id_key == "sts:ExternalId"
    assert rule.trust.principals_for("111122223333")[0] == "arn:aws:iam::111122223333:root"
    assert rule.default_mode is not None
    assert (rule.default_mode.actions, rule.default_mode.resources) == (("*",), ("*",))
    assert ruleset.trust is rule.trust
    assert ruleset.default_mode is rule.default_mode
    assert ruleset.plans is rule.plans
    assert ruleset.fine_grained_plans == ("pro", "scale", "enterprise")


@pytest.mark.parametrize(
    ("plan", "fine_grained"),
    [("Pro", True), ("scale", True), ("ENTERPRISE", True), ("free", False), ("hobby", False)],
)
def test_only_pro_scale_and_enterprise_may_customise(ruleset: RuleSet, plan: str, fine_grained: bool) -> None:
    assert ruleset.plans is not None
    assert ruleset.plans.allows_fine_grained(plan) is fine_grained


def test_acm_is_only_in_the_custom_domain_variant(ruleset: RuleSet) -> None:
    rule = ruleset["serverless-lambda"]
    assert not [a for a in rule.required if a.prefix == "acm"]
    variant = rule.variant("custom-domain")
    assert variant is not None
    assert any(a.prefix == "acm" for a in variant.actions)


@pytest.mark.parametrize(
    ("rule_id", "variant", "action"),
    [
        ("container-management", "access-entries", "eks:CreateAccessEntry"),
        ("container-management", "image-push", "ecr:PutImage"),
        ("container-management", "listing", "eks:ListClusters"),
        ("cluster-capacity-monitoring", "messaging-extras", "events:TagResource"),
        ("serverless-lambda", "cdk-bootstrap", "ssm:GetParameter"),
    ],
)
def test_named_variants(ruleset: RuleSet, rule_id: str, variant: str, action: str) -> None:
    found = ruleset[rule_id].variant(variant)
    assert found is not None
    assert action in [a.action for a in found.actions]


def test_capacity_monitoring_requires_sns_sqs_and_cloudwatch(ruleset: RuleSet) -> None:
    rule = ruleset["cluster-capacity-monitoring"]
    # The guide's services, and the monitor module's node-group and Auto Scaling group reads.
    assert {a.prefix for a in rule.required} == {"sns", "sqs", "events", "cloudwatch", "eks", "autoscaling"}
    sqs = {a.action for a in rule.required if a.prefix == "sqs"}
    # The guide's word kept at its minimum: a queue's lifecycle and its messages' consumption.
    assert sqs == {
        "sqs:CreateQueue",
        "sqs:GetQueueAttributes",
        "sqs:SetQueueAttributes",
        "sqs:DeleteQueue",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
    }
    assert all(a.source == "guide" for a in rule.required if a.prefix == "sqs")
    # The cloudposse module sets no tags on the events rule.
    assert not rule.needs("events:TagResource")


def test_terraform_modules_accepts_template_extras(ruleset: RuleSet) -> None:
    assert [rule.id for rule in ruleset if rule.template_extras] == ["terraform-modules"]


def test_passrole_carries_the_passed_to_service_context(ruleset: RuleSet) -> None:
    action = next(a for a in ruleset["serverless-lambda"].required if a.action == "iam:PassRole")
    assert action.context == (("iam:PassedToService", ("lambda.amazonaws.com",)),)


# -- loader errors: one line naming the file and the key ------------------------------------------

VALID = """\
id = "view-logs"
section = "2.3.1"
title = "View Logs"
description = "Logs."

[[services]]
display = "CloudWatch"
prefixes = ["cloudwatch", "logs"]
guide_text = "Allows historical log viewing on the dashboard."

[[services]]
display = "Logs"
prefixes = ["logs"]
guide_text = "Provides detailed log information."

[[other_services]]
display = "KMS"
prefixes = ["kms"]

[[required]]
action = "logs:FilterLogEvents"
service = "CloudWatch"
why = "History."
resource = "arn:aws:logs:*:*:log-group:*"
source = "A7"

[[required]]
action = "logs:DescribeLogGroups"
service = "Logs"
why = "Groups."
source = "A7"

[[variants]]
name = "insights"
description = "Queries."

[[variants.actions]]
action = "logs:StartQuery"
service = "Logs"
why = "Query."
resource = "arn:aws:logs:*:*:log-group:*"
source = "A7"

[[variants.actions]]
action = "kms:Decrypt"
service = "KMS"
why = "Encrypted groups."
resource = "arn:aws:kms:*:*:key/*"
source = "judgment"
"""


def write_rules(directory: Path, text: str, name: str = "view-logs.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_the_valid_base_file_loads(tmp_path: Path, catalog: Catalog) -> None:
    ruleset = load_rules(write_rules(tmp_path / "rules", VALID), catalog=catalog)
    rule = ruleset["view-logs"]
    assert [a.action for a in rule.required] == ["logs:FilterLogEvents", "logs:DescribeLogGroups"]
    assert rule.origin.endswith("rules/view-logs.toml")


LOADER_ERRORS = [
    pytest.param(
        lambda t: t.replace('title = "View Logs"', 'title = "View Logs'),
        r"invalid TOML: .*\(at line 3",
        id="bad-toml",
    ),
    pytest.param(
        lambda t: t.replace('section = "2.3.1"', 'section = "2.3.1"\ncolour = "blue"'),
        r"colour: unknown key \(allowed: ",
        id="unknown-top-level-key",
    ),
    pytest.param(
        lambda t: t.replace('why = "Groups."', 'why = "Groups."\nresources = "*"'),
        r"required\[1\]\.resources: unknown key",
        id="unknown-nested-key",
    ),
    pytest.param(
        lambda t: t.replace('why = "History."\n', ""),
        r"required\[0\]\.why: missing",
        id="missing-key",
    ),
    pytest.param(
        lambda t: t.replace('section = "2.3.1"', "section = 2.3"),
        r"section: expected a string, got a number",
        id="wrong-type",
    ),
    pytest.param(
        lambda t: t.replace('id = "view-logs"', 'id = "view-log"'),
        r"id: 'view-log' differs from the file name's stem 'view-logs'",
        id="id-not-stem",
    ),
    pytest.param(
        lambda t: t.replace("logs:FilterLogEvents", "logs:GetLogEventz"),
        r"required\[0\]\.action: 'logs:GetLogEventz' is not a known IAM action",
        id="unknown-action",
    ),
    pytest.param(
        lambda t: t.replace("logs:FilterLogEvents", "logs:Get*"),
        r"required\[0\]\.action: 'logs:Get\*' is not an exact IAM action",
        id="wildcard-action",
    ),
    pytest.param(
        lambda t: t.replace(
            'action = "logs:DescribeLogGroups"\nservice = "Logs"',
            'action = "cloudwatch:GetMetricData"\nservice = "Logs"',
        ),
        r"required\[1\]\.action: 'cloudwatch:GetMetricData' is outside Logs \(prefixes: logs\)",
        id="out-of-service-required",
    ),
    pytest.param(
        lambda t: t + '\n[[required]]\naction = "kms:ListAliases"\nservice = "KMS"\nwhy = "x"\nsource = "judgment"\n',
        r"other_services\[0\]\.why: KMS is not in the guide's list, so its required actions need "
        r"the reason",
        id="required-from-other-service-without-why",
    ),
    pytest.param(
        lambda t: t.replace(
            'action = "logs:DescribeLogGroups"\nservice = "Logs"',
            'action = "kms:DescribeKey"\nservice = "Metrics"',
        ),
        r"required\[\d\]\.service: 'Metrics' is not one of the services this file declares "
        r"\(CloudWatch, Logs, KMS\)",
        id="required-from-undeclared-service",
    ),
    pytest.param(
        lambda t: t.replace(
            'action = "logs:DescribeLogGroups"\nservice = "Logs"',
            'action = "kms:DescribeKey"\nservice = "KMS"',
        ),
        r"services\[1\]: Logs has no required action, but the guide lists it for this use case "
        r"\(say why none is needed with no_action\)",
        id="guide-service-without-required",
    ),
    pytest.param(
        lambda t: t.replace("logs:StartQuery", "logs:FilterLogEvents"),
        r"variants\[0\]\.actions\[0\]\.action: 'logs:FilterLogEvents' is already listed at "
        r"required\[0\]",
        id="duplicate-required-and-variant",
    ),
    pytest.param(
        lambda t: t.replace("logs:DescribeLogGroups", "LOGS:filterlogevents"),
        r"required\[1\]\.action: 'logs:FilterLogEvents' is already listed at required\[0\]",
        id="duplicate-in-other-case",
    ),
    pytest.param(
        lambda t: t.replace(
            'action = "logs:DescribeLogGroups"\nservice = "Logs"',
            'action = "logs:DescribeLogGroups"\nservice = "CloudWatch"',
        ),
        r"services\[1\]: Logs has no required action, but the guide lists it",
        id="service-without-required-action",
    ),
    pytest.param(
        lambda t: t.replace(
            'guide_text = "Provides detailed log information."',
            'guide_text = "Provides detailed log information."\nonly_with = "insights"',
        ),
        r"services\[1\]\.only_with: Logs is conditional in the guide, so "
        r"'logs:DescribeLogGroups' belongs in variant 'insights'",
        id="conditional-service-required",
    ),
    pytest.param(
        lambda t: t.replace(
            'guide_text = "Provides detailed log information."',
            'guide_text = "Provides detailed log information."\nonly_with = "tail"',
        ),
        r"services\[1\]\.only_with: no variant is called 'tail'",
        id="only-with-unknown-variant",
    ),
    pytest.param(
        lambda t: t.replace(
            'service = "Logs"\nwhy = "Groups."',
            'service = "Logs"\nwhy = "Groups."\nresource = "arn:aws:logs:*:*:log-group:*"',
        ),
        r"required\[1\]\.resource: 'logs:DescribeLogGroups' cannot be limited to resources",
        id="resource-on-action-without-resource-level",
    ),
    pytest.param(
        lambda t: t.replace('resource = "arn:aws:logs:*:*:log-group:*"', 'resource = "log-group"', 1),
        r"required\[0\]\.resource: 'log-group' is neither '\*' nor an ARN pattern",
        id="resource-not-an-arn",
    ),
    pytest.param(
        lambda t: t.replace('source = "A7"', 'source = "A99"', 1),
        r"required\[0\]\.source: 'A99' is not a source key",
        id="unknown-source",
    ),
    pytest.param(
        lambda t: t.replace('name = "insights"', 'name = "Insights!"'),
        r"variants\[0\]\.name: 'Insights!' is not of the form",
        id="bad-variant-name",
    ),
    pytest.param(
        lambda t: t.replace('display = "KMS"\nprefixes = ["kms"]', 'display = "SQS"\nprefixes = ["sqs"]'),
        r"variants\[0\]\.actions\[1\]\.service: 'KMS' is not one of the services this file "
        r"declares",
        id="variant-service-undeclared",
    ),
    pytest.param(
        lambda t: t + '\n[[other_services]]\ndisplay = "SQS"\nprefixes = ["sqs"]\n',
        r"other_services\[1\]: SQS is used by no action",
        id="unused-other-service",
    ),
    pytest.param(
        lambda t: t.replace('display = "KMS"', 'display = "Logs"'),
        r"other_services\[0\]\.display: service 'Logs' is declared twice",
        id="service-declared-twice",
    ),
    pytest.param(
        lambda t: t.replace('source = "judgment"', 'source = "judgment"\ncontext = { nokey = "x" }'),
        r"variants\[0\]\.actions\[1\]\.context\.nokey: is not a condition key",
        id="bad-context-key",
    ),
    pytest.param(
        lambda t: (
            t + '\n[trust]\nassumable_by = "Zeet"\naction = "sts:AssumeRole"\n'
            'principals = ["arn:aws:iam::123456789012:root"]\nexternal_id_key = "sts:ExternalId"\n'
            'external_id_operators = ["StringEquals"]\nsources = ["guide"]\n'
        ),
        r"trust\.principals\[0\]: must contain the \{account\} placeholder",
        id="trust-with-a-hard-coded-account",
    ),
    pytest.param(
        lambda t: t + '\n[plans]\nsection = "2"\nfine_grained = ["Pro"]\notherwise = "admin"\nsource = "guide"\n',
        r"plans\.otherwise: 'admin': only 'default_mode' is known",
        id="plans-otherwise",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), LOADER_ERRORS)
def test_a_bad_rule_file_is_one_line_naming_file_and_key(
    tmp_path: Path, catalog: Catalog, mutate: object, message: str
) -> None:
    assert callable(mutate)
    directory = write_rules(tmp_path / "rules", mutate(VALID))
    with pytest.raises(RulesError) as caught:
        load_rules(directory, catalog=catalog)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{directory}/view-logs.toml: "), text
    assert re.search(message, text), text


def test_two_files_with_one_section(tmp_path: Path, catalog: Catalog) -> None:
    directory = write_rules(tmp_path / "rules", VALID)
    other = VALID.replace('id = "view-logs"', 'id = "view-logs-too"')
    write_rules(directory, other, "view-logs-too.toml")
    with pytest.raises(RulesError, match=r"view-logs.toml: section: '2.3.1' is also the section of"):
        load_rules(directory, catalog=catalog)


def test_an_empty_directory(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(RulesError, match="no rule files"):
        load_rules(tmp_path, catalog=catalog)


def test_a_missing_directory(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(RulesError, match="not a directory"):
        load_rules(tmp_path / "nowhere", catalog=catalog)


def test_any_catalogue_with_get_will_do(tmp_path: Path, catalog: Catalog) -> None:
    class Lookups:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def get(self, action: str, /) -> object:
            self.asked.append(action)
            return catalog.get(action)

    lookups = Lookups()
    load_rules(write_rules(tmp_path / "rules", VALID), catalog=lookups)  # type: ignore[arg-type]
    assert "logs:StartQuery" in lookups.asked


# -- the installed wheel --------------------------------------------------------------------------

CHECK_INSTALLED = """
import json, sys
from importlib import resources
import zeet_iam_audit
from zeet_iam_audit.rules import load_rules
folder = resources.files("zeet_iam_audit") / "rules"
stems = sorted(item.name[:-5] for item in folder.iterdir() if item.name.endswith(".toml"))
rules = load_rules()
print(json.dumps({"stems": stems, "ids": list(rules.ids), "file": zeet_iam_audit.__file__}))
"""


@pytest.mark.slow
def test_the_wheel_ships_the_rules(tmp_path: Path) -> None:
    # Build from a copy, so the build never writes into the working tree; the rules symlink is
    # copied as a symlink, as it is in the repository.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "rules"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name)
        elif (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "zeet_iam_audit", source / "zeet_iam_audit", symlinks=True, ignore=ignore)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("zeet_iam_audit-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [str(python), "-I", "-c", CHECK_INSTALLED],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    found = json.loads(result.stdout)
    assert found["stems"] == sorted(GUIDE)
    assert found["ids"] == list(GUIDE)
    assert str(venv) in found["file"]


# -- rules held to Zeet's EKS template (base path: plan, apply, refresh, destroy) -----------------

# Calls the pinned template makes on every cluster that the rules once left optional or out.
TEMPLATE_BASE_CALLS = [
    "ec2:DescribeImages",  # data.aws_ami.eks_gpu has no count
    "ec2:DescribeVpcClassicLink",  # provider 4.56 aws_vpc read
    "ec2:DescribeVpcClassicLinkDnsSupport",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",  # destroy
    "iam:UpdateOpenIDConnectProviderThumbprint",
    "logs:CreateLogGroup",  # the EKS control-plane log group
    "logs:PutRetentionPolicy",
    "logs:DescribeLogGroups",
    "logs:ListTagsLogGroup",
    "logs:TagLogGroup",
    "logs:DeleteLogGroup",
]
# Required once, called by no public code and implied by nothing in the guide.
NOT_ON_THE_BASE_PATH = [
    "sts:AssumeRole",
    "eks:ListClusters",
    "eks:ListAddons",
    "eks:ListNodegroups",
    "eks:ListTagsForResource",
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstanceTypeOfferings",
    "route53:ListHostedZones",
    "route53:ListHostedZonesByName",
    "autoscaling:DescribeAutoScalingGroups",
    "ecr:GetAuthorizationToken",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
]


@pytest.mark.parametrize("action", TEMPLATE_BASE_CALLS)
def test_container_management_requires_what_the_template_calls(ruleset: RuleSet, action: str) -> None:
    assert ruleset["container-management"].needs(action)


@pytest.mark.parametrize("action", NOT_ON_THE_BASE_PATH)
def test_container_management_does_not_require_what_nothing_calls(ruleset: RuleSet, action: str) -> None:
    rule = ruleset["container-management"]
    assert not rule.needs(action)
    if action != "sts:AssumeRole":
        # Kept as an optional group, with the reason in the variant's description.
        assert any(action in [a.action for a in v.actions] for v in rule.variants), action


def test_sts_is_listed_with_the_reason_it_needs_no_action(ruleset: RuleSet) -> None:
    rule = ruleset["container-management"]
    sts = rule.service("STS")
    assert sts is not None
    assert sts.in_guide
    assert sts.no_action is not None
    assert "IRSA" in sts.no_action
    assert "GetCallerIdentity" in sts.no_action
    assert not [a for a in rule.required if a.prefix == "sts"]
    # Nowhere in the rules is Zeet's role asked to assume any role of the account.
    assert [
        (r.id, a.resources) for r in ruleset for a in (*r.required, *r.optional) if a.action == "sts:AssumeRole"
    ] == [("serverless-lambda", ("arn:aws:iam::*:role/cdk-*",))]


def test_cloudwatch_logs_is_required_under_its_own_name(ruleset: RuleSet) -> None:
    rule = ruleset["container-management"]
    logs = rule.service("CloudWatch Logs")
    assert logs is not None
    assert not logs.in_guide
    assert logs.why is not None
    assert "not in the guide's list" in logs.why.lower()
    assert "create_cloudwatch_log_group" in logs.why
    assert {a.service for a in rule.required if a.prefix == "logs"} == {"CloudWatch Logs"}


@pytest.mark.parametrize(
    ("rule_id", "action", "types"),
    [
        ("rds-management", "rds:CreateDBInstance", {"db", "subgrp", "pg", "og"}),
        ("rds-management", "rds:AddTagsToResource", {"db", "subgrp"}),
        ("container-management", "eks:TagResource", {"cluster", "nodegroup", "addon"}),
        ("container-management", "ec2:RunInstances", {"instance", "subnet", "launch-template", "security-group"}),
        ("container-management", "kms:CreateAlias", {"alias", "key"}),
    ],
)
def test_multi_resource_actions_name_every_resource_checked(
    ruleset: RuleSet, rule_id: str, action: str, types: set[str]
) -> None:
    found = next(a for a in (*ruleset[rule_id].required, *ruleset[rule_id].optional) if a.action == action)
    catalogue = load_resource_catalog()
    named = {t.name for resource in found.resources for t in catalogue.types_of(action, resource)}
    assert types <= named, sorted(named)


# -- placeholders: the Terraform state settings ---------------------------------------------------


def test_state_placeholders_scope_the_state_rules(catalog: Catalog) -> None:
    unset = load_rules(catalog=catalog)
    rule = unset["terraform-modules"]
    listing = next(a for a in rule.required if a.action == "s3:ListBucket")
    objects = next(a for a in rule.required if a.action == "s3:GetObject")
    assert (listing.resources, listing.unset) == (("arn:aws:s3:::*",), ("state_bucket",))
    assert (objects.resources, objects.unset) == (("arn:aws:s3:::*/*",), ("state_bucket", "state_key_prefix"))
    assert "--state-bucket, ZEET_IAM_AUDIT_STATE_BUCKET or state_bucket in the config file" in listing.settle_hint

    given = load_rules(catalog=catalog, placeholders={"state_bucket": "acme-tf", "state_key_prefix": "zeet/"})
    for rule_id in ("terraform-modules", "rds-management"):
        by_action = {a.action: a for a in (*given[rule_id].required, *given[rule_id].optional)}
        assert by_action["s3:ListBucket"].resources == ("arn:aws:s3:::acme-tf",)
        assert by_action["s3:PutObject"].resources == ("arn:aws:s3:::acme-tf/zeet/*",)
        assert by_action["s3:ListBucket"].settle_hint == ""
        assert by_action["dynamodb:PutItem"].unset == ("lock_table",)
    assert set(PLACEHOLDERS) == {"state_bucket", "state_key_prefix", "lock_table", "permissions_boundary"}


def test_an_unknown_placeholder_is_a_rules_error(tmp_path: Path, catalog: Catalog) -> None:
    group = 'resource = "arn:aws:logs:*:*:log-group:*"'
    text = VALID.replace(group, group.replace("log-group:*", "log-group:{group}"), 1)
    assert text != VALID
    directory = write_rules(tmp_path / "rules", text)
    with pytest.raises(RulesError, match=r"resource: \{group\} is not a known placeholder \(\{state_bucket\}"):
        load_rules(directory, catalog=catalog)


def test_serverless_deploys_through_change_sets(ruleset: RuleSet) -> None:
    # SAM and CDK deploy with change sets; direct stack calls are a variant of their own.
    rule = ruleset["serverless-lambda"]
    assert rule.needs("cloudformation:CreateChangeSet")
    assert rule.needs("cloudformation:ExecuteChangeSet")
    direct = rule.variant("direct-deploy")
    assert direct is not None
    assert {a.action for a in direct.actions} == {"cloudformation:CreateStack", "cloudformation:UpdateStack"}
    assert not rule.needs("cloudformation:CreateStack")
