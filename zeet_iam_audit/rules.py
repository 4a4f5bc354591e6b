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
    no_action = "..."                # optional: why Zeet's role needs no action of this service
                                     # although the guide lists it (then none is required)

    [[other_services]]               # optional: services the guide does not list for the use case
    display = "KMS"
    prefixes = ["kms"]
    why = "..."                      # optional: why the code needs it all the same; only then may
                                     # its actions be required (shown as "not in the guide's list")

    [[required]]                     # an action the use case needs every time
    action = "logs:FilterLogEvents"  # an exact IAM action (no wildcards), known to the catalogue
    service = "CloudWatch"           # display name of one of the guide's services (above)
    why = "..."                      # one line: why Zeet needs it
    resource = "arn:aws:logs:*:*:log-group:*"  # optional, default "*": the scope a correct Zeet
                                     # role grants, on which the audit evaluates the action. A
                                     # list names every resource AWS authorises the call against
                                     # (rds:CreateDBInstance: db, subgrp, pg, og); each is required.
                                     # {state_bucket}, {state_key_prefix}, {lock_table} are
                                     # settings (PLACEHOLDERS), "*" when unset
    source = "A7"                    # a key of SOURCES (the legend `rules show` prints)
    context = { "iam:PassedToService" = ["eks.amazonaws.com"] }  # optional: request context
                                     # for the evaluation; a list means one request per value; a
                                     # value "{permissions_boundary}" is a setting, the key left
                                     # out when it is unset

    [[variants]]                     # optional groups of optional actions
    name = "logs-insights"
    description = "..."              # when the group is needed
    [[variants.actions]]             # same keys as [[required]]; an action listed again must
    action = "logs:StartQuery"       # differ in its context (iam:PassRole to EKS, then to EC2)
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

from collections.abc import Mapping
from importlib import resources as importlib_resources
from importlib.resources.abc import Traversable
from pathlib import Path

from zeet_iam_audit.errors import RulesError
from zeet_iam_audit.rules_extras import load_template_extras
from zeet_iam_audit.rules_model import (
    PLACEHOLDERS,
    SOURCE_KEYS,
    SOURCES,
    ActionCatalog,
    ActionInfoLike,
    DefaultMode,
    FeatureRule,
    Plans,
    RequiredAction,
    RuleSet,
    ServiceRef,
    TrustRequirement,
    Variant,
    setting_hint,
)
from zeet_iam_audit.rules_toml import (
    ACTION_RE,
    ID_RE,
    NO_PLACEHOLDERS,
    SECTION_RE,
    Table,
    check_duplicates,
    check_service_names,
    default_catalog,
    known_action,
    parse_action,
    parse_services,
    parse_toml,
)

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


def _trust(table: Table, catalog: ActionCatalog) -> TrustRequirement:
    table.check_keys(_TRUST_REQUIRED, _TRUST_OPTIONAL)
    principals = table.texts("principals", allow_empty=False)
    for index, principal in enumerate(principals):
        if "{account}" not in principal:
            raise table.fail(
                f"{table.key('principals')}[{index}]",
                "must contain the {account} placeholder (the account id is configuration, never part of the rules)",
            )
    duration = table.data.get("min_session_duration")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or not 900 <= duration <= 43200
    ):
        raise table.fail(table.key("min_session_duration"), "expected seconds between 900 and 43200")
    sources = table.texts("sources", allow_empty=False)
    for index, source in enumerate(sources):
        if source not in SOURCE_KEYS:
            raise table.fail(f"{table.key('sources')}[{index}]", f"{source!r} is not a source key")
    informational = table.texts("informational_actions", default=(), pattern=ACTION_RE)
    return TrustRequirement(
        assumable_by=table.text("assumable_by"),
        action=known_action(table, table.key("action"), table.text("action", pattern=ACTION_RE), catalog),
        principals=principals,
        external_id_key=table.text("external_id_key"),
        external_id_operators=table.texts("external_id_operators", allow_empty=False),
        informational_actions=tuple(
            known_action(table, f"{table.key('informational_actions')}[{index}]", name, catalog)
            for index, name in enumerate(informational)
        ),
        min_session_duration=duration,
        sources=sources,
    )


