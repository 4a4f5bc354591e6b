"""Two audits of a role compared feature by feature: what a change to the role gains and loses.

``diff_reports(old, new)`` pairs the roles (the only role of each side, else by name) and reports per
feature the status change and every required action whose verdict moved (allowed, conditional,
unknown, missing); the excess per service and the risky grants added or removed; and the trust
policy's status and findings. A *regression* fails the gate:

- a feature's status gets worse (ok → conditional → unknown → missing), or it lacks actions it did
  not lack before;
- the trust policy weakens (ok → warn or fail, warn → fail);
- a role that was audited before is gone.

Pure: reports in, values out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zeet_iam_audit.audit.report import AuditReport, FeatureResult, RoleReport, TrustFinding

DIFF_SCHEMA_VERSION = 1
ALLOWED, CONDITIONAL, UNKNOWN, MISSING = "allowed", "conditional", "unknown", "missing"
_FEATURE_RANK = {"ok": 0, "conditional": 1, "unknown": 2, "missing": 3}
_TRUST_RANK = {"ok": 0, "warn": 1, "fail": 2}  # "unknown" is reported, not ranked


@dataclass(frozen=True, slots=True)
class ActionChange:
    """A required action whose verdict changed: allowed, conditional, unknown or missing."""

    action: str
    old: str
    new: str

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class FeatureChange:
    id: str
    title: str
    section: str
    old: str | None  # the status; None when the side did not audit the feature
    new: str | None
    actions: tuple[ActionChange, ...] = ()

    @property
    def newly_missing(self) -> tuple[str, ...]:
        return tuple(c.action for c in self.actions if c.new == MISSING)

    @property
    def newly_granted(self) -> tuple[str, ...]:
        return tuple(c.action for c in self.actions if c.new == ALLOWED)

    @property
    def regression(self) -> bool:
        if self.old is None or self.new is None:
            return False
        return _FEATURE_RANK[self.new] > _FEATURE_RANK[self.old] or bool(self.newly_missing)

    @property
    def improvement(self) -> bool:
        if self.old is None or self.new is None:
            return False
        return not self.regression and (_FEATURE_RANK[self.new] < _FEATURE_RANK[self.old] or bool(self.newly_granted))

    @property
    def changed(self) -> bool:
        return self.old != self.new or bool(self.actions)

    def describe(self) -> str:
        """``"Cluster Capacity Monitoring (cluster-capacity-monitoring): ok → missing; newly missing: ..."``."""
        parts = [f"{self.title} ({self.id}): {self.old or 'not audited'} → {self.new or 'not audited'}"]
        if self.newly_missing:
            parts.append(f"newly missing: {', '.join(self.newly_missing)}")
        if self.newly_granted:
            parts.append(f"newly granted: {', '.join(self.newly_granted)}")
        other = [c for c in self.actions if c.new not in (MISSING, ALLOWED)]
        if other:
            parts.append("now " + ", ".join(f"{c.new}: {c.action}" for c in other))
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "section": self.section,
            "old": self.old,
            "new": self.new,
            "regression": self.regression,
            "improvement": self.improvement,
            "newly_missing": list(self.newly_missing),
            "newly_granted": list(self.newly_granted),
            "actions": [c.to_json() for c in self.actions],
        }


@dataclass(frozen=True, slots=True)
class TrustChange:
    old: str | None
    new: str | None
    added: tuple[TrustFinding, ...] = ()
    removed: tuple[TrustFinding, ...] = ()

    @property
    def weakened(self) -> bool:
        if self.old not in _TRUST_RANK or self.new not in _TRUST_RANK:
            return False
        return _TRUST_RANK[self.new] > _TRUST_RANK[self.old]

    @property
    def changed(self) -> bool:
        return self.old != self.new or bool(self.added or self.removed)

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "weakened": self.weakened,
            "added": [f.to_json() for f in self.added],
            "removed": [f.to_json() for f in self.removed],
        }


@dataclass(frozen=True, slots=True)
class ServiceChange:
    service: str
    old: int
    new: int

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class ExcessChange:
    old: int
    new: int
    services: tuple[ServiceChange, ...] = ()
    risky_added: tuple[str, ...] = ()  # "iam:PassRole on *"
    risky_removed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.old != self.new or bool(self.services or self.risky_added or self.risky_removed)

    def to_json(self) -> dict[str, Any]:
        return {
            "old_total": self.old,
            "new_total": self.new,
            "services": [s.to_json() for s in self.services],
            "risky_added": list(self.risky_added),
            "risky_removed": list(self.risky_removed),
        }


@dataclass(frozen=True, slots=True)
class RoleDiff:
    old_name: str | None  # None: the role is new
    new_name: str | None  # None: the role is gone
    features: tuple[FeatureChange, ...] = ()
    trust: TrustChange | None = None
    excess: ExcessChange | None = None

    @property
    def name(self) -> str:
        return self.new_name or self.old_name or ""

    @property
    def regressions(self) -> tuple[str, ...]:
        """One line per reason this role's change fails the gate."""
        if self.new_name is None:
            return (f"role {self.old_name} is gone",)
        found = [f"{self.name}: {f.describe()}" for f in self.features if f.regression]
        if self.trust is not None and self.trust.weakened:
            found.append(f"{self.name}: trust policy weakened: {self.trust.old} → {self.trust.new}")
        return tuple(found)

    def to_json(self) -> dict[str, Any]:
        return {
            "old_name": self.old_name,
            "new_name": self.new_name,
            "regressions": list(self.regressions),
            "features": [f.to_json() for f in self.features if f.changed],
            "unchanged_features": [f.id for f in self.features if not f.changed],
            "trust": self.trust.to_json() if self.trust else None,
            "excess": self.excess.to_json() if self.excess else None,
        }


