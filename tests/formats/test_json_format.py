"""The JSON format: indented up to ``INDENT_UP_TO_ROLES`` roles, compact and spliced from shared
texts beyond; either way exactly ``AuditReport.to_json``."""

from __future__ import annotations

import gc
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zeet_iam_audit.audit.report import (
    AuditReport,
    DefaultModeResult,
    ExcessResult,
    ExcessService,
    FeatureResult,
    FeatureStatus,
    Fix,
    MissingGroup,
    MissingLayer,
    OpenAction,
    ProposedStatement,
    RoleReport,
    SkippedItem,
    TrustFinding,
    TrustResult,
    TrustSeverity,
    TrustStatus,
)
from zeet_iam_audit.cli import main
from zeet_iam_audit.formats import RenderOptions
from zeet_iam_audit.formats.json_format import (
    FORMAT,
    INDENT_UP_TO_ROLES,
    JsonTexts,
    render_json,
    render_pieces,
    render_role,
)
from zeet_iam_audit.model import Effect
from zeet_iam_audit.policy.results import Layer, StatementRef

_COMPACT = json.JSONEncoder(separators=(",", ":")).encode

SQS = MissingGroup(
    service="sqs",
    display="SQS",
    actions=("sqs:CreateQueue", "sqs:DeleteQueue"),
    layer=MissingLayer.NO_ALLOW,
    reason="no identity-based policy allows them",
    fix=Fix(
        "add this statement to an identity-based policy of the role",
        (ProposedStatement(("sqs:CreateQueue", "sqs:DeleteQueue"), ("arn:aws:sqs:*:111122223333:zeet-*",)),),
    ),
)
DENIED = MissingGroup(
    service="events",
    display="CloudWatch",
    actions=("events:PutRule",),
    layer=MissingLayer.EXPLICIT_DENY,
    reason="an explicit Deny blocks them",
    statements=(StatementRef(Layer.IDENTITY, "Guard", 0, None, Effect.DENY),),
    fix=Fix("remove or narrow the Deny"),
)
# Values whose text holds what the renderer splices at: its markers must be found in the keys only.
TRICKY = MissingGroup(
    service="s3",
    display='S3 "features":[] "missing":[]',
    actions=("s3:GetObject",),
    layer=MissingLayer.NO_ALLOW,
    reason='quotes " and \\ and é',
)


IAM_EXCESS = ExcessService("iam", 3, (("Write", 2), ("List", 1)), sample=("iam:CreateRole",))
ODD_EXCESS = ExcessService('s3 "services":[]', 1, (("Read", 1),), sample=('s3:Get"services":[]',))


def _feature(feature_id: str, *missing: MissingGroup, title: str = "Cluster Capacity Monitoring") -> FeatureResult:
    return FeatureResult(
        id=feature_id,
        title=title,
        section="Monitoring",
        status=FeatureStatus.MISSING if missing else FeatureStatus.OK,
        required=7,
        missing=missing,
        conditional=(
            OpenAction("ec2:RunInstances", "ec2", "EC2", "*", keys=("aws:RequestedRegion",), gates=("Allow",)),
        ),
    )


def _role(name: str, features: tuple[FeatureResult, ...]) -> RoleReport:
    return RoleReport(
        name=name,
        arn=f"arn:aws:iam::111122223333:role/{name}",
        source="gaad.json",
        trust=TrustResult(
            TrustStatus.OK, (TrustFinding("external-id", TrustSeverity.OK, "the trust policy requires the ExternalId"),)
        ),
        features=features,
        excess=ExcessResult(total=4, services=(IAM_EXCESS, ODD_EXCESS), risky=()),
        default_mode=DefaultModeResult(administrator="implicit_deny", mode="fine-grained", plan=None),
    )


def _report(roles: int) -> AuditReport:
    """``roles`` roles sharing three feature values (one with no missing group), which share groups."""
    shared = (
        _feature("sqs", SQS, DENIED),
        _feature("s3", SQS, TRICKY, title='Odd "features":[] title'),
        _feature("ok"),
    )
    made = [_role(f"zeet-{n:05d}", shared if n % 3 else shared[:1]) for n in range(roles)]
    made.append(_role('name "features":[] é', ()))
    return AuditReport(
        tool_version="1.0",
        roles=tuple(made),
        skipped=(
            SkippedItem("later pages", "the output ends with IsTruncated true", "gaad.json: $.IsTruncated", True),
        ),
        inputs=("gaad.json",),
    )


