"""Checks on the role's policy documents themselves, apart from what they allow.

- A document AWS would refuse (the sources mark it with ``InvalidPolicy``) is an ``InvalidDocument``:
  the verdicts it could change are already unknown with the same reason; this names the file, the
  policy and the JSON path so that the report can say "invalid policy" rather than "unknown".
- An action name the catalogue does not know is an ``UnknownAction``, with the nearest known name of
  the service ("did you mean sqs:CreateQueue?"): IAM accepts such a name and it matches nothing, so a
  typo silently grants nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from zeet_iam_audit.audit.report import InvalidDocument, UnknownAction
from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.model import AttachedPolicy, InvalidPolicy, Role, Unresolved
from zeet_iam_audit.policy.results import Layer, StatementRef

_CUTOFF = 0.6  # difflib's default: below it a "nearest" name is a guess, not a suggestion


def invalid_documents(role: Role) -> tuple[InvalidDocument, ...]:
    """Every policy document of the role (trust, identity, boundary) that AWS would refuse."""
    reasons: list[str | None] = [role.trust_unknown_reason]
    reasons += [attached.unknown_reason for attached in role.policies]
    if role.permissions_boundary is not None:
        reasons.append(role.permissions_boundary.unknown_reason)
    found = dict.fromkeys(
        InvalidDocument(file=r.file, policy=r.policy, path=r.path, problem=r.problem)
        for r in reasons
        if isinstance(r, InvalidPolicy)
    )
    return tuple(found)


def _aws_managed(attached: AttachedPolicy) -> bool:
    """AWS writes its managed policies (``arn:aws:iam::aws:policy/...``): a name they hold that the
    catalogue lacks is a retired action, not the customer's typo, and the customer cannot edit it."""
    return attached.arn is not None and ":iam::aws:policy/" in attached.arn


def _attached(role: Role) -> Iterator[tuple[Layer, AttachedPolicy]]:
    for attached in role.policies:
        if not _aws_managed(attached):
            yield Layer.IDENTITY, attached
    if role.permissions_boundary is not None and not _aws_managed(role.permissions_boundary):
        yield Layer.BOUNDARY, role.permissions_boundary


@lru_cache(maxsize=4096)
def nearest_action(action: str, catalog: Catalog) -> str | None:
    """The known action closest to ``action`` (in its service, or in the nearest service prefix)."""
    import difflib  # only when a policy names an action the catalogue does not know

    service, _, name = action.partition(":")
    services = catalog.services()
    prefix = service.lower()
    if prefix not in services:
        close = difflib.get_close_matches(prefix, services, n=1, cutoff=_CUTOFF)
        if not close:
            return None
        prefix = close[0]
    names = {info.name.lower(): info.full for info in catalog.expand(f"{prefix}:*")}
    if name.lower() in names:
        return names[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=_CUTOFF)
    return names[close[0]] if close else None


@lru_cache(maxsize=65536)
def _unknown(action: str, catalog: Catalog) -> bool:
    """Whether IAM would match nothing with this Action entry (a name, or a pattern in one service).

    Pure, and asked again for every role that holds the same policy: memoised on its values."""
    if action == "*" or ":" not in action:
        return False
    if "*" in action or "?" in action:
        service = action.split(":", 1)[0]
        if "*" in service or "?" in service:
            return False  # a pattern across services: too loose to call a typo
        return not catalog.covers_any(action)
    return catalog.get(action) is None


def unknown_actions(role: Role, catalog: Catalog) -> tuple[UnknownAction, ...]:
    """Action names in the role's own identity policies and boundary (not AWS managed ones) that match
    no known action: one per name (in any case), naming the first statement that has it."""
    found: dict[str, UnknownAction] = {}
    seen: set[str] = set()  # names already checked (policies repeat them)
    for layer, attached in _attached(role):
        policy = attached.policy
        if policy is None:
            continue
        name = policy.name or attached.name
        for statement in policy.statements:
            for names in (statement.actions, statement.not_actions):
                for action in names or ():
                    if action in seen:
                        continue
                    seen.add(action)
                    key = action.lower()
                    if isinstance(action, Unresolved) or key in found or not _unknown(key, catalog):
                        continue
                    # A pattern that matches nothing has no one nearest name to offer.
                    pattern = "*" in action or "?" in action
                    found[key] = UnknownAction(
                        action=action,
                        policy=name,
                        statement=StatementRef(
                            layer, name, statement.index, statement.sid, statement.effect, policy.origin
                        ),
                        suggestion=None if pattern else nearest_action(action, catalog),
                    )
    return tuple(found.values())
