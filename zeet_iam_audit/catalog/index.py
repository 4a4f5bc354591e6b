"""The catalogue in memory: lookups and wildcard expansion over every known IAM action.

A ``Catalog`` starts as one unparsed block of the data file per service; a service is parsed the
first time a lookup or an expansion touches it, so a run that asks about a few services pays for
those alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from zeet_iam_audit.catalog.datafile import CatalogHeader, ServiceActions, decode_block
from zeet_iam_audit.catalog.values import ActionInfo, CatalogSource
from zeet_iam_audit.policy.match import Matcher, compile_pattern


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


class Catalog:
    """Every IAM action the catalogue's sources know, with its access level and resource-level flag.

    Lookups are case-insensitive (IAM compares action names that way); values keep AWS's spelling.
    Build one with ``load_catalog()``; the constructor takes what ``decode_catalog`` returns.
    """

    __slots__ = ("_blocks", "_header", "_origin", "_parsed", "_services")

    def __init__(self, header: CatalogHeader, blocks: Mapping[str, bytes], origin: str) -> None:
        self._header = header
        self._blocks = dict(blocks)
        self._services = tuple(sorted(self._blocks))
        self._parsed: dict[str, ServiceActions] = {}
        self._origin = origin

    def _service(self, service: str) -> ServiceActions | None:
        parsed = self._parsed.get(service)
        if parsed is None:
            block = self._blocks.get(service)
            if block is None:
                return None
            parsed = decode_block(service, block, len(self._header.sources), self._origin)
            self._parsed[service] = parsed
        return parsed

    def _parsed_services(self, services: Iterable[str]) -> Iterator[ServiceActions]:
        for service in services:
            parsed = self._service(service)
            if parsed is not None:
                yield parsed

    # -- lookups ------------------------------------------------------------------------------

    def get(self, action: str) -> ActionInfo | None:
        """The action named ``service:Name`` (in any case), or None if the catalogue lacks it."""
        service, sep, name = action.lower().partition(":")
        if not sep:
            return None
        parsed = self._service(service)
        return None if parsed is None else parsed.by_lower.get(name)

    def __contains__(self, action: object) -> bool:
        return isinstance(action, str) and self.get(action) is not None

    def __len__(self) -> int:
        return self._header.total

    def __iter__(self) -> Iterator[ActionInfo]:
        """Every action, by service and then by lower-case name."""
        for parsed in self._parsed_services(self._services):
            yield from parsed.actions

    def service_actions(self) -> Iterator[ServiceActions]:
        """Every service's actions as columns (names, access-level codes, resource flags), by
        service: what an index over the whole catalogue reads, without making a value per action."""
        return self._parsed_services(self._services)

    def services(self) -> tuple[str, ...]:
        """Every service prefix, sorted."""
        return self._services

    def known_by(self, action: str) -> tuple[str, ...]:
        """The names of the sources that know ``action`` (empty if none does)."""
        service, _, name = action.lower().partition(":")
        parsed = self._service(service)
        positions = parsed.known_by.get(name, "") if parsed is not None else ""
        return tuple(self._header.sources[int(p)].name for p in positions)

    # -- wildcards ----------------------------------------------------------------------------

    def expand(self, pattern: str) -> tuple[ActionInfo, ...]:
        """The actions an Action entry such as ``ec2:Describe*``, ``s3:Get?bject`` or ``*`` covers.

        Matching is IAM's: case-insensitive, ``*`` any run of characters, ``?`` one character.
        """
        return tuple(self._matching([pattern], keep_matched=True))

    def covers_any(self, pattern: str) -> bool:
        """Whether the Action entry ``pattern`` covers at least one known action (``expand`` would
        not be empty); the search stops at the first."""
        return next(self._matching([pattern], keep_matched=True), None) is not None

    def expand_not_action(self, patterns: Iterable[str]) -> tuple[ActionInfo, ...]:
        """The actions a NotAction element covers: every action matched by none of ``patterns``."""
        return tuple(self._matching(list(patterns), keep_matched=False))

    def _matching(self, patterns: list[str], *, keep_matched: bool) -> Iterator[ActionInfo]:
        """Actions matched by any of ``patterns`` (``keep_matched``) or by none of them."""
        plan = _Plan(patterns)
        if keep_matched and plan.exact_services is not None:
            services: Iterable[str] = sorted(s for s in plan.exact_services if s in self._blocks)
        else:
            services = self._services
        full_matchers = plan.full_matchers
        for service in services:
            name_matchers = plan.name_matchers(service)
            if keep_matched and not full_matchers and not name_matchers:
                continue  # no pattern can match here: leave the service unparsed
            parsed = self._service(service)
            if parsed is None:
                continue
            if not full_matchers and not name_matchers:
                yield from parsed.actions
                continue
            if plan.covers_whole(service):
                if keep_matched:
                    yield from parsed.actions
                continue
            matches: Iterable[bool]
            if len(name_matchers) == 1 and not full_matchers:  # the common case: one pattern
                matches = map(name_matchers[0], parsed.lower_names)
            else:
                prefix = service + ":"
                matches = (
                    any(m(lower) for m in name_matchers) or any(m(prefix + lower) for m in full_matchers)
                    for lower in parsed.lower_names
                )
            for info, matched in zip(parsed.actions, matches, strict=True):
                if matched is keep_matched:
                    yield info

    # -- metadata -----------------------------------------------------------------------------

    @property
    def sources(self) -> tuple[CatalogSource, ...]:
        """The data sets the catalogue was generated from, primary first."""
        return self._header.sources

    @property
    def data_date(self) -> str | None:
        """The newest of the sources' data dates (ISO ``YYYY-MM-DD``)."""
        return max((s.data_date for s in self.sources if s.data_date), default=None)

    def summary(self) -> dict[str, Any]:
        """Sources, dates and counts as JSON-able values (what ``zeet-iam-audit catalog`` shows)."""
        return {
            "sources": [
                {"name": s.name, "version": s.version, "data_date": s.data_date, "count": s.count} for s in self.sources
            ],
            "data_date": self.data_date,
            "total": len(self),
            "services": len(self._services),
        }

    def __repr__(self) -> str:
        return f"<Catalog {len(self)} actions in {len(self._services)} services, {self.data_date}>"


