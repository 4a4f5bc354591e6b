"""JSON for machines: the versioned shape of ``AuditReport.to_json`` (schema_version 1).

A report of up to ``INDENT_UP_TO_ROLES`` roles is ``json.dumps`` of that shape, indented. A larger
one is compact and written role by role by ``JsonTexts``, which writes the same text without
building the dictionaries first: most of an account-wide report is a few value types (features,
their missing groups and open actions, excess services, locations), whose texts it writes from the
values' fields, quoting each string once per render (the same action names, services and reasons
recur in every role). Rarer parts go through ``to_json`` and the encoder. Values the audit shares
among roles (a ``FeatureResult``, a ``MissingGroup``, an ``ExcessService``) are written once, and
a role's pieces share their texts. ``tests/formats/test_json_format.py`` holds every text to its
value's ``to_json``; the texts go with the render, nothing is kept between renders."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring_ascii  # what the encoder quotes every string with
from typing import TypeVar

from zeet_iam_audit.audit.report import (
    AuditReport,
    DefaultModeResult,
    ExcessService,
    FeatureResult,
    MissingGroup,
    OpenAction,
    ProposedStatement,
    RiskyGrant,
    RoleReport,
    SourceLocation,
    TrustResult,
)
from zeet_iam_audit.formats import RenderOptions

# Up to this many roles the JSON is indented for people; beyond it, compact (Python's C encoder only
# runs without indentation, and an account-wide report is read by programs, not eyes).
INDENT_UP_TO_ROLES = 20

# Distinct strings one render keeps quoted (action names, services, reasons; more are quoted again).
QUOTED_LIMIT = 1 << 16

_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode  # to_json has no cycles
_ROLES_MARK = "\x00roles\x00"  # where the roles go in the report's text
_comma = ",".join
Shared = TypeVar("Shared")  # a value many roles share (see _kept)
_quoted = encode_basestring_ascii  # a string not kept quoted: one met once (a role's name) or a member of an enum


class _Quoted(dict[str, str]):
    """Strings and their JSON texts, quoted on first use; at ``QUOTED_LIMIT`` it starts again."""

    def __missing__(self, text: str) -> str:
        if len(self) >= QUOTED_LIMIT:
            self.clear()
        quoted = self[text] = encode_basestring_ascii(text)
        return quoted


class JsonTexts:
    """The compact texts of the values met in one render (``to_json`` of each, exactly).

    A shared value is written once: its text is kept by the value's identity, beside the value (so
    that its id is not reused while the entry exists; the values are frozen, so their texts do not
    change). The entries are as many as the report's distinct values and go with the render. Every
    string is quoted once per render, up to ``QUOTED_LIMIT`` strings."""

    __slots__ = ("_features", "_groups", "_levels", "_services", "quote")

    def __init__(self) -> None:
        self._features: dict[int, tuple[FeatureResult, str]] = {}
        self._groups: dict[int, tuple[MissingGroup, str]] = {}
        self._services: dict[int, tuple[ExcessService, str]] = {}
        self._levels: dict[tuple[tuple[str, int], ...], str] = {}  # a few counts recur in many services
        self.quote: Callable[[str], str] = _Quoted().__getitem__

    def strings(self, values: Iterable[str]) -> str:
        """A JSON list of strings."""
        return f"[{_comma(map(self.quote, values))}]"

    def feature(self, feature: FeatureResult) -> str:
        """``FeatureResult.to_json``, once per feature result."""
        return _kept(self._features, feature, self._feature)

    def _feature(self, feature: FeatureResult) -> str:
        quote, actions = self.quote, self.open_action
        text = (
            f'{{"id":{quote(feature.id)},"title":{quote(feature.title)},"section":{quote(feature.section)},'
            f'"status":{_quoted(feature.status)},"required_actions":{feature.required},'
            f'"variants":[{_comma(map(quote, feature.variants))}],"summary":{_quoted(feature.short_summary())},'
            f'"missing":[{_comma(map(self.group, feature.missing))}],'
            f'"conditional":[{_comma(map(actions, feature.conditional))}],'
            f'"unknown":[{_comma(map(actions, feature.unknown))}],"notes":[{_comma(map(quote, feature.notes))}]}}'
        )
        return text

    def open_action(self, action: OpenAction) -> str:
        """``OpenAction.to_json``."""
        quote = self.quote
        return (
            f'{{"action":{quote(action.action)},"service":{quote(action.service)},'
            f'"display":{quote(action.display)},"resource":{quote(action.resource)},'
            f'"condition_keys":[{_comma(map(quote, action.keys))}],"gates":[{_comma(map(quote, action.gates))}],'
            f'"reasons":[{_comma(map(quote, action.reasons))}]}}'
        )

    def group(self, group: MissingGroup) -> str:
        """``MissingGroup.to_json``, once per group."""
        return _kept(self._groups, group, self._group)

    def _group(self, group: MissingGroup) -> str:
        quote = self.quote
        fix = "null"
        if group.fix is not None:
            statements = _comma(map(self._proposed, group.fix.statements))
            fix = f'{{"change":{quote(group.fix.change)},"statements":[{statements}]}}'
        text = (
            f'{{"service":{quote(group.service)},"display":{quote(group.display)},'
            f'"actions":[{_comma(map(quote, group.actions))}],"layer":{_quoted(group.layer)},'
            f'"reason":{quote(group.reason)},"statements":[{_comma(map(quote, map(str, group.statements)))}],'
            f'"fix":{fix}}}'
        )
        return text

    def _proposed(self, statement: ProposedStatement) -> str:
        if statement.conditions:  # rare: the condition block is built by to_json
            return _encode(statement.to_json())
        actions, resources = statement.actions, statement.resources
        action = self.quote(actions[0]) if len(actions) == 1 else self.strings(actions)
        resource = self.quote(resources[0]) if len(resources) == 1 else self.strings(resources)
        return f'{{"Effect":"Allow","Action":{action},"Resource":{resource}}}'

    def service(self, service: ExcessService) -> str:
        """``ExcessService.to_json``, once per service entry."""
        return _kept(self._services, service, self._service)

    def _service(self, service: ExcessService) -> str:
        quote = self.quote
        levels = self._levels.get(service.by_access_level)
        if levels is None:
            pairs = dict(service.by_access_level).items()
            levels = self._levels[service.by_access_level] = _comma([f"{quote(key)}:{count}" for key, count in pairs])
        text = (
            f'{{"service":{quote(service.service)},"total":{service.total},"by_access_level":{{{levels}}},'
            f'"conditional":{service.conditional},"resource_scoped":{service.scoped},'
            f'"sample":[{_comma(map(quote, service.sample))}]}}'
        )
        return text

    def trust(self, trust: TrustResult) -> str:
        """``TrustResult.to_json``."""
        quote = self.quote
        findings = _comma(
            [
                f'{{"code":{quote(finding.code)},"severity":{_quoted(finding.severity)},'
                f'"message":{quote(finding.message)},'
                f'"statement":{"null" if finding.statement is None else quote(str(finding.statement))}}}'
                for finding in trust.findings
            ]
        )
        return f'{{"status":{_quoted(trust.status)},"findings":[{findings}]}}'

    def mode(self, mode: DefaultModeResult) -> str:
        """``DefaultModeResult.to_json``."""
        return (
            f'{{"administrator":{_quoted(mode.administrator)},"mode":{_quoted(mode.mode)},'
            f'"plan":{"null" if mode.plan is None else self.quote(mode.plan)},'
            f'"findings":[{_comma(map(self.quote, mode.findings))}]}}'
        )

    def risky(self, grant: RiskyGrant) -> str:
        """``RiskyGrant.to_json``."""
        quote = self.quote
        return (
            f'{{"action":{quote(grant.action)},"resource":{quote(grant.resource)},"reason":{quote(grant.reason)},'
            f'"needed_by":[{_comma(map(quote, grant.needed_by))}],'
            f'"statement":{"null" if grant.statement is None else quote(grant.statement)},'
            f'"conditional":{"true" if grant.conditional else "false"},'
            f'"statements":[{_comma(map(quote, map(str, grant.statements)))}]}}'
        )

    @staticmethod
    def location(location: SourceLocation) -> str:
        """``SourceLocation.to_json`` (its name and path are the role's own: not kept quoted)."""
        return f'{{"kind":{_quoted(location.kind)},"name":{_quoted(location.name)},"path":{_quoted(location.path)}}}'

    def role_pieces(self, role: RoleReport) -> list[str]:
        """``RoleReport.to_json`` in pieces to be joined; roles sharing a feature value (or an excess
        service value) share its piece."""
        quote, excess = self.quote, role.excess
        pieces = [
            f'{{"name":{_quoted(role.name)},"arn":{"null" if role.arn is None else _quoted(role.arn)},'
            f'"source":{quote(role.source)},"trust":{self.trust(role.trust)},"mode":{self.mode(role.default_mode)},'
            '"features":['
        ]
        _listed(pieces, map(self.feature, role.features))
        pieces.append(f'],"excess":{{"total_actions":{excess.total},"services":[')
        _listed(pieces, map(self.service, excess.services))
        simulation = "null" if role.simulation is None else _encode(role.simulation.to_json())
        pieces.append(
            f'],"risky":[{_comma(map(self.risky, excess.risky))}],'
            f'"unknown_reasons":[{_comma(map(quote, excess.unknown_reasons))}],'
            f'"analysed":{"true" if excess.analysed else "false"}}},'
            f'"unknown_policies":[{_comma(map(quote, role.unknown_policies))}],"scps":{quote(role.scps)},'
            f'"simulation":{simulation},"locations":[{_comma(map(self.location, role.locations))}],'
            f'"unknown_groups":[{_comma([_encode(group.to_json()) for group in role.unknown])}],'
            f'"invalid_policies":[{_comma([_encode(document.to_json()) for document in role.invalid_documents])}],'
            f'"unknown_actions":[{_comma([_encode(action.to_json()) for action in role.unknown_actions])}],'
            f'"not_zeet_role":{"null" if role.not_zeet is None else quote(role.not_zeet)}}}'
        )
        return pieces


def _kept(texts: dict[int, tuple[Shared, str]], value: Shared, make: Callable[[Shared], str]) -> str:
    """``value``'s text, made once per render: kept by its identity, beside the value itself (so
    its id cannot be taken by another object while the text is kept)."""
    kept = texts.get(id(value))
    if kept is not None and kept[0] is value:
        return kept[1]
    text = make(value)
    texts[id(value)] = (value, text)
    return text


def _listed(pieces: list[str], texts: Iterable[str]) -> None:
    """Add ``texts`` to ``pieces`` with commas between (a JSON list's items, its brackets apart)."""
    start = len(pieces)
    for text in texts:
        pieces += (text, ",")
    if len(pieces) > start:
        pieces.pop()


def render_role(role: RoleReport) -> str:
    """One role's compact JSON, as a report of more than ``INDENT_UP_TO_ROLES`` roles lists it."""
    return "".join(JsonTexts().role_pieces(role))


def render_pieces(report: AuditReport, options: RenderOptions) -> list[str]:
    """The report as JSON with a trailing newline, in pieces to be written one after the other (the
    roles share their features' pieces): ``render_json`` joins them."""
    if len(report.roles) <= INDENT_UP_TO_ROLES:
        return [json.dumps(report.to_json(all_findings=options.all_findings), indent=2) + "\n"]
    # Role by role, so that only one role's text exists at a time beside the shared texts.
    head = report.to_json(all_findings=options.all_findings, roles=False)
    head["roles"] = _ROLES_MARK
    before, _, after = _encode(head).partition(_encode(_ROLES_MARK))
    texts = JsonTexts()
    pieces = [before, "["]
    for role in report.roles:
        pieces += texts.role_pieces(role)
        pieces.append(",")
    pieces[-1] = "]"  # in place of the last comma (there are roles: more than INDENT_UP_TO_ROLES)
    pieces += [after, "\n"]
    return pieces


def render_json(report: AuditReport, options: RenderOptions) -> str:
    """The report as JSON with a trailing newline; indented for small reports."""
    return "".join(render_pieces(report, options))


class JsonFormat:
    """The JSON report (``schema_version`` 1)."""

    name = "json"
    points_at_lines = False

    def render(self, report: AuditReport, options: RenderOptions) -> str:
        return render_json(report, options)

    def render_pieces(self, report: AuditReport, options: RenderOptions) -> list[str]:
        return render_pieces(report, options)


FORMAT = JsonFormat()
