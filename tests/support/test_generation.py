"""Generating least-privilege roles: grants, grouping, splitting, and the round trip through the audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from zeet_iam_audit.audit.engine import AuditOptions, audit_role
from zeet_iam_audit.audit.report import FeatureStatus, RoleReport, TrustStatus
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.errors import UsageError
from zeet_iam_audit.policy.evaluate import KEY_POLICY_NOTE
from zeet_iam_audit.rules import RuleSet, load_template_extras
from zeet_iam_audit.sources import load_file
from zeet_iam_audit.support.generation import (
    MAX_MANAGED_POLICIES,
    POLICY_SIZE_LIMIT,
    Grant,
    build_statements,
    drop_covered,
    generate_role,
    pack,
    policy_size,
)
from zeet_iam_audit.support.templates import (
    cloudformation_template,
    render,
    render_terraform,
)

from .conftest import FIXTURES

ZEET = "111122223333"
EXTERNAL = "zeet-ext-5f2c9a7e"
FEATURES = (
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
)


def _variants(rules: RuleSet, features: tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(sorted({v.name for r in rules if features is None or r.id in features for v in r.variants}))


def _audit(
    path: Path, rules: RuleSet, catalog: Catalog, features: tuple[str, ...] | None, variants: tuple[str, ...]
) -> RoleReport:
    (role,) = load_file(path).roles
    options = AuditOptions(
        features=features, variants=frozenset(variants), trust=TrustSettings(zeet_account_id=ZEET, external_id=EXTERNAL)
    )
    return audit_role(role, rules, catalog, options)


def _assert_clean(report: RoleReport, features: tuple[str, ...] | None) -> None:
    assert report.trust.status is TrustStatus.OK, report.trust
    assert [f.id for f in report.features] == list(features or FEATURES)
    # An action on a KMS key is never plainly allowed by identity policies: its key policy must
    # also allow the account, which no generated role can settle.
    key_bound = {
        f.id
        for f in report.features
        if f.status is FeatureStatus.CONDITIONAL
        and not f.missing
        and not f.unknown
        and all(KEY_POLICY_NOTE in a.reasons for a in f.conditional)
    }
    assert {f.id: f.status for f in report.features if f.id not in key_bound} == {
        f.id: FeatureStatus.OK for f in report.features if f.id not in key_bound
    }
    assert report.excess.total == 0, report.excess
    assert report.unknown_policies == ()


SELECTIONS = [pytest.param((feature,), id=feature) for feature in FEATURES] + [pytest.param(None, id="all")]


@pytest.mark.parametrize("features", SELECTIONS)
@pytest.mark.parametrize("with_variants", [False, True], ids=["required", "with-every-variant"])
@pytest.mark.parametrize(("fmt", "suffix"), [("json", "json"), ("cloudformation", "yaml")])
def test_generated_role_audits_clean(
    features: tuple[str, ...] | None,
    with_variants: bool,
    fmt: str,
    suffix: str,
    rules: RuleSet,
    catalog: Catalog,
    tmp_path: Path,
) -> None:
    variants = _variants(rules, features) if with_variants else ()
    role = generate_role(
        rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, features=features, variants=variants
    )
    path = tmp_path / f"role.{suffix}"
    path.write_text(render(role, fmt, account_id="123456789012"), encoding="utf-8")
    _assert_clean(_audit(path, rules, catalog, features, variants), features)


def test_template_extras_are_granted(rules: RuleSet, catalog: Catalog, tmp_path: Path) -> None:
    extras = load_template_extras(FIXTURES / "terraform-template-extra.toml", catalog=catalog)
    role = generate_role(
        rules,
        catalog,
        zeet_account_id=ZEET,
        external_id=EXTERNAL,
        features=("terraform-modules",),
        template_extras=extras,
    )
    path = tmp_path / "role.json"
    path.write_text(render(role, "json"), encoding="utf-8")
    (loaded,) = load_file(path).roles
    options = AuditOptions(
        features=("terraform-modules",),
        template_extras=extras,
        trust=TrustSettings(zeet_account_id=ZEET, external_id=EXTERNAL),
    )
    report = audit_role(loaded, rules, catalog, options)
    assert report.features[0].status is FeatureStatus.OK
    assert report.features[0].required == 3 + len(extras)
    assert report.excess.total == 0


@pytest.mark.parametrize("with_variants", [False, True], ids=["required", "with-every-variant"])
def test_all_features_fit_and_sizes_are_measured(with_variants: bool, rules: RuleSet, catalog: Catalog) -> None:
    variants = _variants(rules, None) if with_variants else ()
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, variants=variants)
    assert 1 <= len(role.policies) <= MAX_MANAGED_POLICIES
    for policy in role.policies:
        assert policy.size == policy_size(policy.document) <= POLICY_SIZE_LIMIT
        text = json.dumps(policy.document, indent=4)
        assert len("".join(text.split())) == policy.size  # whitespace is not counted
    assert [p.name for p in role.policies] == [f"zeet-cloud-connection-{n}" for n in range(1, len(role.policies) + 1)]


def test_statements_use_exact_actions_and_rule_conditions(rules: RuleSet, catalog: Catalog) -> None:
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, features=("container-management",))
    statements = [s for p in role.policies for s in p.document["Statement"]]
    actions = [a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not any("*" in action or "?" in action for action in actions)
    pass_role = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert pass_role == [
        {
            "Sid": "ContainerManagementIam4",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::*:role/*",
            "Condition": {"StringEquals": {"iam:PassedToService": "eks.amazonaws.com"}},
        }
    ]
    assert len({s["Sid"] for s in statements}) == len(statements)


def test_trust_policy_and_session_duration(rules: RuleSet, catalog: Catalog) -> None:
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, features=("view-logs",))
    assert role.trust_policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ZEET}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL}},
            }
        ],
    }
    assert role.max_session_duration == 3600


def test_cloud_connection_alone_has_no_permission_policy(rules: RuleSet, catalog: Catalog) -> None:
    role = generate_role(rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, features=("cloud-connection",))
    assert role.policies == ()
    assert "ManagedPolicyArns" not in cloudformation_template(role)["Resources"]["ZeetRole"]["Properties"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"zeet_account_id": None}, "generate: the trust policy needs Zeet's account id", id="no-account"),
        pytest.param({"zeet_account_id": "1234"}, "--zeet-account-id: expected 12 digits", id="bad-account"),
        pytest.param({"external_id": None}, "generate: the trust policy needs the external id", id="no-external-id"),
        pytest.param({"external_id": "has space"}, "--external-id: 2 to 1224 characters", id="bad-external-id"),
        pytest.param({"features": ("nope",)}, "--features: unknown feature nope", id="unknown-feature"),
        pytest.param({"variants": ("nope",)}, "--with: unknown variant nope", id="unknown-variant"),
        pytest.param({"role_name": "a/b"}, "--role-name:", id="bad-role-name"),
        pytest.param({"max_policies": 1}, "the selection needs 2 managed policies", id="too-many-policies"),
    ],
)
def test_errors_are_one_line(kwargs: dict[str, Any], message: str, rules: RuleSet, catalog: Catalog) -> None:
    arguments: dict[str, Any] = {"zeet_account_id": ZEET, "external_id": EXTERNAL, **kwargs}
    with pytest.raises(UsageError) as caught:
        generate_role(rules, catalog, **arguments)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_unused_variant_is_noted(rules: RuleSet, catalog: Catalog) -> None:
    role = generate_role(
        rules, catalog, zeet_account_id=ZEET, external_id=EXTERNAL, features=("view-logs",), variants=("custom-domain",)
    )
    assert role.notes == ("--with custom-domain: no selected feature defines it; ignored",)


@pytest.mark.parametrize(
    ("grants", "kept"),
    [
        pytest.param(
            [
                Grant("a", "s3:GetObject", ("arn:aws:s3:::*/*.tflock",)),
                Grant("b", "s3:GetObject", ("arn:aws:s3:::*/*",)),
            ],
            [1],
            id="broader-scope-covers",
        ),
        pytest.param(
            [Grant("a", "s3:GetObject", ("arn:aws:s3:::*/*",)), Grant("b", "s3:GetObject", ("arn:aws:s3:::*/*",))],
            [0],
            id="identical-keeps-first",
        ),
        pytest.param(
            [
                Grant("a", "iam:PassRole", ("*",), (("iam:PassedToService", ("eks.amazonaws.com",)),)),
                Grant("b", "iam:PassRole", ("*",), (("iam:PassedToService", ("lambda.amazonaws.com",)),)),
            ],
            [0, 1],
            id="different-conditions-both-kept",
        ),
        pytest.param(
            [
                Grant("a", "iam:PassRole", ("*",), (("iam:PassedToService", ("eks.amazonaws.com",)),)),
                Grant("b", "iam:PassRole", ("*",)),
            ],
            [1],
            id="unconditional-covers-conditional",
        ),
        pytest.param(
            [Grant("a", "s3:GetObject", ("arn:aws:s3:::a/*",)), Grant("b", "s3:PutObject", ("*",))],
            [0, 1],
            id="different-actions",
        ),
    ],
)
def test_drop_covered(grants: list[Grant], kept: list[int]) -> None:
    assert drop_covered(grants) == [grants[i] for i in kept]


def test_build_statements_merges_actions_sharing_a_scope() -> None:
    grants = [
        Grant("view-logs", "logs:GetLogEvents", ("arn:x",)),
        Grant("view-logs", "logs:FilterLogEvents", ("arn:x",)),
        Grant("view-logs", "logs:StartQuery", ("arn:y",)),
        Grant("view-metrics", "cloudwatch:GetMetricData", ("*",)),
    ]
    assert build_statements(grants) == [
        (
            "view-logs",
            {
                "Sid": "ViewLogsLogs",
                "Effect": "Allow",
                "Action": ["logs:FilterLogEvents", "logs:GetLogEvents"],
                "Resource": "arn:x",
            },
        ),
        ("view-logs", {"Sid": "ViewLogsLogs2", "Effect": "Allow", "Action": "logs:StartQuery", "Resource": "arn:y"}),
        (
            "view-metrics",
            {"Sid": "ViewMetricsCloudwatch", "Effect": "Allow", "Action": "cloudwatch:GetMetricData", "Resource": "*"},
        ),
    ]


def test_pack_splits_a_statement_too_large_for_one_policy() -> None:
    actions = [f"ec2:Action{n:04d}" for n in range(600)]
    statement = {"Sid": "Big", "Effect": "Allow", "Action": actions, "Resource": "*"}
    bins = pack([("f", statement)], limit=POLICY_SIZE_LIMIT)
    assert len(bins) > 1
    parts = [s for b in bins for _, s in b]
    assert [a for s in parts for a in s["Action"]] == actions
    assert all(
        policy_size({"Version": "2012-10-17", "Statement": [s for _, s in b]}) <= POLICY_SIZE_LIMIT for b in bins
    )
    assert parts[0]["Sid"] == "BigPart1"


def test_pack_falls_back_to_first_fit_decreasing() -> None:
    def sized(name: str, count: int) -> tuple[str, dict[str, Any]]:
        return (
            "f",
            {"Sid": name, "Effect": "Allow", "Action": [f"s3:A{n:03d}" for n in range(count)], "Resource": "*"},
        )

    statements = [sized("A", 60), sized("B", 50), sized("C", 40), sized("D", 50)]
    empty = policy_size({"Version": "2012-10-17", "Statement": []})
    limit = empty + policy_size(statements[0][1]) + policy_size(statements[2][1]) + 1
    in_order = pack(statements, limit=limit, max_policies=3)
    assert [[s["Sid"] for _, s in b] for b in in_order] == [["A"], ["B", "C"], ["D"]]
    largest_first = pack(statements, limit=limit, max_policies=2)
    assert [[s["Sid"] for _, s in b] for b in largest_first] == [["A", "C"], ["B", "D"]]


def test_the_boundary_is_written_only_when_a_grant_needs_it(catalog: Catalog) -> None:
    from zeet_iam_audit.rules import load_rules
    from zeet_iam_audit.support.generation import own_boundary_arn

    own = load_rules(catalog=catalog, placeholders={"permissions_boundary": own_boundary_arn("zeet-x")})
    role = generate_role(
        own,
        catalog,
        zeet_account_id=ZEET,
        external_id=EXTERNAL,
        role_name="zeet-x",
        features=("container-management",),
        write_boundary=True,
    )
    assert role.boundary is not None
    assert role.boundary.name == "zeet-x-boundary"
    assert role.boundary.size == policy_size(role.boundary.document)
    conditioned = [
        s
        for p in role.policies
        for s in p.document["Statement"]
        if "iam:PermissionsBoundary" in json.dumps(s.get("Condition", {}))
    ]
    assert conditioned
    assert all(
        s["Condition"] == {"StringLike": {"iam:PermissionsBoundary": "arn:aws:iam::*:policy/zeet-x-boundary"}}
        for s in conditioned
    )
    assert "zeet-x-boundary" in render_terraform(role)
    assert "created_roles_boundary_arn" in render_terraform(role)
    # A selection without IAM role writes needs no boundary.
    logs = generate_role(
        own,
        catalog,
        zeet_account_id=ZEET,
        external_id=EXTERNAL,
        role_name="zeet-x",
        features=("view-logs",),
        write_boundary=True,
    )
    assert logs.boundary is None
    assert "boundary" not in render_terraform(logs)
