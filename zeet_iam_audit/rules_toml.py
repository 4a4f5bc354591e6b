"""Reading rule TOML: tables whose every access knows its key path (so an error names the file and
the key), and the entries rule files and template extras files share: services and actions."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from types import MappingProxyType

from zeet_iam_audit.errors import RulesError
from zeet_iam_audit.rules_model import (
    PLACEHOLDER_RE,
    PLACEHOLDERS,
    SOURCES,
    ActionCatalog,
    ActionInfoLike,
    RequiredAction,
    ServiceRef,
)

ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SECTION_RE = re.compile(r"[0-9]+(?:\.[0-9]+)*")
PREFIX_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
ACTION_RE = re.compile(r"([A-Za-z0-9-]+):([A-Za-z0-9]+)")
CONDITION_KEY_RE = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9/_${}.-]+")
NO_PLACEHOLDERS: Mapping[str, str] = MappingProxyType({})
SERVICE_REQUIRED = frozenset({"display", "prefixes", "guide_text"})
SERVICE_OPTIONAL = frozenset({"only_with", "no_action"})
OTHER_SERVICE_REQUIRED = frozenset({"display", "prefixes"})
OTHER_SERVICE_OPTIONAL = frozenset({"why"})
ACTION_REQUIRED = frozenset({"action", "service", "why", "source"})
ACTION_OPTIONAL = frozenset({"resource", "context"})


# -- reading TOML values with located errors ------------------------------------------------------


class Table:
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
            raise self.fail(self.key(name), f"expected a string, got {kind_name(value)}")
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
            raise self.fail(self.key(name), f"expected a list of strings, got {kind_name(value)}")
        if not value and not allow_empty:
            raise self.fail(self.key(name), "must not be empty")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{self.key(name)}[{index}]", f"expected a non-empty string, got {kind_name(item)}")
            if pattern is not None and not pattern.fullmatch(item):
                raise self.fail(f"{self.key(name)}[{index}]", f"{item!r} is not of the form {pattern.pattern}")
        if len(set(value)) != len(value):
            raise self.fail(self.key(name), "contains a value twice")
        return tuple(value)

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(self.key(name), f"expected true or false, got {kind_name(value)}")
        return value

    def table(self, name: str) -> Table:
        value = self.data.get(name)
        if not isinstance(value, dict):
            raise self.fail(self.key(name), f"expected a table, got {kind_name(value)}")
        return Table(value, self.where, self.key(name))

    def tables(self, name: str) -> list[Table]:
        value = self.data.get(name, [])
        if not isinstance(value, list):
            raise self.fail(self.key(name), f"expected an array of tables, got {kind_name(value)}")
        result = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{self.key(name)}[{index}]", f"expected a table, got {kind_name(item)}")
            result.append(Table(item, self.where, f"{self.key(name)}[{index}]"))
        return result


def kind_name(value: object) -> str:
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


def parse_toml(text: str, where: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{where}: invalid TOML: {exc}") from None


def parse_services(table: Table, name: str, *, in_guide: bool) -> tuple[ServiceRef, ...]:
    refs = []
    for entry in table.tables(name):
        if in_guide:
            entry.check_keys(SERVICE_REQUIRED, SERVICE_OPTIONAL)
        else:
            entry.check_keys(OTHER_SERVICE_REQUIRED, OTHER_SERVICE_OPTIONAL)
        refs.append(
            ServiceRef(
                display=entry.text("display"),
                prefixes=entry.texts("prefixes", allow_empty=False, pattern=PREFIX_RE),
                guide_text=entry.text("guide_text") if in_guide else "",
                in_guide=in_guide,
                only_with=entry.optional_text("only_with") if in_guide else None,
                no_action=entry.optional_text("no_action") if in_guide else None,
                why=None if in_guide else entry.optional_text("why"),
            )
        )
    return tuple(refs)


def check_service_names(table: Table, services: tuple[ServiceRef, ...]) -> None:
    seen: set[str] = set()
    guide_count = sum(1 for ref in services if ref.in_guide)
    for index, ref in enumerate(services):
        key = f"services[{index}]" if ref.in_guide else f"other_services[{index - guide_count}]"
        if ref.display in seen:
            raise table.fail(f"{key}.display", f"service {ref.display!r} is declared twice")
        seen.add(ref.display)


def parse_resources(
    entry: Table, action: str, info: ActionInfoLike | None, placeholders: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The action's resources with placeholders filled in, and the settings left unset."""
    raw = entry.data.get("resource", "*")
    key = entry.key("resource")
    if isinstance(raw, str):
        values: tuple[str, ...] = (raw,)
    elif isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        values = tuple(str(item) for item in raw)
    else:
        raise entry.fail(key, f"expected a string or a non-empty list of strings, got {kind_name(raw)}")
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
        for name in PLACEHOLDER_RE.findall(value):
            if name not in PLACEHOLDERS:
                known = ", ".join("{" + known + "}" for known in PLACEHOLDERS)
                raise entry.fail(key, f"{{{name}}} is not a known placeholder ({known})")
            if not placeholders.get(name) and name not in unset:
                unset.append(name)
        # An unset placeholder is "*"; "{state_bucket}/{state_key_prefix}*" then reads "*/*".
        text = PLACEHOLDER_RE.sub(lambda m: placeholders.get(m.group(1)) or "*", value)
        filled.append(re.sub(r"\*{2,}", "*", text))
    return tuple(filled), tuple(unset)