def test_a_large_report_is_compact_and_exactly_its_to_json() -> None:
    report = _report(INDENT_UP_TO_ROLES + 10)
    text = render_json(report, RenderOptions())
    assert text == _COMPACT(report.to_json()) + "\n"
    assert json.loads(text)["roles"][-1]["name"] == 'name "features":[] é'


def test_a_small_report_is_indented() -> None:
    report = _report(INDENT_UP_TO_ROLES - 1)  # one more role than that: INDENT_UP_TO_ROLES in all
    assert FORMAT.render(report, RenderOptions()) == json.dumps(report.to_json(), indent=2) + "\n"


@pytest.mark.parametrize("roles", [INDENT_UP_TO_ROLES - 1, INDENT_UP_TO_ROLES + 5], ids=["indented", "compact"])
def test_every_finding_is_listed_with_all_findings(roles: int) -> None:
    report = _report(roles)
    data = json.loads(render_json(report, RenderOptions(all_findings=True)))
    assert data == json.loads(json.dumps(report.to_json(all_findings=True)))
    assert data["findings_listed"] == "all"
    assert {finding["subject"] for finding in data["findings"]} >= {"sqs:CreateQueue", "events:PutRule"}


def test_a_role_text_is_its_to_json() -> None:
    for role in _report(4).roles:
        assert render_role(role) == _COMPACT(role.to_json())


def test_texts_encode_each_shared_value_once() -> None:
    report = _report(6)
    texts = JsonTexts()
    first, second = (texts.role_pieces(role) for role in report.roles[1:3])
    # The same feature value's text is the same piece (one string, not a copy per role).
    assert [id(piece) for piece in first if "Monitoring" in piece] == [
        id(piece) for piece in second if "Monitoring" in piece
    ]
    assert texts.group(SQS) is texts.group(SQS)
    assert texts.service(IAM_EXCESS) is texts.service(IAM_EXCESS)
    assert first.count(texts.service(IAM_EXCESS)) == 1
    assert [id(piece) for piece in first if "iam:CreateRole" in piece] == [
        id(piece) for piece in second if "iam:CreateRole" in piece
    ]
    assert texts.feature(report.roles[1].features[0]) is texts.feature(report.roles[2].features[0])


def test_a_feature_without_its_missing_groups() -> None:
    feature = _feature("sqs", SQS, DENIED)
    assert feature.to_json(missing=False) == {**feature.to_json(), "missing": []}
    assert _feature("ok").to_json(missing=False) == _feature("ok").to_json()


def test_no_text_outlives_its_render() -> None:
    """Each render has its own texts: values made after one render (which may reuse the ids of
    values gone with it) are encoded afresh."""
    first = _report(INDENT_UP_TO_ROLES + 1)
    render_json(first, RenderOptions())
    del first
    gc.collect()
    changed = FeatureResult("sqs", "Another title", "Monitoring", FeatureStatus.MISSING, 2, missing=(DENIED,))
    second = AuditReport("1.0", tuple(_role(f"r{n}", (changed,)) for n in range(INDENT_UP_TO_ROLES + 1)))
    assert render_json(second, RenderOptions()) == _COMPACT(second.to_json()) + "\n"


def test_pieces_join_to_the_text() -> None:
    for roles in (INDENT_UP_TO_ROLES - 1, INDENT_UP_TO_ROLES + 3):
        report = _report(roles)
        assert "".join(render_pieces(report, RenderOptions())) == render_json(report, RenderOptions())


def test_the_cli_writes_the_pieces_of_an_account_wide_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_gaad: Callable[[int], dict[str, Any]]
) -> None:
    """More than ``INDENT_UP_TO_ROLES`` roles: the file and stdout hold the compact text, whole."""
    monkeypatch.chdir(tmp_path)
    gaad = tmp_path / "gaad.json"
    gaad.write_text(json.dumps(make_gaad(INDENT_UP_TO_ROLES * 2)), encoding="utf-8")
    common = ["--file", str(gaad), "--all-roles", "--format", "json", "--fail-on", "never"]
    stdout = io.StringIO()
    assert main([*common, "--output", "report.json"], stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert main(common, stdout=stdout, stderr=io.StringIO()) == 0
    written = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert written == stdout.getvalue()
    data = json.loads(written)
    assert len(data["roles"]) == INDENT_UP_TO_ROLES * 2
    assert written == _COMPACT(data) + "\n"


def test_a_role_without_its_spliced_lists() -> None:
    role = _report(2).roles[1]
    whole = role.to_json()
    assert role.excess.to_json(services=False) == {**role.excess.to_json(), "services": []}
    assert role.to_json(features=False, excess_services=False) == {
        **whole,
        "features": [],
        "excess": {**whole["excess"], "services": []},
    }
