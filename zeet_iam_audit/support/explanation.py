"""One action on one resource for one role: the decision, layer by layer, and the statements behind it.

The decision is the engine's (``PolicySet.decide``), made once for the whole role (identity policies,
permissions boundary, SCP levels) and then once per layer, so a reader sees which layer allows,
which lacks an allow and which denies. Without a request context, conditions stay open and a
conditional answer names the keys; with one, every condition is decided and a key not given is
absent from the request. A policy that could not be read makes the answer unknown where it could
change it, as in the audit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.trust import EXTERNAL_ID_KEY, mask_external_id
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.formats.printable import terminal_text
from zeet_iam_audit.model import Condition, Policy, Role, Statement
from zeet_iam_audit.policy.evaluate import (
    CompiledPolicy,
    Decision,
    EvaluationResult,
    Layer,
    PolicySet,
    StatementRef,
    Uncertainty,
)
from zeet_iam_audit.rules import RuleSet
from zeet_iam_audit.support.actions import FeatureUse, features_using

JSON_VERSION = 1
Context = Mapping[str, tuple[str, ...]]

_LAYER_TITLES = {
    Layer.IDENTITY: "identity-based policies",
    Layer.BOUNDARY: "permissions boundary",
    Layer.SCP: "SCPs",
}


@dataclass(frozen=True, slots=True)
class StatementView:
    """A statement that takes part in a decision, with where it is written and its conditions."""

    ref: StatementRef
    conditions: tuple[Condition, ...]
    applies: bool  # True: applies to the request; False: might apply (see ``depends_on``)
    depends_on: str = ""

    @property
    def location(self) -> str:
        """The policy's origin and the statement's place in it (``file: $.Path.Statement[2]``)."""
        origin = str(self.ref.origin) if self.ref.origin is not None else ""
        if not origin:
            return f"{self.ref.policy} Statement[{self.ref.index}]"
        joiner = "." if "$" in origin else " "
        return f"{origin}{joiner}Statement[{self.ref.index}]"

    def describe(self) -> str:
        sid = f' (Sid "{self.ref.sid}")' if self.ref.sid else ""
        return f"{self.ref.effect.value} {self.ref.policy!r} Statement[{self.ref.index}]{sid}"

    def to_json(self) -> dict[str, Any]:
        return {
            "effect": self.ref.effect.value,
            "layer": self.ref.layer.value,
            "policy": self.ref.policy,
            "index": self.ref.index,
            "sid": self.ref.sid,
            "scp_level": self.ref.scp_level,
            "origin": str(self.ref.origin) if self.ref.origin is not None else "",
            "location": self.location,
            "applies": "yes" if self.applies else "might",
            "depends_on": self.depends_on or None,
            "conditions": [
                {"operator": c.operator, "key": c.key, "values": list(shown_values(c.key, c.values))}
                for c in self.conditions
            ],
        }


@dataclass(frozen=True, slots=True)
class LayerView:
    """One layer's own verdict: ``decision`` None when the layer is absent or was not evaluated."""

    layer: Layer
    title: str
    decision: Decision | None
    statements: tuple[StatementView, ...] = ()
    note: str = ""

    def verdict(self) -> str:
        if self.decision is None:
            return self.note
        words = {
            Decision.ALLOWED: "allows",
            Decision.EXPLICIT_DENY: "explicit deny",
            Decision.IMPLICIT_DENY: "no statement allows it",
            Decision.CONDITIONAL: "conditional",
            Decision.UNKNOWN: "unknown",
        }
        text = words[self.decision]
        return f"{text} ({self.note})" if self.note else text

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer.value,
            "title": self.title,
            "decision": self.decision.value if self.decision else None,
            "note": self.note or None,
            "statements": [s.to_json() for s in self.statements],
        }


