"""Account Administrator, evaluated: is every action of every service allowed on every resource,
through every layer?

Zeet's default mode (guide 1.1) needs the role to be an account administrator. Reading the literal
``"*"`` is not enough: ``Allow * on *`` plus ``Deny iam:*``, or AWS's ``PowerUserAccess`` (an Allow with
``NotAction: [iam:*, organizations:*, account:*]``), look like ``*`` yet cannot create an IAM role.
The check works over the action catalogue with the per-policy action sets of ``action_sets``:

- the identity-based policies, the permissions boundary and each SCP level must each allow every
  catalogue action on every resource (``Resource: "*"``); what one of them does not is *missing*;
- a Deny in any layer carves out what it names: *missing* when it applies on every resource or on
  some resources with no condition, *conditional* when a condition gates it;
- an Allow that holds only under a condition makes the answer *conditional*;
- a policy that could not be read, or an action element with an unresolved value, makes what is not
  certainly missing *unknown*, with the reason.

What is carved out is summarised by service: ``iam:*`` when a whole service is, the actions when
few are, ``iam:* except iam:ListRoles`` when few remain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zeet_iam_audit.audit.action_sets import ActionIndex, PolicyActions, bit_positions, statement_kind, union
from zeet_iam_audit.audit.evaluator import RoleEvaluator
from zeet_iam_audit.audit.fixes import administrator_fix
from zeet_iam_audit.audit.report import MissingGroup, MissingLayer, OpenAction
from zeet_iam_audit.model import Effect, Unresolved
from zeet_iam_audit.policy.evaluate import CompiledPolicy, Decision, Layer
from zeet_iam_audit.policy.results import StatementRef

DISPLAY = "Account Administrator"
_LISTED = 6  # a service's carved-out actions are listed when at most this many
_EXCEPT = 6  # ... or shown as "svc:* except ..." when at most this many remain
_SERVICES = 12  # services listed before "and N more"
_MOSTLY = 0.9  # a carve-out this large is "*": the role is nowhere near an administrator

_NO_ALLOW = {
    Layer.IDENTITY: (MissingLayer.NO_ALLOW, "no identity-based policy allows them on every resource"),
    Layer.BOUNDARY: (MissingLayer.BOUNDARY, "the permissions boundary does not allow them"),
    Layer.SCP: (MissingLayer.SCP, "no service control policy allows them"),
}
_DENY_LAYER = {
    Layer.IDENTITY: MissingLayer.EXPLICIT_DENY,
    Layer.BOUNDARY: MissingLayer.BOUNDARY,
    Layer.SCP: MissingLayer.SCP,
}


@dataclass(frozen=True, slots=True)
class AdministratorCheck:
    """The verdict on "every action, every resource", with what stands in the way when detailed.

    ``decision`` is ``allowed``, ``conditional``, ``unknown``, ``implicit_deny`` (a layer lacks an
    allow) or ``explicit_deny`` (every layer allows everything but a Deny carves something out).
    """

    decision: Decision
    missing: tuple[MissingGroup, ...] = ()
    conditional: tuple[OpenAction, ...] = ()
    unknown: tuple[OpenAction, ...] = ()

    @property
    def carved_out(self) -> tuple[str, ...]:
        """What the missing groups name, in order, once each."""
        return tuple(dict.fromkeys(item for group in self.missing for item in group.actions))


@dataclass(frozen=True, slots=True)
class _Layer:
    layer: Layer
    policies: tuple[CompiledPolicy, ...]
    summaries: tuple[PolicyActions, ...]
    known: bool  # every policy readable, no unresolved action


def _layers(evaluator: RoleEvaluator, index: ActionIndex) -> list[_Layer]:
    policy_set = evaluator.policy_set
    grouped: list[tuple[Layer, Sequence[CompiledPolicy]]] = [(Layer.IDENTITY, policy_set.identity)]
    if policy_set.boundary is not None:
        grouped.append((Layer.BOUNDARY, (policy_set.boundary,)))
    grouped.extend((Layer.SCP, level) for level in policy_set.scps)
    found = []
    for layer, policies in grouped:
        summaries = tuple(evaluator.summary(p, index) for p in policies)
        known = layer not in evaluator.unknown_layers and not any(s.unresolved for s in summaries)
        found.append(_Layer(layer, tuple(policies), summaries, known))
    return found


def check_administrator(evaluator: RoleEvaluator, index: ActionIndex, *, detail: bool = True) -> AdministratorCheck:
    """Whether the role is an account administrator; with ``detail``, what is carved out and why.

    Without ``detail`` only the decision is worked out, and a role whose identity-based policies
    plainly do not allow everything is answered at once (the usual case in an account-wide audit).
    """
    everything = index.everything
    if not detail and Layer.IDENTITY not in evaluator.unknown_layers:
        # The usual role of an account-wide audit: its identity-based policies (all readable, none
        # unresolved) plainly do not allow everything. Told from the summaries alone.
        summaries = [evaluator.summary(p, index) for p in evaluator.policy_set.identity]
        if not any(s.unresolved for s in summaries) and not _allow_everything(summaries, everything):
            return AdministratorCheck(Decision.IMPLICIT_DENY)
    layers = _layers(evaluator, index)

    taken = 0  # positions already assigned to a missing group
    # (layer, reason, statements, mask)
    missing: list[tuple[MissingLayer, str, tuple[StatementRef, ...], int]] = []
    uncertain = 0  # positions whose absence of an allow an unreadable part might change
    conditional_reasons: list[str] = []
    named: dict[str, StatementRef] = {}  # a conditional reason → the statement it names
    keys: set[str] = set()
    gates: set[str] = set()
    conditional = 0
    implicit = False

    # Denies first: a certain carve-out stands whatever else is unknown.
    for layer in layers:
        for policy in layer.policies:
            for statement in policy.statements:
                if statement.statement.effect is not Effect.DENY:
                    continue
                mask = _statement_mask(index, statement.actions.patterns, statement.actions.negate)
                if not mask:
                    continue
                kind = statement_kind(statement)
                ref = statement.ref
                if statement.conditions:
                    conditional |= mask
                    gates.add("Deny")
                    keys.update(c.key for c in statement.conditions)
                    if detail:
                        conditional_reasons.append(
                            f"{ref} denies {_joined(describe(index, mask))} when its condition holds"
                        )
                        named.setdefault(conditional_reasons[-1], ref)
                    continue
                fresh = mask & ~taken
                if not fresh:
                    continue
                taken |= fresh
                where = "" if kind == "deny_all" else " on some resources"
                missing.append((_DENY_LAYER[layer.layer], _deny_reason(layer.layer, where), (ref,), fresh))
    for layer in layers:
        possible = union(s.allow_all | s.allow_conditional for s in layer.summaries)
        lacking = everything & ~possible
        # An Allow whose Resource is a value the input does not resolve may turn out to be "*".
        pending = _unresolved_allows(index, layer.policies) & lacking
        uncertain |= pending
        lacking &= ~pending
        if layer.known:
            fresh = lacking & ~taken
            if fresh:
                taken |= fresh
                implicit = True
                missing.append((*_NO_ALLOW[layer.layer], (), fresh))
        else:
            uncertain |= lacking
        allowed = union(s.allow_all for s in layer.summaries)
        gated = possible & ~allowed
        if gated:
            conditional |= gated
            if not detail:
                continue
            gates.add("Allow")
            for policy in layer.policies:
                for statement in policy.statements:
                    if statement_kind(statement) != "allow_conditional":
                        continue
                    mask = _statement_mask(index, statement.actions.patterns, statement.actions.negate) & gated
                    if mask:
                        keys.update(c.key for c in statement.conditions)
                        conditional_reasons.append(
                            f"{statement.ref} allows {_joined(describe(index, mask))} only when its condition holds"
                        )
                        named.setdefault(conditional_reasons[-1], statement.ref)
    # Unreadable policies might deny anything; an unresolved value matters where it might deny, or
    # might allow what nothing else certainly does.
    unknown_reasons = list(evaluator.unknown_reasons)
    open_positions = uncertain & ~taken
    for layer in layers:
        for policy in layer.policies:
            for statement in policy.statements:
                values = [
                    *statement.actions.unresolved,
                    *(r.reason for r in statement.resources or () if isinstance(r, Unresolved)),
                ]
                if not values:
                    continue
                if statement.statement.effect is Effect.DENY or open_positions:
                    unknown_reasons.extend(f"unresolved value {value}" for value in values)
    unknown = bool(unknown_reasons) or bool(open_positions)

    if missing:
        decision = Decision.IMPLICIT_DENY if implicit else Decision.EXPLICIT_DENY
    elif unknown:
        decision = Decision.UNKNOWN
    elif conditional:
        decision = Decision.CONDITIONAL
    else:
        decision = Decision.ALLOWED
    if not detail:
        return AdministratorCheck(decision)
    groups = tuple(
        MissingGroup(
            service="*",
            display=DISPLAY,
            actions=describe(index, mask),
            layer=layer,
            reason=reason,
            statements=statements,
            fix=administrator_fix(layer, reason, [str(statement) for statement in statements]),
        )
        for layer, reason, statements, mask in missing
    )
    open_conditional: tuple[OpenAction, ...] = ()
    if conditional & ~taken and not unknown:
        open_conditional = (
            OpenAction(
                action="*",
                service="*",
                display=DISPLAY,
                resource="*",
                keys=tuple(sorted(keys, key=str.lower)),
                gates=tuple(sorted(gates)),
                reasons=tuple(dict.fromkeys(conditional_reasons)),
                reason_statements=tuple(named.items()),
            ),
        )
    open_unknown: tuple[OpenAction, ...] = ()
    if unknown:
        open_unknown = (
            OpenAction(
                action="*", service="*", display=DISPLAY, resource="*", reasons=tuple(dict.fromkeys(unknown_reasons))
            ),
        )
    return AdministratorCheck(decision, groups, open_conditional, open_unknown)


def _allow_everything(summaries: Sequence[PolicyActions], everything: int) -> bool:
    """Whether the policies' Allows on every resource (with or without conditions) name every action."""
    possible = 0
    for summary in summaries:
        if summary.allow_all or summary.allow_conditional:
            possible |= summary.allow_all | summary.allow_conditional
    return possible == everything


