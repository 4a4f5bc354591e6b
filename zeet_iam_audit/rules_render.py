"""Render the feature rules for ``zeet-iam-audit rules`` and ``zeet-iam-audit rules show ID``.

Both functions return a string (ending in a newline) and never print; the CLI writes it. ``fmt`` is
``"table"`` (plain aligned text) or ``"json"`` (a versioned, stable document: keys in a fixed order,
rules in the guide's section order).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from zeet_iam_audit.errors import UsageError
from zeet_iam_audit.rules import SOURCES, FeatureRule, RequiredAction, RuleSet, ServiceRef
from zeet_iam_audit.textlayout import render_columns, wrap_lines

__all__ = ["FORMATS", "JSON_VERSION", "render_rule", "render_rules_list"]

FORMATS: tuple[str, ...] = ("table", "json")
# Bumped whenever a key of the JSON documents changes meaning or disappears.
JSON_VERSION = 1

_JsonValue = str | int | bool | None | list["_JsonValue"] | dict[str, "_JsonValue"]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown rules format {fmt!r} (choose from {', '.join(FORMATS)})")


def _dump(document: dict[str, _JsonValue]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


_UNLIMITED = 1 << 30


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    indent: str = "",
    width: int | None = None,
    shrink: dict[int, int] | None = None,
) -> str:
    """Columns padded to their widest cell, two spaces apart; the last column is not padded. Within
    ``width``, the ``shrink`` columns (index → least width, most willing first) narrow and wrap."""
    lines = render_columns(headers, rows, width or _UNLIMITED, shrink=shrink or {}, indent=len(indent))
    return "\n".join(lines) + "\n"


# -- rules list -----------------------------------------------------------------------------------


def render_rules_list(ruleset: RuleSet, fmt: str, width: int | None = None) -> str:
    """Every feature: id, section, title, the guide's services, and how many actions it requires
    and offers as optional (in variants); the table within ``width`` when given."""
    _check_format(fmt)
    if fmt == "json":
        return _dump(
            {
                "version": JSON_VERSION,
                "features": [
                    {
                        "id": rule.id,
                        "section": rule.section,
                        "title": rule.title,
                        "services": [ref.display for ref in rule.services],
                        "required": len(rule.required),
                        "optional": len(rule.optional),
                    }
                    for rule in ruleset.rules
                ],
            }
        )
    rows = [
        (
            rule.id,
            rule.section,
            rule.title,
            ", ".join(ref.display for ref in rule.services) or "-",
            str(len(rule.required)),
            str(len(rule.optional)),
        )
        for rule in ruleset.rules
    ]
    return render_table(
        ("ID", "SECTION", "TITLE", "SERVICES", "REQUIRED", "OPTIONAL"), rows, width=width, shrink={3: 10, 2: 10, 0: 12}
    )


# -- one rule -------------------------------------------------------------------------------------


def _action_json(action: RequiredAction) -> dict[str, _JsonValue]:
    return {
        "action": action.action,
        "service": action.service,
        "why": action.why,
        "resource": action.resource,
        "also_resources": list(action.also_resources),
        "source": action.source,
        "context": {key: list(values) for key, values in action.context},
        "unset_settings": list(action.unset),
    }


def _service_json(ref: ServiceRef) -> dict[str, _JsonValue]:
    document: dict[str, _JsonValue] = {"display": ref.display, "prefixes": list(ref.prefixes)}
    if ref.in_guide:
        document["guide_text"] = ref.guide_text
        document["only_with"] = ref.only_with
        document["no_action"] = ref.no_action
    else:
        document["in_guide_list"] = False
        document["why"] = ref.why
    return document


def rule_to_json(rule: FeatureRule) -> dict[str, _JsonValue]:
    """The whole rule as JSON-ready values (without the version wrapper)."""
    document: dict[str, _JsonValue] = {
        "id": rule.id,
        "section": rule.section,
        "title": rule.title,
        "alt_titles": list(rule.alt_titles),
        "description": rule.description,
        "notes": list(rule.notes),
        "template_extras": rule.template_extras,
        "services": [_service_json(ref) for ref in rule.services],
        "other_services": [_service_json(ref) for ref in rule.other_services],
        "required": [_action_json(action) for action in rule.required],
        "variants": [
            {
                "name": variant.name,
                "description": variant.description,
                "actions": [_action_json(action) for action in variant.actions],
            }
            for variant in rule.variants
        ],
        "trust": None,
        "default_mode": None,
        "plans": None,
        "sources": {key: SOURCES[key] for key in _sources_used(rule)},
    }
    if rule.trust is not None:
        trust = rule.trust
        document["trust"] = {
            "assumable_by": trust.assumable_by,
            "action": trust.action,
            "principals": list(trust.principals),
            "external_id_key": trust.external_id_key,
            "external_id_operators": list(trust.external_id_operators),
            "informational_actions": list(trust.informational_actions),
            "min_session_duration": trust.min_session_duration,
            "sources": list(trust.sources),
        }
    if rule.default_mode is not None:
        mode = rule.default_mode
        document["default_mode"] = {
            "section": mode.section,
            "requirement": mode.requirement,
            "actions": list(mode.actions),
            "resources": list(mode.resources),
            "managed_policy": mode.managed_policy,
            "source": mode.source,
        }
    if rule.plans is not None:
        plans = rule.plans
        document["plans"] = {
            "section": plans.section,
            "fine_grained": list(plans.fine_grained),
            "otherwise": plans.otherwise,
            "source": plans.source,
        }
    return document


def _sources_used(rule: FeatureRule) -> list[str]:
    """The source keys the rule cites, in the legend's order."""
    used = {action.source for action in (*rule.required, *rule.optional)}
    if rule.trust is not None:
        used.update(rule.trust.sources)
    for part in (rule.default_mode, rule.plans):
        if part is not None:
            used.add(part.source)
    return [key for key in SOURCES if key in used]