@dataclass(frozen=True, slots=True)
class RoleExplanation:
    """The decision for one role, its layers, and the condition keys and unknowns behind it."""

    role: str
    arn: str | None
    source: str
    result: EvaluationResult
    decision: Decision
    layers: tuple[LayerView, ...]
    unknown_reasons: tuple[str, ...] = ()

    @property
    def condition_keys(self) -> tuple[str, ...]:
        return self.result.condition_keys

    def summary(self) -> str:
        """One sentence: what decides, and through which statements or keys."""
        result = self.result
        if self.decision is Decision.EXPLICIT_DENY:
            return "explicitly denied by " + "; ".join(str(ref) for ref in result.deciding)
        if self.decision is Decision.IMPLICIT_DENY:
            return "implicitly denied: " + "; ".join(
                f"no {layer.description} allows it" for layer in result.blocking_layers
            )
        if self.decision is Decision.ALLOWED:
            return "allowed by " + "; ".join(str(ref) for ref in result.deciding)
        if self.decision is Decision.UNKNOWN and self.unknown_reasons:
            return "; ".join(self.unknown_reasons) + ": that could change the answer"
        keys = result.condition_keys
        if keys:
            return f"depends on {', '.join(keys)}"
        return "depends on " + "; ".join(u.describe() for u in result.uncertain)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.role,
            "arn": self.arn,
            "source": self.source,
            "decision": self.decision.value,
            "layer": self.result.layer.value if self.result.layer else None,
            "blocking_layers": [layer.value for layer in self.result.blocking_layers],
            "summary": self.summary(),
            "condition_keys": list(self.condition_keys),
            "unknown_reasons": list(self.unknown_reasons),
            "layers": [layer.to_json() for layer in self.layers],
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """``explain``'s answer: the action, what the catalogue and the rules say, and each role's decision."""

    action: str
    resource: str
    context: Context | None
    access_level: str | None
    resource_level: bool | None
    features: tuple[FeatureUse, ...]
    roles: tuple[RoleExplanation, ...]
    scps: str
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": JSON_VERSION,
            "action": self.action,
            "resource": self.resource,
            "context": (
                {k: list(shown_values(k, v)) for k, v in self.context.items()} if self.context is not None else None
            ),
            "catalog": {"access_level": self.access_level, "resource_level": self.resource_level},
            "features": [use.to_json() for use in self.features],
            "scps": self.scps,
            "roles": [role.to_json() for role in self.roles],
            "notes": list(self.notes),
        }


# -- evaluating ----------------------------------------------------------------------------------


def _statements(policies: Sequence[CompiledPolicy]) -> dict[StatementRef, Statement]:
    return {compiled.ref: compiled.statement for policy in policies for compiled in policy.statements}


def _views(result: EvaluationResult, statements: Mapping[StatementRef, Statement]) -> tuple[StatementView, ...]:
    views: list[StatementView] = []
    for ref in result.deciding:
        statement = statements.get(ref)
        views.append(StatementView(ref, statement.conditions if statement else (), True))
    for uncertainty in result.uncertain:
        statement = statements.get(uncertainty.statement)
        views.append(
            StatementView(
                uncertainty.statement, statement.conditions if statement else (), False, _depends(uncertainty)
            )
        )
    return tuple(views)


def _depends(uncertainty: Uncertainty) -> str:
    parts = []
    if uncertainty.keys:
        parts.append("condition keys " + ", ".join(uncertainty.keys))
    if uncertainty.unresolved:
        parts.append("unresolved values " + ", ".join(uncertainty.unresolved))
    if uncertainty.partial:
        parts.append("covers part of the resource only")
    return "; ".join(parts)


def _decide(
    policy_set: PolicySet, action: str, resource: str, context: Context | None, literal: bool = False
) -> EvaluationResult:
    lowered = {key.lower(): values for key, values in context.items()} if context is not None else None
    if literal:
        return policy_set.decide(action, resource, lowered, complete_context=context is not None)
    return policy_set.decide_scope(action, resource, lowered, complete_context=context is not None, partial_allows=True)