def parse_context(
    entry: Table, placeholders: Mapping[str, str]
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...], tuple[str, ...]]:
    """The request context, the settings it names that are unset, and the keys left out.

    A value may be one ``{placeholder}`` (``"{permissions_boundary}"``): set, it is the setting's
    value; unset, the key is left out of the request (the audit then cannot know it).
    """
    if "context" not in entry.data:
        return (), (), ()
    table = entry.table("context")
    if not table.data:
        raise table.fail(table.path, "must not be empty")
    pairs = []
    unset: list[str] = []
    dropped: list[str] = []
    for name, value in table.data.items():
        if not CONDITION_KEY_RE.fullmatch(name):
            raise table.fail(table.key(name), "is not a condition key like 'iam:PassedToService'")
        if isinstance(value, str) and not value.strip():
            raise table.fail(table.key(name), "must not be empty")
        values = (value,) if isinstance(value, str) else table.texts(name, allow_empty=False)
        filled = []
        for item in values:
            match = PLACEHOLDER_RE.fullmatch(item)
            if match is None:
                filled.append(item)
                continue
            setting = match.group(1)
            if setting not in PLACEHOLDERS:
                known = ", ".join("{" + known + "}" for known in PLACEHOLDERS)
                raise table.fail(table.key(name), f"{item} is not a known placeholder ({known})")
            if placeholders.get(setting):
                filled.append(placeholders[setting])
            elif setting not in unset:
                unset.append(setting)
        if filled:
            pairs.append((name, tuple(filled)))
        elif name not in dropped:
            dropped.append(name)
    return tuple(pairs), tuple(unset), tuple(dropped)


def parse_action(
    entry: Table,
    catalog: ActionCatalog,
    services: Mapping[str, ServiceRef],
    *,
    services_label: str,
    source_check: Callable[[str], bool],
    placeholders: Mapping[str, str] = NO_PLACEHOLDERS,
) -> RequiredAction:
    """One [[required]] or [[variants.actions]] entry; ``services`` are those it may name."""
    entry.check_keys(ACTION_REQUIRED, ACTION_OPTIONAL)
    name = entry.text("action")
    if ACTION_RE.fullmatch(name) is None:
        raise entry.fail(entry.key("action"), f"{name!r} is not an exact IAM action like 'service:ActionName'")
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
    resources, unset = parse_resources(entry, action, info, placeholders)
    context, context_unset, unset_keys = parse_context(entry, placeholders)
    source = entry.text("source")
    if not source_check(source):
        raise entry.fail(entry.key("source"), f"{source!r} is not a source key ({', '.join(SOURCES)})")
    return RequiredAction(
        action=action,
        service=service_name,
        why=entry.text("why"),
        resource=resources[0],
        source=source,
        also_resources=resources[1:],
        context=context,
        unset=unset + tuple(name for name in context_unset if name not in unset),
        unset_keys=unset_keys,
    )


def check_duplicates(table: Table, located: list[tuple[str, RequiredAction]]) -> None:
    """An action is listed once, except that a variant may ask for it again in another request
    context (iam:PassRole to EC2 for GPU nodes, where the base path passes roles to EKS only)."""
    first: dict[tuple[str, object], str] = {}
    for key, action in located:
        lowered = (action.action.lower(), action.context)
        if lowered in first:
            raise table.fail(f"{key}.action", f"{action.action!r} is already listed at {first[lowered]}")
        first[lowered] = key


def known_action(table: Table, key: str, name: str, catalog: ActionCatalog) -> str:
    info = catalog.get(name)
    if info is None:
        raise table.fail(key, f"{name!r} is not a known IAM action")
    return info.full


def default_catalog() -> ActionCatalog:
    """The shipped action catalogue (imported here, so that loading rules with an explicit catalogue
    never touches the data file)."""
    from zeet_iam_audit.catalog import load_catalog

    catalog: ActionCatalog = load_catalog()
    return catalog
