"""zeet-iam-audit: audit an AWS IAM role against Zeet's permissions guide.

The library API: ``evaluate`` decides one request as AWS IAM would (the resource is literal);
``evaluate_scope`` whether an action is allowed on every resource of a pattern; ``parse_policy``
validates a document; the report types describe what came out.
"""

from zeet_iam_audit.errors import PolicyError, ZeetIamAuditError
from zeet_iam_audit.model import Policy, PolicyKind, Unresolved
from zeet_iam_audit.policy.evaluate import (
    Decision,
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
    "Decision",
    "EvaluationResult",
    "Layer",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "PolicySet",
    "StatementRef",
    "Uncertainty",
    "Unresolved",
    "ZeetIamAuditError",
    "__version__",
    "evaluate",
    "evaluate_scope",
    "parse_policy",
]
