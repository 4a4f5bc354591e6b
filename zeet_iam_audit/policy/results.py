"""The answer's values: a ``Decision``, the ``Layer`` that decided it, the statements (``StatementRef``)
and the uncertainties (``Uncertainty``) behind it, gathered in an ``EvaluationResult``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from zeet_iam_audit.model import Effect, Origin, Route


class Decision(StrEnum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"
    CONDITIONAL = "conditional"
    # Only when a policy holds an unresolved template value (see model.Unresolved).
    UNKNOWN = "unknown"


class Layer(StrEnum):
    IDENTITY = "identity"
    BOUNDARY = "permissions_boundary"
    SCP = "scp"

    @property
    def description(self) -> str:
        """How AWS's own messages name the layer."""
        return {
            Layer.IDENTITY: "identity-based policy",
            Layer.BOUNDARY: "permissions boundary",
            Layer.SCP: "service control policy",
        }[self]


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Which statement of which policy, in which layer, and where it is written.

    ``str(ref)`` is how reports name it (``identity-based policy 'Zeet' Statement[2] (Sid "X")``);
    formats that point at lines use ``source`` and ``route`` instead, never the text.
    """

    layer: Layer
    policy: str
    index: int
    sid: str | None
    effect: Effect
    origin: Origin | None = None  # the policy document's origin
    scp_level: int | None = None

    def __hash__(self) -> int:
        # Equal refs agree on these; hashing them alone spares the origin's route on every lookup
        # (missing groups are keyed by their deny statements).
        return hash((self.policy, self.index))

    @property
    def source(self) -> str | None:
        """The input the statement is written in; None when it is in none."""
        return self.origin.source if self.origin is not None and self.origin.route is not None else None

    @property
    def route(self) -> Route | None:
        """The route to the statement in ``source``: the document's route, then ``("Statement",
        index)``; None when the policy has no place in an input (a live or bundled policy)."""
        if self.origin is None or self.origin.route is None:
            return None
        return (*self.origin.route, "Statement", self.index)

    def __str__(self) -> str:
        sid = f' (Sid "{self.sid}")' if self.sid else ""
        level = f" level {self.scp_level}" if self.scp_level is not None else ""
        return f"{self.layer.description}{level} {self.policy!r} Statement[{self.index}]{sid}"


@dataclass(frozen=True, slots=True)
class Uncertainty:
    """A statement that might apply: what it depends on and whether it gates an Allow or a Deny."""

    statement: StatementRef
    gates: Effect
    keys: tuple[str, ...] = ()  # condition keys or policy variables with no value in the context
    unresolved: tuple[str, ...] = ()  # unresolved template values it depends on
    partial: bool = False  # a Deny that covers part of the resource scope, not all of it
    # Readings AWS's documentation leaves open (see evaluate.py's docstring): the answer is unknown.
    undecided: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.keys:
            parts.append("condition keys " + ", ".join(self.keys))
        if self.unresolved:
            parts.append("unresolved values " + ", ".join(self.unresolved))
        if self.undecided:
            parts.append("; ".join(self.undecided))
        if self.partial:
            parts.append("part of the resource scope")
        return f"{self.gates.value} in {self.statement} depends on {'; '.join(parts)}"


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """The decision for one action on one resource, and why."""

    action: str
    resource: str
    decision: Decision
    layer: Layer | None = None  # the layer that decided a deny (explicit, or the first lacking an allow)
    deciding: tuple[StatementRef, ...] = ()  # the Deny statements, or the Allow statements per layer
    uncertain: tuple[Uncertainty, ...] = ()
    blocking_layers: tuple[Layer, ...] = ()  # every layer that lacks an allow (implicit deny)
    # What decided the answer besides the statements: a permission AWS never checks, a resource
    # policy that must also allow (``GET_CALLER_IDENTITY_NOTE``, ``KEY_POLICY_NOTE``).
    notes: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def condition_keys(self) -> tuple[str, ...]:
        """Every condition key the answer depends on, sorted case-insensitively."""
        keys = {k for u in self.uncertain for k in u.keys}
        return tuple(sorted(keys, key=str.lower))

    def explain(self) -> str:
        """One paragraph a person can read: the decision, the layer and the statements."""
        head = f"{self.action} on {self.resource}: {self.decision.value}"
        lines = [head]
        if self.decision is Decision.EXPLICIT_DENY:
            lines.extend(f"  denied by {ref}" for ref in self.deciding)
        elif self.decision is Decision.IMPLICIT_DENY:
            lines.extend(f"  no {layer.description} allows it" for layer in self.blocking_layers)
        else:
            lines.extend(f"  allowed by {ref}" for ref in self.deciding)
        lines.extend(f"  {u.describe()}" for u in self.uncertain)
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)
