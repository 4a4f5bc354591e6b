"""What a source hands back: the roles it found and what it had to leave out, with reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zeet_iam_audit.model import Role

INPUT_TYPES: tuple[str, ...] = ("gaad", "role", "policy", "cloudformation", "terraform")


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something in the file that was not audited, and why (shown in every report format)."""

    name: str
    reason: str
    origin: str
    unread: bool = False  # something that should have been audited could not be read: unknown


@dataclass(frozen=True, slots=True)
class SourceResult:
    """The roles found in one input file, what was skipped, the input type and the file's path.

    ``roles`` is a tuple, or a ``LazyRoles`` that reads each role on first use (``load_file(...,
    lazy=True)`` of an authorization-details file).
    """

    roles: Sequence[Role]
    skipped: tuple[Skipped, ...]
    input_type: str
    path: str
