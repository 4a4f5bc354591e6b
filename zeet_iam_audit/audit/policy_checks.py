"""Checks on the role's policy documents themselves, apart from what they allow.

- A document AWS would refuse (the sources mark it with ``InvalidPolicy``) is an ``InvalidDocument``:
  the verdicts it could change are already unknown with the same reason; this names the file, the
  policy and the JSON path so that the report can say "invalid policy" rather than "unknown".
- An action name the catalogue does not know is an ``UnknownAction``, with the nearest known name of
  the service ("did you mean sqs:CreateQueue?"): IAM accepts such a name and it matches nothing, so a
  typo silently grants nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from zeet_iam_audit.audit.action_sets import action_index
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
    service, _, name = action.partition(":")
    services = catalog.services()
    prefix = service.lower()
    if prefix not in services:
        close = _closest(prefix, services)
        if close is None:
            return None
        prefix = close
    names = action_index(catalog).names_of(prefix)
    if name.lower() in names:
        return names[name.lower()]
    close = _closest(name.lower(), names)
    return names[close] if close is not None else None


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    """``difflib.get_close_matches(word, candidates, n=1, cutoff=_CUTOFF)``'s answer, or None.

    The same answer for less: it is the candidate of the highest (ratio, candidate) among those whose
    ratio reaches the cutoff. A ratio is 2 * matches / (both lengths), and the matches are at most
    the shorter length (the bound ``real_quick_ratio`` uses) and at most the common characters
    (``quick_ratio``'s), so candidates are tried from the highest length bound down, and the costly
    ratio is worked out only for those whose bounds can still beat the best found."""
    import difflib  # only when a policy names an action the catalogue does not know

    size = len(word)
    # (An empty candidate is never near: no action or service name is empty.)
    lengths = [(len(candidate), candidate) for candidate in candidates if candidate]
    bounded = [(2.0 * min(size, length) / (size + length), candidate) for length, candidate in lengths]
    bounded.sort(reverse=True)
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    best = (_CUTOFF, "")  # a candidate must reach the cutoff (and any name is above "")
    found = False
    for bound, candidate in bounded:
        if (bound, candidate) < best:
            break  # nor can any after it
        matcher.set_seq1(candidate)
        if (matcher.quick_ratio(), candidate) < best:
            continue
        ratio = matcher.ratio()
        if (ratio, candidate) >= best:
            best, found = (ratio, candidate), True
    return best[1] if found else None


@lru_cache(maxsize=65536)
def _unknown_pattern(action: str, catalog: Catalog) -> bool:
    """Whether IAM would match nothing with this Action pattern in one service.

    Pure, and asked again for every role that holds the same policy: memoised on its values."""
    return not catalog.covers_any(action)


def _unknown(action: str, catalog: Catalog) -> bool:
    """Whether IAM would match nothing with this Action entry (a name, or a pattern in one service)."""
    if action == "*" or ":" not in action:
        return False
    if "*" in action or "?" in action:
        service = action.split(":", 1)[0]
        if "*" in service or "?" in service:
            return False  # a pattern across services: too loose to call a typo
        return _unknown_pattern(action, catalog)
    return action not in action_index(catalog).position  # the index's names are lower-cased too


def unknown_actions(role: Role, catalog: Catalog) -> tuple[UnknownAction, ...]:
    """Action names in the role's own identity policies and boundary (not AWS managed ones) that match
    no known action: one per name (in any case), naming the first statement that has it."""
    found: dict[str, UnknownAction] = {}
    known = action_index(catalog).position  # lower-cased names: most entries are one of them
    for layer, attached in _attached(role):
        policy = attached.policy
        if policy is None:
            continue
        name = policy.name or attached.name
        for statement in policy.statements:
            for names in (statement.actions, statement.not_actions):
                for action in names or ():
                    key = action.lower()
                    if key in known or key in found or isinstance(action, Unresolved) or not _unknown(key, catalog):
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
