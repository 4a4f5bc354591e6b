"""Every authorization failure in pasted text, whatever printed it.

Recognised, anywhere in the text and as many times as they occur:

- AWS's message, in all its forms: ``User: ARN is not authorized to perform: ACTION [on resource:
  RESOURCE]`` followed by ``because no <layer> allows the ACTION action``, by ``with an explicit deny
  in a(n) <layer>[: POLICY-ARN]``, by another ``because ...`` sentence (KMS), or by nothing (the
  older form). Layers: identity-based policy, resource-based policy, permissions boundary, service
  control policy, session policy, VPC endpoint policy, resource control policy.
- EC2's ``You are not authorized to perform this operation. Encoded authorization failure message:
  ...`` (with or without the ``User: ...`` sentence EC2 now adds); the encoded part is kept for
  ``sts:DecodeAuthorizationMessage``.
- The message inside JSON bodies (``{"__type": "AccessDeniedException", "message": ...}``), XML
  bodies (``<ErrorResponse><Error><Code>AccessDenied</Code><Message>...``), AWS CLI errors
  (``An error occurred (AccessDenied) when calling the X operation: ...``), Go SDK / Terraform
  errors (``operation error SQS: CreateQueue, https response error StatusCode: 403, ... api error
  AccessDenied: ...``), CloudFormation stack events (``Resource handler returned message: "..."``
  and the older ``API: sns:CreateTopic User: ...``), CDK's event lines and ``❌`` summary, and the
  SAM CLI's events table (its ResourceStatusReason column re-joined across rows).
- A 403 that names no IAM action (``api error Forbidden: Forbidden`` from S3's HeadBucket, ``An
  error occurred (AccessDenied) when calling the GetObject operation: Access Denied``, ``An error
  occurred (403) when calling the HeadObject operation: Forbidden``, the answer of S3's HEAD requests,
  which carry no error body): the API operation is reported, translated to its IAM action where that
  is known (HeadObject is authorized by ``s3:GetObject``, HeadBucket by ``s3:ListBucket``).
- CloudTrail events, one event or a ``{"Records": [...]}`` file: every event whose ``errorCode`` is
  an authorization failure (``AccessDenied``, ``UnauthorizedOperation``, ...), read by ``cloudtrail.py``.

Text may be folded across lines (terminal or tool wrapping, Terraform's ``│`` gutter, CI timestamps,
colour codes), quoted or escaped (``\\"`` in JSON, ``&quot;`` in XML): lines are un-prefixed and
re-joined, phrases match across line breaks, and a field broken inside a word is glued back when the
catalogue (for actions) or the ARN's shape (for resources) shows it was cut.

Everything here is pure: text in, ``Denial`` values (``denial_values.py``) out.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterator
from dataclasses import replace

from zeet_iam_audit.catalog import Catalog
from zeet_iam_audit.support.actions import clean_token, resolve_action, resolve_operation
from zeet_iam_audit.support.cloudtrail import cloudtrail_events, cloudtrail_found
from zeet_iam_audit.support.denial_values import (
    ACCESS_DENIED_CODES,
    LAYER_NAMES,
    Denial,
    Found,
    Reason,
    principal_account,
    principal_role,
)

__all__ = [
    "ACCESS_DENIED_CODES",
    "LAYER_NAMES",
    "Denial",
    "Reason",
    "cloudtrail_events",
    "find_denials",
    "prepare",
    "principal_account",
    "principal_role",
]

# API operations only one service has: a CLI error naming them needs no ``aws SERVICE`` line.
_ONLY_IN = {"headobject": "s3", "headbucket": "s3"}


def _phrase(text: str) -> str:
    """A regex for ``text`` that survives folding: any whitespace (or none, where a tool re-joined
    wrapped lines without it) between words, and a line break inside a word."""
    words = []
    for word in text.split():
        words.append(r"(?:\n[ \t]*)?".join(re.escape(char) for char in word))
    return r"\s*".join(words)


_TOKEN = r"[^\s\"'<>]+"
# A principal, possibly folded over lines; bounded so that a long run of ARNs stays linear to scan.
_PIECE = r"[^\s\"'<>]{1,512}"
_FOLDED = rf"{_PIECE}(?:\n[ \t]*{_PIECE}){{0,8}}?"
_LAYER = "|".join(_phrase(name) for name in LAYER_NAMES)
_NOT_AUTHORIZED = _phrase("is not authorized to perform") + r"\s*:\s*"

_MESSAGE = re.compile(
    rf"(?:(?:\bUser|\bPrincipal)\s*:\s*[\"']?(?P<principal>{_FOLDED})|(?P<bare>\barn:{_FOLDED}))[\"']?"
    rf"\s*{_NOT_AUTHORIZED}[\"']?(?P<action>{_TOKEN})",
    re.IGNORECASE,
)
_ON_RESOURCE = re.compile(
    rf"[\"']?\s*{_phrase('on resource')}\s*:?\s*(?P<quote>[\"']?)(?P<resource>{_TOKEN})", re.IGNORECASE
)
_ON_THE_RESOURCE = re.compile(rf"[\"']?\s*{_phrase('on the resource')}", re.IGNORECASE)
_IMPLICIT = re.compile(
    rf"[\"']?\s*{_phrase('because no')}\s*(?P<layer>{_LAYER})\s*{_phrase('allows the')}\s*(?P<action>{_TOKEN})"
    rf"\s*{_phrase('action')}",
    re.IGNORECASE,
)
_EXPLICIT = re.compile(
    rf"[\"']?\s*(?:{_phrase('with an')})?\s*{_phrase('explicit deny in')}\s*(?:an?\s*)?(?P<layer>{_LAYER})"
    rf"(?:\s*:\s*(?P<policy>arn:{_TOKEN}))?",
    re.IGNORECASE,
)
_BECAUSE = re.compile(
    r"[\"']?\s*because\s+(?P<text>[^\n\"]{1,400}?)(?=\s*\(Service:|[\"\n]|\.(?:\s|$)|$)", re.IGNORECASE
)
_ENCODED_AFTER = re.compile(
    rf"\s*\.?\s*{_phrase('Encoded authorization failure message')}\s*:\s*(?P<encoded>[A-Za-z0-9_-]+)",
    re.IGNORECASE,
)
_ENCODED_ALONE = re.compile(
    rf"{_phrase('You are not authorized to perform this operation')}\.?\s*"
    rf"{_phrase('Encoded authorization failure message')}\s*:\s*(?P<encoded>[A-Za-z0-9_-]+)",
    re.IGNORECASE,
)
_S3_BUCKET = re.compile(r"S3\s+Bucket\s+\((?P<bucket>[a-z0-9][a-z0-9.-]{1,62})\)")
_SDK_403 = re.compile(
    r"operation\s+error\s+(?P<service>[A-Za-z0-9][A-Za-z0-9 ]*?)\s*:\s*(?P<op>[A-Za-z0-9]+)\s*,\s*"
    r"https\s+response\s+error\s+StatusCode\s*:\s*403\s*,(?P<rest>[^\n]*)",
    re.IGNORECASE,
)
_CLI_ERROR = re.compile(
    r"An\s+error\s+occurred\s+\((?P<code>[A-Za-z0-9.]+)\)\s+when\s+calling\s+the\s+(?P<op>[A-Za-z0-9]+)\s+"
    r"operation(?:\s*\(reached max retries: \d+\))?\s*:\s*(?P<rest>[^\n]*)",
    re.IGNORECASE,
)
_API_ERROR = re.compile(r"api\s+error\s+(?P<code>[A-Za-z.]+)\s*:\s*(?P<message>[^\n]*)", re.IGNORECASE)

# Context markers looked for before a message, nearest first.
_OPERATION_BEFORE = (
    re.compile(
        r"operation\s+error\s+(?P<service>[A-Za-z0-9][A-Za-z0-9 ]*?)\s*:\s*(?P<op>[A-Za-z0-9]+)\s*,", re.IGNORECASE
    ),
    re.compile(r"when\s+calling\s+the\s+(?P<op>[A-Za-z0-9]+)\s+operation", re.IGNORECASE),
)
_CODE_BEFORE = (
    re.compile(r"\"__type\"\s*:\s*\"(?:[^\"#]*#)?(?P<code>[A-Za-z.]+)\""),
    re.compile(r"\"(?:code|Code)\"\s*:\s*\"(?P<code>[A-Za-z.]+)\""),
    re.compile(r"<Code>\s*(?P<code>[A-Za-z.]+)\s*</Code>"),
    re.compile(r"api\s+error\s+(?P<code>[A-Za-z.]+)\s*:", re.IGNORECASE),
    re.compile(r"An\s+error\s+occurred\s+\((?P<code>[A-Za-z.]+)\)", re.IGNORECASE),
    re.compile(r"\b(?P<code>[A-Za-z]*(?:AccessDenied[A-Za-z]*|UnauthorizedOperation|AuthorizationError))\s*:"),
)
_CODE_AFTER = re.compile(r"(?:HandlerErrorCode|Error Code)\s*:\s*(?P<code>[A-Za-z.]+)")
_API_BEFORE = re.compile(r"\bAPI\s*:\s*(?P<api>[A-Za-z0-9-]+:[A-Za-z0-9]+)")
_LOOKBACK = 700

# Line prefixes that are not part of the message.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_LINE_PREFIX = re.compile(
    r"^(?:[ \t]*\d{4}-\d{2}-\d{2}[T ][0-9:.,]+(?:Z|[+-]\d{2}:?\d{2})?[ \t]+)?"  # CI timestamps
    r"(?:[ \t]*(?:[│┃╷╵╎]|>(?=[ \t]))[ \t]?)*"  # Terraform's gutter, quote markers
)
_SAM_HEADER = re.compile(r"ResourceStatus\s+ResourceType\s+LogicalResourceId\s+ResourceStatusReason")
_SAM_STATUS = re.compile(r"^(?:CREATE|UPDATE|DELETE|ROLLBACK|IMPORT|REVIEW|UPDATE_ROLLBACK)_[A-Z_]*")
_DASHES = re.compile(r"^-{10,}\s*$")
_ENCODED_LINE = re.compile(r"^[A-Za-z0-9_-]{16,}$")
_ARN_CONTINUES = "-/:_."


# -- preparing the text ---------------------------------------------------------------------------


def _unescape(text: str) -> str:
    text = html.unescape(text)
    text = text.replace('\\"', '"').replace("\\/", "/").replace("\\'", "'")
    # Escaped line breaks inside JSON strings: a space keeps the original line numbering.
    return text.replace("\\r\\n", " ").replace("\\n", " ").replace("\\t", " ")


def _sam_rows(lines: list[str]) -> tuple[list[str], set[int]]:
    """Re-join the SAM CLI events table's ResourceStatusReason column, one row per first line.

    SAM wraps each column with ``textwrap``, which breaks long words and after hyphens: a fragment
    that fills the column or ends in a hyphen continues without a space. Continuation lines are
    emptied so that line numbers stay those of the original text.
    """
    result = list(lines)
    starts: set[int] = set()
    index = 0
    while index < len(lines):
        header = _SAM_HEADER.search(lines[index])
        if header is None:
            index += 1
            continue
        status_column = header.start()
        column = lines[index].index("ResourceStatusReason", status_column)
        rows: list[tuple[int, list[str]]] = []
        end = index + 1
        while end < len(lines):
            line = lines[end]
            if _DASHES.match(line.strip()):
                if rows:
                    break
                end += 1
                continue
            if _SAM_STATUS.match(line[status_column:column].strip()):
                rows.append((end, []))
            if rows:
                rows[-1][1].append(line[column:].rstrip())
            end += 1
        width = max((len(fragment) for _, fragments in rows for fragment in fragments), default=0)
        for start, fragments in rows:
            joined, previous = "", ""
            for fragment in fragments:
                piece = fragment.strip()
                if not piece:
                    continue
                if not joined:
                    joined = piece
                elif previous.endswith("-") or len(previous) >= width - 1:
                    joined += piece
                else:
                    joined += " " + piece
                previous = fragment
            result[start] = lines[start][:column] + joined
            starts.add(start + 1)
            for position in range(start + 1, start + len(fragments)):
                result[position] = ""
        index = end + 1
    return result, starts


def prepare(text: str) -> tuple[str, frozenset[int]]:
    """The text with colour codes, gutters and escapes removed, line for line (numbering kept), and
    the line numbers of SAM events-table rows that were re-joined."""
    text = _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines, sam_rows = _sam_rows(text.split("\n"))  # before anything shifts the table's columns
    lines = _unescape("\n".join(lines)).split("\n")
    cleaned = "\n".join(_LINE_PREFIX.sub("", line, count=1).rstrip() for line in lines)
    return cleaned, frozenset(sam_rows)


# -- finding failures -----------------------------------------------------------------------------


def _next_fragment(text: str, position: int) -> tuple[str, int] | None:
    """The first token of the next line when ``position`` sits at a line break, and its end."""
    match = re.compile(r"\n[ \t]*([^\s\"'<>]+)").match(text, position)
    if match is None:
        return None
    return match.group(1), match.end()


def _glue_action(text: str, action: str, end: int, catalog: Catalog) -> tuple[str, int]:
    """An action cut by a line fold: glue the next line's first token if that makes a known action."""
    if catalog.get(clean_token(action)) is not None:
        return action, end
    following = _next_fragment(text, end)
    if following is not None:
        fragment, fragment_end = following
        glued = clean_token(action + fragment)
        if catalog.get(glued) is not None:
            return action + fragment, fragment_end
    return action, end


