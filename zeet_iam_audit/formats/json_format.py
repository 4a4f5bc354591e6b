"""JSON for machines: the versioned shape of ``AuditReport.to_json`` (schema_version 1).

A report of more than ``INDENT_UP_TO_ROLES`` roles is compact and written role by role. Most of its
text is the features' missing-action lists and the excess services, and the audit shares one value
among the many roles that lack the same actions (a ``FeatureResult``, and a ``MissingGroup`` among
features) or hold the same grants (an ``ExcessService``): a ``JsonTexts`` made for one render encodes
each such value once, and a role's text is its own fields with those texts spliced in. The texts go
with the render; nothing is kept between renders."""

from __future__ import annotations

import json

from zeet_iam_audit.audit.report import AuditReport, ExcessService, FeatureResult, MissingGroup, RoleReport
from zeet_iam_audit.formats import RenderOptions
from zeet_iam_audit.memo import IdentityMemo

# Up to this many roles the JSON is indented for people; beyond it, compact (Python's C encoder only
# runs without indentation, and an account-wide report is read by programs, not eyes).
INDENT_UP_TO_ROLES = 20

_encode = json.JSONEncoder(separators=(",", ":")).encode
_NO_FEATURES = '"features":[]'  # where a role's features go in its text with none
_NO_MISSING = '"missing":[]'  # where a feature's missing groups go in its text with none
_NO_SERVICES = '"services":[]'  # where a role's excess services go in its text with none
_ROLES_MARK = "\x00roles\x00"  # where the roles go in the report's text


class JsonTexts:
    """The compact texts of the feature values, missing groups and excess services met in one render, each encoded
    once (by identity: the values are frozen, so a value's text does not change; see ``memo``)."""

    __slots__ = ("_features", "_groups", "_services")

    def __init__(self) -> None:
        self._features: IdentityMemo[str] = IdentityMemo()
        self._groups: IdentityMemo[str] = IdentityMemo()
        self._services: IdentityMemo[str] = IdentityMemo()

    def feature(self, feature: FeatureResult) -> str:
        """The feature's compact JSON, its missing groups' texts spliced in."""
        text = self._features.get(feature)
        if text is None:
            text = self._with_missing(feature) if feature.missing else _encode(feature.to_json())
            self._features.put(feature, text)
        return text

    def _with_missing(self, feature: FeatureResult) -> str:
        before, found, after = _encode(feature.to_json(missing=False)).partition(_NO_MISSING)
        if not found:  # not expected: the key is written once, and quotes inside values are escaped
            return _encode(feature.to_json())
        return "".join((before, '"missing":[', ",".join(map(self.group, feature.missing)), "]", after))

    def group(self, group: MissingGroup) -> str:
        """The group's compact JSON."""
        text = self._groups.get(group)
        return text if text is not None else self._groups.put(group, _encode(group.to_json()))

    def service(self, service: ExcessService) -> str:
        """The excess service's compact JSON."""
        text = self._services.get(service)
        return text if text is not None else self._services.put(service, _encode(service.to_json()))

    def role_pieces(self, role: RoleReport) -> list[str]:
        """One role's compact JSON in pieces to be joined; roles sharing a feature value (or an excess
        service value) share its piece."""
        text = _encode(role.to_json(features=False, excess_services=False))
        before, found, rest = text.partition(_NO_FEATURES)
        middle, found_services, after = rest.partition(_NO_SERVICES)
        if not (found and found_services):  # not expected: the keys are written once, quotes escaped
            return [_encode(role.to_json())]
        return [
            before,
            *_listed('"features":[', [self.feature(feature) for feature in role.features]),
            middle,
            *_listed('"services":[', [self.service(service) for service in role.excess.services]),
            after,
        ]


def _listed(opening: str, texts: list[str]) -> list[str]:
    """A JSON list's pieces: ``opening`` (``"key":[``), the texts with commas between, ``]``."""
    pieces = [opening]
    for text in texts:
        pieces += (text, ",")
    if texts:
        pieces.pop()
    pieces.append("]")
    return pieces


def render_role(role: RoleReport) -> str:
    """One role's compact JSON, as a report of more than ``INDENT_UP_TO_ROLES`` roles lists it."""
    return "".join(JsonTexts().role_pieces(role))


def render_pieces(report: AuditReport, options: RenderOptions) -> list[str]:
    """The report as JSON with a trailing newline, in pieces to be written one after the other (the
    roles share their features' pieces): ``render_json`` joins them."""
    if len(report.roles) <= INDENT_UP_TO_ROLES:
        return [json.dumps(report.to_json(all_findings=options.all_findings), indent=2) + "\n"]
    # Role by role, so that only one role's dictionaries exist at a time next to the text.
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


FORMAT = JsonFormat()
