"""The feature rules as values: services, required actions, variants, trust, and the legend of the
source keys the rules cite. ``zeet_iam_audit.rules`` loads them from ``rules/*.toml``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "PLACEHOLDERS",
    "SOURCES",
    "SOURCE_KEYS",
    "ActionCatalog",
    "ActionInfoLike",
    "DefaultMode",
    "FeatureRule",
    "Plans",
    "RequiredAction",
    "RuleSet",
    "ServiceRef",
    "TrustRequirement",
    "Variant",
    "setting_hint",
]

# What each rule's ``source`` key stands for (``rules show`` prints the legend of those it uses).
SOURCES: Mapping[str, str] = {
    "guide": "Zeet's AWS IAM Permissions Guide (docs.zeet.co/integrations/aws/aws_permissions): "
    "the services per use case; this alone, where no public code shows the call",
    "judgment": "an inference of zeet-iam-audit's, explained in the action's why",
    "Z0": "Zeet's guide, both published revisions (the use cases and their services)",
    "Z1": "zeet-dev/zeet-cloud-aws@bb7d467 eks/terraform (Zeet's EKS template: AWS provider 4.56.0, "
    "terraform-aws-modules/eks ~> 18.20, vpc 3.0.0), eks-byok/terraform and iam/*",
    "Z2": "zeet-dev/zeet-cloud-aws@bb7d467 eks/k8s (helmfiles: the in-cluster controllers)",
    "Z3": "zeet-dev/terraform-eks-asg-sns-monitor@e71ee82 (capacity events: SNS topic and EventBridge rule)",
    "Z4": "zeet-dev/cli@0ddfd72 (GraphQL schemas; `zeet cloud aws console` assumes the role)",
    "Z5": "zeet-dev/zeet-cdk-fargate@b84ec0e (CDK bootstrap template, version 12)",
    "Z6": "zeet-dev/zeet-cluster-k3s@0f04018 (an older k3s-on-EC2 template, not the EKS one)",
    "Z7": "zeet-dev/pulumi-zeet@b544943 and terraform-provider-zeet@469e5ba (deploy target types)",
    "Z8": "zeet-dev/terraform-aws-cloudtrail@b336089 and zeet-dev/helm-charts@ab202bd",
    "EKS18": "terraform-aws-modules/terraform-aws-eks v18.20.5 (main.tf, eks-managed-node-group, "
    "self-managed-node-group): the module Zeet's EKS template pins",
    "VPC3": "terraform-aws-modules/terraform-aws-vpc v3.0.0 (main.tf): the VPC module Zeet's template pins",
    "IAM3": "terraform-aws-modules/terraform-aws-iam v3.16.0 iam-assumable-role-with-oidc (IRSA roles)",
    "TP": "hashicorp/terraform-provider-aws v4.5x (internal/service/ec2/vpc_.go, route53/zone.go): "
    "the calls the pinned provider 4.56.0 makes; issues #28089, terraform-aws-vpc#858",
    "Pike": "JamesWoolfenden/pike@085701b src/mapping/aws: the IAM actions of each Terraform resource and data source",
    "CP": "cloudposse/terraform-aws-cloudwatch-events 0.6.1 (main.tf): the EventBridge rule of Zeet's "
    "capacity monitor (it sets no tags)",
    "RDSDOC": 'AWS RDS User Guide, identity-based policy example "Allow a user to create DB instances" '
    "(CreateDBInstance on the db, og, pg and subgrp ARNs)",
    "A1": "eksctl userdocs/src/usage/minimum-iam-policies.md (eksctl's minimum EKS policies)",
    "A2": "terraform-aws-eks v17.24.0 docs/iam-permissions.md (v17 worker groups; removed in v18.0.0, "
    "so not the module Zeet pins)",
    "A3": "terraform-aws-eks docs/UPGRADE-20.0.md (v20: access entries, provider >= 5.34)",
    "A4": "Karpenter getting-started cloudformation.yaml (interruption queue; Zeet does not run Karpenter)",
    "A5": 'AWS SAM Developer Guide, "Managing permissions with AWS CloudFormation mechanisms"',
    "A6": "hashicorp/terraform website/docs/language/backend/s3.mdx (the S3 backend's permissions)",
    "A7": "AWS managed policies CloudWatchLogsReadOnlyAccess and CloudWatchReadOnlyAccess",
    "A8": "AWS managed policy ServiceQuotasReadOnlyAccess and the Service Quotas API",
    "A9": "external-secrets docs/provider/aws-secrets-manager.md (read and PushSecret policies)",
    "A10": "AWS managed policy SecretsManagerReadWrite",
    "A11": "EKS User Guide, access entries and access policies; eksctl access-entries.md",
    "A12": "API Gateway edge-optimized custom domain names (cloudfront:UpdateDistribution)",
    "A13": "STS API reference, GetCallerIdentity (no permission needed)",
    "A14": "IAM User Guide, session tags and the confused-deputy problem (external id)",
    "A15": "eksctl pod-identity-associations.md (EKS Pod Identity)",
}
SOURCE_KEYS: frozenset[str] = frozenset(SOURCES)

# Settings a rule's resource may name as {placeholder}; unset, a placeholder stands for "*".
PLACEHOLDERS: Mapping[str, str] = {
    "state_bucket": "the S3 bucket holding Terraform state",
    "state_key_prefix": "the key prefix of Terraform state objects in that bucket",
    "lock_table": "the DynamoDB table of Terraform state locks",
    "permissions_boundary": "the permissions boundary Zeet sets on the IAM roles it creates",
}
PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")


def setting_hint(name: str) -> str:
    """Where a placeholder's setting is given: ``--state-bucket``, the environment, the config."""
    return f"--{name.replace('_', '-')}, ZEET_IAM_AUDIT_{name.upper()} or {name} in the config file"