@dataclass(frozen=True, slots=True)
class DiffReport:
    old_inputs: tuple[str, ...]
    new_inputs: tuple[str, ...]
    roles: tuple[RoleDiff, ...]
    tool_version: str = ""

    @property
    def regressions(self) -> tuple[str, ...]:
        return tuple(line for role in self.roles for line in role.regressions)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": DIFF_SCHEMA_VERSION,
            "tool": {"name": "zeet-iam-audit", "version": self.tool_version},
            "old": list(self.old_inputs),
            "new": list(self.new_inputs),
            "regressions": list(self.regressions),
            "roles": [r.to_json() for r in self.roles],
        }


def _verdicts(feature: FeatureResult) -> dict[str, str]:
    """The non-allowed required actions of a feature, by lower-cased action: (name, verdict)."""
    verdicts: dict[str, str] = {}
    for group in feature.missing:
        for action in group.actions:
            verdicts.setdefault(action, MISSING)
    for item in feature.unknown:
        verdicts.setdefault(item.action, UNKNOWN)
    for item in feature.conditional:
        verdicts.setdefault(item.action, CONDITIONAL)
    return verdicts


def diff_feature(old: FeatureResult | None, new: FeatureResult | None) -> FeatureChange:
    """How one feature's verdicts moved between two audits (either side may lack it)."""
    shown = new or old
    assert shown is not None
    if old is None or new is None:
        return FeatureChange(
            shown.id, shown.title, shown.section, old.status.value if old else None, new.status.value if new else None
        )
    before = {a.lower(): (a, v) for a, v in _verdicts(old).items()}
    after = {a.lower(): (a, v) for a, v in _verdicts(new).items()}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        name = (after.get(key) or before[key])[0]
        was = before[key][1] if key in before else ALLOWED
        now = after[key][1] if key in after else ALLOWED
        if was != now:
            changes.append(ActionChange(name, was, now))
    return FeatureChange(new.id, new.title, new.section, old.status.value, new.status.value, tuple(changes))


def _trust_key(finding: TrustFinding) -> tuple[str, str, str]:
    return (finding.code, finding.severity, finding.message)


def diff_trust(old: RoleReport, new: RoleReport) -> TrustChange:
    before = {_trust_key(f): f for f in old.trust.findings}
    after = {_trust_key(f): f for f in new.trust.findings}
    return TrustChange(
        old.trust.status.value,
        new.trust.status.value,
        added=tuple(f for k, f in after.items() if k not in before),
        removed=tuple(f for k, f in before.items() if k not in after),
    )


def diff_excess(old: RoleReport, new: RoleReport) -> ExcessChange:
    before = {s.service: s.total for s in old.excess.services}
    after = {s.service: s.total for s in new.excess.services}
    services = tuple(
        ServiceChange(service, before.get(service, 0), after.get(service, 0))
        for service in sorted(before.keys() | after.keys())
        if before.get(service, 0) != after.get(service, 0)
    )
    risky_before = {f"{g.action} on {g.resource}" for g in old.excess.risky}
    risky_after = {f"{g.action} on {g.resource}" for g in new.excess.risky}
    return ExcessChange(
        old.excess.total,
        new.excess.total,
        services,
        risky_added=tuple(sorted(risky_after - risky_before)),
        risky_removed=tuple(sorted(risky_before - risky_after)),
    )


def diff_roles(old: RoleReport, new: RoleReport) -> RoleDiff:
    """Everything that changed between two audits of one role."""
    old_features = {f.id: f for f in old.features}
    new_features = {f.id: f for f in new.features}
    order = [f.id for f in new.features] + [i for i in old_features if i not in new_features]
    features = tuple(diff_feature(old_features.get(i), new_features.get(i)) for i in order)
    return RoleDiff(old.name, new.name, features, diff_trust(old, new), diff_excess(old, new))


def diff_reports(old: AuditReport, new: AuditReport) -> DiffReport:
    """Pair the roles of two reports and compare each pair."""
    roles: list[RoleDiff] = []
    if len(old.roles) == 1 and len(new.roles) == 1:
        roles.append(diff_roles(old.roles[0], new.roles[0]))
    else:
        before = {r.name: r for r in old.roles}
        after = {r.name: r for r in new.roles}
        for role in new.roles:
            if role.name in before:
                roles.append(diff_roles(before[role.name], role))
            else:
                roles.append(RoleDiff(None, role.name))
        roles.extend(RoleDiff(role.name, None) for role in old.roles if role.name not in after)
    return DiffReport(old.inputs, new.inputs, tuple(roles), tool_version=new.tool_version)
