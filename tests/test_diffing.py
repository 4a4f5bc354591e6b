"""Two audits of a role compared (``diffing.py``): per feature the status change and each required
action whose verdict moved; trust findings added and removed; excess per service and risky grants;
roles paired by name; and which changes are regressions that fail the gate."""

from __future__ import annotations

import pytest

from zeet_iam_audit.audit.report import (
    AuditReport,
    DefaultModeResult,
    ExcessResult,
    ExcessService,
    FeatureResult,
    FeatureStatus,
    MissingGroup,
    MissingLayer,
    Mode,
    OpenAction,
    RiskyGrant,
    RoleReport,
    TrustFinding,
    TrustResult,
    TrustSeverity,
    TrustStatementRef,
    TrustStatus,
)
from zeet_iam_audit.diffing import DIFF_SCHEMA_VERSION, ActionChange, diff_feature, diff_reports
from zeet_iam_audit.policy.results import Decision


def _feature(
    status: str, missing: tuple[str, ...] = (), conditional: tuple[str, ...] = (), unknown: tuple[str, ...] = ()
) -> FeatureResult:
    return FeatureResult(
        id="cluster-capacity-monitoring",
        title="Cluster Capacity Monitoring",
        section="2.3.4",
        status=FeatureStatus(status),
        required=24,
        missing=(MissingGroup("sqs", "SQS", missing, MissingLayer.NO_ALLOW, "no identity-based policy allows them"),)
        if missing
        else (),
        conditional=tuple(OpenAction(a, "sqs", "SQS", "*") for a in conditional),
        unknown=tuple(OpenAction(a, "sqs", "SQS", "*") for a in unknown),
    )


@pytest.mark.parametrize(
    ("old", "new", "regression", "improvement"),
    [
        pytest.param(_feature("ok"), _feature("ok"), False, False, id="ok-ok"),
        pytest.param(_feature("ok"), _feature("conditional", conditional=("sqs:A",)), True, False, id="ok-conditional"),
        pytest.param(_feature("ok"), _feature("unknown", unknown=("sqs:A",)), True, False, id="ok-unknown"),
        pytest.param(_feature("ok"), _feature("missing", ("sqs:A",)), True, False, id="ok-missing"),
        pytest.param(
            _feature("missing", ("sqs:A",)), _feature("missing", ("sqs:A", "sqs:B")), True, False, id="more-missing"
        ),
        pytest.param(
            _feature("missing", ("sqs:A", "sqs:B")), _feature("missing", ("sqs:A",)), False, True, id="fewer-missing"
        ),
        pytest.param(
            _feature("missing", ("sqs:A",)), _feature("missing", ("sqs:B",)), True, False, id="missing-swapped"
        ),
        pytest.param(_feature("conditional", conditional=("sqs:A",)), _feature("ok"), False, True, id="conditional-ok"),
        pytest.param(
            _feature("missing", ("sqs:A",)),
            _feature("conditional", conditional=("sqs:A",)),
            False,
            True,
            id="missing-conditional",
        ),
        pytest.param(
            _feature("unknown", unknown=("sqs:A",)),
            _feature("conditional", conditional=("sqs:A",)),
            False,
            True,
            id="unknown-conditional",
        ),
    ],
)
def test_feature_regressions(old: FeatureResult, new: FeatureResult, regression: bool, improvement: bool) -> None:
    change = diff_feature(old, new)
    assert change.regression is regression
    assert change.improvement is improvement


def test_action_changes_name_each_verdict() -> None:
    change = diff_feature(
        _feature("missing", ("sqs:A",), conditional=("sqs:C",)), _feature("missing", ("sqs:B",), unknown=("sqs:C",))
    )
    assert change.actions == (
        ActionChange("sqs:A", "missing", "allowed"),
        ActionChange("sqs:B", "allowed", "missing"),
        ActionChange("sqs:C", "conditional", "unknown"),
    )
    assert change.newly_missing == ("sqs:B",)
    assert change.newly_granted == ("sqs:A",)
    assert "newly missing: sqs:B; newly granted: sqs:A; now unknown: sqs:C" in change.describe()


def _role(
    name: str = "zeet",
    trust: str = "ok",
    features: tuple[FeatureResult, ...] = (),
    excess: tuple[tuple[str, int], ...] = (),
    risky: tuple[str, ...] = (),
) -> RoleReport:
    findings = {
        "ok": (),
        "warn": (TrustFinding("external-id-missing", TrustSeverity.WARN, "no external id", TrustStatementRef(0)),),
        "fail": (TrustFinding("zeet-cannot-assume", TrustSeverity.FAIL, "cannot"),),
    }[trust]
    return RoleReport(
        name=name,
        arn=None,
        source="t.yaml",
        trust=TrustResult(TrustStatus(trust), findings),
        features=features,
        excess=ExcessResult(
            sum(n for _, n in excess),
            tuple(ExcessService(s, n, ()) for s, n in excess),
            tuple(RiskyGrant(a, "*", "privilege escalation") for a in risky),
        ),
        default_mode=DefaultModeResult(Decision.IMPLICIT_DENY, Mode.FINE_GRAINED, None),
    )