# -- the catalogue interface ----------------------------------------------------------------------


class ActionInfoLike(Protocol):
    """What the loader needs to know about one action from the catalogue."""

    @property
    def full(self) -> str:
        """The action in AWS's spelling, ``"eks:CreateAccessEntry"``."""
        ...

    @property
    def resource_level(self) -> bool:
        """Whether a statement can limit the action to particular resources."""
        ...


class ActionCatalog(Protocol):
    """Anything that looks actions up case-insensitively (``zeet_iam_audit.catalog.Catalog``)."""

    def get(self, action: str, /) -> ActionInfoLike | None:
        """The action ``service:Name`` in any case, or None when it is not known."""
        ...


# -- values ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """A service as the guide names it, and the IAM prefixes it stands for in one use case.

    ``in_guide`` is False for services the guide does not list for the use case
    (``other_services``); ``only_with`` names the variant holding a service the guide makes
    conditional. ``no_action`` says why a service the guide lists needs no action of Zeet's role;
    ``why`` why a service the guide does not list is needed all the same (its actions may then be
    required).
    """

    display: str
    prefixes: tuple[str, ...]
    guide_text: str = ""
    in_guide: bool = True
    only_with: str | None = None
    no_action: str | None = None
    why: str | None = None


@dataclass(frozen=True, slots=True)
class RequiredAction:
    """One action a use case needs, and the resource the audit evaluates it on.

    ``resource`` is the scope a correct Zeet role grants (an ARN pattern, or ``"*"``);
    ``also_resources`` are further resources the same action must be allowed on (e.g. the SAM
    transform for ``cloudformation:CreateChangeSet``). ``context`` is request context for the
    evaluation as ``((key, values), ...)``: one request per value, so ``iam:PassedToService`` with
    EKS and EC2 means both must be allowed. ``unset`` names the settings (``PLACEHOLDERS``) the
    resources or context depend on that were not given: a resource's placeholder then stands for
    ``*``, and a context key (listed in ``unset_keys``) is left out of the request.
    """

    action: str
    service: str
    why: str
    resource: str = "*"
    source: str = "judgment"
    also_resources: tuple[str, ...] = ()
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unset: tuple[str, ...] = ()
    unset_keys: tuple[str, ...] = ()  # context keys left out because their setting is unset

    @property
    def settle_hint(self) -> str:
        """What would narrow the scope to the customer's own resources, or ``""``."""
        if not self.unset:
            return ""
        return "; ".join(f"set {name} ({setting_hint(name)})" for name in self.unset)

    @property
    def prefix(self) -> str:
        """The IAM service prefix in lower case (``"logs"``)."""
        return self.action.partition(":")[0].lower()

    @property
    def resources(self) -> tuple[str, ...]:
        """Every resource the action must be allowed on: ``resource`` first."""
        return (self.resource, *self.also_resources)


@dataclass(frozen=True, slots=True)
class Variant:
    """A named group of optional actions, needed only when ``description`` holds."""

    name: str
    description: str
    actions: tuple[RequiredAction, ...]


@dataclass(frozen=True, slots=True)
class TrustRequirement:
    """Who must be able to assume the role: the Zeet management account, with an external id.

    ``principals`` are patterns with an ``{account}`` placeholder for the configured Zeet account
    id; the account id itself and the external id are configuration, never part of the rules.
    """

    assumable_by: str
    action: str
    principals: tuple[str, ...]
    external_id_key: str
    external_id_operators: tuple[str, ...]
    informational_actions: tuple[str, ...]
    min_session_duration: int | None
    sources: tuple[str, ...]

    def principals_for(self, account_id: str) -> tuple[str, ...]:
        """The accepted principals for one Zeet management account id."""
        return tuple(pattern.replace("{account}", account_id) for pattern in self.principals)


