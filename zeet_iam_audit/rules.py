"""Load and validate the feature rules: one TOML file per use case of Zeet's permissions guide.

The rules live in ``rules/*.toml`` (shipped inside the package as ``zeet_iam_audit/rules``). Each
file describes one use case, its id being the file's stem. Every file is validated when it is
loaded; a bad file raises ``RulesError`` with one line naming the file and the key, e.g.
``rules/view-logs.toml: required[3].action: 'logs:GetLogEventz' is not a known IAM action``.

Rule file format (every key not marked optional is required; no other key is allowed)::

    id = "view-logs"                 # equals the file stem; lower-case words joined by "-"
    section = "2.3.1"                # the guide's section number
    title = "View Logs"              # the guide's title, as the guide writes it
    alt_titles = ["..."]             # optional: titles other revisions of the guide use
    description = "..."              # what Zeet does for this use case
    notes = ["..."]                  # optional: remarks shown with the rule
    template_extras = false          # optional: the use case accepts a template extras file
    services = []                    # may be empty, or given as [[services]] tables below

    [[services]]                     # the services the guide lists for the use case, in its order
    display = "CloudWatch"           # the guide's spelling
    prefixes = ["cloudwatch", "logs"]  # the IAM prefixes that service stands for here
    guide_text = "..."               # what the guide says the service is for
    only_with = "custom-domain"      # optional: the guide makes the service conditional; its
                                     # actions then live in this variant and none is required

    [[other_services]]               # optional: services used only by variants
    display = "KMS"
    prefixes = ["kms"]

    [[required]]                     # an action the use case needs every time
    action = "logs:FilterLogEvents"  # an exact IAM action (no wildcards), known to the catalogue
    service = "CloudWatch"           # display name of one of the guide's services (above)
    why = "..."                      # one line: why Zeet needs it
    resource = "arn:aws:logs:*:*:log-group:*"  # optional, default "*": the scope a correct Zeet
                                     # role grants, on which the audit evaluates the action; a
                                     # list names further resources (also_resources) it needs
    source = "A7"                    # a source key of zeet-actions.md (Z0-Z8, A1-A15),
                                     # "guide" or "judgment"
    context = { "iam:PassedToService" = ["eks.amazonaws.com"] }  # optional: request context
                                     # for the evaluation; a list means one request per value

    [[variants]]                     # optional groups of optional actions
    name = "logs-insights"
    description = "..."              # when the group is needed
    [[variants.actions]]             # same keys as [[required]]; the service may also be one
    action = "logs:StartQuery"       # of other_services
    ...

    [trust]                          # optional (cloud-connection): who may assume the role
    assumable_by = "Zeet Management Account"
    action = "sts:AssumeRole"
    principals = ["arn:aws:iam::{account}:root"]  # {account}: the configured Zeet account id
    external_id_key = "sts:ExternalId"
    external_id_operators = ["StringEquals"]
    informational_actions = ["sts:TagSession"]    # optional
    min_session_duration = 3600                   # optional
    sources = ["guide"]

    [default_mode]                   # optional (cloud-connection): the default "administrator" mode
    section = "1.1"
    requirement = "Account Administrator"
    actions = ["*"]
    resources = ["*"]
    managed_policy = "arn:aws:iam::aws:policy/AdministratorAccess"  # optional
    source = "guide"

    [plans]                          # optional (cloud-connection): who may use fine-grained mode
    section = "2"
    fine_grained = ["Pro", "Scale", "Enterprise"]
    otherwise = "default_mode"
    source = "guide"

The Zeet management account id and the external id are configuration; they never appear in rules.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources as importlib_resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from zeet_iam_audit.errors import RulesError

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
    "load_rules",
    "load_template_extras",
    "packaged_rules_dir",
    "parse_rule",
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
    "Z3": "zeet-dev/terraform-eks-asg-sns-monitor@e71ee82 (capacity events: SNS topic and "
    "EventBridge rule)",
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
    "Pike": "JamesWoolfenden/pike@085701b src/mapping/aws: the IAM actions of each Terraform resource "
    "and data source",
    "CP": "cloudposse/terraform-aws-cloudwatch-events 0.6.1 (main.tf): the EventBridge rule of Zeet's "
    "capacity monitor (it sets no tags)",
    "RDSDOC": "AWS RDS User Guide, identity-based policy example \"Allow a user to create DB instances\" "
    "(CreateDBInstance on the db, og, pg and subgrp ARNs)",
    "A1": "eksctl userdocs/src/usage/minimum-iam-policies.md (eksctl's minimum EKS policies)",
    "A2": "terraform-aws-eks v17.24.0 docs/iam-permissions.md (v17 worker groups; removed in v18.0.0, "
    "so not the module Zeet pins)",
    "A3": "terraform-aws-eks docs/UPGRADE-20.0.md (v20: access entries, provider >= 5.34)",
    "A4": "Karpenter getting-started cloudformation.yaml (interruption queue; Zeet does not run Karpenter)",
    "A5": "AWS SAM Developer Guide, \"Managing permissions with AWS CloudFormation mechanisms\"",
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
}
_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
_NO_PLACEHOLDERS: Mapping[str, str] = MappingProxyType({})


def setting_hint(name: str) -> str:
    """Where a placeholder's setting is given: ``--state-bucket``, the environment, the config."""
    return f"--{name.replace('_', '-')}, ZEET_IAM_AUDIT_{name.upper()} or {name} in the config file"

_ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SECTION_RE = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_PREFIX_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_ACTION_RE = re.compile(r"([A-Za-z0-9-]+):([A-Za-z0-9]+)")
_CONDITION_KEY_RE = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9/_${}.-]+")


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
    resources depend on that were not given, so their placeholders stand for ``*``.
    """

    action: str
    service: str
    why: str
    resource: str = "*"
    source: str = "judgment"
    also_resources: tuple[str, ...] = ()
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unset: tuple[str, ...] = ()

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


# -- reading TOML values with located errors ------------------------------------------------------


class _Table:
    """A TOML table being read: every access knows its key path, and unread keys are errors."""

    def __init__(self, data: Mapping[str, object], where: str, path: str = "") -> None:
        self.data = data
        self.where = where
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, key: str, problem: str) -> RulesError:
        return RulesError(f"{self.where}: {key}: {problem}")

    def check_keys(self, required: frozenset[str], optional: frozenset[str] = frozenset()) -> None:
        for name in self.data:
            if name not in required and name not in optional:
                allowed = ", ".join(sorted(required | optional))
                raise self.fail(self.key(name), f"unknown key (allowed: {allowed})")
        for name in sorted(required):
            if name not in self.data:
                where = self.path or "top level"
                raise RulesError(f"{self.where}: {self.key(name)}: missing (required in {where})")

    def text(self, name: str, *, pattern: re.Pattern[str] | None = None) -> str:
        value = self.data.get(name)
        if not isinstance(value, str):
            raise self.fail(self.key(name), f"expected a string, got {_kind(value)}")
        if not value.strip():
            raise self.fail(self.key(name), "must not be empty")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(self.key(name), f"{value!r} is not of the form {pattern.pattern}")
        return value

    def optional_text(self, name: str) -> str | None:
        return self.text(name) if name in self.data else None

    def texts(
        self,
        name: str,
        *,
        default: tuple[str, ...] | None = None,
        allow_empty: bool = True,
        pattern: re.Pattern[str] | None = None,
    ) -> tuple[str, ...]:
        if name not in self.data and default is not None:
            return default
        value = self.data.get(name)
        if not isinstance(value, list):
            raise self.fail(self.key(name), f"expected a list of strings, got {_kind(value)}")
        if not value and not allow_empty:
            raise self.fail(self.key(name), "must not be empty")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(
                    f"{self.key(name)}[{index}]", f"expected a non-empty string, got {_kind(item)}"
                )
            if pattern is not None and not pattern.fullmatch(item):
                raise self.fail(
                    f"{self.key(name)}[{index}]", f"{item!r} is not of the form {pattern.pattern}"
                )
        if len(set(value)) != len(value):
            raise self.fail(self.key(name), "contains a value twice")
        return tuple(value)

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(self.key(name), f"expected true or false, got {_kind(value)}")
        return value

    def table(self, name: str) -> _Table:
        value = self.data.get(name)
        if not isinstance(value, dict):
            raise self.fail(self.key(name), f"expected a table, got {_kind(value)}")
        return _Table(value, self.where, self.key(name))

    def tables(self, name: str) -> list[_Table]:
        value = self.data.get(name, [])
        if not isinstance(value, list):
            raise self.fail(self.key(name), f"expected an array of tables, got {_kind(value)}")
        result = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(
                    f"{self.key(name)}[{index}]", f"expected a table, got {_kind(item)}"
                )
            result.append(_Table(item, self.where, f"{self.key(name)}[{index}]"))
        return result


def _kind(value: object) -> str:
    """How an error message names a TOML value's type."""
    if value is None:
        return "nothing"
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