@pytest.mark.parametrize(
    ("old", "new", "weakened"),
    [
        pytest.param("ok", "ok", False, id="ok-ok"),
        pytest.param("ok", "warn", True, id="ok-warn"),
        pytest.param("ok", "fail", True, id="ok-fail"),
        pytest.param("warn", "fail", True, id="warn-fail"),
        pytest.param("fail", "warn", False, id="fail-warn"),
        pytest.param("warn", "ok", False, id="warn-ok"),
    ],
)
def test_trust_weakening(old: str, new: str, weakened: bool) -> None:
    diff = diff_reports(AuditReport("1", (_role(trust=old),)), AuditReport("1", (_role(trust=new),)))
    trust = diff.roles[0].trust
    assert trust is not None
    assert trust.weakened is weakened
    assert bool(diff.regressions) is weakened


def test_excess_and_risky_changes() -> None:
    old = _role(excess=(("ec2", 10), ("sqs", 3)), risky=("iam:PassRole",))
    new = _role(excess=(("ec2", 12),), risky=("ec2:RunInstances",))
    excess = diff_reports(AuditReport("1", (old,)), AuditReport("1", (new,))).roles[0].excess
    assert excess is not None
    assert (excess.old, excess.new) == (13, 12)
    assert [(s.service, s.old, s.new) for s in excess.services] == [("ec2", 10, 12), ("sqs", 3, 0)]
    assert excess.risky_added == ("ec2:RunInstances on *",)
    assert excess.risky_removed == ("iam:PassRole on *",)


def test_roles_pair_by_name_and_a_missing_role_regresses() -> None:
    old = AuditReport("1", (_role("a"), _role("b")))
    new = AuditReport("1", (_role("b"), _role("c")))
    diff = diff_reports(old, new)
    assert [(r.old_name, r.new_name) for r in diff.roles] == [("b", "b"), (None, "c"), ("a", None)]
    assert diff.regressions == ("role a is gone",)


def test_a_single_role_pairs_whatever_its_name() -> None:
    diff = diff_reports(AuditReport("1", (_role("old-name"),)), AuditReport("1", (_role("new-name"),)))
    assert [(r.old_name, r.new_name) for r in diff.roles] == [("old-name", "new-name")]
    assert diff.regressions == ()


def test_a_feature_on_one_side_only_is_named_with_its_status() -> None:
    added = diff_feature(None, _feature("missing", ("sqs:A",)))
    removed = diff_feature(_feature("ok"), None)
    assert (added.id, added.old, added.new, added.actions) == ("cluster-capacity-monitoring", None, "missing", ())
    assert (removed.old, removed.new) == ("ok", None)


def test_trust_findings_added_and_removed() -> None:
    diff = diff_reports(AuditReport("1", (_role(trust="warn"),)), AuditReport("1", (_role(trust="fail"),)))
    trust = diff.roles[0].trust
    assert trust is not None
    assert [f.code for f in trust.added] == ["zeet-cannot-assume"]
    assert [f.code for f in trust.removed] == ["external-id-missing"]
    assert diff.regressions == ("zeet: trust policy weakened: warn → fail",)


def test_the_json_lists_regressions_changed_and_unchanged_features() -> None:
    kept = _feature("ok")
    worse = FeatureResult(id="view-logs", title="View Logs", section="2.3.1", status=FeatureStatus.OK, required=4)
    worse_after = FeatureResult(
        id="view-logs",
        title="View Logs",
        section="2.3.1",
        status=FeatureStatus.MISSING,
        required=4,
        missing=(
            MissingGroup(
                "logs", "Logs", ("logs:FilterLogEvents",), MissingLayer.NO_ALLOW, "no identity-based policy allows them"
            ),
        ),
    )
    old = AuditReport("1", (_role(features=(kept, worse)),), inputs=("base.yaml",))
    new = AuditReport("1", (_role(features=(kept, worse_after)),), inputs=("head.yaml",))
    document = diff_reports(old, new).to_json()
    assert document["schema_version"] == DIFF_SCHEMA_VERSION == 1
    assert (document["old"], document["new"]) == (["base.yaml"], ["head.yaml"])
    (role,) = document["roles"]
    assert role["unchanged_features"] == ["cluster-capacity-monitoring"]
    assert [feature["id"] for feature in role["features"]] == ["view-logs"]
    assert document["regressions"] == role["regressions"]
    assert len(document["regressions"]) == 1
    assert document["regressions"][0].startswith("zeet: ")
    assert "logs:FilterLogEvents" in document["regressions"][0]