def _incomplete_arn(value: str) -> bool:
    if value.startswith("arn:"):
        return value.count(":") < 5 or value.endswith(tuple(_ARN_CONTINUES))
    return False


def _glue_resource(text: str, resource: str, end: int, quote: str) -> tuple[str, int]:
    """A resource cut by a line fold: glue following first tokens while the ARN is visibly cut, or
    until the closing quote when the resource was quoted."""
    for _ in range(8):
        if quote and text[end : end + 1] == quote:
            break
        if not quote and not _incomplete_arn(resource):
            break
        following = _next_fragment(text, end)
        if following is None:
            break
        resource, end = resource + following[0], following[1]
    return resource, end


def _line_length(text: str, position: int) -> int:
    start = text.rfind("\n", 0, position) + 1
    stop = text.find("\n", position)
    return (len(text) if stop < 0 else stop) - start


def _encoded_tail(text: str, encoded: str, end: int) -> tuple[str, int]:
    """An encoded message folded over several lines: a following line that holds nothing but encoded
    characters belongs to it when it is long, or when the line before it was cut at the fold width."""
    pattern = re.compile(r"\n[ \t]*([A-Za-z0-9_-]+)[ \t]*(?=\n|$)")
    width = _line_length(text, end - 1)
    previous = width
    while True:
        match = pattern.match(text, end)
        if match is None:
            return encoded, end
        piece = match.group(1)
        if not (_ENCODED_LINE.match(piece) or previous >= width):
            return encoded, end
        encoded, end = encoded + piece, match.end(1)
        previous = _line_length(text, end - 1)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _context(text: str, start: int, end: int, floor: int) -> dict[str, str | None]:
    """The error code, API operation and tool around a message at ``start``..``end``."""
    window_start = max(floor, start - _LOOKBACK)
    before = text[window_start:start]
    after = text[end : end + 300]
    found: dict[str, str | None] = {"code": None, "operation": None, "service": None, "api": None, "source": None}
    for pattern in _OPERATION_BEFORE:
        matches = list(pattern.finditer(before))
        if matches:
            last = matches[-1]
            found["operation"] = last.group("op")
            found["service"] = last.groupdict().get("service")
            break
    best = -1
    for pattern in _CODE_BEFORE:
        for match in pattern.finditer(before):
            if match.start() > best:
                best, found["code"] = match.start(), match.group("code")
    if found["code"] is None:
        code_after = _CODE_AFTER.search(after)
        if code_after is not None:
            found["code"] = code_after.group("code")
    api = list(_API_BEFORE.finditer(before))
    if api:
        found["api"] = api[-1].group("api")
    line_start = text.rfind("\n", 0, start) + 1
    line = text[line_start : text.find("\n", start) if "\n" in text[start:] else len(text)]
    found["source"] = _source_of(before, line)
    return found


