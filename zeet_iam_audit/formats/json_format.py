"""JSON for machines: the versioned shape of ``AuditReport.to_json`` (schema_version 1).

A report of more than ``INDENT_UP_TO_ROLES`` roles is compact and written role by role. Most of its
text is the features' missing-action lists, and the audit shares one ``FeatureResult`` value among
the many roles that lack the same actions: each such value is encoded once (``role_pieces``), and
a role's text is its own fields with its features' texts spliced in.
"""

from __future__ import annotations

import json

from zeet_iam_audit.audit.report import AuditReport, FeatureResult, MissingGroup, RoleReport
from zeet_iam_audit.formats import RenderOptions

# Up to this many roles the JSON is indented for people; beyond it, compact (Python's C encoder only
# runs without indentation, and an account-wide report is read by programs, not eyes).
INDENT_UP_TO_ROLES = 20

_encode = json.JSONEncoder(separators=(",", ":")).encode
_NO_FEATURES = '"features":[]'  # where a role's features go in its text with none
_NO_MISSING = '"missing":[]'  # where a feature's missing groups go in its text with none
_FEATURE_TEXTS_LIMIT = 65536

# Texts by identity: the report's values are frozen, so a text made for a value is its text for good
# (the value is kept with it, so that its id is not reused while the entry exists).
_FEATURE_TEXTS: dict[int, tuple[FeatureResult, str]] = {}
_GROUP_TEXTS: dict[int, tuple[MissingGroup, str]] = {}


def _feature_text(feature: FeatureResult) -> str:
    kept = _FEATURE_TEXTS.get(id(feature))
    if kept is not None and kept[0] is feature:
        return kept[1]
    text = _encode(feature.to_json()) if not feature.missing else _with_missing(feature)
    if len(_FEATURE_TEXTS) >= _FEATURE_TEXTS_LIMIT:
        _FEATURE_TEXTS.clear()
    _FEATURE_TEXTS[id(feature)] = (feature, text)
    return text


def _with_missing(feature: FeatureResult) -> str:
    """The feature's text with its missing groups' texts spliced in (features that differ often
    share groups: each group's text is made once)."""
    fields = feature.to_json()
    fields["missing"] = []
    text = _encode(fields)
    before, found, after = text.partition(_NO_MISSING)
    if not found:  # not expected: the key is written once, and quotes inside values are escaped
        return _encode(feature.to_json())
    return "".join((before, '"missing":[', ",".join(map(_group_text, feature.missing)), "]", after))


def _group_text(group: MissingGroup) -> str:
    kept = _GROUP_TEXTS.get(id(group))
    if kept is not None and kept[0] is group:
        return kept[1]
    text = _encode(group.to_json())
    if len(_GROUP_TEXTS) >= _FEATURE_TEXTS_LIMIT:
        _GROUP_TEXTS.clear()
    _GROUP_TEXTS[id(group)] = (group, text)
    return text


def role_pieces(role: RoleReport) -> tuple[str, ...]:
    """One role's compact JSON (as a report of more than ``INDENT_UP_TO_ROLES`` roles lists it), in
    pieces to be joined; roles sharing a feature value share its piece."""
    text = _encode(role.to_json(features=False))
    before, found, after = text.partition(_NO_FEATURES)
    if not found or not role.features:
        return (_encode(role.to_json()),)
    pieces = [before, '"features":[']
    for position, feature in enumerate(role.features):
        if position:
            pieces.append(",")
        pieces.append(_feature_text(feature))
    pieces += ["]", after]
    return tuple(pieces)


def render_role(role: RoleReport) -> str:
    """One role's compact JSON, as a report of more than ``INDENT_UP_TO_ROLES`` roles lists it."""
    return "".join(role_pieces(role))


def forget_feature_texts() -> None:
    """Drop the feature texts kept so far (once the roles that use them are rendered)."""
    _FEATURE_TEXTS.clear()
    _GROUP_TEXTS.clear()


def render_json(report: AuditReport, options: RenderOptions) -> str:
    """The report as JSON with a trailing newline; indented for small reports."""
    if len(report.roles) <= INDENT_UP_TO_ROLES:
        return json.dumps(report.to_json(all_findings=options.all_findings), indent=2) + "\n"
    # Role by role, so that only one role's dictionaries exist at a time next to the text.
    head = report.to_json(all_findings=options.all_findings, roles=False)
    head["roles"] = _ROLES_MARK
    text = json.dumps(head, separators=(",", ":"))
    before, _, after = text.partition(json.dumps(_ROLES_MARK))
    pieces = [before, "["]
    for position, role in enumerate(report.roles):
        if position:
            pieces.append(",")
        pieces.extend(role_pieces(role))
    pieces += ["]", after, "\n"]
    forget_feature_texts()
    return "".join(pieces)


_ROLES_MARK = "\x00roles\x00"


class JsonFormat:
    """The JSON report (``schema_version`` 1)."""

    name = "json"
    points_at_lines = False

    def render(self, report: AuditReport, options: RenderOptions) -> str:
        return render_json(report, options)


FORMAT = JsonFormat()
