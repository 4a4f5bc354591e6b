"""``zeet-iam-audit generate``: the command line, settings, outputs, and the CLI round trip."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from zeet_iam_audit.cli import main
from zeet_iam_audit.policy.evaluate import KEY_POLICY_NOTE

ZEET = "111122223333"
EXTERNAL = "zeet-ext-5f2c9a7e"
IDS = ["--zeet-account-id", ZEET, "--external-id", EXTERNAL]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, stdin=io.StringIO(""))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("AWS_", "ZEET_IAM_AUDIT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("json", "json"), ("cloudformation", "yaml")], ids=["json", "cloudformation"]
)
@pytest.mark.parametrize(
    "selection",
    [
        pytest.param(["--features", "view-logs"], id="one-feature"),
        pytest.param(
            [
                "--features",
                "cluster-capacity-monitoring,secrets-manager",
                "--with",
                "messaging-extras",
                "--with",
                "write",
            ],
            id="two-features-with-variants",
        ),
        pytest.param([], id="all-features"),
    ],
)
def test_generated_file_audits_clean_through_the_cli(
    fmt: str, suffix: str, selection: list[str], tmp_path: Path
) -> None:
    target = tmp_path / f"role.{suffix}"
    code, out, err = run_cli(["generate", *IDS, *selection, "--format", fmt, "--output", str(target)])
    assert (code, out) == (0, ""), err
    assert "managed polic" in err
    # Zeet creates its roles with the boundary the generated template defines (any account's).
    code, report, summary = run_cli(
        [
            "--file",
            str(target),
            *IDS,
            *selection,
            "--format",
            "json",
            "--fail-on",
            "missing,unknown,trust,excess",
            "--permissions-boundary",
            "arn:aws:iam::123456789012:policy/zeet-cloud-connection-boundary",
        ]
    )
    assert code == 0, summary
    (role,) = json.loads(report)["roles"]
    # Actions on KMS keys stay conditional: the key policy must also allow the account.
    assert {f["status"] for f in role["features"]} <= {"ok", "conditional"}
    assert all(KEY_POLICY_NOTE in action["reasons"] for f in role["features"] for action in f["conditional"])
    assert role["excess"]["total_actions"] == 0
    assert role["trust"]["status"] == "ok"


def test_json_to_stdout_and_summary_on_stderr() -> None:
    code, out, err = run_cli(["generate", *IDS, "--features", "view-metrics", "--account-id", "123456789012"])
    assert code == 0
    data = json.loads(out)
    assert data["Role"]["Arn"] == "arn:aws:iam::123456789012:role/zeet-cloud-connection"
    assert data["AttachedPolicies"][0]["PolicyName"] == "zeet-cloud-connection-1"
    assert err.startswith("zeet-iam-audit generate: 2 actions for 1 feature in 1 managed policy (")


def test_terraform_output() -> None:
    code, out, _ = run_cli(
        ["generate", *IDS, "--features", "view-logs", "--format", "terraform", "--role-name", "zeet-prod"]
    )
    assert code == 0
    assert 'resource "aws_iam_role" "zeet" {' in out
    assert 'name                 = "zeet-prod"' in out
    assert 'resource "aws_iam_policy" "zeet_1" {' in out
    assert 'resource "aws_iam_role_policy_attachment" "zeet_1" {' in out
    assert "policy_arn = aws_iam_policy.zeet_1.arn" in out


def test_ids_and_features_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / ".zeet-iam-audit.toml").write_text(
        f'zeet_account_id = "{ZEET}"\nexternal_id = "{EXTERNAL}"\nfeatures = ["view-logs"]\n', encoding="utf-8"
    )
    code, out, _ = run_cli(["generate", "--format", "cloudformation"])
    assert code == 0
    template = yaml.safe_load(out)
    assert template["Parameters"]["ZeetAccountId"]["Default"] == ZEET
    assert template["Resources"]["ZeetPolicy1"]["Properties"]["Description"].startswith("Zeet: view-logs ")


def test_ids_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEET_IAM_AUDIT_ZEET_ACCOUNT_ID", ZEET)
    monkeypatch.setenv("ZEET_IAM_AUDIT_EXTERNAL_ID", EXTERNAL)
    code, out, _ = run_cli(["generate", "--features", "view-logs"])
    assert code == 0
    trust = json.loads(out)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL}}


def test_unused_variant_is_reported_on_stderr() -> None:
    code, _, err = run_cli(["generate", *IDS, "--features", "view-logs", "--with", "custom-domain"])
    assert code == 0
    assert "zeet-iam-audit generate: --with custom-domain: no selected feature defines it; ignored\n" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["generate", "--external-id", EXTERNAL], "the trust policy needs Zeet's account id", id="no-account-id"
        ),
        pytest.param(
            ["generate", "--zeet-account-id", ZEET], "the trust policy needs the external id", id="no-external-id"
        ),
        pytest.param(["generate", *IDS, "--features", "nope"], "--features: unknown feature nope", id="bad-feature"),
        pytest.param(["generate", *IDS, "--with", "nope"], "--with: unknown variant nope", id="bad-variant"),
        pytest.param(["generate", *IDS, "--account-id", "12"], "--account-id: expected 12 digits", id="bad-account"),
        pytest.param(["generate", *IDS, "--format", "pulumi"], "argument --format: invalid choice", id="bad-format"),
        pytest.param(
            ["generate", *IDS, "--template-extras", "missing.toml"], "missing.toml: cannot read", id="missing-extras"
        ),
    ],
)
def test_errors_exit_2_in_one_line(argv: list[str], message: str) -> None:
    code, out, err = run_cli(argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


# -- the rules held to Zeet's EKS template, and generate's protections ----------------------------

ROOT = Path(__file__).resolve().parents[2]
# What Zeet's EKS template (zeet-cloud-aws eks/terraform, provider 4.56.0, eks 18.20) calls on its
# base path, one statement per Terraform object, all on "*" as a customer copying it would write.
TEMPLATE_BASE_PATH = ROOT / "fixtures" / "policy" / "zeet-eks-template-base-path.json"
STATE_SCOPED = ROOT / "fixtures" / "policy" / "terraform-state-scoped.json"
BOUNDARY = "arn:aws:iam::123456789012:policy/zeet-cloud-connection-boundary"
FEATURES = [
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
]


def audit_json(argv: list[str]) -> tuple[int, dict[str, str], str]:
    """The audit's feature statuses by id (one role), and its stderr."""
    code, out, err = run_cli([*argv, "--format", "json"])
    assert code in (0, 1), err
    (role,) = json.loads(out)["roles"]
    return code, {f["id"]: f["status"] for f in role["features"]}, out


