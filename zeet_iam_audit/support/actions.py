"""Action names as error messages and tools print them, turned into the catalogue's spelling.

AWS messages and tools spell actions in every case (``SNS:CreateTopic``, ``sqs:createqueue``), and
SDK-based tools (Terraform, the AWS CLI) name the *API operation* (``S3: HeadBucket``), which is not
always an IAM action: ``HeadBucket`` is authorized by ``s3:ListBucket``, Lambda's ``Invoke`` by
``lambda:InvokeFunction``, API Gateway's ``CreateRestApi`` by ``apigateway:POST``. This module
resolves both, and says when it had to translate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.rules import RequiredAction, RuleSet

# Service names as SDKs print them (Go SDK v2 "operation error <ServiceID>: <Op>", the Java SDK's
# "(Service: <Name>, ...)") → IAM prefixes; lower case, spaces kept. Anything not here is tried
# as its own lower-cased, space-free name against the catalogue.
SERVICE_PREFIXES: Mapping[str, str] = {
    "api gateway": "apigateway",
    "apigatewayv2": "apigateway",
    "amazonapigateway": "apigateway",
    "auto scaling": "autoscaling",
    "cloudwatch events": "events",
    "cloudwatch logs": "logs",
    "cloudwatchlogs": "logs",
    "eventbridge": "events",
    "elastic load balancing": "elasticloadbalancing",
    "elastic load balancing v2": "elasticloadbalancing",
    "elasticloadbalancingv2": "elasticloadbalancing",
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "route 53": "route53",
    "secrets manager": "secretsmanager",
    "service quotas": "servicequotas",
    "amazons3": "s3",
    "amazonsqs": "sqs",
    "amazonsns": "sns",
    "amazonec2": "ec2",
    "awslambda": "lambda",
    "amazonidentitymanagement": "iam",
}

# API operations whose IAM action has another name (the Service Authorization Reference's
# "actions" column). Keys are (prefix, operation in lower case).
OPERATION_ACTIONS: Mapping[tuple[str, str], str] = {
    ("s3", "headbucket"): "s3:ListBucket",
    ("s3", "headobject"): "s3:GetObject",
    ("s3", "listobjects"): "s3:ListBucket",
    ("s3", "listobjectsv2"): "s3:ListBucket",
    ("s3", "listobjectversions"): "s3:ListBucketVersions",
    ("s3", "listbuckets"): "s3:ListAllMyBuckets",
    ("s3", "listmultipartuploads"): "s3:ListBucketMultipartUploads",
    ("s3", "listparts"): "s3:ListMultipartUploadParts",
    ("s3", "deleteobjects"): "s3:DeleteObject",
    ("s3", "copyobject"): "s3:PutObject",
    ("s3", "createmultipartupload"): "s3:PutObject",
    ("s3", "uploadpart"): "s3:PutObject",
    ("s3", "uploadpartcopy"): "s3:PutObject",
    ("s3", "completemultipartupload"): "s3:PutObject",
    ("s3", "selectobjectcontent"): "s3:GetObject",
    ("s3", "getbucketlifecycle"): "s3:GetLifecycleConfiguration",
    ("s3", "getbucketlifecycleconfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "putbucketlifecycle"): "s3:PutLifecycleConfiguration",
    ("s3", "putbucketlifecycleconfiguration"): "s3:PutLifecycleConfiguration",
    ("s3", "deletebucketlifecycle"): "s3:PutLifecycleConfiguration",
    ("s3", "getbucketencryption"): "s3:GetEncryptionConfiguration",
    ("s3", "putbucketencryption"): "s3:PutEncryptionConfiguration",
    ("s3", "deletebucketencryption"): "s3:PutEncryptionConfiguration",
    ("s3", "getpublicaccessblock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "putpublicaccessblock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "deletepublicaccessblock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "getbucketreplication"): "s3:GetReplicationConfiguration",
    ("s3", "putbucketreplication"): "s3:PutReplicationConfiguration",
    ("s3", "deletebucketreplication"): "s3:PutReplicationConfiguration",
    ("s3", "deletebucketcors"): "s3:PutBucketCORS",
    ("s3", "deletebuckettagging"): "s3:PutBucketTagging",
    ("s3", "getbucketnotificationconfiguration"): "s3:GetBucketNotification",
    ("s3", "putbucketnotificationconfiguration"): "s3:PutBucketNotification",
    ("s3", "getobjectlockconfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("s3", "putobjectlockconfiguration"): "s3:PutBucketObjectLockConfiguration",
    ("s3", "getbucketaccelerateconfiguration"): "s3:GetAccelerateConfiguration",
    ("s3", "putbucketaccelerateconfiguration"): "s3:PutAccelerateConfiguration",
    ("lambda", "invoke"): "lambda:InvokeFunction",
    ("lambda", "invokewithresponsestream"): "lambda:InvokeFunction",
}
# API Gateway's management API is authorized per HTTP verb (apigateway:GET, POST, PUT, PATCH, DELETE).
_APIGATEWAY_VERBS = (
    ("get", "apigateway:GET"),
    ("create", "apigateway:POST"),
    ("update", "apigateway:PATCH"),
    ("delete", "apigateway:DELETE"),
    ("put", "apigateway:PUT"),
    ("import", "apigateway:PUT"),
    ("tag", "apigateway:PUT"),
    ("untag", "apigateway:DELETE"),
)
# Operations that need no permission at all.
NO_PERMISSION: frozenset[tuple[str, str]] = frozenset({("sts", "getcalleridentity")})

_TRAILING = "\"'`.,;:)]}>"
_LEADING = "\"'`([{<"
_ACTION_SHAPE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?_-]+$")


@dataclass(frozen=True, slots=True)
class ResolvedAction:
    """What a printed action or operation stands for.

    ``action`` is the IAM action in the catalogue's spelling, or None when it cannot be told;
    ``written`` is the text as printed; ``note`` says when the text was an API operation rather
    than an IAM action (or is not known to the catalogue at all).
    """

    action: str | None
    written: str
    note: str | None = None


def clean_token(text: str) -> str:
    """A printed token without surrounding quotes, punctuation or whitespace (line folds included)."""
    token = "".join(text.split())
    token = token.lstrip(_LEADING).rstrip(_TRAILING)
    return token


def service_prefix(name: str, catalog: Catalog) -> str | None:
    """The IAM prefix for a service as an SDK names it (``"CloudWatch Logs"`` → ``logs``)."""
    lowered = " ".join(name.split()).lower()
    if lowered in SERVICE_PREFIXES:
        return SERVICE_PREFIXES[lowered]
    squeezed = lowered.replace(" ", "").replace("-", "")
    if squeezed in SERVICE_PREFIXES:
        return SERVICE_PREFIXES[squeezed]
    services = catalog.services()
    for candidate in (lowered.replace(" ", ""), squeezed):
        if candidate in services:
            return candidate
    return None


def _from_operation(prefix: str, operation: str, catalog: Catalog) -> ResolvedAction:
    written = f"{prefix}:{operation}"
    info = catalog.get(written)
    if info is not None:
        return ResolvedAction(info.full, written)
    key = (prefix, operation.lower())
    mapped = OPERATION_ACTIONS.get(key)
    if mapped is None and prefix == "apigateway":
        mapped = next((verb for start, verb in _APIGATEWAY_VERBS if operation.lower().startswith(start)), None)
    if mapped is not None:
        return ResolvedAction(
            mapped, written, f"{operation} is an API operation, not an IAM action: AWS authorizes it as {mapped}"
        )
    if key in NO_PERMISSION:
        return ResolvedAction(None, written, f"{operation} needs no IAM permission")
    return ResolvedAction(
        None,
        written,
        f"{written} is not an IAM action (an API operation?): look up the action that authorizes "
        f"{operation} in AWS's Service Authorization Reference",
    )


def resolve_action(text: str, catalog: Catalog) -> ResolvedAction:
    """``SNS:CreateTopic`` → ``sns:CreateTopic``; ``s3:HeadBucket`` → ``s3:ListBucket`` with a note."""
    written = clean_token(text)
    if not _ACTION_SHAPE.match(written):
        return ResolvedAction(None, written, f"{written!r} is not an IAM action name")
    info = catalog.get(written)
    if info is not None:
        return ResolvedAction(info.full, written)
    prefix, _, name = written.partition(":")
    return _from_operation(prefix.lower(), name, catalog)


def resolve_operation(service: str, operation: str, catalog: Catalog) -> ResolvedAction:
    """An SDK's service name and API operation (``"SQS"``, ``"CreateQueue"``) → the IAM action."""
    prefix = service_prefix(service, catalog)
    if prefix is None:
        return ResolvedAction(
            None,
            f"{service}: {operation}",
            f"unknown service {service!r}: look up the IAM action that authorizes {operation}",
        )
    return _from_operation(prefix, operation, catalog)


