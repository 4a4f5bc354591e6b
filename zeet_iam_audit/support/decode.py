"""EC2's encoded authorization failure messages, decoded with ``sts:DecodeAuthorizationMessage``.

The decoded document (AWS's shape)::

    {"allowed": false, "explicitDeny": false,
     "matchedStatements": {"items": [...]}, "failures": {"items": [...]},
     "context": {"principal": {"id": "AROA...:session", "arn": "arn:aws:sts::...:assumed-role/r/s"},
                 "action": "ec2:RunInstances",
                 "resource": "arn:aws:ec2:us-east-1:123456789012:instance/*",
                 "conditions": {"items": [{"key": "ec2:InstanceType",
                                           "values": {"items": [{"value": "t3.medium"}]}}]}}}

``apply_decoded`` folds it into a ``Denial`` (pure); ``decode_denials`` calls STS through a live
session (the caller's credentials need ``sts:DecodeAuthorizationMessage``). A message that cannot
be decoded keeps its ``Denial`` as it was, with ``decode_error`` saying why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.errors import AwsAccessError
from zeet_iam_audit.support.actions import resolve_action
from zeet_iam_audit.support.denials import Denial, Reason

DECODE_HINT = (
    "decode it with 'aws sts decode-authorization-message --encoded-message <message>' (needs "
    "sts:DecodeAuthorizationMessage), or run diagnose with --decode or --role-arn to decode it here"
)


def _items(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        items = value.get("items")
        return list(items) if isinstance(items, list) else []
    return list(value) if isinstance(value, list) else []


def _statement_label(item: Mapping[str, Any]) -> str:
    sid = item.get("statementId")
    effect = str(item.get("effect", "")).title()
    source = item.get("sourcePolicyId") or item.get("sourcePolicyType") or ""
    parts = [part for part in (effect, f'Sid "{sid}"' if sid else "", str(source)) if part]
    return " ".join(parts) or json.dumps(item, sort_keys=True)


def apply_decoded(denial: Denial, decoded: str | Mapping[str, Any], catalog: Catalog) -> Denial:
    """The denial completed with what the decoded message says (principal, action, resource,
    explicit or implicit deny, the request context and the matched statements)."""
    try:
        document = json.loads(decoded) if isinstance(decoded, str) else decoded
    except json.JSONDecodeError as error:
        return replace(denial, decode_error=f"the decoded message is not JSON ({error.msg})")
    if not isinstance(document, Mapping):
        return replace(denial, decode_error="the decoded message is not a JSON object")
    context = document.get("context") if isinstance(document.get("context"), Mapping) else {}
    assert isinstance(context, Mapping)
    principal_info = context.get("principal")
    principal = denial.principal
    if isinstance(principal_info, Mapping) and isinstance(principal_info.get("arn"), str):
        principal = principal_info["arn"]
    action, written, note = denial.action, denial.action_written, denial.action_note
    if isinstance(context.get("action"), str):
        resolved = resolve_action(context["action"], catalog)
        action, written, note = resolved.action, resolved.written, resolved.note
    resource = context["resource"] if isinstance(context.get("resource"), str) else denial.resource
    conditions: list[tuple[str, tuple[str, ...]]] = []
    for item in _items(context.get("conditions")):
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            continue
        values = tuple(
            str(v.get("value")) for v in _items(item.get("values")) if isinstance(v, Mapping) and "value" in v
        )
        conditions.append((item["key"], values))
    explicit = bool(document.get("explicitDeny"))
    matched = tuple(
        _statement_label(item) for item in _items(document.get("matchedStatements")) if isinstance(item, Mapping)
    )
    if explicit:
        reason = Reason(explicit=True, text="explicit deny (from the decoded message)")
    else:
        reason = Reason(explicit=False, text="no policy allows it (the decoded message does not say which layer)")
    return replace(
        denial,
        principal=principal,
        action=action,
        action_written=written,
        action_note=note,
        resource=resource,
        reason=reason,
        decoded_context=tuple(conditions),
        matched_statements=matched,
        decode_error=None,
    )


def without_decoding(denial: Denial, why: str | None = None) -> Denial:
    """The denial marked as still encoded, with the hint to decode it."""
    return replace(denial, decode_error=why or f"not decoded: {DECODE_HINT}")


def decode_denials(denials: Sequence[Denial], session: Any, catalog: Catalog) -> tuple[Denial, ...]:
    """Decode every encoded message with ``sts:DecodeAuthorizationMessage`` through ``session``
    (a ``LiveSession``); a failure to decode one is recorded on it, never raised."""
    decoded: list[Denial] = []
    for denial in denials:
        if denial.encoded is None:
            decoded.append(denial)
            continue
        try:
            response = session.call("sts", "DecodeAuthorizationMessage", EncodedMessage=denial.encoded)
        except AwsAccessError as error:
            decoded.append(without_decoding(denial, f"could not decode: {error}"))
            continue
        except NotImplementedError as error:  # an endpoint without the call (moto, LocalStack)
            decoded.append(without_decoding(denial, f"could not decode: {error or 'not implemented here'}"))
            continue
        message = response.get("DecodedMessage")
        if not isinstance(message, str):
            decoded.append(without_decoding(denial, "could not decode: STS returned no DecodedMessage"))
            continue
        decoded.append(apply_decoded(denial, message, catalog))
    return tuple(decoded)