def evaluate_role(
    evaluator: RoleEvaluator, action: str, resource: str, context: Context | None, *, literal: bool = False
) -> tuple[EvaluationResult, Decision, tuple[str, ...]]:
    """The whole role's decision on ``resource``: a concrete ARN or a scope pattern, or with
    ``literal`` the request on exactly ``resource`` (an action that takes no resources: ``*``)."""
    result = _decide(evaluator.policy_set, action, resource, context, literal)
    adjusted = evaluator.adjust(result)
    return result, adjusted.decision, adjusted.unknown_reasons


def _layer_views(
    evaluator: RoleEvaluator,
    action: str,
    resource: str,
    context: Context | None,
    scp_note: str,
    literal: bool = False,
) -> tuple[LayerView, ...]:
    policy_set = evaluator.policy_set
    unknown = evaluator.unknown_layers
    views: list[LayerView] = []

    def one(layer: Layer, title: str, policies: tuple[CompiledPolicy, ...]) -> LayerView:
        result = _decide(PolicySet(identity=policies), action, resource, context, literal)
        reasons = unknown.get(layer, ())
        note = ("; ".join(reasons) + ": that could change this") if reasons else ""
        return LayerView(layer, title, result.decision, _views(result, _statements(policies)), note)

    views.append(one(Layer.IDENTITY, _LAYER_TITLES[Layer.IDENTITY], policy_set.identity))
    role = evaluator.role
    if policy_set.boundary is not None:
        name = role.permissions_boundary.name if role.permissions_boundary else ""
        views.append(one(Layer.BOUNDARY, f"permissions boundary {name!r}", (policy_set.boundary,)))
    elif role.permissions_boundary is not None:
        views.append(
            LayerView(
                Layer.BOUNDARY,
                f"permissions boundary {role.permissions_boundary.name!r}",
                None,
                note="unknown: " + "; ".join(unknown.get(Layer.BOUNDARY, ())),
            )
        )
    else:
        views.append(LayerView(Layer.BOUNDARY, _LAYER_TITLES[Layer.BOUNDARY], None, note="none set"))
    if policy_set.scps:
        for level, policies in enumerate(policy_set.scps):
            views.append(one(Layer.SCP, f"SCPs level {level}", policies))
    else:
        views.append(LayerView(Layer.SCP, _LAYER_TITLES[Layer.SCP], None, note=scp_note))
    return tuple(views)


def explain_role(
    role: Role,
    action: str,
    resource: str,
    context: Context | None,
    *,
    scps: Sequence[Sequence[Policy]] = (),
    scp_unknown_reason: str | None = None,
    literal: bool = False,
) -> RoleExplanation:
    """The decision for ``action`` on ``resource`` by ``role``, with every layer's own verdict
    (``literal``: the request on exactly ``resource``, else on all of it as a scope)."""
    evaluator = RoleEvaluator(role, scps, scp_unknown_reason=scp_unknown_reason)
    result, decision, reasons = evaluate_role(evaluator, action, resource, context, literal=literal)
    layers = _layer_views(evaluator, action, resource, context, scp_status(scps, scp_unknown_reason), literal)
    return RoleExplanation(role.name, role.arn, role.source, result, decision, layers, reasons)


def scp_status(scps: Sequence[Sequence[Policy]], unknown_reason: str | None) -> str:
    """How the SCP layer was handled, in words."""
    if scps:
        return f"evaluated ({len(scps)} level{'s' if len(scps) != 1 else ''})"
    if unknown_reason:
        return f"unknown: {unknown_reason}"
    return "not evaluated (none given: --scp FILE, or --scps auto with --role-arn)"


