"""Fault injection for live reads: AWS's own failure modes, below botocore's retry machinery.

``Faults.install`` registers one ``before-send`` hook per client of a ``LiveSession``. The hook
runs where the HTTP exchange would, so what it returns is parsed by botocore exactly like AWS's
answer, and botocore's retries (standard mode) see throttling, 5xx and timeouts as they would see
real ones. Each rule says which operation it hits, what it does, and for how many attempts.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from zeet_iam_audit.sources.live_session import LiveSession

QUERY_SERVICES = frozenset({"iam", "sts"})  # XML errors; organizations speaks JSON


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def error_answer(service: str, url: str, status: int, code: str, message: str) -> AWSResponse:
    """An error response as the service's protocol writes it."""
    if service in QUERY_SERVICES:
        body = (
            f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/2010-05-08/"><Error>'
            f"<Type>{'Sender' if status < 500 else 'Receiver'}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>fault-0001</RequestId></ErrorResponse>"
        ).encode()
        return AWSResponse(url, status, {"Content-Type": "text/xml"}, _Body(body))
    body = json.dumps({"__type": code, "message": message}).encode()
    return AWSResponse(
        url, status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, _Body(body)
    )


# What a fault does to one attempt: an error answer, or an exception from the transport.
THROTTLE = ("answer", 400, "Throttling", "Rate exceeded")
SERVER_ERROR = ("answer", 500, "ServiceFailure", "Internal failure")
UNAVAILABLE = ("answer", 503, "ServiceUnavailable", "Service is unavailable")
DENIED = ("answer", 403, "AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/auditor/s is not authorized")
ORG_DENIED = ("answer", 400, "AccessDeniedException", "You don't have permissions to access this resource.")
GONE = ("answer", 404, "NoSuchEntity", "The role cannot be found.")
TIMEOUT = ("timeout", 0, "", "")
CONNECT_TIMEOUT = ("connect-timeout", 0, "", "")


def raw_answer(status: int, content_type: str, body: str) -> tuple[str, int, str, str]:
    """A fault that answers with any body (an HTML page, a hand-written AWS answer)."""
    return ("raw", status, content_type, body)


@dataclass
class Rule:
    operation: str  # "iam:GetRolePolicy", or "*" for every operation
    fault: tuple[str, int, str, str]
    attempts: int | None = None  # how many attempts of each request it hits; None: every one
    when: Callable[[bytes], bool] | None = None  # a test of the request body (which role, which policy)
    hits: Counter[tuple[str, bytes]] = field(default_factory=Counter)  # per request: attempts hit

    def matches(self, label: str, body: bytes) -> bool:
        if self.operation not in ("*", label):
            return False
        if self.when is not None and not self.when(body):
            return False
        return self.attempts is None or self.hits[(label, body)] < self.attempts


@dataclass
class Faults:
    """Rules applied in order (the first that matches decides); ``rate`` adds random transient
    faults (throttling, 5xx, timeouts) with a fixed seed."""

    rules: list[Rule] = field(default_factory=list)
    rate: float = 0.0
    seed: int = 0
    attempts: Counter[str] = field(default_factory=Counter)  # operation → attempts seen (faulted or not)
    injected: Counter[str] = field(default_factory=Counter)  # operation → faults injected

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def install(self, session: LiveSession, services: tuple[str, ...] = ("iam", "sts", "organizations")) -> None:
        for service in services:
            client = session.client(service)
            client.meta.events.register(f"before-send.{client.meta.service_model.service_id.hyphenize()}", self._hook)

    def _hook(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _event, service_id, operation = event_name.split(".")
        service = {"organizations": "organizations", "iam": "iam", "sts": "sts"}[service_id]
        label = f"{service}:{operation}"
        self.attempts[label] += 1
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        fault = None
        for rule in self.rules:
            if rule.matches(label, body):
                rule.hits[(label, body)] += 1
                fault = rule.fault
                break
        if fault is None and self.rate and self._random.random() < self.rate:
            fault = self._random.choice([THROTTLE, SERVER_ERROR, UNAVAILABLE, TIMEOUT])
        if fault is None:
            return None
        self.injected[label] += 1
        kind, status, code, message = fault
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        if kind == "connect-timeout":
            raise ConnectTimeoutError(endpoint_url=request.url)
        if kind == "raw":
            return AWSResponse(request.url, status, {"Content-Type": code}, _Body(message.encode()))
        return error_answer(service, request.url, status, code, message)


def body_names(*values: str) -> Callable[[bytes], bool]:
    """A ``when`` test: the request names all of ``values`` (query-string or JSON body)."""
    return lambda body: all(value.encode() in body for value in values)
