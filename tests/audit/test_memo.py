"""The run memo: one per ``Auditor``, shared by the run's roles, and equal results held once."""

from __future__ import annotations

from dataclasses import replace

from zeet_iam_audit.audit.engine import AuditOptions, Auditor
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.memo import AuditMemo
from zeet_iam_audit.audit.trust import TrustSettings
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.rules import RuleSet

from .support import EXTERNAL, ZEET, make_role, statement

OPTIONS = AuditOptions(trust=TrustSettings(zeet_account_id=ZEET, external_id=EXTERNAL))


def test_roles_of_a_run_share_compiled_policies_and_results(rules: RuleSet, catalog: Catalog) -> None:
    auditor = Auditor(rules, catalog, OPTIONS)
    # Two roles with the same (parsed, shared) policy, as roles sharing a managed policy are.
    one = make_role(statement("sqs:*"))
    two = replace(make_role(statement("sqs:*")), name="other", policies=one.policies)
    first, second = auditor.audit(one), auditor.audit(two)
    assert len(auditor.memo.evaluation.compiled) == 1  # compiled once for both roles
    # Equal feature results are one object (Cloud Connection's is made per role, with its trust).
    pairs = [(a, b) for a, b in zip(first.features, second.features, strict=True) if a.id != "cloud-connection"]
    assert pairs
    assert all(a is b for a, b in pairs)


def test_an_evaluator_without_a_run_has_its_own_memo() -> None:
    role = make_role(statement("s3:GetObject"))
    first, second = RoleEvaluator(role), RoleEvaluator(role)
    assert isinstance(first.memo, AuditMemo)
    assert first.memo is not second.memo
    assert first.policy_set.memo is first.memo.evaluation