@dataclass(frozen=True, slots=True)
class FeatureUse:
    """A feature whose rule needs an action: always (``variant`` None) or with one variant."""

    id: str
    title: str
    section: str
    requirement: RequiredAction
    variant: str | None = None

    def describe(self) -> str:
        """``Cluster Capacity Monitoring (cluster-capacity-monitoring)``, with the variant if any."""
        base = f"{self.title} ({self.id})"
        return f"{base} with --with {self.variant}" if self.variant else base

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "section": self.section,
            "variant": self.variant,
            "resources": list(self.requirement.resources),
            "context": {key: list(values) for key, values in self.requirement.context},
            "why": self.requirement.why,
        }


def features_using(rules: RuleSet, action: str) -> tuple[FeatureUse, ...]:
    """Every feature that needs ``action`` (any case): required first (``features_needing``), then
    the features that need it only with a variant, each in the guide's section order."""
    wanted = action.lower()
    uses: list[FeatureUse] = []
    for rule in rules.features_needing(action):
        requirement = next(r for r in rule.required if r.action.lower() == wanted)
        uses.append(FeatureUse(rule.id, rule.title, rule.section, requirement))
    for rule in rules:
        for variant in rule.variants:
            for requirement in variant.actions:
                if requirement.action.lower() == wanted:
                    uses.append(FeatureUse(rule.id, rule.title, rule.section, requirement, variant.name))
    return tuple(uses)