def _source_of(before: str, line: str) -> str:
    """Which tool printed the message, judged from the text around it."""
    near = before[-400:]
    if "❌" in near or re.search(r"\|\s*\d+/\d+\s*\|", line) or "failed: Error: The stack named" in near:
        return "cdk"
    if re.search(r"Resource\s+handler\s+returned\s+message", near) or _API_BEFORE.search(near):
        return "cloudformation"
    if re.search(r"https\s+response\s+error\s+StatusCode", near):
        return "terraform" if re.search(r"(?:^|\n)\s*Error:", before) else "aws-sdk"
    if re.search(r"when\s+calling\s+the\s+\w+\s+operation", near):
        return "aws-cli"
    if '"__type"' in near or re.search(r"\"[Mm]essage\"\s*:\s*\"$", near.rstrip()):
        return "json"
    if re.search(r"<(?:Error|Code|Message)>", near):
        return "xml"
    if re.search(r"CREATE_FAILED|UPDATE_FAILED|DELETE_FAILED", line):
        return "cloudformation"
    return "aws"


def _clean_resource(text: str) -> str:
    """A printed resource without quotes and sentence punctuation (a trailing ``:`` is kept: some
    ARNs end with one)."""
    token = "".join(text.split()).lstrip("\"'`([{<")
    return token.rstrip("\"'`.,;)]}>")


