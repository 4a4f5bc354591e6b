"""Frozen values the action catalogue hands out: one action, one data source."""

from __future__ import annotations

from dataclasses import dataclass

# The access levels of AWS's Service Authorization Reference, in its own order.
ACCESS_LEVELS: tuple[str, ...] = ("List", "Read", "Write", "Permissions management", "Tagging")


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """One IAM action as the catalogue knows it.

    ``service`` is the IAM prefix in lower case (``"eks"``); ``name`` the action in AWS's own
    spelling (``"CreateAccessEntry"``); ``access_level`` one of ``ACCESS_LEVELS``;
    ``resource_level`` whether the action can be limited to particular resources (if not, a
    statement granting it needs ``"Resource": "*"``).
    """

    service: str
    name: str
    access_level: str
    resource_level: bool

    @property
    def full(self) -> str:
        """The action as a policy names it: ``"eks:CreateAccessEntry"``."""
        return f"{self.service}:{self.name}"


@dataclass(frozen=True, slots=True)
class CatalogSource:
    """A data set the catalogue was generated from.

    ``data_date`` is the date of the data (ISO ``YYYY-MM-DD``), or None when the source does not
    record one; ``count`` is how many distinct actions it knows.
    """

    name: str
    version: str
    data_date: str | None
    count: int
