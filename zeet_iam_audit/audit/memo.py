"""What one audit run remembers between its roles: made by ``engine.AuditRun``, dropped with it.

An account's roles share managed policies, trust documents and, very often, verdicts: a managed
policy is compiled and summarised once, a decision is shared by roles whose deciding policies are the
same, and equal results are kept as one object. Every such memo is a field here, so what a function
depends on is in its arguments and nothing outlives the run (see ``zeet_iam_audit.memo``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zeet_iam_audit.audit.action_sets import PolicyActions
from zeet_iam_audit.audit.report import ExcessService, FeatureResult, MissingGroup, OpenAction, TrustResult
from zeet_iam_audit.audit.resource_fit import NeverUsed
from zeet_iam_audit.memo import IdentityMemo, Memo
from zeet_iam_audit.policy.evaluate import EvaluationMemo


@dataclass(slots=True, eq=False)
class AuditMemo:
    """The run's memos, one field per kind of answer."""

    # Compiled policies, Action elements, Resource answers and decisions (see policy.compiled).
    evaluation: EvaluationMemo = field(default_factory=EvaluationMemo)
    # A compiled policy's action sets over the whole catalogue (see action_sets.ActionIndex.summary).
    summaries: IdentityMemo[PolicyActions] = field(default_factory=IdentityMemo)
    # An Action element's mask over the catalogue (see the same).
    element_sets: IdentityMemo[int] = field(default_factory=IdentityMemo)
    # A trust policy's verdict, by its statements and the role facts it depends on (see trust.py).
    trust: IdentityMemo[TrustResult] = field(default_factory=lambda: IdentityMemo(4096))
    # An open (conditional or unknown) action, or why a conditional one is no allow at all, by the
    # evaluation result behind it (see features.py).
    open_actions: IdentityMemo[OpenAction | NeverUsed] = field(default_factory=IdentityMemo)
    # A feature's result when nothing needed evaluating, by its plan and the unnamed actions' mask.
    settled: IdentityMemo[FeatureResult] = field(default_factory=lambda: IdentityMemo(4096))
    # A feature's result, by its plan and what decides it for a role (see RoleEvaluator.deciding).
    features: IdentityMemo[FeatureResult] = field(default_factory=IdentityMemo)
    # A missing group (with its fix), by its plan and (service, display, layer, reason, statements,
    # actions): many roles lack the same actions for the same reason.
    groups: IdentityMemo[MissingGroup] = field(default_factory=IdentityMemo)
    # A service's share of the excess, by (its first position, its actions' bits, conditional, scoped).
    excess_services: Memo[tuple[int, int, int, int], ExcessService] = field(default_factory=Memo)