def _split_glued(text: str, start: int, end: int, follow: tuple[re.Pattern[str], ...]) -> int:
    """Where a field that swallowed the next phrase (a tool re-joined folded lines without a space:
    ``role/xbecause``) really ends: the first point inside it where one of ``follow`` matches."""
    for match in re.finditer(r"because|with|on", text[start:end], re.IGNORECASE):
        position = start + match.start()
        if position > start and any(pattern.match(text, position) for pattern in follow):
            return position
    return end


def _reason_name(layer: str) -> str:
    return next(name for name, value in LAYER_NAMES.items() if value == layer)


def _read_message(match: re.Match[str], text: str, catalog: Catalog) -> tuple[Denial, int]:
    principal = clean_token(match.group("principal") or match.group("bare"))
    action_start = match.start("action")
    action_end = match.end("action")
    if catalog.get(clean_token(text[action_start:action_end])) is None:
        action_end = _split_glued(text, action_start, action_end, (_ON_RESOURCE, _IMPLICIT, _EXPLICIT))
    action_raw, end = _glue_action(text, text[action_start:action_end], action_end, catalog)
    resolved = resolve_action(action_raw, catalog)
    resource: str | None = None
    on = _ON_RESOURCE.match(text, end)
    if on is not None:
        resource_end = _split_glued(text, on.start("resource"), on.end("resource"), (_IMPLICIT, _EXPLICIT))
        resource_raw, end = _glue_resource(
            text, text[on.start("resource") : resource_end], resource_end, on.group("quote")
        )
        if on.group("quote") and text[end : end + 1] == on.group("quote"):
            end += 1
        resource = _clean_resource(resource_raw) or None
    else:
        on_the = _ON_THE_RESOURCE.match(text, end)
        if on_the is not None:
            # "on the resource associated with this ciphertext" (KMS): no ARN; the reason follows.
            tail = re.compile(r"[^\n\"]*?(?=\s+because\b|[\"\n]|$)", re.IGNORECASE).match(text, on_the.end())
            end = tail.end() if tail is not None else on_the.end()
    reason = Reason()
    implicit = _IMPLICIT.match(text, end)
    explicit = _EXPLICIT.match(text, end) if implicit is None else None
    if implicit is not None:
        layer = LAYER_NAMES[_one_line(implicit.group("layer")).lower()]
        stated = resolve_action(implicit.group("action"), catalog).action or clean_token(implicit.group("action"))
        reason = Reason(
            layer=layer, explicit=False, text=f"because no {_reason_name(layer)} allows the {stated} action"
        )
        end = implicit.end()
    elif explicit is not None:
        layer = LAYER_NAMES[_one_line(explicit.group("layer")).lower()]
        policy = clean_token(explicit.group("policy")) if explicit.group("policy") else None
        article = "an" if layer == "identity" else "a"
        suffix = f": {policy}" if policy else ""
        reason = Reason(
            layer=layer,
            explicit=True,
            policy=policy,
            text=f"with an explicit deny in {article} {_reason_name(layer)}{suffix}",
        )
        end = explicit.end()
    else:
        because = _BECAUSE.match(text, end)
        if because is not None:
            reason = Reason(text="because " + _one_line(because.group("text")))
            end = because.end()
    encoded: str | None = None
    encoded_match = _ENCODED_AFTER.match(text, end)
    if encoded_match is not None:
        encoded, end = _encoded_tail(text, encoded_match.group("encoded"), encoded_match.end("encoded"))
    denial = Denial(
        principal=principal or None,
        action=resolved.action,
        action_written=resolved.written,
        action_note=resolved.note,
        resource=resource,
        reason=reason,
        source="aws",
        line=0,
        message=_one_line(text[match.start() : end]),
        encoded=encoded,
    )
    return denial, end