def _resources_text(action: RequiredAction) -> str:
    text = ", ".join(action.resources)
    if action.unset:
        text += f" (unset: {', '.join(action.unset)})"
    return text


def _actions_table(actions: Sequence[RequiredAction], indent: str, width: int | None) -> str:
    rows = [(a.action, a.service, _resources_text(a), a.source, a.why + _context_text(a)) for a in actions]
    return render_table(
        ("ACTION", "SERVICE", "RESOURCE", "SOURCE", "WHY"), rows, indent, width=width, shrink={4: 16, 2: 16, 0: 16}
    )


def _context_text(action: RequiredAction) -> str:
    if not action.context:
        return ""
    parts = [f"{key} = {' | '.join(values)}" for key, values in action.context]
    return f" [context: {'; '.join(parts)}]"


def render_rule(rule: FeatureRule, fmt: str, width: int | None = None) -> str:
    """Everything one rule holds: services, required actions, variants, and for cloud-connection
    the trust requirement, the default mode and the plans; within ``width`` when given."""
    _check_format(fmt)
    if fmt == "json":
        return _dump({"version": JSON_VERSION, "feature": rule_to_json(rule)})

    out = [f"{rule.id}: {rule.section} {rule.title}\n"]
    if rule.alt_titles:
        out.append(f"Also titled: {', '.join(rule.alt_titles)}\n")
    out.append(f"\n{rule.description}\n")
    for note in rule.notes:
        out.append(f"Note: {note}\n")

    out.append("\nServices (as the guide lists them):\n")
    if rule.services:
        rows = [
            (
                ref.display,
                ", ".join(ref.prefixes),
                ref.guide_text
                + (f" [only with variant {ref.only_with}]" if ref.only_with else "")
                + (" [no action needed]" if ref.no_action else ""),
            )
            for ref in rule.services
        ]
        out.append(render_table(("SERVICE", "PREFIXES", "GUIDE"), rows, "  ", width=width, shrink={2: 16}))
        for ref in rule.services:
            if ref.no_action:
                out.append(f"  {ref.display} needs no action of Zeet's role: {ref.no_action}\n")
    else:
        out.append("  (none)\n")
    required_beyond = [ref for ref in rule.other_services if ref.why]
    if required_beyond:
        out.append("\nRequired services not in the guide's list for this use case:\n")
        for ref in required_beyond:
            out.append(f"  {ref.display} ({', '.join(ref.prefixes)}): {ref.why}\n")
    variant_only = [ref for ref in rule.other_services if not ref.why]
    if variant_only:
        out.append("\nOther services (variants only):\n")
        other_rows = [(ref.display, ", ".join(ref.prefixes)) for ref in variant_only]
        out.append(render_table(("SERVICE", "PREFIXES"), other_rows, "  ", width=width, shrink={1: 10}))

    out.append(f"\nRequired actions ({len(rule.required)}):\n")
    out.append(_actions_table(rule.required, "  ", width) if rule.required else "  (none)\n")

    for variant in rule.variants:
        out.append(f"\nVariant {variant.name} ({len(variant.actions)} optional): {variant.description}\n")
        out.append(_actions_table(variant.actions, "  ", width))

    if rule.trust is not None:
        trust = rule.trust
        out.append(f"\nTrust: assumable by {trust.assumable_by}\n")
        out.append(f"  action: {trust.action}\n")
        out.append(
            f"  principals: {', '.join(trust.principals)} ({{account}} = the configured Zeet management account id)\n"
        )
        out.append(
            f"  external id: {trust.external_id_key} with "
            f"{' or '.join(trust.external_id_operators)} (the configured external id)\n"
        )
        if trust.informational_actions:
            out.append(f"  informational only: {', '.join(trust.informational_actions)}\n")
        if trust.min_session_duration is not None:
            out.append(f"  minimum session duration: {trust.min_session_duration} s\n")
        out.append(f"  sources: {', '.join(trust.sources)}\n")
    if rule.default_mode is not None:
        mode = rule.default_mode
        out.append(f"\nDefault mode ({mode.section}): {mode.requirement}\n")
        out.append(f"  allows {', '.join(mode.actions)} on {', '.join(mode.resources)}\n")
        if mode.managed_policy:
            out.append(f"  e.g. {mode.managed_policy}\n")
        out.append(f"  source: {mode.source}\n")
    if rule.plans is not None:
        plans = rule.plans
        out.append(
            f"\nPlans ({plans.section}): fine-grained permissions only on "
            f"{', '.join(plans.fine_grained)}; any other plan: {plans.otherwise}\n"
        )
        out.append(f"  source: {plans.source}\n")
    used = _sources_used(rule)
    if used:
        out.append("\nSources:\n")
        out.append(
            render_table(
                ("KEY", "WHAT IT IS"), [(key, SOURCES[key]) for key in used], "  ", width=width, shrink={1: 16}
            )
        )
    text = "".join(out)
    return wrap_lines(text, width) if width else text  # the prose; the tables fit already
