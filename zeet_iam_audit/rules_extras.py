"""Template extras: the extra required actions of one Terraform template (guide 2.2.4), in a small
TOML file validated like the rules."""

from __future__ import annotations

from pathlib import Path

from zeet_iam_audit.errors import RulesError
from zeet_iam_audit.rules_model import ActionCatalog, RequiredAction, ServiceRef
from zeet_iam_audit.rules_toml import (
    OTHER_SERVICE_REQUIRED,
    PREFIX_RE,
    Table,
    check_duplicates,
    check_service_names,
    default_catalog,
    parse_action,
    parse_toml,
)

_EXTRAS_REQUIRED = frozenset({"template", "services", "required"})
_EXTRAS_OPTIONAL = frozenset({"description"})


def _template_source(source: str) -> bool:
    return bool(source.strip())


def load_template_extras(path: Path, *, catalog: ActionCatalog | None = None) -> tuple[RequiredAction, ...]:
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
    top = Table(parse_toml(text, where), where)
    top.check_keys(_EXTRAS_REQUIRED, _EXTRAS_OPTIONAL)
    top.text("template")
    if "description" in top.data:
        top.text("description")
    services = _services_without_text(top)
    check_service_names(top, services)
    by_display = {ref.display: ref for ref in services}
    lookup = catalog if catalog is not None else default_catalog()
    entries = top.tables("required")
    if not entries:
        raise top.fail("required", "list at least one action")
    located = [
        (
            entry.path,
            parse_action(
                entry,
                lookup,
                by_display,
                services_label="this file declares",
                source_check=_template_source,
            ),
        )
        for entry in entries
    ]
    check_duplicates(top, located)
    for index, ref in enumerate(services):
        if not any(action.service == ref.display for _, action in located):
            raise top.fail(f"services[{index}]", f"{ref.display} is used by no action")
    return tuple(action for _, action in located)


def _services_without_text(top: Table) -> tuple[ServiceRef, ...]:
    """A template extras file's services: display and prefixes only."""
    refs = []
    for entry in top.tables("services"):
        entry.check_keys(OTHER_SERVICE_REQUIRED)
        refs.append(
            ServiceRef(
                display=entry.text("display"),
                prefixes=entry.texts("prefixes", allow_empty=False, pattern=PREFIX_RE),
            )
        )
    return tuple(refs)
