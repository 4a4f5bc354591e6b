"""The AWS side of live audits: one boto3 session, read-only clients, AWS errors as one-line errors.

boto3 and botocore are imported inside functions only, so importing this module (or anything
else in the package) never loads them; only a live audit does.

Every client made here carries a guard on botocore's ``provide-client-params`` event, the first
event of every API call, before parameters are even validated: it records the operation
(``"iam:GetRole"``) in ``LiveSession.calls`` and refuses, with ``ReadOnlyError``, any operation
that is not a read (see ``is_read_only``). Nothing is sent for a refused call. Credentials that a
profile resolves through its own clients (an SSO token exchange, the ``sts:AssumeRole`` of an
assume-role profile) are botocore's business and do not pass through the guard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from zeet_iam_audit import __version__
from zeet_iam_audit.errors import AwsAccessError, ZeetIamAuditError

READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Simulate")
# sts:Get* also covers GetSessionToken and GetFederationToken, which mint credentials: only these two.
STS_ALLOWED = frozenset({"GetCallerIdentity", "DecodeAuthorizationMessage"})
DEFAULT_REGION = "us-east-1"  # IAM, STS and Organizations answer there when nothing else is set
INCOMPLETE_LISTING = "IncompleteListing"  # the code of an IncompleteListingError
MAX_PAGES = 10_000  # pages of one listing; far more than an account holds (1,000 roles a page)
CONNECT_TIMEOUT = 5.0  # seconds to open a connection
CONNECT_ATTEMPTS = 2  # connection failures per session before the run stops: an unreachable
# endpoint is reported in about CONNECT_TIMEOUT * CONNECT_ATTEMPTS seconds, not after every retry

ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "AuthFailure",
    }
)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE (or pass --profile), or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY; for an SSO profile run 'aws sso login' first"
)


def one_line(text: object) -> str:
    """A message squeezed onto one line (AWS and botocore messages sometimes span several)."""
    return " ".join(str(text).split())


def is_read_only(service: str, operation: str) -> bool:
    """Whether the guard lets ``service:operation`` through: reads and simulations only."""
    if service == "sts":
        return operation in STS_ALLOWED
    return operation.startswith(READ_ONLY_PREFIXES)


class ReadOnlyError(AwsAccessError):
    """An operation that would change something: refused before any request is made."""


class AwsCredentialsError(AwsAccessError):
    """No credentials, or credentials AWS rejects (expired, invalid)."""


class AwsCallError(AwsAccessError):
    """AWS answered one call with an error code (AccessDenied, NoSuchEntity, ...).

    Readers catch it to turn a denied read into an unknown; anything they do not handle stops the
    run with this one-line message.
    """

    def __init__(self, operation: str, code: str, detail: str) -> None:
        self.operation = operation
        self.code = code
        self.detail = detail
        super().__init__(f"{operation} failed: {code}: {detail}" if detail else f"{operation} failed: {code}")

    @property
    def denied(self) -> bool:
        return self.code in ACCESS_DENIED_CODES


class IncompleteListingError(AwsCallError):
    """A paginated listing the endpoint did not end properly (no marker, a loop, too many pages)."""

    def __init__(self, operation: str, detail: str) -> None:
        super().__init__(operation, INCOMPLETE_LISTING, detail)


class LiveSession:
    """A boto3 session and the read-only clients made from it, with every call recorded.

    ``calls`` lists each attempted operation once per API call (retries are not counted again),
    refused ones included, in order.
    """

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = 8,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = 30,
    ) -> None:
        self.profile = profile
        self.region = region
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.calls: list[str] = []
        self.connect_failures = 0
        self._boto: Any = None
        self._clients: dict[str, Any] = {}

    def _session(self) -> Any:
        if self._boto is None:
            import boto3

            with self.translating("AWS session"):
                self._boto = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return self._boto

    def client(self, service: str) -> Any:
        """The client for one service (made once), guarded and configured."""
        client = self._clients.get(service)
        if client is None:
            from botocore.config import Config

            session = self._session()
            # total_max_attempts counts the first try (botocore's max_attempts counts retries only),
            # so max_attempts=1 means no retry and the throttling message's count is exact.
            config = Config(
                retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                user_agent_extra=f"zeet-iam-audit/{__version__}",
            )
            with self.translating(f"{service} client"):
                client = session.client(
                    service,
                    region_name=session.region_name or DEFAULT_REGION,
                    endpoint_url=self.endpoint_url,
                    config=config,
                )
            client.meta.events.register_first("provide-client-params.*.*", self._guard)
            client.meta.events.register_first("needs-retry", self._connection_budget)
            self._clients[service] = client
        return client

    def _guard(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        label = f"{service}:{model.name}"
        self.calls.append(label)
        if not is_read_only(service, model.name):
            raise ReadOnlyError(f"refused {label}: zeet-iam-audit is read-only")

    def _connection_budget(self, caught_exception: Exception | None = None, **_: Any) -> None:
        """Before botocore decides to retry: a connection that could not be opened counts, and past
        ``CONNECT_ATTEMPTS`` the failure is raised instead of retried (throttling, 5xx and read
        timeouts keep botocore's whole retry budget)."""
        from botocore.exceptions import ConnectionError as BotoConnectionError

        if isinstance(caught_exception, BotoConnectionError):
            self.connect_failures += 1
            if self.connect_failures >= CONNECT_ATTEMPTS:
                raise caught_exception

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """One API call (``operation`` as AWS names it, e.g. ``GetRole``); errors translated."""
        from botocore import xform_name

        label = f"{service}:{operation}"
        with self.translating(label):
            client = self.client(service)
            method = getattr(client, xform_name(operation))
            try:
                response: dict[str, Any] = method(**params)
            except (KeyError, TypeError, AttributeError) as error:
                # botocore's parsers fail this way on a well-formed answer of the wrong shape
                # (an HTML page answered with 200 by a proxy or a captive portal).
                raise AwsAccessError(
                    f"{label}: the endpoint's answer is not an AWS response "
                    f"({type(error).__name__} {one_line(error)} while reading it)"
                ) from None
            shape = client.meta.service_model.operation_model(operation).output_shape
            missing = [name for name in (shape.required_members if shape is not None else ()) if name not in response]
            if missing:
                raise AwsAccessError(
                    f"{label}: the endpoint's answer is not an AWS response (it lacks {', '.join(missing)})"
                )
        return response

    def pages(self, service: str, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated call, fetched as the caller iterates; errors translated.

        The endpoint is not trusted to end a listing: an IAM answer that says ``IsTruncated`` but
        gives no ``Marker``, a marker given twice (a loop), or more than ``MAX_PAGES`` pages is an
        ``IncompleteListingError`` naming the call, never a listing taken as complete.
        """
        label = f"{service}:{operation}"
        token_key = "Marker" if service == "iam" else "NextToken"
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = self.call(service, operation, **params)
            yield page
            token = page.get(token_key)
            more = page.get("IsTruncated") is True if service == "iam" else bool(token)
            if not more:
                return
            if not isinstance(token, str) or not token:
                raise IncompleteListingError(
                    label, f"the answer says IsTruncated but gives no {token_key}: the listing is incomplete"
                )
            if token in seen:
                raise IncompleteListingError(label, f"the endpoint gave the same {token_key} twice: the listing loops")
            seen.add(token)
            params = {**params, token_key: token}
        raise IncompleteListingError(label, f"more than {MAX_PAGES:,} pages: the listing does not end")

    @contextmanager
    def translating(self, label: str) -> Iterator[None]:
        """Turn botocore's exceptions into this tool's one-line errors, naming ``label``; the
        session's secrets are redacted from the final text of every such error."""
        try:
            yield
        except ZeetIamAuditError as error:
            if isinstance(error, AwsAccessError):
                raise self._redacted(error) from None
            raise
        except Exception as error:
            translated = self._translate(label, error)
            if translated is None:
                raise
            raise self._redacted(translated) from None

    def _translate(self, label: str, error: Exception) -> AwsAccessError | None:
        """The one-line error for a botocore exception; None for what is not botocore's."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            CredentialRetrievalError,
            HTTPClientError,
            NoAuthTokenError,
            NoCredentialsError,
            PartialCredentialsError,
            ProfileNotFound,
            SSOError,
            StubResponseError,
            TokenRetrievalError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.parsers import ResponseParserError

        if isinstance(error, ClientError):
            return self._client_error(label, error)
        if isinstance(error, NoCredentialsError | PartialCredentialsError):
            return AwsCredentialsError(NO_CREDENTIALS)
        if isinstance(error, SSOError | TokenRetrievalError | NoAuthTokenError | CredentialRetrievalError):
            # An expired SSO session, a failing credential_process, an assume-role profile refused.
            return AwsCredentialsError(
                f"AWS credentials could not be loaded: {one_line(error)} (for SSO run 'aws sso login')"
            )
        if isinstance(error, ProfileNotFound):
            return AwsCredentialsError(f"{one_line(error)}: check --profile or AWS_PROFILE")
        if isinstance(error, BotoConnectionError | HTTPClientError):
            return AwsAccessError(f"cannot reach AWS for {label}: {one_line(error)}")
        if isinstance(error, ResponseParserError):
            # An endpoint that answered with something other than AWS's format (an HTML error
            # page from a proxy or an emulator); the first line says what, the rest is the body.
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            return AwsAccessError(f"{label}: the endpoint's answer is not an AWS response: {one_line(first)}")
        if isinstance(error, StubResponseError):
            return None  # a test's Stubber complaining: let the test see it
        if isinstance(error, BotoCoreError):
            # SSO token expiry, credential process failures, bad configuration, invalid parameters.
            return AwsAccessError(f"{label}: {one_line(error)}")
        return None

    def _redacted(self, error: AwsAccessError) -> AwsAccessError:
        """``error`` with the session's secrets taken out of its final text (and its detail)."""
        text = self._redact(str(error))
        if text != str(error):
            error.args = (text,)
            if isinstance(error, AwsCallError):
                error.detail = self._redact(error.detail)
        return error

    def _secrets(self) -> list[str]:
        """The session's own secret key and token, to keep out of anything printed."""
        try:
            credentials = self._session().get_credentials()
            frozen = credentials.get_frozen_credentials() if credentials is not None else None
        except Exception:  # reading them failed: nothing to redact, and nothing to fail over
            return []
        if frozen is None:
            return []
        return [value for value in (frozen.secret_key, frozen.token) if value]

    def _redact(self, text: str) -> str:
        """``text`` without the session's secrets: an endpoint (a proxy, an emulator) may echo them,
        as they are, URL-encoded, or split by white space (a line break in a message)."""
        for pattern in self._secret_patterns():
            text = pattern.sub("[redacted]", text)
        return text

    def _secret_patterns(self) -> list[re.Pattern[str]]:
        from urllib.parse import quote, quote_plus

        patterns = []
        for secret in self._secrets():
            for form in dict.fromkeys((secret, quote(secret, safe=""), quote_plus(secret), quote(secret))):
                # White space may fall between any two characters of an echoed secret.
                patterns.append(re.compile(r"\s*".join(re.escape(char) for char in form), re.IGNORECASE))
        return patterns

    def _client_error(self, label: str, error: Any) -> AwsAccessError:
        info = error.response.get("Error", {}) if isinstance(error.response, dict) else {}
        code = one_line(self._redact(str(info.get("Code") or "UnknownError")))
        detail = one_line(self._redact(str(info.get("Message") or "")))
        if code in CREDENTIAL_CODES:
            return AwsCredentialsError(
                f"AWS rejected the credentials ({code} on {label}): refresh them (for SSO run "
                "'aws sso login') or choose others with --profile"
            )
        if code in THROTTLING_CODES:
            return AwsAccessError(
                f"AWS throttled {label} ({code}) through {self.max_attempts} attempts: try again later"
            )
        return AwsCallError(label, code, detail)
