"""run.py: the gate read off the verdicts agrees with the gate counted over every finding."""

from __future__ import annotations

import io
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from zeet_iam_audit.audit.engine import AuditOptions, audit_roles
from zeet_iam_audit.audit.findings import report_findings
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.model import PolicyKind, Role
from zeet_iam_audit.policy.parse import parse_policy
from zeet_iam_audit.rules import load_rules
from zeet_iam_audit.run import _gates, not_zeet_reason, parse_fail_on, role_locations
from zeet_iam_audit.sources import load_file

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    "fixtures/gaad/zeet-account.json",
    "fixtures/cloudformation/zeet-role.yaml",
    "fixtures/cloudformation/unresolved.yaml",
    "fixtures/terraform/plan.json",
    "fixtures/role/get-role.json",
    "fixtures/policy/zeet-capacity-policy.json",
]


@pytest.mark.parametrize("path", FILES, ids=[Path(p).stem for p in FILES])
@pytest.mark.parametrize("zeet", [None, "111122223333"], ids=["no-zeet-account", "zeet-account"])
def test_gates_from_verdicts_equal_gates_from_findings(path: str, zeet: str | None) -> None:
    catalog = load_catalog()
    source = load_file(ROOT / path)
    options = AuditOptions(trust=TrustSettings(zeet_account_id=zeet))
    report = audit_roles(source.roles, load_rules(catalog=catalog), catalog, options, tool_version="test")
    assert report.roles
    assert _gates(report) == {finding.gate for finding in report_findings(report)} - {None}


# -- issue 15: who is a Zeet role, and what the summary says ----------------------------------------

ZEET_ACCOUNT = "111122223333"


def _trusting(principal: dict[str, object], *extra: dict[str, object]) -> Role:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}, *extra],
    }
    return Role(
        name="r",
        arn="arn:aws:iam::123456789012:role/r",
        source="test",
        trust_policy=parse_policy(trust, kind=PolicyKind.TRUST),
    )


@pytest.mark.parametrize(
    ("principal", "account", "expected"),
    [
        pytest.param({"Service": "lambda.amazonaws.com"}, None, "trusts lambda.amazonaws.com", id="service"),
        pytest.param(
            {"Service": ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"]},
            ZEET_ACCOUNT,
            "trusts ecs-tasks.amazonaws.com, ec2.amazonaws.com",
            id="services-with-account",
        ),
        pytest.param(
            {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
            None,
            "trusts arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
            id="federated",
        ),
        pytest.param(
            {"AWS": "arn:aws:iam::444455556666:root"},
            ZEET_ACCOUNT,
            "trusts arn:aws:iam::444455556666:root",
            id="another-account",
        ),
        pytest.param({"AWS": "arn:aws:iam::444455556666:root"}, None, None, id="an-account-may-be-zeets"),
        pytest.param({"AWS": f"arn:aws:iam::{ZEET_ACCOUNT}:root"}, ZEET_ACCOUNT, None, id="zeet"),
        pytest.param("*", None, None, id="anyone"),
    ],
)
def test_not_zeet_reason(principal: object, account: str | None, expected: str | None) -> None:
    role = _trusting(principal)  # type: ignore[arg-type]
    assert not_zeet_reason(role, account) == expected


def test_a_role_whose_trust_could_not_be_read_is_audited() -> None:
    role = Role(name="r", arn=None, source="test", trust_unknown_reason="missing")
    assert not_zeet_reason(role, None) is None


def test_all_roles_lists_roles_zeet_cannot_assume_in_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zeet_iam_audit.cli import main

    monkeypatch.chdir(tmp_path)  # no config file applies
    for key in [k for k in os.environ if k.startswith("ZEET_IAM_AUDIT_")]:
        monkeypatch.delenv(key)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "--file",
            str(ROOT / "fixtures/gaad/zeet-account.json"),
            "--all-roles",
            "--zeet-account-id",
            ZEET_ACCOUNT,
            "--external-id",
            "zeet-ext-5f2c9a7e",
            "--format",
            "json",
        ],
        stdout=out,
        stderr=err,
    )
    assert code == 1, err.getvalue()  # the Zeet roles that lack permissions
    report = json.loads(out.getvalue())
    others = {r["name"]: r["not_zeet_role"] for r in report["roles"] if r["not_zeet_role"]}
    assert others == {
        "order-processor-lambda": "trusts lambda.amazonaws.com",
        "AWSServiceRoleForAmazonEKS": "trusts eks.amazonaws.com",
    }
    for role in report["roles"]:
        if role["not_zeet_role"]:
            assert role["features"] == []
    summary = err.getvalue().rstrip().splitlines()[-1]
    assert "4 roles audited" in summary
    assert "2 not Zeet roles (not audited)" in summary
    table = io.StringIO()
    main(
        ["--file", str(ROOT / "fixtures/gaad/zeet-account.json"), "--all-roles", "--zeet-account-id", ZEET_ACCOUNT],
        stdout=table,
        stderr=io.StringIO(),
    )
    block = table.getvalue().split("Role order-processor-lambda", 1)[1].split("─", 1)[0]
    assert [line for line in block.splitlines()[1:] if line.strip()] == ["not a Zeet role: trusts lambda.amazonaws.com"]


