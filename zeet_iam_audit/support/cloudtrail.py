"""CloudTrail events → authorization failures: one event, a trail file (``{"Records": [...]}``), a list
of events or ``aws cloudtrail lookup-events`` output. An event's action comes from its ``eventSource``
and ``eventName``, its principal from ``userIdentity``, its resource from the message, the event's
``resources`` or its S3 request parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.support.actions import resolve_operation
from zeet_iam_audit.support.denial_values import ACCESS_DENIED_CODES, Denial, Found, Reason

# eventSource host → IAM prefix, where they differ.
_EVENT_SOURCES = {"monitoring": "cloudwatch"}
# Lambda's event names carry the API version: CreateFunction20150331, UpdateFunctionCode20150331v2.
_API_VERSION = re.compile(r"\d{8}(?:v\d+)?$")


def cloudtrail_events(text: str) -> list[dict[str, object]] | None:
    """The CloudTrail events in ``text`` when it is CloudTrail's JSON: one event, a trail file
    (``{"Records": [...]}``), a list of events, or ``aws cloudtrail lookup-events`` output (each
    event a JSON string in ``CloudTrailEvent``); None for any other text."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        items: list[object] = document["Records"]
    elif isinstance(document, dict) and isinstance(document.get("Events"), list):
        items = []
        for entry in document["Events"]:
            raw = entry.get("CloudTrailEvent") if isinstance(entry, dict) else None
            try:
                items.append(json.loads(raw) if isinstance(raw, str) else None)
            except ValueError:
                continue
    elif isinstance(document, list):
        items = document
    else:
        items = [document]
    events = [item for item in items if isinstance(item, dict) and "eventSource" in item and "eventName" in item]
    return events if events else None


def _event_resource(event: dict[str, object]) -> str | None:
    """The event's resource: its ``resources`` ARN, or the bucket and key of an S3 request."""
    resources = event.get("resources")
    if isinstance(resources, list):
        for item in resources:
            if isinstance(item, dict) and isinstance(item.get("ARN"), str):
                return str(item["ARN"])
    parameters = event.get("requestParameters")
    if isinstance(parameters, dict) and isinstance(parameters.get("bucketName"), str):
        key = parameters.get("key")
        return f"arn:aws:s3:::{parameters['bucketName']}" + (f"/{key}" if isinstance(key, str) and key else "")
    return None


def cloudtrail_found(
    events: list[dict[str, object]],
    text: str,
    catalog: Catalog,
    find_denials: Callable[[str, Catalog], tuple[Denial, ...]],
) -> Iterator[Found]:
    """The authorization failures among ``events``; ``find_denials`` reads AWS's sentence in an
    event's ``errorMessage``."""
    position = 0
    for event in events:
        code = str(event.get("errorCode") or "")
        event_id = event.get("eventID")
        if isinstance(event_id, str) and event_id:
            found_at = text.find(event_id, position)
            if found_at >= 0:  # the event's first key (eventVersion) when it comes before its id
                opening = text.rfind('"eventVersion"', position, found_at)
                position = opening if opening >= 0 else found_at
        if code.lower() not in ACCESS_DENIED_CODES:
            continue
        host = str(event.get("eventSource") or "").split(".", 1)[0]
        operation = _API_VERSION.sub("", str(event.get("eventName") or ""))
        resolved = resolve_operation(_EVENT_SOURCES.get(host, host), operation, catalog)
        message = str(event.get("errorMessage") or "")
        identity = event.get("userIdentity")
        principal = identity.get("arn") if isinstance(identity, dict) else None
        inner = find_denials(message, catalog) if message else ()
        if inner and inner[0].action is not None:
            denial = inner[0]  # AWS's own sentence: action, resource and reason as it says them
        else:
            denial = Denial(
                principal=None,
                action=resolved.action,
                action_written=resolved.written,
                action_note=resolved.note,
                resource=None,
                reason=Reason(text=message or None),
                source="cloudtrail",
                line=0,
                message=message,
                encoded=inner[0].encoded if inner else None,
            )
        yield Found(
            position,
            position,
            replace(
                denial,
                source="cloudtrail",
                line=0,
                lines=(),
                principal=denial.principal or (str(principal) if principal else None),
                resource=denial.resource or _event_resource(event),
                error_code=code,
                operation=str(event.get("eventName") or operation),
                message=message or f"{code} on {event.get('eventName')}",
            ),
        )
