"""The JSON format: indented up to ``INDENT_UP_TO_ROLES`` roles, compact beyond, written from the
values' fields and spliced from shared texts; either way exactly ``AuditReport.to_json``."""

from __future__ import annotations

import gc
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zeet_iam_audit import run
from zeet_iam_audit.audit.engine import AuditOptions
from zeet_iam_audit.audit.report import (
    AuditReport,
    DefaultModeResult,
    Disagreement,
    ExcessResult,
    ExcessService,
    FeatureResult,
    FeatureStatus,
    Fix,
    InvalidDocument,
    LocationKind,
    MissingGroup,
    MissingLayer,
    Mode,
    OpenAction,
    ProposedStatement,
    RiskyGrant,
    RoleReport,
    SimulationResult,
    SkippedItem,
    SourceLocation,
    TrustFinding,
    TrustResult,
    TrustSeverity,
    TrustStatementRef,
    TrustStatus,
    UnknownAction,
)
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.cli import main
from zeet_iam_audit.formats import RenderOptions, json_format
from zeet_iam_audit.formats.json_format import (
    FORMAT,
    INDENT_UP_TO_ROLES,
    JsonTexts,
    render_json,
    render_pieces,
    render_role,
)
from zeet_iam_audit.model import Effect, Origin
from zeet_iam_audit.policy.results import Decision, Layer, StatementRef
from zeet_iam_audit.rules import load_rules
from zeet_iam_audit.sources import load_file

ROOT = Path(__file__).resolve().parents[2]

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
        default_mode=DefaultModeResult(administrator=Decision.IMPLICIT_DENY, mode=Mode.FINE_GRAINED, plan=None),
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


# Strings a report may carry from its input: quotes, backslashes, controls, non-ASCII, a lone surrogate.
ODD = 'q"b\\s\x00\x1f\x7f é ü 雪 \U0001f600 \ud800 \u2028 </script>'
DENY = StatementRef(Layer.IDENTITY, f"Guard {ODD}", 2, ODD, Effect.DENY, Origin("gaad.json", ("$", "Policies", 0)))
BOUNDARY = StatementRef(Layer.BOUNDARY, "Bound", 0, None, Effect.DENY, scp_level=None)
SCP = StatementRef(Layer.SCP, "Root guard", 1, "NoLeave", Effect.DENY, scp_level=2)


