"""zeet-iam-audit: audit an AWS IAM role against Zeet's permissions guide.

The library API: ``audit_file`` audits the roles of an input file and ``audit_roles`` roles already
read, as the command line does, returning an ``AuditReport`` (see ``zeet_iam_audit.api``);
``evaluate`` decides one request as AWS IAM would (the resource is literal); ``evaluate_scope``
whether an action is allowed on every resource of a pattern; ``parse_policy`` validates a document;
the report types describe what came out.
"""

from zeet_iam_audit.api import AuditSettings, audit_file, audit_roles
from zeet_iam_audit.audit.report import (
    AuditReport,
    ExcessResult,
    FeatureResult,
    FeatureStatus,
    MissingGroup,
    RoleReport,
    SkippedItem,
    TrustFinding,
    TrustResult,
    TrustStatus,
)
from zeet_iam_audit.errors import InputError, PolicyError, UsageError, ZeetIamAuditError
from zeet_iam_audit.model import Policy, PolicyKind, Role, Unresolved
from zeet_iam_audit.policy.evaluate import (
    Decision,
    EvaluationMemo,
    EvaluationResult,
    Layer,
    PolicySet,
    StatementRef,
    Uncertainty,
    evaluate,
    evaluate_scope,
)
from zeet_iam_audit.policy.parse import parse_policy

__version__ = "0.1.0"

__all__ = [
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