# -- parsing --------------------------------------------------------------------------------------

_RULE_REQUIRED = frozenset({"id", "section", "title", "description", "services"})
_RULE_OPTIONAL = frozenset(
    {
        "alt_titles",
        "notes",
        "template_extras",
        "other_services",
        "required",
        "variants",
        "trust",
        "default_mode",
        "plans",
    }
)
_SERVICE_REQUIRED = frozenset({"display", "prefixes", "guide_text"})
_SERVICE_OPTIONAL = frozenset({"only_with", "no_action"})
_OTHER_SERVICE_REQUIRED = frozenset({"display", "prefixes"})
_OTHER_SERVICE_OPTIONAL = frozenset({"why"})
_ACTION_REQUIRED = frozenset({"action", "service", "why", "source"})
_ACTION_OPTIONAL = frozenset({"resource", "context"})
_VARIANT_REQUIRED = frozenset({"name", "description", "actions"})
_TRUST_REQUIRED = frozenset(
    {
        "assumable_by",
        "action",
        "principals",
        "external_id_key",
        "external_id_operators",
        "sources",
    }
)
_TRUST_OPTIONAL = frozenset({"informational_actions", "min_session_duration"})
_DEFAULT_REQUIRED = frozenset({"section", "requirement", "actions", "resources", "source"})
_DEFAULT_OPTIONAL = frozenset({"managed_policy"})
_PLANS_REQUIRED = frozenset({"section", "fine_grained", "otherwise", "source"})
_EXTRAS_REQUIRED = frozenset({"template", "services", "required"})
_EXTRAS_OPTIONAL = frozenset({"description"})


