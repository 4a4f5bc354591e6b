"""From denials to answers: which Zeet features need the action, what blocks it, and the smallest fix.

For each ``Denial``:

- the features whose rules need the action (required, or with a variant);
- when a role is at hand (the ``--file`` role named by the message's principal, the one chosen with
  ``--role``, or the ``--role-arn`` role), the engine's decision on the message's resource, and the
  layer and statements behind it;
- the layer that blocks: AWS's own words when the message gives them, else the evaluation's;
- the fix. A missing identity Allow is fixed by the smallest statement, scoped to the resource in
  the message (``"*"`` for actions without resource-level permissions; the rule's scope when the
  message names no resource), shown beside the statement that covers the whole feature. An explicit
  deny in the role's own policies is fixed by changing that Deny (an Allow cannot override it).
  A permissions boundary, an SCP, a session policy, a resource-based, VPC endpoint or resource
  control policy cannot be fixed by editing the role's policies: the answer says who must change
  what.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.model import Policy, Role
from zeet_iam_audit.policy.evaluate import Decision, Layer
from zeet_iam_audit.rules import RuleSet
from zeet_iam_audit.support.actions import FeatureUse, features_using
from zeet_iam_audit.support.denials import LAYER_NAMES, Denial, principal_account
from zeet_iam_audit.support.explanation import evaluate_role

JSON_VERSION = 1
_ENGINE_LAYER = {Layer.IDENTITY: "identity", Layer.BOUNDARY: "permissions_boundary", Layer.SCP: "scp"}
_LAYER_WORDS = {value: key for key, value in LAYER_NAMES.items()}
CDK_ROLE_PREFIX = "cdk-"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The role's decision on the denied request."""

    role: str
    arn: str | None
    resource: str
    decision: Decision
    layer: str | None  # the engine's blocking or denying layer
    statements: tuple[str, ...] = ()  # deciding statements (deny, or allow)
    locations: tuple[str, ...] = ()  # where those statements are written
    condition_keys: tuple[str, ...] = ()
    unknown_reasons: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.decision is Decision.EXPLICIT_DENY:
            return "explicit deny by " + "; ".join(self.statements)
        if self.decision is Decision.IMPLICIT_DENY:
            return f"no {_LAYER_WORDS.get(self.layer or '', 'policy')} allows it"
        if self.decision is Decision.ALLOWED:
            return "allowed by " + "; ".join(self.statements)
        if self.decision is Decision.CONDITIONAL:
            return "conditional on " + ", ".join(self.condition_keys)
        return "unknown: " + "; ".join(self.unknown_reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "arn": self.arn,
            "resource": self.resource,
            "decision": self.decision.value,
            "layer": self.layer,
            "summary": self.describe(),
            "statements": list(self.statements),
            "locations": list(self.locations),
            "condition_keys": list(self.condition_keys),
            "unknown_reasons": list(self.unknown_reasons),
        }