def fixture_actions() -> list[str]:
    document = json.loads(TEMPLATE_BASE_PATH.read_text(encoding="utf-8"))
    return [action for statement in document["Statement"] for action in statement["Action"]]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def generated_policies(argv: list[str]) -> list[dict[str, Any]]:
    code, out, err = run_cli(["generate", *IDS, *argv])
    assert code == 0, err
    return [policy["PolicyDocument"] for policy in json.loads(out)["AttachedPolicies"]]


def sample_arn(pattern: str) -> str:
    """A concrete ARN inside a rule's scope: region, account, then a name for each other '*'."""
    if pattern == "*":
        return "*"
    parts = pattern.split(":", 5)
    parts[3] = parts[3].replace("*", "us-east-1")
    parts[4] = parts[4].replace("*", "123456789012")
    parts[5] = parts[5].replace("*", "example")
    return ":".join(parts)


def test_the_template_base_path_audits_ok_for_container_management() -> None:
    # Every action the rules require is one the template calls: no false "missing".
    _, statuses, _ = audit_json(
        [
            "--file",
            str(TEMPLATE_BASE_PATH),
            *IDS,
            "--features",
            "container-management",
            "--mode",
            "fine-grained",
            "--plan",
            "Pro",
        ]
    )
    assert statuses == {"container-management": "ok"}