def _with_context(denial: Denial, context: dict[str, str | None], catalog: Catalog) -> Denial:
    code = context["code"]
    operation = context["operation"]
    if context["api"] and operation is None:
        operation = context["api"]
    action, written, note = denial.action, denial.action_written, denial.action_note
    if action is None and operation and context["service"]:
        resolved = resolve_operation(context["service"], operation, catalog)
        if resolved.action is not None or written is None:
            action, written, note = resolved.action, resolved.written, resolved.note
    source = context["source"] or denial.source
    if denial.encoded and source == "aws":
        source = "ec2-encoded"
    return replace(
        denial,
        error_code=code,
        operation=operation,
        source=source,
        action=action,
        action_written=written,
        action_note=note,
    )


class _Spans:
    """Parts of the text already read (disjoint, kept sorted): whether a match falls inside one is a
    lookup, not a scan, however many failures a long log holds."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        index = bisect.bisect_left(self._starts, start)
        self._starts.insert(index, start)
        self._ends.insert(index, end)

    def covers(self, position: int) -> bool:
        """Whether ``position`` lies inside a span."""
        index = bisect.bisect_right(self._starts, position) - 1
        return index >= 0 and position < self._ends[index]

    def any_start_within(self, start: int, end: int) -> bool:
        """Whether a span begins inside ``start``..``end``."""
        index = bisect.bisect_left(self._starts, start)
        return index < len(self._starts) and self._starts[index] < end


def _iter_found(text: str, catalog: Catalog) -> Iterator[Found]:
    floor = 0
    taken = _Spans()
    for match in _MESSAGE.finditer(text):
        if taken.covers(match.start()):
            continue
        denial, end = _read_message(match, text, catalog)
        taken.add(match.start(), end)
        context = _context(text, match.start(), end, floor)
        floor = end
        yield Found(match.start(), end, _with_context(denial, context, catalog))
    for match in _ENCODED_ALONE.finditer(text):
        if taken.covers(match.start()) or taken.covers(match.end("encoded") - 1):
            continue
        encoded, end = _encoded_tail(text, match.group("encoded"), match.end("encoded"))
        taken.add(match.start(), end)
        context = _context(text, match.start(), end, 0)
        denial = Denial(
            principal=None,
            action=None,
            action_written=None,
            resource=None,
            reason=Reason(),
            source="ec2-encoded",
            line=0,
            message=_one_line(text[match.start() : end]),
            encoded=encoded,
        )
        denial = _with_context(denial, context, catalog)
        if denial.action is None and denial.operation:
            # EC2 is the service that encodes its failures; the CLI names only the operation.
            resolved = resolve_operation(context["service"] or "ec2", denial.operation, catalog)
            denial = replace(denial, action=resolved.action, action_written=resolved.written, action_note=resolved.note)
        if denial.source not in ("terraform", "aws-sdk", "aws-cli", "cloudformation", "cdk", "sam"):
            denial = replace(denial, source="ec2-encoded")
        yield Found(match.start(), end, denial)
    yield from _plain_403s(text, catalog, taken)


def _plain_403s(text: str, catalog: Catalog, taken: _Spans) -> Iterator[Found]:
    """403s whose message names no action: the API operation stands in for it."""
    for pattern in (_SDK_403, _CLI_ERROR):
        for match in pattern.finditer(text):
            rest_start = match.start("rest")
            if taken.any_start_within(rest_start, match.end()):
                continue  # the IAM message inside was already read
            if taken.covers(match.start()):
                continue
            rest = match.group("rest")
            resource: str | None = None
            if pattern is _CLI_ERROR:
                code = match.group("code")
                if code.lower() not in ACCESS_DENIED_CODES:
                    continue
                message = rest.strip()
                before = text[max(0, match.start() - _LOOKBACK) : match.start()]
                resolved_action, written, note = _cli_operation(match.group("op"), before, catalog)
                resource = _s3_resource(before) if (resolved_action or "").startswith("s3:") else None
                source = "aws-cli"
            else:
                api = _API_ERROR.search(rest)
                code = api.group("code") if api else None
                message = api.group("message").strip() if api else rest.strip()
                resolved = resolve_operation(match.group("service"), match.group("op"), catalog)
                resolved_action, written, note = resolved.action, resolved.written, resolved.note
                before = text[max(0, match.start() - _LOOKBACK) : match.start()]
                line_start = text.rfind("\n", 0, match.start()) + 1
                bucket = _S3_BUCKET.search(text, line_start, match.start())
                if bucket is not None and match.group("service").strip().lower() == "s3":
                    resource = f"arn:aws:s3:::{bucket.group('bucket')}"
                source = "terraform" if re.search(r"(?:^|\n)\s*Error:", before) else "aws-sdk"
            if match.group("op").lower() == "headobject" and note:
                note += (
                    "; a HEAD request's 403 is also S3's answer for a key that does not exist when "
                    "s3:ListBucket is not allowed on the bucket"
                )
            taken.add(match.start(), match.end())
            yield Found(
                match.start(),
                match.end(),
                Denial(
                    principal=None,
                    action=resolved_action,
                    action_written=written,
                    action_note=note,
                    resource=resource,
                    reason=Reason(text=message or None),
                    source=source,
                    line=0,
                    message=_one_line(match.group(0)),
                    error_code=code,
                    operation=match.group("op"),
                ),
            )


_CLI_COMMAND = re.compile(r"\baws\s+(?:--[a-z-]+(?:\s+[^\s-]\S*)?\s+)*(?P<service>[a-z0-9-]+)\s+[a-z0-9-]+")
_CLI_SERVICES = {"s3api": "s3", "elbv2": "elasticloadbalancingv2", "sts": "sts"}


_S3_URL = re.compile(r"\bs3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,62})(?:/(?P<key>[^\s\"']*))?")
_S3_OPTIONS = re.compile(r"--bucket\s+(?P<bucket>[a-z0-9][a-z0-9.-]{1,62})(?:\s+--key\s+(?P<key>[^\s\"']+))?")


def _s3_resource(before: str) -> str | None:
    """The bucket (and object) of the last ``aws s3 ... s3://B/K`` or ``aws s3api ... --bucket B
    [--key K]`` command printed before an S3 error."""
    commands = list(_CLI_COMMAND.finditer(before))
    if not commands:
        return None
    line = before[commands[-1].start() :].split("\n", 1)[0]
    found = _S3_URL.search(line) or _S3_OPTIONS.search(line)
    if found is None:
        return None
    key = found.group("key")
    return f"arn:aws:s3:::{found.group('bucket')}" + (f"/{key}" if key else "")


def _cli_operation(operation: str, before: str, catalog: Catalog) -> tuple[str | None, str, str | None]:
    """The AWS CLI names the operation but not the service: the service comes from the ``aws SERVICE
    COMMAND`` line printed before the error, when there is one, or from the operation when only one
    service has it (HeadObject, HeadBucket)."""
    commands = list(_CLI_COMMAND.finditer(before))
    services = [commands[-1].group("service")] if commands else []
    if operation.lower() in _ONLY_IN:
        services.append(_ONLY_IN[operation.lower()])
    for service in services:
        resolved = resolve_operation(_CLI_SERVICES.get(service, service), operation, catalog)
        if resolved.action is not None:
            return resolved.action, resolved.written, resolved.note
    return (
        None,
        operation,
        (
            f"the AWS CLI names the API operation {operation} but not the service: find the IAM action "
            "that authorizes it for the service you called"
        ),
    )


def find_denials(text: str, catalog: Catalog) -> tuple[Denial, ...]:
    """Every authorization failure in ``text``, in the order they first appear; a failure printed
    several times (CDK's event line and its summary) is one ``Denial`` with every line in ``lines``."""
    events = cloudtrail_events(text)
    if events is not None:
        return _merged(
            sorted(cloudtrail_found(events, text, catalog, find_denials), key=lambda f: f.start), text, frozenset()
        )
    prepared, sam_rows = prepare(text)
    return _merged(sorted(_iter_found(prepared, catalog), key=lambda f: f.start), prepared, sam_rows)


def _merged(found: list[Found], text: str, sam_rows: frozenset[int]) -> tuple[Denial, ...]:
    breaks = [match.start() for match in re.finditer("\n", text)]
    merged: dict[tuple[object, ...], Denial] = {}
    for item in found:
        denial = replace(item.denial, line=bisect.bisect_right(breaks, item.start) + 1)
        if denial.line in sam_rows:
            denial = replace(denial, source="sam")
        existing = merged.get(denial.key)
        if existing is None:
            merged[denial.key] = replace(denial, lines=(denial.line,))
        else:
            better = existing
            if existing.source == "aws" and denial.source != "aws":
                better = replace(existing, source=denial.source)
            if better.error_code is None and denial.error_code is not None:
                better = replace(better, error_code=denial.error_code)
            if better.operation is None and denial.operation is not None:
                better = replace(better, operation=denial.operation)
            merged[denial.key] = replace(better, lines=(*existing.lines, denial.line))
    return tuple(merged.values())