@dataclass(frozen=True, slots=True)
class DefaultMode:
    """The guide's default mode: the role is an account administrator (``*`` on ``*``)."""

    section: str
    requirement: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    managed_policy: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Plans:
    """Which Zeet plans may use fine-grained permissions; every other plan uses ``otherwise``."""

    section: str
    fine_grained: tuple[str, ...]
    otherwise: str
    source: str

    def allows_fine_grained(self, plan: str) -> bool:
        """Whether ``plan`` (any case) may customise permissions."""
        return plan.strip().lower() in {name.lower() for name in self.fine_grained}


@dataclass(frozen=True, slots=True)
class FeatureRule:
    """One use case of the guide: its services, required actions and optional variants."""

    id: str
    section: str
    title: str
    description: str
    services: tuple[ServiceRef, ...]
    required: tuple[RequiredAction, ...]
    variants: tuple[Variant, ...] = ()
    other_services: tuple[ServiceRef, ...] = ()
    alt_titles: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    template_extras: bool = False
    trust: TrustRequirement | None = None
    default_mode: DefaultMode | None = None
    plans: Plans | None = None
    origin: str = ""

    @property
    def optional(self) -> tuple[RequiredAction, ...]:
        """Every variant's actions, in file order."""
        return tuple(action for variant in self.variants for action in variant.actions)

    @property
    def section_key(self) -> tuple[int, ...]:
        """The section as numbers, to sort in the guide's order: ``"2.3.4"`` → ``(2, 3, 4)``."""
        return tuple(int(part) for part in self.section.split("."))

    def variant(self, name: str) -> Variant | None:
        """The variant called ``name``, or None."""
        return next((variant for variant in self.variants if variant.name == name), None)

    def service(self, display: str) -> ServiceRef | None:
        """The guide or other service displayed as ``display``, or None."""
        return next(
            (ref for ref in (*self.services, *self.other_services) if ref.display == display),
            None,
        )

    def needs(self, action: str) -> bool:
        """Whether ``action`` (any case) is one of the required actions."""
        wanted = action.lower()
        return any(required.action.lower() == wanted for required in self.required)


class RuleSet:
    """The loaded rules, in the guide's section order.

    Iterating yields FeatureRule values in section order; ``ruleset[id]`` and ``ruleset.get(id)``
    look a rule up by id; ``id in ruleset`` tests one.
    """

    __slots__ = ("_rules",)

    def __init__(self, rules: Iterable[FeatureRule]) -> None:
        ordered = sorted(rules, key=lambda rule: (rule.section_key, rule.id))
        self._rules: dict[str, FeatureRule] = {rule.id: rule for rule in ordered}

    def __getitem__(self, rule_id: str) -> FeatureRule:
        return self._rules[rule_id]

    def get(self, rule_id: str) -> FeatureRule | None:
        """The rule with this id, or None."""
        return self._rules.get(rule_id)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __iter__(self) -> Iterator[FeatureRule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"RuleSet({list(self._rules)!r})"

    @property
    def ids(self) -> tuple[str, ...]:
        """Every rule id, in the guide's section order."""
        return tuple(self._rules)

    @property
    def rules(self) -> tuple[FeatureRule, ...]:
        """Every rule, in the guide's section order."""
        return tuple(self._rules.values())

    def features_needing(self, action: str) -> tuple[FeatureRule, ...]:
        """The rules that require ``action`` (compared case-insensitively), in section order."""
        return tuple(rule for rule in self._rules.values() if rule.needs(action))

    @property
    def trust(self) -> TrustRequirement | None:
        """The trust requirement (from cloud-connection), if a rule defines one."""
        return next((rule.trust for rule in self._rules.values() if rule.trust), None)

    @property
    def default_mode(self) -> DefaultMode | None:
        """The default-mode requirement (from cloud-connection), if a rule defines one."""
        return next((r.default_mode for r in self._rules.values() if r.default_mode), None)

    @property
    def plans(self) -> Plans | None:
        """The plan rules (from cloud-connection), if a rule defines them."""
        return next((rule.plans for rule in self._rules.values() if rule.plans), None)

    @property
    def fine_grained_plans(self) -> tuple[str, ...]:
        """The plans allowed to customise permissions, in lower case; empty without plan rules."""
        plans = self.plans
        return tuple(name.lower() for name in plans.fine_grained) if plans else ()