def test_generate_covers_every_action_of_the_template_base_path() -> None:
    # Every action the template calls is granted, on the scope the rules give it: no false "ok".
    from zeet_iam_audit.catalog import load_catalog
    from zeet_iam_audit.policy.evaluate import Decision, evaluate
    from zeet_iam_audit.rules import load_rules

    rule = load_rules(catalog=load_catalog(), placeholders={"permissions_boundary": BOUNDARY})["container-management"]
    default = generated_policies(["--features", "container-management"])
    with_updates = generated_policies(["--features", "container-management", "--with", "iam-updates"])
    for action in fixture_actions():
        requirement = next(a for a in (*rule.required, *rule.optional) if a.action == action)
        # Rewriting a policy document cannot be bounded: it comes only with the variant iam-updates.
        policies = with_updates if action == "iam:CreatePolicyVersion" else default
        # The request as the template makes it: one per context value (PassRole to EKS, each
        # service-linked role), roles created with the boundary.
        requests = [{key: value} for key, values in requirement.context for value in values] or [{}]
        for resource in requirement.resources:
            for context in requests:
                decision = evaluate(
                    action, sample_arn(resource), policies, context={**context, "iam:PermissionsBoundary": BOUNDARY}
                ).decision
                assert decision is Decision.ALLOWED, f"{action} on {sample_arn(resource)} {context}: {decision}"
    granted = {a for doc in default for s in doc["Statement"] for a in as_list(s["Action"])}
    assert set(fixture_actions()) - granted == {"iam:CreatePolicyVersion"}


@pytest.mark.parametrize("resource_type", ["db:app", "subgrp:app-private", "pg:app-postgres15", "og:app-postgres15"])
def test_the_generated_rds_role_may_create_a_database(resource_type: str) -> None:
    # AWS authorises rds:CreateDBInstance on the DB and on the groups it names.
    from zeet_iam_audit.policy.evaluate import Decision, evaluate

    policies = generated_policies(["--features", "rds-management"])
    arn = f"arn:aws:rds:us-east-1:123456789012:{resource_type}"
    assert evaluate("rds:CreateDBInstance", arn, policies, context={}).decision is Decision.ALLOWED


def test_no_generated_grant_lets_the_role_change_itself() -> None:
    from zeet_iam_audit.policy.evaluate import Decision, evaluate

    policies = generated_policies([])
    own_role = "arn:aws:iam::123456789012:role/zeet-cloud-connection"
    for action in ["iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:CreateRole"]:
        # The role carries no permissions boundary, so the condition fails for it (and any unbounded role).
        assert evaluate(action, own_role, policies, context={}).decision is Decision.IMPLICIT_DENY, action
        bounded = evaluate(
            action,
            "arn:aws:iam::123456789012:role/zeet-abc-cluster-1",
            policies,
            context={"iam:PermissionsBoundary": BOUNDARY},
        )
        assert bounded.decision is Decision.ALLOWED, action
    for action in [
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
        "sts:AssumeRole",
    ]:
        decision = evaluate(
            action, "arn:aws:iam::123456789012:policy/zeet-cloud-connection-1", policies, context={}
        ).decision
        assert decision is Decision.IMPLICIT_DENY, action


def test_generate_writes_the_boundary_of_the_roles_zeet_creates() -> None:
    code, out, err = run_cli(["generate", *IDS, "--features", "container-management", "--format", "cloudformation"])
    assert code == 0
    template = yaml.safe_load(out)
    boundary = template["Resources"]["ZeetCreatedRolesBoundary"]
    assert boundary["Properties"]["ManagedPolicyName"] == "zeet-cloud-connection-boundary"
    assert {"Ref": "ZeetCreatedRolesBoundary"} not in template["Resources"]["ZeetRole"]["Properties"][
        "ManagedPolicyArns"
    ]
    allowed = [a for s in boundary["Properties"]["PolicyDocument"]["Statement"] for a in as_list(s["Action"])]
    assert not [
        a
        for a in allowed
        if a.startswith(("iam:Create", "iam:Attach", "iam:Put", "sts:")) and a != "iam:CreateServiceLinkedRole"
    ]
    assert "must carry the permissions boundary zeet-cloud-connection-boundary" in err
    # With a boundary of the user's own, none is written and the condition names it exactly.
    code, out, err = run_cli(
        [
            "generate",
            *IDS,
            "--features",
            "container-management",
            "--format",
            "cloudformation",
            "--permissions-boundary",
            BOUNDARY,
        ]
    )
    template = yaml.safe_load(out)
    assert "ZeetCreatedRolesBoundary" not in template["Resources"]
    assert f"StringEquals:\n              iam:PermissionsBoundary: {BOUNDARY}" in out
    assert "must carry" not in err