class _Plan:
    """Patterns split for matching, so that most of them only look at one service.

    A pattern with one ``:`` matches ``service:name`` only if its service part matches the service
    and its name part the name (its colon must sit on the action's only colon), so ``ec2:Describe*``
    is tried against ec2's actions alone. A pattern without a colon (``*``, ``s3*``) is matched
    against the whole lower-cased action; one with two colons matches nothing.
    """

    __slots__ = (
        "_by_service",
        "_service_globs",
        "_whole_services",
        "exact_services",
        "full_matchers",
    )

    def __init__(self, patterns: Iterable[str]) -> None:
        self._by_service: dict[str, list[Matcher]] = {}
        # (service matcher, name matcher, whether the name part is "*")
        self._service_globs: list[tuple[Matcher, Matcher, bool]] = []
        self._whole_services: set[str] = set()
        self.full_matchers: list[Matcher] = []
        # The only services the patterns can match, or None if one can match in any service.
        self.exact_services: set[str] | None = set()
        for pattern in patterns:
            self._add(pattern.lower())

    def _add(self, pattern: str) -> None:
        service, sep, name = pattern.partition(":")
        if not sep:
            self.exact_services = None
            if pattern == "*":
                self._service_globs.append((_ANY, _ANY, True))
            else:
                self.full_matchers.append(compile_pattern(pattern))
        elif ":" in name:
            return
        elif _has_wildcard(service):
            self.exact_services = None
            matchers = (compile_pattern(service), compile_pattern(name), name == "*")
            self._service_globs.append(matchers)
        else:
            self._by_service.setdefault(service, []).append(compile_pattern(name))
            if name == "*":
                self._whole_services.add(service)
            if self.exact_services is not None:
                self.exact_services.add(service)

    def name_matchers(self, service: str) -> list[Matcher]:
        """Matchers for the lower-case names of ``service``'s actions."""
        matchers = list(self._by_service.get(service, ()))
        matchers.extend(names for svc, names, _ in self._service_globs if svc(service))
        return matchers

    def covers_whole(self, service: str) -> bool:
        """Whether some pattern matches every action of ``service`` (``s3:*``, ``*``, ``*:*``)."""
        return service in self._whole_services or any(whole and svc(service) for svc, _, whole in self._service_globs)


_ANY = compile_pattern("*")
