"""An Allow on resources the action never uses is no allow.

IAM authorises each action against resources of certain types (``s3:ListBucket`` a bucket,
``s3:GetObject`` an object); actions with no resource types are requested on ``*``. A statement that
allows ``s3:ListBucket`` on ``arn:aws:s3:::state/*`` (objects) can never match a ListBucket request,
so it grants nothing, and a feature that needs ListBucket lacks it. The evaluator compares resource
patterns with the rule's scope, and a scope such as ``arn:aws:s3:::zeet-*`` and an object pattern do
overlap as strings: it calls that Allow partial, hence *conditional*. This module tells those Allows
apart from real partial grants, using the catalogue's resource types and their ARN formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.catalog.resources import ResourceCatalog
from zeet_iam_audit.model import Effect, Statement, Unresolved
from zeet_iam_audit.policy.evaluate import Layer, PolicySet, StatementRef

if TYPE_CHECKING:  # for types only: the evaluator imports the run memo, which imports this module
    from zeet_iam_audit.audit.evaluator import RoleDecision


@dataclass(frozen=True, slots=True)
class NeverUsed:
    """The layer whose only Allows name resources the action never uses, and those Allows."""

    layer: Layer
    statements: tuple[str, ...]  # "identity-based policy 'X' Statement[0] (arn:aws:s3:::state/*)"


def _matches_star(entry: str) -> bool:
    """Whether a Resource entry matches the literal request resource ``*`` (actions with no types)."""
    return entry == "?" or set(entry) <= {"*"}


@lru_cache(maxsize=65536)
def _usable(action: str, entry: str, catalog: Catalog, resources: ResourceCatalog) -> bool | None:
    """Whether a request for ``action`` can be on a resource ``entry`` names (None: cannot tell).

    Pure, and asked again for every role that holds the same statement: memoised on its values."""
    if "${" in entry:
        return None
    types = resources.resource_types(action)
    if not types:
        info = catalog.get(action)
        if info is None or info.resource_level:
            return None  # not known to the resource-type data: no judgement
        return _matches_star(entry)
    if _matches_star(entry):
        return True
    service = _service_of(entry)
    if service is not None and all(_service_of(f) not in (service, None) for t in types for f in t.arn_formats):
        return False  # another service's ARN (the common case, and a quick one)
    return any(t.could_be(entry) for t in types)


def _service_of(arn: str) -> str | None:
    """The service field of an ARN or ARN pattern, None when it has a wildcard or variable."""
    parts = arn.split(":", 3)
    if len(parts) < 4 or parts[0] != "arn" or any(c in parts[2] for c in "*?$"):
        return None
    return parts[2].lower()


def _statement(policies: PolicySet, ref: StatementRef) -> Statement | None:
    """The Allow statement ``ref`` stands for: found by the ref itself (each compiled statement
    holds its own), not by the policy's name, which two policies of a role may share."""
    layer = (
        policies.identity
        if ref.layer is Layer.IDENTITY
        else (policies.boundary,)
        if ref.layer is Layer.BOUNDARY
        else ()
    )
    for compiled in layer:
        if compiled is None:
            continue
        for item in compiled.statements:
            if item.ref is ref:
                return item.statement if item.statement.effect is Effect.ALLOW else None
    return None


def never_used(
    action: str, decision: RoleDecision, policies: PolicySet, catalog: Catalog, resources: ResourceCatalog
) -> NeverUsed | None:
    """For a conditional decision: the layer that in truth lacks an allow, when every Allow that made
    it conditional covers the scope only partly and names only resources ``action`` never uses.
    ``policies``: the role's, which the decision was made from."""
    result = decision.result
    allows = [u for u in result.uncertain if u.gates is Effect.ALLOW]
    if not allows or decision.unknown_reasons:
        return None
    found: dict[Layer, list[str]] = {}
    for uncertainty in allows:
        if not uncertainty.partial or uncertainty.unresolved:
            return None
        statement = _statement(policies, uncertainty.statement)
        if statement is None or statement.resources is None:
            return None  # NotResource, an SCP, or a statement out of reach: no judgement
        if any(isinstance(entry, Unresolved) for entry in statement.resources):
            return None
        for entry in statement.resources:
            if _usable(action.lower(), str(entry), catalog, resources) is not False:
                return None  # it may apply: a real partial grant (or no judgement)
        found.setdefault(uncertainty.statement.layer, []).append(
            f"{uncertainty.statement} ({', '.join(statement.resources)})"
        )
    certain = {ref.layer for ref in result.deciding if ref.effect is Effect.ALLOW}
    for layer in (Layer.IDENTITY, Layer.BOUNDARY):
        if layer in found and layer not in certain:
            return NeverUsed(layer, tuple(found[layer]))
    return None
