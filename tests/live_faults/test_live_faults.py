"""Live reads under AWS's failure modes: throttling storms, intermittent 5xx, timeouts, AccessDenied
on some reads, a role deleted between two reads, SCPs that cannot be listed.

moto holds three roles (``conftest.py``); ``faults.py`` injects failures below botocore's retries.
The contract checked here:

- transient faults within the retry budget change nothing: the same roles, the same verdicts;
- beyond the budget the run stops with one line naming the operation (no report, so no "ok");
- a denied read does not stop the run: the role is audited with what could be read, the report says
  what could not, and no feature of that role that depended on it is "ok";
- a role deleted while it was read is skipped with the reason; the other roles are unaffected;
- SCPs that cannot be listed make every verdict they could change unknown.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from zeet_iam_audit.audit.engine import AuditOptions, audit_roles
from zeet_iam_audit.audit.report import FeatureStatus, RoleReport, SkippedItem
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import load_catalog
from zeet_iam_audit.cli import main
from zeet_iam_audit.errors import AwsAccessError
from zeet_iam_audit.rules import load_rules
from zeet_iam_audit.sources import live
from zeet_iam_audit.sources.live import LiveOptions, LiveResult, open_session, read_live
from zeet_iam_audit.sources.live_session import is_read_only

from .conftest import EXTERNAL_ID, ROLES, ZEET, role_arn
from .faults import (
    DENIED,
    GONE,
    ORG_DENIED,
    SERVER_ERROR,
    THROTTLE,
    TIMEOUT,
    UNAVAILABLE,
    Faults,
    Rule,
    body_names,
)

CATALOG = load_catalog()
RULES = load_rules(catalog=CATALOG)
FEATURES = ("view-logs", "view-metrics", "secrets-manager")
ARNS = tuple(role_arn(name) for name in ROLES)
Verdicts = dict[str, dict[str, FeatureStatus]]


def _read(
    faults: Faults | None = None, *, all_roles: bool = False, scps: str = "off", max_attempts: int = 4
) -> LiveResult:
    options = LiveOptions(
        role_arns=() if all_roles else ARNS, all_roles=all_roles, scps=scps, max_attempts=max_attempts
    )
    session = open_session(options)
    if faults is not None:
        faults.install(session)
    return read_live(options, session=session)


def _audit(result: LiveResult) -> dict[str, RoleReport]:
    options = AuditOptions(
        features=FEATURES,
        check_excess=False,
        scps=result.scps,
        scp_unknown_reason=result.scp_unknown_reason,
        trust=TrustSettings(zeet_account_id=ZEET, external_id=EXTERNAL_ID),
    )
    skipped = [SkippedItem(s.name, s.reason, s.origin) for s in result.source.skipped]
    report = audit_roles(result.source.roles, RULES, CATALOG, options, tool_version="faults", skipped=skipped)
    return {role.name: role for role in report.roles}


def _verdicts(roles: dict[str, RoleReport]) -> Verdicts:
    return {name: {f.id: f.status for f in role.features} for name, role in roles.items()}


def _reasons(role: RoleReport) -> str:
    return "\n".join([*role.unknown_policies, *(r for f in role.features for a in f.unknown for r in a.reasons)])


@pytest.fixture
def baseline(aws: Any) -> Verdicts:
    verdicts = _verdicts(_audit(_read()))
    # The setup's own answer, so the fault tests compare against something meaningful.
    assert verdicts["zeet-a"] == {
        "view-logs": FeatureStatus.OK,
        "view-metrics": FeatureStatus.OK,
        "secrets-manager": FeatureStatus.MISSING,
    }
    assert verdicts["zeet-c"]["secrets-manager"] is FeatureStatus.OK
    return verdicts


# --- transient faults within the retry budget -------------------------------------------------------

TRANSIENT = {
    "throttling-storm": [Rule("*", THROTTLE, attempts=3)],
    "intermittent-5xx": [Rule("*", SERVER_ERROR, attempts=1), Rule("*", UNAVAILABLE, attempts=1)],
    "timeouts": [Rule("*", TIMEOUT, attempts=2)],
    "mixed": [Rule("*", THROTTLE, attempts=1), Rule("*", TIMEOUT, attempts=1), Rule("*", UNAVAILABLE, attempts=1)],
}


@pytest.mark.parametrize("rules", TRANSIENT.values(), ids=TRANSIENT.keys())
@pytest.mark.parametrize("all_roles", [False, True], ids=["by-arn", "all-roles"])
def test_transient_faults_within_the_budget_change_nothing(
    rules: list[Rule], all_roles: bool, baseline: Verdicts
) -> None:
    clean = _read(all_roles=all_roles)
    faults = Faults(rules=rules)
    result = _read(faults, all_roles=all_roles)
    roles = _audit(result)
    assert _verdicts(roles) == baseline
    assert all(role.unknown_policies == () for role in roles.values())
    assert result.source.skipped == ()
    assert result.gaad == clean.gaad  # what was read, exactly
    assert result.calls == clean.calls  # each call recorded once, however many attempts it took
    assert sum(faults.injected.values()) >= len(result.calls)  # and every one was hit


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_transient_faults_change_nothing(seed: int, baseline: Verdicts) -> None:
    faults = Faults(rate=0.4, seed=seed)
    roles = _audit(_read(faults, scps="auto", max_attempts=12))
    assert sum(faults.injected.values()) > 0
    assert _verdicts(roles) == baseline
    # Retries and failures never lead anywhere but reads: every attempt that reached the wire.
    assert all(is_read_only(*label.split(":")) for label in faults.attempts), sorted(faults.attempts)


# --- beyond the budget: the run stops, in one line --------------------------------------------------

BEYOND = {
    "throttled": (
        Rule("iam:GetRolePolicy", THROTTLE),
        "AWS throttled iam:GetRolePolicy (Throttling) through 3 attempts",
    ),
    "timing-out": (Rule("iam:GetPolicyVersion", TIMEOUT), "cannot reach AWS for iam:GetPolicyVersion"),
    "failing": (Rule("iam:ListAttachedRolePolicies", SERVER_ERROR), "iam:ListAttachedRolePolicies"),
}


@pytest.mark.parametrize(("rule", "message"), BEYOND.values(), ids=BEYOND.keys())
def test_faults_beyond_the_budget_stop_with_one_line(rule: Rule, message: str, aws: Any) -> None:
    faults = Faults(rules=[rule])
    with pytest.raises(AwsAccessError) as caught:
        _read(faults, max_attempts=3)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert sum(faults.injected.values()) == 3  # every attempt of the one call


# --- denied reads: audited with what could be read, never "ok" on the rest ---------------------------

DENIALS = {
    "GetRole": (Rule("iam:GetRole", DENIED, when=body_names("zeet-b")), {"zeet-b"}, "iam:GetRole"),
    "ListRolePolicies": (
        Rule("iam:ListRolePolicies", DENIED, when=body_names("zeet-b")),
        {"zeet-b"},
        "iam:ListRolePolicies",
    ),
    "GetRolePolicy": (
        Rule("iam:GetRolePolicy", DENIED, when=body_names("zeet-b", "Logs")),
        {"zeet-b"},
        "iam:GetRolePolicy for zeet-b/Logs",
    ),
    "ListAttachedRolePolicies": (
        Rule("iam:ListAttachedRolePolicies", DENIED, when=body_names("zeet-b")),
        {"zeet-b"},
        "iam:ListAttachedRolePolicies",
    ),
    "GetPolicy-shared": (Rule("iam:GetPolicy", DENIED, when=body_names("Metrics")), set(ROLES), "iam:GetPolicy"),
    "GetPolicyVersion": (
        Rule("iam:GetPolicyVersion", DENIED, when=body_names("Secrets")),
        {"zeet-c"},
        "iam:GetPolicyVersion",
    ),
}


@pytest.mark.parametrize(("rule", "affected", "operation"), DENIALS.values(), ids=DENIALS.keys())
def test_a_denied_read_leaves_its_roles_unknown_and_the_others_untouched(
    rule: Rule,
    affected: set[str],
    operation: str,
    baseline: Verdicts,
) -> None:
    roles = _audit(_read(Faults(rules=[rule])))
    assert set(roles) == set(ROLES)  # the run went on
    for name, role in roles.items():
        if name not in affected:
            assert _verdicts({name: role}) == {name: baseline[name]}
            continue
        statuses = {f.id: f.status for f in role.features}
        assert FeatureStatus.OK not in statuses.values(), (name, statuses)
        for feature, was in baseline[name].items():
            if was is FeatureStatus.OK:
                assert statuses[feature] is FeatureStatus.UNKNOWN, (name, feature)
        assert operation in _reasons(role)  # it says what could not be read, and what to grant


def test_denied_scps_make_every_verdict_they_could_change_unknown(baseline: Verdicts) -> None:
    result = _read(Faults(rules=[Rule("organizations:DescribeOrganization", ORG_DENIED)]), scps="auto")
    assert result.scp_unknown_reason is not None
    assert "AccessDeniedException on organizations:DescribeOrganization" in result.scp_unknown_reason
    roles = _audit(result)
    for name, role in roles.items():
        statuses = {f.id: f.status for f in role.features}
        for feature, was in baseline[name].items():
            # What no identity policy allows stays missing; everything allowed becomes unknown.
            assert statuses[feature] is (FeatureStatus.UNKNOWN if was is FeatureStatus.OK else was)
        assert role.scps.startswith("unknown: cannot read the SCPs")


def test_scps_failing_beyond_the_budget_are_unknown_not_absent(baseline: Verdicts) -> None:
    result = _read(
        Faults(rules=[Rule("organizations:DescribeOrganization", SERVER_ERROR)]), scps="auto", max_attempts=2
    )
    assert result.scp_unknown_reason is not None
    roles = _audit(result)
    assert all(FeatureStatus.OK not in {f.status for f in role.features} for role in roles.values())


def test_without_faults_moto_says_no_scps_apply(baseline: Verdicts) -> None:
    result = _read(scps="auto")
    assert result.scp_unknown_reason is None
    assert _verdicts(_audit(result)) == baseline


# --- deleted while being read ------------------------------------------------------------------------


def _delete_role_when(aws: Any, operation: str, role: str) -> Callable[..., None]:
    """A before-call hook that deletes ``role`` in moto just before ``operation`` reads it."""

    def hook(params: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or {}
        if body.get("RoleName") != role:
            return
        for name in aws.list_role_policies(RoleName=role)["PolicyNames"]:
            aws.delete_role_policy(RoleName=role, PolicyName=name)
        for attached in aws.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            aws.detach_role_policy(RoleName=role, PolicyArn=attached["PolicyArn"])
        aws.delete_role(RoleName=role)

    return hook


@pytest.mark.parametrize("operation", ["ListRolePolicies", "ListAttachedRolePolicies"])
def test_a_role_deleted_between_reads_is_skipped_with_the_reason(operation: str, aws: Any, baseline: Verdicts) -> None:
    options = LiveOptions(role_arns=ARNS, max_attempts=2)
    session = open_session(options)
    session.client("iam").meta.events.register(
        f"before-call.iam.{operation}", _delete_role_when(aws, operation, "zeet-b")
    )
    result = read_live(options, session=session)
    (skipped,) = result.source.skipped
    assert skipped.name == "zeet-b"
    assert "deleted while it was being read" in skipped.reason
    roles = _audit(result)
    assert set(roles) == {"zeet-a", "zeet-c"}
    assert _verdicts(roles) == {name: baseline[name] for name in ("zeet-a", "zeet-c")}


def test_a_policy_deleted_between_list_and_get_is_unknown(baseline: Verdicts) -> None:
    faults = Faults(
        rules=[
            Rule("iam:GetRolePolicy", GONE, when=body_names("zeet-a", "Logs")),
            Rule("iam:GetPolicy", GONE, when=body_names("Secrets")),
        ]
    )
    roles = _audit(_read(faults))
    assert "deleted while the role was being read" in _reasons(roles["zeet-a"])
    assert "deleted or changed while the role was being read" in _reasons(roles["zeet-c"])
    for name in ("zeet-a", "zeet-c"):
        assert FeatureStatus.OK not in {f.status for f in roles[name].features}
    assert _verdicts({"zeet-b": roles["zeet-b"]}) == {"zeet-b": baseline["zeet-b"]}


# --- the command line: finishes, says what it could not read, fails on unknown ------------------------


def test_the_cli_reports_partial_reads_and_fails_on_unknown(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    faults = Faults(
        rules=[
            Rule("iam:GetRolePolicy", DENIED, when=body_names("zeet-b")),
            Rule("organizations:DescribeOrganization", ORG_DENIED),
            Rule("*", THROTTLE, attempts=1),
        ]
    )
    opened = live.open_session

    def open_with_faults(options: LiveOptions) -> Any:
        session = opened(options)
        faults.install(session)
        return session

    monkeypatch.setattr(live, "open_session", open_with_faults)
    argv = [arg for arn in ARNS for arg in ("--role-arn", arn)]
    argv += [
        "--scps",
        "auto",
        "--features",
        ",".join(FEATURES),
        "--zeet-account-id",
        ZEET,
        "--external-id",
        EXTERNAL_ID,
        "--format",
        "json",
        "--no-excess",
    ]
    stdout, stderr = io.StringIO(), io.StringIO()
    assert main([*argv, "--fail-on", "unknown"], stdout=stdout, stderr=stderr) == 1, stderr.getvalue()
    document = json.loads(stdout.getvalue())
    statuses = {role["name"]: {f["id"]: f["status"] for f in role["features"]} for role in document["roles"]}
    assert set(statuses) == set(ROLES)
    assert all("ok" not in by_feature.values() for by_feature in statuses.values())
    text = stdout.getvalue()
    assert "AccessDenied on iam:GetRolePolicy for zeet-b/Logs" in text
    assert "AccessDeniedException on organizations:DescribeOrganization" in text
    assert "fails on unknown" in stderr.getvalue()
    assert faults.injected["iam:GetRole"] == len(ROLES)  # the throttling was retried through


def test_a_live_audit_denied_the_attached_policies_fails_the_default_gate(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the default gate fails closed. A caller that may not list a role's managed policies
    gets unknown verdicts, and the default --fail-on stops on them, saying what could not be verified."""
    faults = Faults(rules=[Rule("iam:ListAttachedRolePolicies", DENIED)])
    opened = live.open_session

    def open_with_faults(options: LiveOptions) -> Any:
        session = opened(options)
        faults.install(session)
        return session

    monkeypatch.setattr(live, "open_session", open_with_faults)
    argv = [
        "--role-arn",
        ARNS[0],
        "--features",
        ",".join(FEATURES),
        "--zeet-account-id",
        ZEET,
        "--external-id",
        EXTERNAL_ID,
        "--format",
        "json",
    ]
    stdout, stderr = io.StringIO(), io.StringIO()
    assert main(argv, stdout=stdout, stderr=stderr) == 1, stderr.getvalue()
    lines = stderr.getvalue().rstrip().splitlines()
    assert lines[-1].endswith("fails on unknown"), lines[-1]
    assert any("could not verify" in line and "iam:ListAttachedRolePolicies" in line for line in lines)
    (role,) = json.loads(stdout.getvalue())["roles"]
    assert any("iam:ListAttachedRolePolicies" in group["reason"] for group in role["unknown_groups"])
