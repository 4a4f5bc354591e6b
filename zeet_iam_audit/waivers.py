"""Waivers: accepted findings, written down in the config file with a reason and an end date.

A waiver is a ``[[waivers]]`` table in ``.zeet-iam-audit.toml`` (or ``[[tool.zeet-iam-audit.waivers]]``
in ``pyproject.toml``). It names findings either by fingerprint or by a selector::

    [[waivers]]
    id = "3f9c0a1b2c3d4e5f"            # a finding's fingerprint (JSON "findings", SARIF partialFingerprints)
    reason = "tracked in OPS-123"
    expires = 2026-03-31               # optional; the waiver holds through that day

    [[waivers]]
    check = "missing-permission"       # a check id
    role = "zeet-cloud-connection"     # the role's name
    feature = "cluster-capacity-monitoring"
    action = "sqs:*"                   # the action; for trust-policy the finding's code, for
    reason = "queues come in Q3"       #   excess-permission the service prefix, for unknown-permission
                                       #   the reason, for invalid-policy the policy's name

Selector keys are optional, but at least one is given; every key given must match, values are
case-insensitive and may use ``*`` and ``?``. ``id`` stands alone. A waived finding still shows in
every format, marked waived, and does not count toward ``--fail-on``. A waiver past its date waives
nothing and fails the gate; a waiver that matches nothing is reported as a warning.

Everything here is pure: ``apply_waivers`` takes today's date from its caller.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass

from zeet_iam_audit.audit.findings import CHECK_IDS, Finding, report_findings
from zeet_iam_audit.audit.report import AuditReport, WaiverNote, WaiverStatus
from zeet_iam_audit.errors import UsageError

SELECTOR_KEYS = ("check", "role", "feature", "action")
_KEYS = frozenset({"id", "reason", "expires", *SELECTOR_KEYS})
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True, slots=True)
class Waiver:
    """One ``[[waivers]]`` entry, validated."""

    index: int
    reason: str
    id: str | None = None
    check: str | None = None
    role: str | None = None
    feature: str | None = None
    action: str | None = None
    expires: datetime.date | None = None
    origin: str = ""

    @property
    def label(self) -> str:
        """How reports name it: ``waivers[1] (check=missing-permission, action=sqs:*)``."""
        if self.id is not None:
            return f"waivers[{self.index}] (id={self.id})"
        parts = [f"{key}={getattr(self, key)}" for key in SELECTOR_KEYS if getattr(self, key) is not None]
        return f"waivers[{self.index}] ({', '.join(parts)})"

    def matches(self, finding: Finding) -> bool:
        """Whether this waiver covers the finding (ignoring its date)."""
        if self.id is not None:
            return finding.fingerprint == self.id
        values = {
            "check": finding.check,
            "role": finding.role,
            "feature": finding.feature or "",
            "action": finding.subject,
        }
        for key in SELECTOR_KEYS:
            pattern = getattr(self, key)
            if pattern is not None and not fnmatch.fnmatchcase(values[key].lower(), pattern.lower()):
                return False
        return True

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and today > self.expires


def _date(value: object, where: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise UsageError(f"{where}: expires: expected a date such as 2026-03-31")


def parse_waiver(raw: object, index: int, origin: str) -> Waiver:
    """One ``[[waivers]]`` table → a ``Waiver``; a bad one is a one-line ``UsageError``."""
    where = f"{origin}: waivers[{index}]"
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a table ([[waivers]])")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise UsageError(f"{where}: {', '.join(unknown)}: unknown key (known: {', '.join(sorted(_KEYS))})")
    for key in ("id", "reason", *SELECTOR_KEYS):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise UsageError(f"{where}: {key}: expected a non-empty string")
    reason = raw.get("reason")
    if reason is None:
        raise UsageError(f"{where}: reason: required (say why the finding is accepted)")
    selectors = {key: raw[key].strip() for key in SELECTOR_KEYS if key in raw}
    waiver_id = raw["id"].strip().lower() if "id" in raw else None
    if waiver_id is not None:
        if selectors:
            raise UsageError(f"{where}: id stands alone; drop {', '.join(selectors)} or the id")
        if not _FINGERPRINT.match(waiver_id):
            raise UsageError(f"{where}: id: expected a finding fingerprint (16 hex digits)")
    elif not selectors:
        raise UsageError(f"{where}: give an id (a finding fingerprint) or at least one of {', '.join(SELECTOR_KEYS)}")
    check = selectors.get("check")
    if check is not None and not any(c in check for c in "*?[") and check.lower() not in CHECK_IDS:
        raise UsageError(f"{where}: check: unknown check {check!r} (known: {', '.join(CHECK_IDS)})")
    expires = _date(raw["expires"], where) if "expires" in raw else None
    return Waiver(index=index, reason=reason.strip(), id=waiver_id, expires=expires, origin=origin, **selectors)


def parse_waivers(raw: object, origin: str) -> tuple[Waiver, ...]:
    """The ``waivers`` value of a config file (a list of tables) → waivers."""
    if not isinstance(raw, list):
        raise UsageError(f"{origin}: waivers: expected a list of tables ([[waivers]])")
    return tuple(parse_waiver(item, index, origin) for index, item in enumerate(raw))


def apply_waivers(
    findings: Sequence[Finding], waivers: Sequence[Waiver], today: datetime.date
) -> tuple[WaiverNote, ...]:
    """What each waiver does to these findings on ``today``: applied, expired or unmatched."""
    notes = []
    for waiver in waivers:
        matched = tuple(dict.fromkeys(f.fingerprint for f in findings if waiver.matches(f)))
        if waiver.expired(today):
            status = WaiverStatus.EXPIRED
        elif matched:
            status = WaiverStatus.APPLIED
        else:
            status = WaiverStatus.UNMATCHED
        notes.append(
            WaiverNote(
                label=waiver.label,
                reason=waiver.reason,
                status=status,
                expires=waiver.expires.isoformat() if waiver.expires else None,
                origin=waiver.origin,
                fingerprints=matched,
            )
        )
    return tuple(notes)


def waiver_messages(notes: Sequence[WaiverNote]) -> list[str]:
    """The stderr lines for waivers that need attention (expired or unmatched)."""
    lines = []
    for note in notes:
        where = f"{note.origin}: " if note.origin else ""
        if note.status == "expired":
            covered = f" ({len(note.fingerprints)} findings no longer waived)" if note.fingerprints else ""
            lines.append(
                f"{where}{note.label} expired on {note.expires}{covered}: renew it or fix the "
                f"findings (reason given: {note.reason})"
            )
        elif note.status == "unmatched":
            lines.append(f"warning: {where}{note.label} matches no finding; remove it if it is stale")
    return lines


def waiver_report_lines(report: AuditReport) -> list[str]:
    """Plain-text lines for text reports: every waived finding, then each waiver and what it did."""
    if not report.waivers:
        return []
    lines = ["Waivers:"]
    for finding in report_findings(report):
        note = report.waiver_of(finding.fingerprint)
        if note is not None:
            lines.append(f"  {'waived':<9} {finding.role}: {finding.message} [{note.label}: {note.reason}]")
    for note in report.waivers:
        until = f", until {note.expires}" if note.expires else ""
        count = f"{len(note.fingerprints)} finding{'s' if len(note.fingerprints) != 1 else ''}"
        lines.append(f"  {note.status:<9} {note.label} ({count}{until}): {note.reason}")
    return lines