def test_the_default_gate_fails_closed() -> None:
    assert parse_fail_on([]) == frozenset({"missing", "unknown", "invalid-policy", "trust"})


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        pytest.param(["--plan", "Pro"], 1, id="pro"),
        pytest.param(["--plan", "sCALE"], 1, id="any-case"),
        pytest.param(["--plan", "enterprise"], 1, id="lower"),
        pytest.param(["--plan", "Hobby"], 2, id="not-the-guides"),
        pytest.param(["--plan", "Por"], 2, id="typo"),
    ],
)
def test_plan_takes_only_the_guides_plan_names(argv: list[str], code: int) -> None:
    import io

    from zeet_iam_audit.cli import main

    out, err = io.StringIO(), io.StringIO()
    assert main(["--file", str(ROOT / "fixtures/ci/zeet-role.yaml"), *argv], stdout=out, stderr=err) == code
    if code == 2:
        assert err.getvalue().splitlines()[-1] == (
            f"zeet-iam-audit: error: --plan: unknown plan {argv[1]!r} (the guide's plans: Pro, Scale, "
            "Enterprise; any case)"
        )
        assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(
            "fixtures/terraform/plan.json",
            [
                ("role", "aws_iam_role.lambda_exec"),
                ("trust", "aws_iam_role.lambda_exec.assume_role_policy"),
                ("policy", "aws_iam_role.lambda_exec.inline_policy[0].policy"),
            ],
            id="terraform-address",
        ),
        pytest.param("fixtures/policy/zeet-capacity-policy.json", [("role", "$"), ("policy", "$")], id="policy-file"),
        pytest.param(
            "fixtures/role/get-role-with-policies.json",
            [
                ("role", "$.Role"),
                ("trust", "$.Role.AssumeRolePolicyDocument"),
                ("policy", "$.RolePolicies[0].PolicyDocument"),
                ("policy", "$.AttachedPolicies[0].PolicyDocument"),
                ("boundary", "$.PermissionsBoundaryPolicy.PolicyDocument"),
            ],
            id="get-role",
        ),
        pytest.param(
            "fixtures/cloudformation/zeet-role.yaml",
            [
                ("role", "Resources.ZeetRole"),
                ("trust", "Resources.ZeetRole.Properties.AssumeRolePolicyDocument"),
            ],
            id="template-logical-id",
        ),
    ],
)
def test_role_locations_come_from_routes_and_typed_fields(path: str, expected: list[tuple[str, str]]) -> None:
    role = next(iter(load_file(ROOT / path).roles))
    found = [(location.kind.value, location.path) for location in role_locations(role)]
    assert found[: len(expected)] == expected


def test_a_policy_read_elsewhere_has_no_location() -> None:
    role = next(iter(load_file(ROOT / "fixtures/gaad/zeet-account.json").roles))
    moved = replace(role, source="another.json")  # its origins name the file it was read from
    assert role_locations(moved) == ()