def _source(table: Table) -> str:
    source = table.text("source")
    if source not in SOURCE_KEYS:
        raise table.fail(table.key("source"), f"{source!r} is not a source key")
    return source


def _default_mode(table: Table) -> DefaultMode:
    table.check_keys(_DEFAULT_REQUIRED, _DEFAULT_OPTIONAL)
    return DefaultMode(
        section=table.text("section", pattern=SECTION_RE),
        requirement=table.text("requirement"),
        actions=table.texts("actions", allow_empty=False),
        resources=table.texts("resources", allow_empty=False),
        managed_policy=table.optional_text("managed_policy"),
        source=_source(table),
    )


def _plans(table: Table) -> Plans:
    table.check_keys(_PLANS_REQUIRED)
    otherwise = table.text("otherwise")
    if otherwise != "default_mode":
        raise table.fail(table.key("otherwise"), f"{otherwise!r}: only 'default_mode' is known")
    return Plans(
        section=table.text("section", pattern=SECTION_RE),
        fine_grained=table.texts("fine_grained", allow_empty=False),
        otherwise=otherwise,
        source=_source(table),
    )


def _variants(
    top: Table,
    catalog: ActionCatalog,
    services: Mapping[str, ServiceRef],
    placeholders: Mapping[str, str],
) -> tuple[tuple[Variant, ...], list[tuple[str, RequiredAction]]]:
    """The [[variants]] of a rule, and every variant action with its key path."""
    variants: list[Variant] = []
    located: list[tuple[str, RequiredAction]] = []
    for entry in top.tables("variants"):
        entry.check_keys(_VARIANT_REQUIRED)
        name = entry.text("name", pattern=ID_RE)
        if any(variant.name == name for variant in variants):
            raise entry.fail(entry.key("name"), f"variant {name!r} is declared twice")
        description = entry.text("description")
        tables = entry.tables("actions")
        if not tables:
            raise entry.fail(entry.key("actions"), "a variant needs at least one action")
        actions = [
            (
                item.path,
                parse_action(
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
    top: Table,
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
            raise top.fail(f"{key}.only_with", f"variant {ref.only_with!r} has no {ref.display} action")
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
    placeholders: Mapping[str, str] = NO_PLACEHOLDERS,
) -> FeatureRule:
    """Parse and validate one rule file's text; ``where`` names it in errors, ``stem`` its stem.

    ``placeholders`` are the settings resources may name (``{state_bucket}``); unset ones are ``*``.
    """
    top = Table(parse_toml(text, where), where)
    top.check_keys(_RULE_REQUIRED, _RULE_OPTIONAL)
    rule_id = top.text("id", pattern=ID_RE)
    if rule_id != stem:
        raise top.fail("id", f"{rule_id!r} differs from the file name's stem {stem!r}")
    section = top.text("section", pattern=SECTION_RE)
    title = top.text("title")
    alt_titles = top.texts("alt_titles", default=())
    description = top.text("description")
    notes = top.texts("notes", default=())
    template_extras = top.flag("template_extras", default=False)

    guide_services = parse_services(top, "services", in_guide=True)
    other_services = parse_services(top, "other_services", in_guide=False)
    all_services = (*guide_services, *other_services)
    check_service_names(top, all_services)

    required_located = [
        (
            entry.path,
            parse_action(
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
    check_duplicates(top, required_located + optional_located)
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
        default_mode=(_default_mode(top.table("default_mode")) if "default_mode" in top.data else None),
        plans=_plans(top.table("plans")) if "plans" in top.data else None,
        origin=where,
    )


# -- loading --------------------------------------------------------------------------------------


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
    lookup = catalog if catalog is not None else default_catalog()

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
            placeholders=placeholders or NO_PLACEHOLDERS,
        )
        if rule.section in sections:
            raise RulesError(f"{where}: section: {rule.section!r} is also the section of {sections[rule.section]}")
        sections[rule.section] = where
        for key in ("trust", "default_mode", "plans"):
            if getattr(rule, key) is not None:
                if key in singletons:
                    raise RulesError(f"{where}: {key}: already defined in {singletons[key]}")
                singletons[key] = where
        rules.append(rule)
    return RuleSet(rules)
