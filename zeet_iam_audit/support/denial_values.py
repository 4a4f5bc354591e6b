"""What an authorization failure found in pasted text is: ``Denial`` and its ``Reason``, the layer
names AWS's messages use, the error codes that mean "access denied", and the roles and accounts
principal ARNs name. The recognisers (``denials.py``, ``cloudtrail.py``) make these values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Layers as AWS's messages name them → the names reports use.
LAYER_NAMES = {
    "identity-based policy": "identity",
    "resource-based policy": "resource_policy",
    "permissions boundary": "permissions_boundary",
    "service control policy": "scp",
    "session policy": "session_policy",
    "vpc endpoint policy": "vpc_endpoint_policy",
    "resource control policy": "resource_control_policy",
}
ACCESS_DENIED_CODES = frozenset(
    {
        "accessdenied",
        "accessdeniedexception",
        "unauthorizedoperation",
        "authorizationerror",
        "unauthorizedaccess",
        "forbidden",
        "authorizationerrorexception",
        "client.unauthorizedoperation",
        "403",
    }  # "403": S3's HEAD operations answer with the status alone, and the CLI prints it as the code
)


@dataclass(frozen=True, slots=True)
class Reason:
    """What AWS gave as the reason.

    ``layer``: one of ``LAYER_NAMES``' values, or None when the message does not say. ``explicit``:
    True for "with an explicit deny in ...", False for "because no ... allows ...", None when unsaid.
    ``text``: the sentence as printed; ``policy``: the denying policy's ARN when AWS names it.
    """

    layer: str | None = None
    explicit: bool | None = None
    text: str | None = None
    policy: str | None = None

    def describe(self) -> str:
        if self.layer is None:
            return self.text or "AWS gave no reason"
        name = next(k for k, v in LAYER_NAMES.items() if v == self.layer)
        if self.explicit:
            where = f" ({self.policy})" if self.policy else ""
            return f"explicit deny in a {name}{where}"
        return f"no {name} allows it"

    def to_json(self) -> dict[str, object]:
        return {"layer": self.layer, "explicit": self.explicit, "text": self.text, "policy": self.policy}


@dataclass(frozen=True, slots=True)
class Denial:
    """One authorization failure found in the text.

    ``action`` is the IAM action in the catalogue's spelling (None when it cannot be told);
    ``action_written`` as printed; ``action_note`` says when the printed name was an API operation
    (or unknown). ``encoded`` holds EC2's encoded message; ``decoded_context`` the request context a
    decoded message carried. ``line`` is the 1-based line of the text where it starts, ``lines``
    every line where the same failure was printed; ``source`` which tool's shape it came in.
    """

    principal: str | None
    action: str | None
    action_written: str | None
    resource: str | None
    reason: Reason
    source: str
    line: int
    message: str
    lines: tuple[int, ...] = ()
    error_code: str | None = None
    operation: str | None = None
    action_note: str | None = None
    encoded: str | None = None
    decoded_context: tuple[tuple[str, tuple[str, ...]], ...] = ()
    decode_error: str | None = None
    matched_statements: tuple[str, ...] = field(default=())

    @property
    def key(self) -> tuple[object, ...]:
        """What makes two printed failures the same failure."""
        return (
            self.principal,
            (self.action or self.action_written or "").lower(),
            self.resource,
            self.reason.layer,
            self.reason.explicit,
            self.encoded,
        )

    @property
    def role_name(self) -> str | None:
        """The IAM role the principal is (an assumed-role session or a role ARN), if it is one."""
        return principal_role(self.principal)


def principal_role(principal: str | None) -> str | None:
    """``arn:aws:sts::1:assumed-role/zeet/session`` → ``zeet``; ``arn:aws:iam::1:role/p/zeet`` → ``zeet``."""
    if not principal:
        return None
    parts = principal.split(":", 5)
    if len(parts) != 6:
        return None
    resource = parts[5]
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        pieces = resource.split("/")
        return pieces[1] if len(pieces) >= 2 else None
    if parts[2] == "iam" and resource.startswith("role/"):
        return resource.rsplit("/", 1)[-1]
    return None


def principal_account(principal: str | None) -> str | None:
    """The account of an ARN principal, if it names one."""
    if not principal:
        return None
    parts = principal.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None


@dataclass(slots=True)
class Found:
    """A failure found at ``start``..``end`` of the text it was read from."""

    start: int
    end: int
    denial: Denial