def _every_field_role(name: str, *, empty: bool) -> RoleReport:
    """A role with every optional part filled (``empty``: with each left out, None or empty)."""
    conditioned = ProposedStatement(
        ("s3:GetObject",),
        ("arn:aws:s3:::b/*", f"arn:aws:s3:::{ODD}"),
        (("StringEquals", "aws:ResourceAccount", ("111122223333",)), ("StringLike", "s3:prefix", ("a/*", ODD))),
    )
    group = MissingGroup(
        "s3",
        ODD,
        ("s3:GetObject", f"s3:{ODD}"),
        MissingLayer.EXPLICIT_DENY,
        ODD,
        (DENY, BOUNDARY, SCP, TrustStatementRef(0, ODD)),
        Fix(ODD, (ProposedStatement(("s3:A",), ("*",)), ProposedStatement((), ()), conditioned)),
    )
    action = OpenAction(
        "ec2:RunInstances",
        "ec2",
        ODD,
        f"arn:aws:ec2:*:*:instance/{ODD}",
        (ODD, "aws:RequestedRegion"),
        ("Allow", "Deny"),
        (ODD, "an Allow covers only part of *"),
        ((ODD, DENY),),
    )
    statuses = (FeatureStatus.MISSING, FeatureStatus.CONDITIONAL, FeatureStatus.UNKNOWN, FeatureStatus.OK)
    features = tuple(
        FeatureResult(
            f"{status}-{ODD}",
            ODD,
            ODD,
            status,
            3,
            missing=() if empty else (group, SQS),
            conditional=() if empty else (action,),
            unknown=() if empty else (action, OpenAction("sqs:A", "sqs", "SQS", "*")),
            variants=() if empty else (ODD, "eks"),
            notes=() if empty else (ODD,),
        )
        for status in statuses
    )
    return RoleReport(
        name=name,
        arn=None if empty else f"arn:aws:iam::111122223333:role/{ODD}",
        source=ODD,
        trust=TrustResult(
            TrustStatus.WARN,
            ()
            if empty
            else (
                TrustFinding("a", TrustSeverity.WARN, ODD, TrustStatementRef(3, ODD)),
                TrustFinding("b", TrustSeverity.INFO, ODD),
            ),
        ),
        features=features,
        excess=ExcessResult(
            total=0 if empty else 12,
            services=()
            if empty
            else (
                ExcessService(ODD, 3, (("Write", 2), (ODD, 1), ("Write", 5)), conditional=1, scoped=2, sample=(ODD,)),
                ExcessService("iam", 0, ()),
            ),
            risky=()
            if empty
            else (
                RiskyGrant("iam:PassRole", "*", ODD, (ODD, "b"), ODD, True, (DENY, SCP)),
                RiskyGrant("iam:CreateUser", ODD, "admin"),
            ),
            unknown_reasons=() if empty else (ODD,),
            analysed=empty,
        ),
        default_mode=DefaultModeResult(
            Decision.CONDITIONAL, Mode.AUTO, None if empty else ODD, () if empty else (ODD,)
        ),
        unknown_policies=() if empty else (ODD, "b"),
        scps=ODD,
        simulation=None if empty else SimulationResult(3, (Disagreement("s3:A", ODD, "allowed", "implicitDeny"),), ODD),
        locations=()
        if empty
        else (
            SourceLocation(LocationKind.ROLE, ODD, ("$", "RoleDetailList", 0)),
            SourceLocation(LocationKind.POLICY, ODD, ("Resources", ODD, "Properties", "Policies", 1)),
            SourceLocation(LocationKind.BOUNDARY, "b", ()),
        ),
        invalid_documents=() if empty else (InvalidDocument(ODD, ODD, "$.Statement[0]", ODD),),
        unknown_actions=()
        if empty
        else (UnknownAction(f"s3:{ODD}", ODD, DENY, None), UnknownAction("s3:Gt", "p", DENY, "s3:Get")),
        not_zeet=None if empty else ODD,
    )


@pytest.mark.parametrize("empty", [False, True], ids=["filled", "empty"])
def test_every_field_is_written_as_its_to_json(empty: bool) -> None:
    """The texts written from the values' fields are, byte for byte, the encoder's text of
    ``to_json``: every key, every optional part, every kind of string."""
    role = _every_field_role(ODD, empty=empty)
    assert render_role(role) == _COMPACT(role.to_json())
    report = AuditReport("1.0", tuple(_every_field_role(f"r{n}", empty=empty) for n in range(INDENT_UP_TO_ROLES + 1)))
    assert render_json(report, RenderOptions()) == _COMPACT(report.to_json()) + "\n"


def test_more_strings_than_one_render_keeps_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``QUOTED_LIMIT`` distinct strings, strings are quoted again: the text is the same."""
    report = AuditReport("1.0", tuple(_every_field_role(f"r{n}", empty=False) for n in range(INDENT_UP_TO_ROLES + 1)))
    monkeypatch.setattr(json_format, "QUOTED_LIMIT", 2)
    assert render_json(report, RenderOptions()) == _COMPACT(report.to_json()) + "\n"


# Every input the fixtures hold that has roles (not the live account's documents, not a file of users).
FIXTURE_INPUTS = sorted(
    str(path.relative_to(ROOT))
    for folder in ("gaad", "role", "cloudformation", "terraform", "policy", "ci")
    for path in (ROOT / "fixtures" / folder).rglob("*")
    if path.suffix in {".json", ".yaml"} and path.name != "users-groups-only.json"
)


@pytest.mark.parametrize("path", FIXTURE_INPUTS)
def test_every_fixture_role_is_written_as_its_to_json(path: str) -> None:
    """Every role the fixtures hold, audited with and without a Zeet account: its text is exactly
    the encoder's text of its ``to_json``."""
    catalog = load_catalog()
    source = load_file(ROOT / path)
    assert len(source.roles), path
    for zeet in (None, "111122223333"):
        options = AuditOptions(trust=TrustSettings(zeet_account_id=zeet))
        for report in run.audit_located(source.roles, load_rules(catalog=catalog), catalog, options):
            assert render_role(report) == _COMPACT(report.to_json()), report.name