@pytest.mark.parametrize("feature", FEATURES)
def test_generated_role_audits_ok_feature_by_feature(feature: str, tmp_path: Path) -> None:
    target = tmp_path / "role.json"
    code, _, err = run_cli(["generate", *IDS, "--features", feature, "--output", str(target)])
    assert code == 0, err
    code, statuses, _ = audit_json(
        ["--file", str(target), *IDS, "--features", feature, "--permissions-boundary", BOUNDARY]
    )
    assert statuses == {feature: "ok"}


def test_without_the_boundary_setting_the_audit_says_what_would_settle_it(tmp_path: Path) -> None:
    target = tmp_path / "role.json"
    run_cli(["generate", *IDS, "--features", "container-management", "--output", str(target)])
    _, statuses, out = audit_json(["--file", str(target), *IDS, "--features", "container-management"])
    assert statuses == {"container-management": "conditional"}
    assert "set permissions_boundary (--permissions-boundary, ZEET_IAM_AUDIT_PERMISSIONS_BOUNDARY" in out


# -- Terraform state as configuration -------------------------------------------------------------


def test_a_role_scoped_to_the_configured_state_bucket_audits_ok(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base = ["--file", str(STATE_SCOPED), *IDS, "--features", "terraform-modules"]
    # Unset, the scope is every bucket: conditional, naming the setting that would settle it.
    _, statuses, out = audit_json(base)
    assert statuses == {"terraform-modules": "conditional"}
    assert "set state_bucket (--state-bucket, ZEET_IAM_AUDIT_STATE_BUCKET or state_bucket in the config file)" in out
    # Flags, the environment or the config file: ok.
    flags = ["--state-bucket", "acme-terraform-state", "--state-key-prefix", "zeet/"]
    assert audit_json([*base, *flags])[1] == {"terraform-modules": "ok"}
    monkeypatch.setenv("ZEET_IAM_AUDIT_STATE_BUCKET", "acme-terraform-state")
    monkeypatch.setenv("ZEET_IAM_AUDIT_STATE_KEY_PREFIX", "zeet/")
    assert audit_json(base)[1] == {"terraform-modules": "ok"}
    monkeypatch.delenv("ZEET_IAM_AUDIT_STATE_BUCKET")
    monkeypatch.delenv("ZEET_IAM_AUDIT_STATE_KEY_PREFIX")
    (tmp_path / ".zeet-iam-audit.toml").write_text(
        'state_bucket = "acme-terraform-state"\nstate_key_prefix = "zeet/"\n', encoding="utf-8"
    )
    assert audit_json(base)[1] == {"terraform-modules": "ok"}
    # Another bucket configured: the role's grants are not on it.
    assert audit_json([*base, "--state-bucket", "other-state"])[1] == {"terraform-modules": "missing"}


def test_generate_scopes_the_state_grants_to_the_configured_bucket() -> None:
    policies = generated_policies(
        ["--features", "terraform-modules", "--state-bucket", "acme-terraform-state", "--state-key-prefix", "zeet/"]
    )
    resources = {json.dumps(s["Resource"]) for doc in policies for s in doc["Statement"]}
    assert resources == {'"arn:aws:s3:::acme-terraform-state"', '"arn:aws:s3:::acme-terraform-state/zeet/*"'}


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--state-bucket", "Not_A_Bucket", "--state-bucket: expected an S3 bucket name"),
        ("--state-key-prefix", "env/*", "--state-key-prefix: expected a key prefix without"),
        ("--permissions-boundary", "zeet-boundary", "--permissions-boundary: expected a managed policy ARN"),
    ],
)
def test_bad_settings_are_one_line_errors(flag: str, value: str, message: str) -> None:
    code, out, err = run_cli(["generate", *IDS, flag, value])
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err