def explain(
    action: str,
    resource: str,
    context: Context | None,
    roles: Sequence[Role],
    rules: RuleSet,
    catalog: Catalog,
    *,
    scps: Sequence[Sequence[Policy]] = (),
    scp_unknown_reason: str | None = None,
    notes: Sequence[str] = (),
) -> Explanation:
    """Explain ``action`` (already in the catalogue's spelling) on ``resource`` for every role."""
    info = catalog.get(action)
    extra = list(notes)
    # An action that takes no resources is requested on the literal "*", whatever was asked.
    literal = info is not None and not info.resource_level
    if literal and resource != "*":
        extra.append(
            f'{action} takes no resource-level permissions: AWS evaluates it on the resource "*" (decided here on that)'
        )
    return Explanation(
        action=action,
        resource=resource,
        context=context,
        access_level=info.access_level if info else None,
        resource_level=info.resource_level if info else None,
        features=features_using(rules, action),
        roles=tuple(
            explain_role(
                role,
                action,
                "*" if literal else resource,
                context,
                scps=scps,
                scp_unknown_reason=scp_unknown_reason,
                literal=literal,
            )
            for role in roles
        ),
        scps=scp_status(scps, scp_unknown_reason),
        notes=tuple(extra),
    )


# -- rendering -----------------------------------------------------------------------------------


def shown_values(key: str, values: Sequence[str]) -> tuple[str, ...]:
    """Values as an explanation shows them: an external id (``sts:ExternalId``) is a shared secret,
    so only its last four characters are shown, as in the audit's reports."""
    if key.lower() == EXTERNAL_ID_KEY:
        return tuple(mask_external_id(value) for value in values)
    return tuple(values)


def _condition_text(condition: Condition) -> str:
    values = ", ".join(shown_values(condition.key, condition.values))
    return f"{condition.operator} {condition.key} = {values}"


def render_text(explanation: Explanation) -> str:
    """The explanation for people: the action, who needs it, then each role's layers."""
    lines = [f"{explanation.action} on {explanation.resource}"]
    if explanation.access_level:
        scoped = (
            "takes resource-level permissions"
            if explanation.resource_level
            else 'takes no resource-level permissions (needs "Resource": "*")'
        )
        lines.append(f"  catalogue: {explanation.access_level}; {scoped}")
    if explanation.features:
        for use in explanation.features:
            scope = ", ".join(use.requirement.resources)
            context = "".join(f"; with {key} = {', '.join(values)}" for key, values in use.requirement.context)
            lines.append(f"  needed by: {use.describe()}, section {use.section}, on {scope}{context}")
    else:
        lines.append("  needed by: no Zeet feature")
    if explanation.context is None:
        lines.append("  context: none given (conditions stay open; --context KEY=VALUE decides them)")
    else:
        shown = "; ".join(f"{k} = {', '.join(shown_values(k, v))}" for k, v in explanation.context.items()) or "empty"
        lines.append(f"  context: {shown} (keys not given are absent from the request)")
    lines.extend(f"  note: {note}" for note in explanation.notes)
    for role in explanation.roles:
        lines.append("")
        arn = f" ({role.arn})" if role.arn else ""
        lines.append(f"Role {role.role}{arn} from {role.source}")
        lines.append(f"  decision: {role.decision.value}: {role.summary()}")
        if role.condition_keys:
            lines.append(f"  condition keys: {', '.join(role.condition_keys)}")
        for layer in role.layers:
            lines.append(f"  {layer.title}: {layer.verdict()}")
            for view in layer.statements:
                lines.append(f"    {view.describe()}{'' if view.applies else ' might apply'}")
                lines.append(f"      at {view.location}")
                if view.depends_on:
                    lines.append(f"      depends on {view.depends_on}")
                lines.extend(f"      condition: {_condition_text(c)}" for c in view.conditions)
    # Names and values from the input, shown on a terminal: every hidden character escaped.
    return "\n".join(terminal_text(line) for line in lines) + "\n"


def render_json(explanation: Explanation) -> str:
    return json.dumps(explanation.to_json(), indent=2, ensure_ascii=False) + "\n"