def _parse_toml(text: str, where: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{where}: invalid TOML: {exc}") from None


def _services(table: _Table, name: str, *, in_guide: bool) -> tuple[ServiceRef, ...]:
    refs = []
    for entry in table.tables(name):
        if in_guide:
            entry.check_keys(_SERVICE_REQUIRED, _SERVICE_OPTIONAL)
        else:
            entry.check_keys(_OTHER_SERVICE_REQUIRED, _OTHER_SERVICE_OPTIONAL)
        refs.append(
            ServiceRef(
                display=entry.text("display"),
                prefixes=entry.texts("prefixes", allow_empty=False, pattern=_PREFIX_RE),
                guide_text=entry.text("guide_text") if in_guide else "",
                in_guide=in_guide,
                only_with=entry.optional_text("only_with") if in_guide else None,
                no_action=entry.optional_text("no_action") if in_guide else None,
                why=None if in_guide else entry.optional_text("why"),
            )
        )
    return tuple(refs)


def _check_service_names(table: _Table, services: tuple[ServiceRef, ...]) -> None:
    seen: set[str] = set()
    guide_count = sum(1 for ref in services if ref.in_guide)
    for index, ref in enumerate(services):
        key = f"services[{index}]" if ref.in_guide else f"other_services[{index - guide_count}]"
        if ref.display in seen:
            raise table.fail(f"{key}.display", f"service {ref.display!r} is declared twice")
        seen.add(ref.display)


def _resources(
    entry: _Table, action: str, info: ActionInfoLike | None, placeholders: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The action's resources with placeholders filled in, and the settings left unset."""
    raw = entry.data.get("resource", "*")
    key = entry.key("resource")
    if isinstance(raw, str):
        values: tuple[str, ...] = (raw,)
    elif isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        values = tuple(str(item) for item in raw)
    else:
        raise entry.fail(key, f"expected a string or a non-empty list of strings, got {_kind(raw)}")
    for value in values:
        # "*" or arn:partition:service:region:account:resource (the resource part may hold colons)
        if value != "*" and (not value.startswith("arn:") or len(value.split(":", 5)) < 6):
            raise entry.fail(key, f"{value!r} is neither '*' nor an ARN pattern")
    if len(set(values)) != len(values):
        raise entry.fail(key, "contains a resource twice")
    if info is not None and not info.resource_level and values != ("*",):
        raise entry.fail(key, f"{action!r} cannot be limited to resources; use '*'")
    unset: list[str] = []
    filled = []
    for value in values:
        for name in _PLACEHOLDER_RE.findall(value):
            if name not in PLACEHOLDERS:
                known = ", ".join("{" + known + "}" for known in PLACEHOLDERS)
                raise entry.fail(key, f"{{{name}}} is not a known placeholder ({known})")
            if not placeholders.get(name) and name not in unset:
                unset.append(name)
        # An unset placeholder is "*"; "{state_bucket}/{state_key_prefix}*" then reads "*/*".
        text = _PLACEHOLDER_RE.sub(lambda m: placeholders.get(m.group(1)) or "*", value)
        filled.append(re.sub(r"\*{2,}", "*", text))
    return tuple(filled), tuple(unset)


def _context(entry: _Table) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if "context" not in entry.data:
        return ()
    table = entry.table("context")
    if not table.data:
        raise table.fail(table.path, "must not be empty")
    pairs = []
    for name, value in table.data.items():
        if not _CONDITION_KEY_RE.fullmatch(name):
            raise table.fail(table.key(name), "is not a condition key like 'iam:PassedToService'")
        if isinstance(value, str) and not value.strip():
            raise table.fail(table.key(name), "must not be empty")
        values = (value,) if isinstance(value, str) else table.texts(name, allow_empty=False)
        pairs.append((name, values))
    return tuple(pairs)


def _action(
    entry: _Table,
    catalog: ActionCatalog,
    services: Mapping[str, ServiceRef],
    *,
    services_label: str,
    source_check: Callable[[str], bool],
    placeholders: Mapping[str, str] = _NO_PLACEHOLDERS,
) -> RequiredAction:
    """One [[required]] or [[variants.actions]] entry; ``services`` are those it may name."""
    entry.check_keys(_ACTION_REQUIRED, _ACTION_OPTIONAL)
    name = entry.text("action")
    if _ACTION_RE.fullmatch(name) is None:
        raise entry.fail(
            entry.key("action"), f"{name!r} is not an exact IAM action like 'service:ActionName'"
        )
    info = catalog.get(name)
    if info is None:
        raise entry.fail(entry.key("action"), f"{name!r} is not a known IAM action")
    action = info.full
    service_name = entry.text("service")
    ref = services.get(service_name)
    if ref is None:
        listed = ", ".join(services) or "none"
        raise entry.fail(
            entry.key("service"),
            f"{service_name!r} is not one of the services {services_label} ({listed})",
        )
    prefix = action.partition(":")[0].lower()
    if prefix not in ref.prefixes:
        raise entry.fail(
            entry.key("action"),
            f"{action!r} is outside {ref.display} (prefixes: {', '.join(ref.prefixes)})",
        )
    resources, unset = _resources(entry, action, info, placeholders)
    source = entry.text("source")
    if not source_check(source):
        raise entry.fail(
            entry.key("source"), f"{source!r} is not a source key ({', '.join(SOURCES)})"
        )
    return RequiredAction(
        action=action,
        service=service_name,
        why=entry.text("why"),
        resource=resources[0],
        source=source,
        also_resources=resources[1:],
        context=_context(entry),
        unset=unset,
    )


def _check_duplicates(table: _Table, located: list[tuple[str, RequiredAction]]) -> None:
    first: dict[str, str] = {}
    for key, action in located:
        lowered = action.action.lower()
        if lowered in first:
            raise table.fail(
                f"{key}.action", f"{action.action!r} is already listed at {first[lowered]}"
            )
        first[lowered] = key


def _known_action(table: _Table, key: str, name: str, catalog: ActionCatalog) -> str:
    info = catalog.get(name)
    if info is None:
        raise table.fail(key, f"{name!r} is not a known IAM action")
    return info.full


def _trust(table: _Table, catalog: ActionCatalog) -> TrustRequirement:
    table.check_keys(_TRUST_REQUIRED, _TRUST_OPTIONAL)
    principals = table.texts("principals", allow_empty=False)
    for index, principal in enumerate(principals):
        if "{account}" not in principal:
            raise table.fail(
                f"{table.key('principals')}[{index}]",
                "must contain the {account} placeholder (the account id is "
                "configuration, never part of the rules)",
            )
    duration = table.data.get("min_session_duration")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or not 900 <= duration <= 43200
    ):
        raise table.fail(
            table.key("min_session_duration"), "expected seconds between 900 and 43200"
        )
    sources = table.texts("sources", allow_empty=False)
    for index, source in enumerate(sources):
        if source not in SOURCE_KEYS:
            raise table.fail(f"{table.key('sources')}[{index}]", f"{source!r} is not a source key")
    informational = table.texts("informational_actions", default=(), pattern=_ACTION_RE)
    return TrustRequirement(
        assumable_by=table.text("assumable_by"),
        action=_known_action(
            table, table.key("action"), table.text("action", pattern=_ACTION_RE), catalog
        ),
        principals=principals,
        external_id_key=table.text("external_id_key"),
        external_id_operators=table.texts("external_id_operators", allow_empty=False),
        informational_actions=tuple(
            _known_action(table, f"{table.key('informational_actions')}[{index}]", name, catalog)
            for index, name in enumerate(informational)
        ),
        min_session_duration=duration,
        sources=sources,
    )


def _source(table: _Table) -> str:
    source = table.text("source")
    if source not in SOURCE_KEYS:
        raise table.fail(table.key("source"), f"{source!r} is not a source key")
    return source


def _default_mode(table: _Table) -> DefaultMode:
    table.check_keys(_DEFAULT_REQUIRED, _DEFAULT_OPTIONAL)
    return DefaultMode(
        section=table.text("section", pattern=_SECTION_RE),
        requirement=table.text("requirement"),
        actions=table.texts("actions", allow_empty=False),
        resources=table.texts("resources", allow_empty=False),
        managed_policy=table.optional_text("managed_policy"),
        source=_source(table),
    )


def _plans(table: _Table) -> Plans:
    table.check_keys(_PLANS_REQUIRED)
    otherwise = table.text("otherwise")
    if otherwise != "default_mode":
        raise table.fail(table.key("otherwise"), f"{otherwise!r}: only 'default_mode' is known")
    return Plans(
        section=table.text("section", pattern=_SECTION_RE),
        fine_grained=table.texts("fine_grained", allow_empty=False),
        otherwise=otherwise,
        source=_source(table),
    )


def _variants(
    top: _Table,
    catalog: ActionCatalog,
    services: Mapping[str, ServiceRef],
    placeholders: Mapping[str, str],
) -> tuple[tuple[Variant, ...], list[tuple[str, RequiredAction]]]:
    """The [[variants]] of a rule, and every variant action with its key path."""
    variants: list[Variant] = []
    located: list[tuple[str, RequiredAction]] = []
    for entry in top.tables("variants"):
        entry.check_keys(_VARIANT_REQUIRED)
        name = entry.text("name", pattern=_ID_RE)
        if any(variant.name == name for variant in variants):
            raise entry.fail(entry.key("name"), f"variant {name!r} is declared twice")
        description = entry.text("description")
        tables = entry.tables("actions")
        if not tables:
            raise entry.fail(entry.key("actions"), "a variant needs at least one action")
        actions = [
            (
                item.path,
                _action(
                    item,
                    catalog,
                    services,
                    services_label="this file declares",
                    source_check=SOURCE_KEYS.__contains__,
                    placeholders=placeholders,
                ),
            )
            for item in tables
        ]
        located.extend(actions)
        variants.append(Variant(name, description, tuple(action for _, action in actions)))
    return tuple(variants), located


def _check_coverage(
    top: _Table,
    guide_services: tuple[ServiceRef, ...],
    other_services: tuple[ServiceRef, ...],
    required: tuple[RequiredAction, ...],
    variants: tuple[Variant, ...],
) -> None:
    """The guide is the spec: each service it lists is needed through at least one required
    action, unless the guide makes it conditional (then through the variant it names) or the rule
    says why Zeet's role needs no action of it (``no_action``). A service the guide does not list
    is used by a variant, or required with its reason (``why``)."""
    for index, ref in enumerate(guide_services):
        key = f"services[{index}]"
        own_required = [action for action in required if action.service == ref.display]
        if ref.no_action is not None:
            if ref.only_with is not None:
                raise top.fail(f"{key}.no_action", "a service needs no action or is conditional, not both")
            if own_required:
                raise top.fail(
                    f"{key}.no_action",
                    f"{ref.display} needs no action, yet {own_required[0].action!r} is required",
                )
            continue
        if ref.only_with is None:
            if not own_required:
                raise top.fail(
                    key,
                    f"{ref.display} has no required action, but the guide lists it for this "
                    "use case (say why none is needed with no_action)",
                )
            continue
        variant = next((v for v in variants if v.name == ref.only_with), None)
        if variant is None:
            raise top.fail(f"{key}.only_with", f"no variant is called {ref.only_with!r}")
        if own_required:
            raise top.fail(
                f"{key}.only_with",
                f"{ref.display} is conditional in the guide, so {own_required[0].action!r} "
                f"belongs in variant {ref.only_with!r}",
            )
        if not any(action.service == ref.display for action in variant.actions):
            raise top.fail(
                f"{key}.only_with", f"variant {ref.only_with!r} has no {ref.display} action"
            )
    used = {action.service for variant in variants for action in variant.actions}
    used_required = {action.service for action in required}
    for index, ref in enumerate(other_services):
        if ref.display in used_required and ref.why is None:
            raise top.fail(
                f"other_services[{index}].why",
                f"{ref.display} is not in the guide's list, so its required actions need the reason",
            )
        if ref.display not in used and ref.display not in used_required:
            raise top.fail(f"other_services[{index}]", f"{ref.display} is used by no action")


def parse_rule(
    text: str,
    *,
    where: str,
    stem: str,
    catalog: ActionCatalog,
    placeholders: Mapping[str, str] = _NO_PLACEHOLDERS,
) -> FeatureRule:
    """Parse and validate one rule file's text; ``where`` names it in errors, ``stem`` its stem.

    ``placeholders`` are the settings resources may name (``{state_bucket}``); unset ones are ``*``.
    """
    top = _Table(_parse_toml(text, where), where)
    top.check_keys(_RULE_REQUIRED, _RULE_OPTIONAL)
    rule_id = top.text("id", pattern=_ID_RE)
    if rule_id != stem:
        raise top.fail("id", f"{rule_id!r} differs from the file name's stem {stem!r}")
    section = top.text("section", pattern=_SECTION_RE)
    title = top.text("title")
    alt_titles = top.texts("alt_titles", default=())
    description = top.text("description")
    notes = top.texts("notes", default=())
    template_extras = top.flag("template_extras", default=False)

    guide_services = _services(top, "services", in_guide=True)
    other_services = _services(top, "other_services", in_guide=False)
    all_services = (*guide_services, *other_services)
    _check_service_names(top, all_services)

    required_located = [
        (
            entry.path,
            _action(
                entry,
                catalog,
                {ref.display: ref for ref in all_services},
                services_label="this file declares",
                source_check=SOURCE_KEYS.__contains__,
                placeholders=placeholders,
            ),
        )
        for entry in top.tables("required")
    ]
    by_display = {ref.display: ref for ref in all_services}
    variants, optional_located = _variants(top, catalog, by_display, placeholders)
    _check_duplicates(top, required_located + optional_located)
    required = tuple(action for _, action in required_located)
    _check_coverage(top, guide_services, other_services, required, variants)

    return FeatureRule(
        id=rule_id,
        section=section,
        title=title,
        description=description,
        services=guide_services,
        required=required,
        variants=variants,
        other_services=other_services,
        alt_titles=alt_titles,
        notes=notes,
        template_extras=template_extras,
        trust=_trust(top.table("trust"), catalog) if "trust" in top.data else None,
        default_mode=(
            _default_mode(top.table("default_mode")) if "default_mode" in top.data else None
        ),
        plans=_plans(top.table("plans")) if "plans" in top.data else None,
        origin=where,
    )


# -- loading --------------------------------------------------------------------------------------


def _default_catalog() -> ActionCatalog:
    # Imported here so that loading rules with an explicit catalogue never touches the data file.
    from zeet_iam_audit.catalog import load_catalog

    catalog: ActionCatalog = load_catalog()
    return catalog


def packaged_rules_dir() -> Traversable:
    """The rules shipped inside the package (``zeet_iam_audit/rules``)."""
    return importlib_resources.files("zeet_iam_audit") / "rules"


def load_rules(
    directory: Path | str | None = None,
    *,
    catalog: ActionCatalog | None = None,
    placeholders: Mapping[str, str] | None = None,
) -> RuleSet:
    """Load and validate every ``*.toml`` rule file in ``directory`` (default: the packaged rules).

    ``catalog`` looks actions up (default: ``zeet_iam_audit.catalog.load_catalog()``);
    ``placeholders`` fill resources' ``{state_bucket}``-style settings (``PLACEHOLDERS``). Raises
    ``RulesError`` with one line naming the file and the key when a file does not validate.
    """
    if directory is None:
        folder: Traversable = packaged_rules_dir()
        label = "rules"
    else:
        folder = Path(directory)
        label = str(folder)
    if not folder.is_dir():
        raise RulesError(f"{label}: not a directory of rule files")
    files = sorted(
        (item for item in folder.iterdir() if item.name.endswith(".toml") and item.is_file()),
        key=lambda item: item.name,
    )
    if not files:
        raise RulesError(f"{label}: no rule files (*.toml)")
    lookup = catalog if catalog is not None else _default_catalog()

    rules: list[FeatureRule] = []
    sections: dict[str, str] = {}
    singletons: dict[str, str] = {}
    for item in files:
        where = f"{label}/{item.name}"
        try:
            text = item.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RulesError(f"{where}: cannot read: {exc}") from None
        rule = parse_rule(
            text,
            where=where,
            stem=item.name.removesuffix(".toml"),
            catalog=lookup,
            placeholders=placeholders or _NO_PLACEHOLDERS,
        )
        if rule.section in sections:
            raise RulesError(
                f"{where}: section: {rule.section!r} is also the section of "
                f"{sections[rule.section]}"
            )
        sections[rule.section] = where
        for key in ("trust", "default_mode", "plans"):
            if getattr(rule, key) is not None:
                if key in singletons:
                    raise RulesError(f"{where}: {key}: already defined in {singletons[key]}")
                singletons[key] = where
        rules.append(rule)
    return RuleSet(rules)


def _template_source(source: str) -> bool:
    return bool(source.strip())


def load_template_extras(
    path: Path, *, catalog: ActionCatalog | None = None
) -> tuple[RequiredAction, ...]:
    """Load the extra required actions of one Terraform template (guide 2.2.4).

    The guide says Terraform Module Management needs "additional permissions [that] depend on the
    specific template utilized"; a user lists them in a small TOML file, validated like the rules::

        template = "zeet-rds-postgres"        # the template's name, for reports
        description = "..."                   # optional

        [[services]]                          # the services the template uses (any service)
        display = "EC2"
        prefixes = ["ec2"]

        [[required]]                          # the same keys as a rule's [[required]] actions
        action = "ec2:CreateSecurityGroup"
        service = "EC2"
        why = "The database security group."
        resource = "*"                        # optional, default "*"
        source = "template"                   # any non-empty text: where the need comes from
        context = { ... }                     # optional

    Actions must be known to the catalogue and belong to their service's prefixes; an action may
    appear once. Raises ``RulesError`` (file and key) when the file does not validate.
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{where}: cannot read: {exc}") from None
    top = _Table(_parse_toml(text, where), where)
    top.check_keys(_EXTRAS_REQUIRED, _EXTRAS_OPTIONAL)
    top.text("template")
    if "description" in top.data:
        top.text("description")
    services = _services_without_text(top)
    _check_service_names(top, services)
    by_display = {ref.display: ref for ref in services}
    lookup = catalog if catalog is not None else _default_catalog()
    entries = top.tables("required")
    if not entries:
        raise top.fail("required", "list at least one action")
    located = [
        (
            entry.path,
            _action(
                entry,
                lookup,
                by_display,
                services_label="this file declares",
                source_check=_template_source,
            ),
        )
        for entry in entries
    ]
    _check_duplicates(top, located)
    for index, ref in enumerate(services):
        if not any(action.service == ref.display for _, action in located):
            raise top.fail(f"services[{index}]", f"{ref.display} is used by no action")
    return tuple(action for _, action in located)


def _services_without_text(top: _Table) -> tuple[ServiceRef, ...]:
    """A template extras file's services: display and prefixes only."""
    refs = []
    for entry in top.tables("services"):
        entry.check_keys(_OTHER_SERVICE_REQUIRED)
        refs.append(
            ServiceRef(
                display=entry.text("display"),
                prefixes=entry.texts("prefixes", allow_empty=False, pattern=_PREFIX_RE),
            )
        )
    return tuple(refs)
