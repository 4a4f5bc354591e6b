"""run.py: the gate read off the verdicts agrees with the gate counted over every finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from zeet_iam_audit.audit.engine import AuditOptions, audit_roles
from zeet_iam_audit.audit.findings import report_findings
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.rules import load_rules
from zeet_iam_audit.run import _gates
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
            "Enterprise; any case)")
        assert out.getvalue() == ""
