"""The library facade (zeet_iam_audit/api.py): the audit as values, without the command line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import zeet_iam_audit
from zeet_iam_audit import (
    AuditReport,
    AuditSettings,
    FeatureStatus,
    TrustStatus,
    UsageError,
    audit_file,
    audit_roles,
)
from zeet_iam_audit.cli import main
from zeet_iam_audit.sources import load_file

ROOT = Path(__file__).resolve().parent.parent
GAAD = ROOT / "fixtures/gaad/zeet-account.json"
TEMPLATE = ROOT / "fixtures/cloudformation/zeet-role.yaml"
ZEET = "111122223333"  # the fixtures' Zeet account and external id
EXTERNAL_ID = "zeet-ext-5f2c9a7e"


def _statuses(report: AuditReport, role: str) -> dict[str, FeatureStatus]:
    (found,) = [r for r in report.roles if r.name == role]
    return {feature.id: feature.status for feature in found.features}


def test_the_public_names_are_pinned() -> None:
    assert sorted(zeet_iam_audit.__all__) == [
        "AuditReport",
        "AuditSettings",
        "Decision",
        "EvaluationMemo",
        "EvaluationResult",
        "ExcessResult",
        "FeatureResult",
        "FeatureStatus",
        "InputError",
        "Layer",
        "MissingGroup",
        "Policy",
        "PolicyError",
        "PolicyKind",
        "PolicySet",
        "Role",
        "RoleReport",
        "SkippedItem",
        "StatementRef",
        "TrustFinding",
        "TrustResult",
        "TrustStatus",
        "Uncertainty",
        "Unresolved",
        "UsageError",
        "ZeetIamAuditError",
        "__version__",
        "audit_file",
        "audit_roles",
        "evaluate",
        "evaluate_scope",
        "parse_policy",
    ]
    for name in zeet_iam_audit.__all__:
        assert hasattr(zeet_iam_audit, name), name


def test_an_authorization_details_file_chosen_by_zeets_account() -> None:
    report = audit_file(GAAD, zeet_account_id=ZEET)
    assert [role.name for role in report.roles] == [
        "zeet-cloud-connection",
        "zeet-restricted",
        "zeet-bounded",
        "zeet-admin",
    ]
    # The two service roles do not trust Zeet's account: passed over, with the reason.
    assert {item.name: item.reason for item in report.skipped} == {
        "order-processor-lambda": f"its trust policy does not name Zeet's account {ZEET}",
        "AWSServiceRoleForAmazonEKS": f"its trust policy does not name Zeet's account {ZEET}",
    }
    admin = _statuses(report, "zeet-admin")
    assert admin["container-management"] is FeatureStatus.OK  # AdministratorAccess
    restricted = _statuses(report, "zeet-restricted")
    assert restricted["cluster-capacity-monitoring"] is FeatureStatus.MISSING  # its SQS is denied
    assert restricted["view-logs"] is FeatureStatus.OK


def test_the_report_is_the_command_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no config file of the caller's
    for key in [k for k in os.environ if k.startswith("ZEET_IAM_AUDIT_")]:
        monkeypatch.delenv(key)
    out = tmp_path / "report.json"
    code = main(
        ["--file", str(GAAD), "--all-roles", "--format", "json", "--output", str(out)],
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert code == 1  # missing features: the command line fails the gate; the facade only reports
    report = audit_file(GAAD, all_roles=True)
    assert report.to_json() == json.loads(out.read_text())


def test_a_cloudformation_template_with_its_parameters() -> None:
    report = audit_file(TEMPLATE, zeet_account_id=ZEET, external_id=EXTERNAL_ID)
    (role,) = report.roles
    assert role.name == "zeet-cloud-connection"
    assert role.trust.status is TrustStatus.OK
    assert _statuses(report, role.name)["serverless-lambda"] is FeatureStatus.OK
    # The template's condition turns the serverless policy off.
    off = audit_file(TEMPLATE, zeet_account_id=ZEET, external_id=EXTERNAL_ID, parameters={"EnableServerless": "false"})
    assert _statuses(off, role.name)["serverless-lambda"] is FeatureStatus.MISSING


def test_without_zeets_account_the_trust_is_unknown_not_ok() -> None:
    report = audit_file(TEMPLATE)
    assert report.roles[0].trust.status is TrustStatus.UNKNOWN


def test_features_and_role_choose_what_is_audited() -> None:
    report = audit_file(GAAD, role="zeet-admin", features=["container-management"])
    assert [(r.name, list(_statuses(report, r.name))) for r in report.roles] == [
        ("zeet-admin", ["container-management"])
    ]


def test_bad_choices_raise_the_command_lines_message() -> None:
    with pytest.raises(UsageError, match="holds 6 roles; choose one with --role NAME"):
        audit_file(GAAD)
    with pytest.raises(UsageError, match="unknown feature no-such-feature"):
        audit_file(GAAD, role="zeet-admin", features=["no-such-feature"])
    with pytest.raises(UsageError, match="expected 12 digits"):
        audit_file(GAAD, zeet_account_id="123")


def test_the_environment_and_config_file_are_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".zeet-iam-audit.toml").write_text('features = ["no-such-feature"]\n')
    monkeypatch.setenv("ZEET_IAM_AUDIT_ZEET_ACCOUNT_ID", "not an account")
    report = audit_file(GAAD, role="zeet-admin")
    assert len(report.roles[0].features) == 10


def test_audit_roles_audits_roles_already_read() -> None:
    roles = [role for role in load_file(GAAD).roles if role.name in ("zeet-admin", "zeet-restricted")]
    report = audit_roles(roles, AuditSettings(zeet_account_id=ZEET, features=("cluster-capacity-monitoring",)))
    assert [r.name for r in report.roles] == ["zeet-restricted", "zeet-admin"]
    assert [r.features[0].status for r in report.roles] == [FeatureStatus.MISSING, FeatureStatus.OK]
    # The same verdicts as a file audit of the same roles.
    assert (
        report.roles[1].features
        == audit_file(GAAD, role="zeet-admin", features=["cluster-capacity-monitoring"]).roles[0].features
    )


def test_the_facade_does_not_import_the_command_line() -> None:
    code = (
        "import sys, zeet_iam_audit\n"
        f"report = zeet_iam_audit.audit_file({str(GAAD)!r}, role='zeet-admin')\n"
        "assert report.roles[0].name == 'zeet-admin'\n"
        "print(sorted(m for m in ('argparse', 'zeet_iam_audit.cli') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