@dataclass(frozen=True, slots=True)
class Fix:
    """What to change. ``kind``: add-statement, change-deny, boundary, scp, session-policy,
    resource-policy, vpc-endpoint-policy, resource-control-policy, already-allowed or unknown."""

    kind: str
    text: str
    statement: Mapping[str, Any] | None = None
    feature_statement: Mapping[str, Any] | None = None
    statements_to_change: tuple[str, ...] = ()
    role_can_fix: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "statement": dict(self.statement) if self.statement else None,
            "feature_statement": dict(self.feature_statement) if self.feature_statement else None,
            "statements_to_change": list(self.statements_to_change),
            "editing_the_role_fixes_it": self.role_can_fix,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One denial, diagnosed."""

    denial: Denial
    features: tuple[FeatureUse, ...]
    layer: str | None
    fix: Fix
    evaluation: Evaluation | None = None
    notes: tuple[str, ...] = ()
    explicit: bool | None = None

    def to_json(self) -> dict[str, Any]:
        d = self.denial
        return {
            "principal": d.principal,
            "action": d.action,
            "resource": d.resource,
            "layer": self.layer,
            "explicit": self.explicit,
            "features": [use.to_json() for use in self.features],
            "fix": self.fix.to_json(),
            "reason": d.reason.to_json(),
            "action_written": d.action_written,
            "action_note": d.action_note,
            "operation": d.operation,
            "error_code": d.error_code,
            "format": d.source,
            "source_line": d.line,
            "source_lines": list(d.lines),
            "message": d.message,
            "encoded": d.encoded,
            "decoded_context": {k: list(v) for k, v in d.decoded_context} if d.decoded_context else None,
            "decode_error": d.decode_error,
            "evaluation": self.evaluation.to_json() if self.evaluation else None,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Diagnosis:
    findings: tuple[Finding, ...]
    roles_source: str | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": JSON_VERSION,
            "roles_source": self.roles_source,
            "denials": [f.to_json() for f in self.findings],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class RoleChoice:
    """How roles are matched to denials: a forced role, or the file's roles by the principal's name."""

    roles: tuple[Role, ...] = ()
    forced: Role | None = None
    source: str | None = None
    scps: tuple[tuple[Policy, ...], ...] = ()
    scp_unknown_reason: str | None = None

    def pick(self, denial: Denial) -> tuple[Role | None, str | None]:
        """The role to evaluate the denial on, and a note when the choice needs one."""
        name = denial.role_name
        if self.forced is not None:
            if name and name != self.forced.name:
                return self.forced, (
                    f"the message names role {name}, not {self.forced.name}: evaluated on {self.forced.name} as asked"
                )
            return self.forced, None
        if not self.roles:
            return None, None
        matches = [role for role in self.roles if role.name == name]
        if len(matches) == 1:
            return matches[0], None
        if name is None and len(self.roles) == 1:
            return self.roles[0], None
        if name is None:
            return None, f"the message names no role; choose one of {self.source} with --role to evaluate it"
        return None, f"{self.source} has no role named {name}; choose one with --role to evaluate it anyway"


# -- statements -----------------------------------------------------------------------------------


def _statement(
    action: str, resources: Sequence[str], context: Sequence[tuple[str, tuple[str, ...]]] = ()
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": action,
        "Resource": resources[0] if len(resources) == 1 else list(resources),
    }
    if context:
        condition: dict[str, dict[str, Any]] = {}
        for key, values in context:
            operator = "StringLike" if any("*" in v or "?" in v for v in values) else "StringEquals"
            condition.setdefault(operator, {})[key] = values[0] if len(values) == 1 else list(values)
        statement["Condition"] = condition
    return statement


def statement_text(statement: Mapping[str, Any]) -> str:
    """A statement on one line, as it is pasted into a policy."""
    return json.dumps(statement, separators=(", ", ": "))


def _scoped_resource(denial: Denial, features: Sequence[FeatureUse], catalog: Catalog) -> str:
    """The resource the smallest statement names."""
    info = catalog.get(denial.action or "")
    if info is not None and not info.resource_level:
        return "*"
    if denial.resource:
        return denial.resource
    if features:
        return features[0].requirement.resource
    return "*"


def _feature_statement(
    action: str, features: Sequence[FeatureUse], smallest: Mapping[str, Any]
) -> dict[str, Any] | None:
    if not features:
        return None
    use = features[0]
    statement = _statement(action, use.requirement.resources, use.requirement.context)
    return None if statement == smallest else statement


# -- diagnosing -----------------------------------------------------------------------------------


def _evaluate(denial: Denial, role: Role, choice: RoleChoice, features: Sequence[FeatureUse]) -> Evaluation:
    assert denial.action is not None
    evaluator = RoleEvaluator(role, choice.scps, scp_unknown_reason=choice.scp_unknown_reason)
    context = {k.lower(): v for k, v in denial.decoded_context} or None
    if denial.resource:
        resource = denial.resource
        result, decision, reasons = evaluate_role(evaluator, denial.action, resource, context)
    else:
        scope = features[0].requirement.resource if features else "*"
        decided = evaluator.decide_requirement(denial.action, scope)
        result, decision, reasons = decided.result, decided.decision, decided.unknown_reasons
        resource = result.resource
    locations = []
    for ref in result.deciding:
        origin = str(ref.origin) if ref.origin is not None else ""
        joiner = "." if "$" in origin else " "
        locations.append(f"{origin}{joiner}Statement[{ref.index}]" if origin else str(ref))
    return Evaluation(
        role=role.name,
        arn=role.arn,
        resource=resource,
        decision=decision,
        layer=_ENGINE_LAYER[result.layer] if result.layer else None,
        statements=tuple(str(ref) for ref in result.deciding),
        locations=tuple(locations),
        condition_keys=result.condition_keys,
        unknown_reasons=reasons,
    )


def _blocking_layer(denial: Denial, evaluation: Evaluation | None) -> tuple[str | None, bool | None]:
    """(layer, explicit): AWS's words first, then the evaluation's; but an explicit deny the role
    holds now wins over "no ... allows" (no Allow could fix the request while it stands)."""
    evaluated = evaluation is not None and evaluation.decision in (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY)
    if (
        evaluated
        and evaluation is not None
        and evaluation.decision is Decision.EXPLICIT_DENY
        and (denial.reason.layer in (None, "identity", evaluation.layer))
    ):
        return evaluation.layer, True
    if denial.reason.layer is not None:
        return denial.reason.layer, denial.reason.explicit
    if evaluated and evaluation is not None:
        return evaluation.layer, evaluation.decision is Decision.EXPLICIT_DENY
    return None, denial.reason.explicit


def _fix(
    denial: Denial,
    layer: str | None,
    explicit: bool | None,
    evaluation: Evaluation | None,
    features: Sequence[FeatureUse],
    catalog: Catalog,
) -> Fix:
    action = denial.action
    if action is None:
        what = denial.action_written or denial.operation or "the action"
        why = denial.action_note or "no action in the text"
        return Fix("unknown", f"cannot tell which IAM action {what} needs: {why}", role_can_fix=False)
    resource = _scoped_resource(denial, features, catalog)
    smallest = _statement(action, [resource])
    broader = _feature_statement(action, features, smallest)
    target = f"role {evaluation.role}" if evaluation else "the role"
    deny_refs = evaluation.statements if evaluation and evaluation.decision is Decision.EXPLICIT_DENY else ()
    scope_note = ""
    if broader is not None:
        scope_note = f"; to cover everything {features[0].title} does: {statement_text(broader)}"
    if layer == "identity" and explicit:
        where = (
            "; ".join(deny_refs)
            if deny_refs
            else (denial.reason.policy or "the Deny statement (give --file or --role-arn to name it)")
        )
        return Fix(
            "change-deny",
            f"an identity-based policy of {target} explicitly denies {action}: change {where} so it no "
            "longer matches this request (an Allow cannot override a Deny)",
            statements_to_change=tuple(deny_refs) or ((denial.reason.policy,) if denial.reason.policy else ()),
        )
    if layer == "permissions_boundary":
        if explicit:
            return Fix(
                "boundary",
                f"the permissions boundary explicitly denies {action}: its Deny "
                f"{'; '.join(deny_refs) or 'statement'} must change; editing the role's own policies "
                "cannot fix it",
                statements_to_change=tuple(deny_refs),
                role_can_fix=False,
            )
        return Fix(
            "boundary",
            f"the permissions boundary does not allow {action}: add "
            f"{statement_text(smallest)} to the boundary policy (whoever manages it); editing the role's "
            "own policies cannot fix it",
            statement=smallest,
            feature_statement=broader,
            role_can_fix=False,
        )
    if layer == "scp":
        account = principal_account(denial.principal)
        where = f" to account {account}" if account else ""
        named = "; ".join(deny_refs) or denial.reason.policy
        detail = f" ({named})" if named else ""
        verb = "explicitly denies" if explicit else "does not allow"
        return Fix(
            "scp",
            f"a service control policy{detail} {verb} {action} on {resource}: the "
            f"organization's administrators must change the SCPs that apply{where}; editing the role "
            "cannot fix it",
            statements_to_change=tuple(deny_refs),
            role_can_fix=False,
        )
    other = {
        "session_policy": (
            "session-policy",
            "the session policy passed when the role was assumed (sts:AssumeRole Policy or PolicyArns) must allow it",
        ),
        "resource_policy": (
            "resource-policy",
            f"the resource's own policy (bucket, key, queue or topic policy on "
            f"{denial.resource or 'the resource'}) must allow it or stop denying it",
        ),
        "vpc_endpoint_policy": (
            "vpc-endpoint-policy",
            "the VPC endpoint policy the request went through must allow it",
        ),
        "resource_control_policy": (
            "resource-control-policy",
            "a resource control policy (AWS Organizations) blocks it: the organization's administrators must change it",
        ),
    }
    if layer in other:
        kind, text = other[layer]
        return Fix(kind, f"{text}; editing the role cannot fix it", role_can_fix=False)
    if evaluation is not None and evaluation.decision is Decision.ALLOWED:
        allowing = "; ".join(evaluation.statements)
        return Fix(
            "already-allowed",
            f"role {evaluation.role} allows {action} on {evaluation.resource} ({allowing}): the denial "
            "came from a layer the input does not hold (an SCP, a session or resource policy), or the "
            "role has changed since",
            role_can_fix=False,
        )
    if explicit:
        return Fix(
            "change-deny",
            f"an explicit deny blocks {action}: find the Deny statement "
            f"({'; '.join(denial.matched_statements) or 'give --file or --role-arn to name it'})",
            statements_to_change=denial.matched_statements,
        )
    hedge = ""
    if layer is None:
        hedge = (
            " (AWS did not say which layer denied it; if this does not help, look at the permissions "
            "boundary, the SCPs and any session policy)"
        )
    return Fix(
        "add-statement",
        f"add to {target}: {statement_text(smallest)}{scope_note}{hedge}",
        statement=smallest,
        feature_statement=broader,
    )


def _notes(denial: Denial, features: Sequence[FeatureUse], evaluation: Evaluation | None) -> list[str]:
    notes = []
    if denial.action_note:
        notes.append(denial.action_note)
    if denial.action and not features:
        notes.append(f"no Zeet feature needs {denial.action}: check whether Zeet should be doing this")
    role = denial.role_name
    if role and role.startswith(CDK_ROLE_PREFIX):
        notes.append(
            f"the principal is CDK's role {role} (from cdk bootstrap), not the Zeet role: the fix "
            "belongs in that role (cdk bootstrap --cloudformation-execution-policies for the "
            "cfn-exec role)"
        )
    if denial.encoded and denial.decode_error:
        notes.append(denial.decode_error)
    if evaluation is not None and evaluation.decision is Decision.CONDITIONAL:
        notes.append(f"the role allows it only when {', '.join(evaluation.condition_keys)} fit the conditions")
    stated = denial.reason.layer
    if (
        evaluation is not None
        and stated is not None
        and evaluation.decision in (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY)
    ):
        evaluated_explicit = evaluation.decision is Decision.EXPLICIT_DENY
        if evaluation.layer != stated or evaluated_explicit != bool(denial.reason.explicit):
            notes.append(f"AWS said: {denial.reason.describe()}; the role as given: {evaluation.describe()}")
    return notes


def diagnose_denial(denial: Denial, rules: RuleSet, catalog: Catalog, choice: RoleChoice) -> Finding:
    """One denial: features, evaluation on the matching role, blocking layer and fix."""
    features = features_using(rules, denial.action) if denial.action else ()
    evaluation: Evaluation | None = None
    notes: list[str] = []
    role, why = choice.pick(denial) if denial.action else (None, None)
    if why:
        notes.append(why)
    if role is not None:
        evaluation = _evaluate(denial, role, choice, features)
    layer, explicit = _blocking_layer(denial, evaluation)
    fix = _fix(denial, layer, explicit, evaluation, features, catalog)
    notes.extend(_notes(denial, features, evaluation))
    return Finding(denial, features, layer, fix, evaluation, tuple(notes), explicit)


def diagnose(
    denials: Sequence[Denial], rules: RuleSet, catalog: Catalog, choice: RoleChoice, notes: Sequence[str] = ()
) -> Diagnosis:
    """Every denial, diagnosed, in the order found."""
    return Diagnosis(tuple(diagnose_denial(d, rules, catalog, choice) for d in denials), choice.source, tuple(notes))


# -- rendering ------------------------------------------------------------------------------------


def render_text(diagnosis: Diagnosis) -> str:
    """The diagnosis for people, one block per denial."""
    if not diagnosis.findings:
        return "no authorization failure found in the text\n"
    blocks = []
    for number, finding in enumerate(diagnosis.findings, 1):
        d = finding.denial
        what = d.action or d.action_written or d.operation or "an unknown action"
        on = f" on {d.resource}" if d.resource else ""
        lines_text = ", ".join(str(n) for n in d.lines)
        lines = [f"Denial {number}: {what}{on}  [{d.source}, line {lines_text}]"]
        lines.append(f"  principal: {d.principal or 'not in the message'}")
        if d.action_written and d.action and d.action_written != d.action:
            lines.append(f"  action as printed: {d.action_written}")
        reason = d.reason.describe() if (d.reason.layer or d.reason.text) else "AWS gave no reason (older message form)"
        lines.append(f"  AWS says: {reason}")
        if d.encoded:
            state = "decoded" if not d.decode_error else "encoded"
            lines.append(f"  authorization message: {state} ({len(d.encoded)} characters)")
        if d.decoded_context:
            lines.append("  request context: " + "; ".join(f"{k} = {', '.join(v)}" for k, v in d.decoded_context))
        if finding.features:
            lines.append("  needed by: " + "; ".join(use.describe() for use in finding.features))
        elif d.action:
            lines.append("  needed by: no Zeet feature")
        if finding.evaluation is not None:
            lines.append(f"  role {finding.evaluation.role}: {finding.evaluation.describe()}")
            lines.extend(f"    at {location}" for location in finding.evaluation.locations)
        lines.append(f"  blocking layer: {_LAYER_WORDS.get(finding.layer or '', 'not known')}")
        lines.append(f"  fix: {finding.fix.text}")
        lines.extend(f"  note: {note}" for note in finding.notes)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def render_json(diagnosis: Diagnosis) -> str:
    return json.dumps(diagnosis.to_json(), indent=2, ensure_ascii=False) + "\n"


def summary(diagnosis: Diagnosis) -> str:
    """The stderr line: how many failures, by layer."""
    count = len(diagnosis.findings)
    if not count:
        return "zeet-iam-audit diagnose: no authorization failure found"
    layers: dict[str, int] = {}
    for finding in diagnosis.findings:
        key = _LAYER_WORDS.get(finding.layer or "", "layer not stated")
        layers[key] = layers.get(key, 0) + 1
    detail = ", ".join(f"{n} {layer}" for layer, n in layers.items())
    return f"zeet-iam-audit diagnose: {count} authorization failure{'s' if count != 1 else ''} found ({detail})"