def _unresolved_allows(index: ActionIndex, policies: Iterable[CompiledPolicy]) -> int:
    """What the Allow statements whose Resource holds an unresolved value name."""
    found = 0
    for policy in policies:
        for statement in policy.statements:
            if statement.statement.effect is Effect.ALLOW and any(
                isinstance(r, Unresolved) for r in statement.resources or ()
            ):
                found |= _statement_mask(index, statement.actions.patterns, statement.actions.negate)
    return found


def _deny_reason(layer: Layer, where: str) -> str:
    return {
        Layer.IDENTITY: f"an identity-based policy explicitly denies them{where}",
        Layer.BOUNDARY: f"the permissions boundary explicitly denies them{where}",
        Layer.SCP: f"a service control policy explicitly denies them{where}",
    }[layer]


def _statement_mask(index: ActionIndex, patterns: Iterable[str], negate: bool) -> int:
    resolved = [p for p in patterns if not isinstance(p, Unresolved)]
    return index.action_element(resolved, negate=negate)


def _joined(items: Sequence[str]) -> str:
    return ", ".join(items)


def describe(index: ActionIndex, mask: int) -> tuple[str, ...]:
    """A mask of catalogue positions, summarised by service for people to read.

    ``("*",)`` for (nearly) every action; per service ``svc:*`` when the whole service is in the
    mask, its actions when few are, ``svc:* except ...`` when few are not, else a count with the
    first names.
    """
    if not mask:
        return ()
    count = mask.bit_count()
    if mask == index.everything or count >= _MOSTLY * index.size:
        return ("*",)
    items: list[str] = []
    services = list(index.service_slices(mask))
    for span, bits in services[:_SERVICES]:
        size = span.stop - span.start
        taken = bits.bit_count()
        if taken == size:
            items.append(f"{span.service}:*")
        elif taken <= _LISTED:
            items.extend(index.full_name(span.start + at) for at in bit_positions(bits))
        elif size - taken <= _EXCEPT:
            rest = span.full & ~bits
            items.append(
                f"{span.service}:* except " + ", ".join(index.full_name(span.start + at) for at in bit_positions(rest))
            )
        else:
            first = ", ".join(index.full_name(span.start + at) for at in bit_positions(bits)[:3])
            items.append(f"{taken} of {size} {span.service} actions ({first}, ...)")
    if len(services) > _SERVICES:
        rest_count = sum(bits.bit_count() for _, bits in services[_SERVICES:])
        items.append(f"and {rest_count} actions of {len(services) - _SERVICES} more services")
    return tuple(items)
