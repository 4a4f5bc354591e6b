"""Frozen values shared by every layer: policies, statements, roles and where they came from.

Sources build these, the engine reads them, and nothing mutates them after construction.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache


class Unresolved(str):
    """A value a source could not resolve (a CloudFormation ``!Ref`` to a parameter without a default,
    a Terraform value known only after apply).

    It is a ``str`` so it can travel through policy documents unchanged; the parser and the
    evaluator recognise it and treat anything that depends on it as unknown, never as a match.
    ``reason`` says what it stands for, e.g. ``"!Ref BucketName (parameter without a default)"``.
    """

    reason: str

    def __new__(cls, reason: str) -> Unresolved:
        obj = super().__new__(cls, f"${{unresolved:{reason}}}")
        obj.reason = reason
        return obj

    def __reduce__(self) -> tuple[type[Unresolved], tuple[str]]:
        return (Unresolved, (self.reason,))


# The account field of an ARN in the account a template is deployed to, when that account is not
# given (CloudFormation's AWS::AccountId): the role's own account, whichever it is. Not twelve
# digits, so it can be no other account; the evaluator puts it where a rule scope means "the
# role's own account".
OWN_ACCOUNT = "own-account"


class InvalidPolicy(str):
    """The reason a policy is unknown when AWS would refuse its document (a bad ``Effect``, an unknown
    element, an action name with spaces): a ``str`` so it travels wherever unknown reasons do, and
    reads as ``"<file>: <path>: <problem>"``; the audit reports it as an ``invalid-policy`` finding.

    ``file`` is the input, ``path`` the JSON path of the problem inside it, ``policy`` the policy's
    name as reports quote it, ``problem`` what is wrong there.
    """

    file: str
    path: str
    policy: str
    problem: str

    def __new__(cls, file: str, path: str, policy: str, problem: str) -> InvalidPolicy:
        obj = super().__new__(cls, f"{file}: {path or '$'}: {problem}")
        obj.file, obj.path, obj.policy, obj.problem = file, path, policy, problem
        return obj

    def __reduce__(self) -> tuple[type[InvalidPolicy], tuple[str, str, str, str]]:
        return (InvalidPolicy, (self.file, self.path, self.policy, self.problem))


# A place inside an input, as keys and list indices from the root: ``("$", "RoleDetailList", 3)``
# for a JSON input, ``("Resources", "ZeetRole", "Properties")`` for a template, and a Terraform
# resource address followed by attribute steps (``("aws_iam_role.zeet", "inline_policy", 0)``).
# ``"$"`` as the first step stands for the root itself.
Route = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_:@-]*$")


@lru_cache(maxsize=4096)  # a managed policy's route recurs in every role that attaches it
def route_text(route: Route) -> str:
    """How messages and reports write a route: ``$.RoleDetailList[3].RolePolicyList[0]``,
    ``Resources.ZeetRole.Properties``, ``aws_iam_role.zeet.inline_policy[0]``; ``$`` for the root.

    The first step is written as it is (the root marker, a template's top-level key, a Terraform
    address); the others as ``.key``, ``["odd key"]`` or ``[index]``.
    """
    if not route:
        return "$"
    text = str(route[0])
    for step in route[1:]:
        text += f"[{step}]" if isinstance(step, int) else _key_step(step)
    return text


@lru_cache(maxsize=1024)
def _key_step(key: str) -> str:
    """``.key`` or ``["odd key"]`` (the same few keys recur in every route: cached by value)."""
    return f".{key}" if _PLAIN_KEY.match(key) else f"[{json.dumps(key)}]"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a policy document is written: the input's display name and the route to it there.

    ``str(origin)`` is how messages name it (``"gaad.json: $.RoleDetailList[3].RolePolicyList[0]"``);
    formats resolve ``route`` to a line of ``source`` when they need one.
    """

    source: str
    route: Route | None = ()  # None: the document has no place in an input (a bundled copy)

    @property
    def path(self) -> str | None:
        """The route as text (``$.Role.AssumeRolePolicyDocument``); None without a route."""
        return route_text(self.route) if self.route is not None else None

    def __str__(self) -> str:
        return f"{self.source}: {self.path}" if self.route is not None else self.source


class InputType(StrEnum):
    """The kind of input a role was read from."""

    GAAD = "gaad"  # aws iam get-account-authorization-details
    ROLE = "role"  # aws iam get-role (with its policies, when given)
    POLICY = "policy"  # a bare policy document (or a list of them)
    CLOUDFORMATION = "cloudformation"
    TERRAFORM = "terraform"
    LIVE = "live"


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyKind(StrEnum):
    """What a document is used as: it decides which elements the grammar requires."""

    IDENTITY = "identity"  # identity-based policies, permissions boundaries and SCPs
    TRUST = "trust"  # a role's trust policy (a resource-based policy on the role)


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``operator → key → values`` entry of a statement's Condition block.

    ``operator`` keeps its spelling from the document (``ForAnyValue:StringLike``, ``StringEqualsIfExists``);
    ``values`` are strings as IAM compares them (booleans and numbers in JSON become their text).
    """

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Principal:
    """A Principal or NotPrincipal element: ``"*"`` or a map of type → identifiers."""

    wildcard: bool = False  # the bare string "*"
    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (("AWS", ("arn:...",)), ("Service", (...)))

    def identifiers(self, kind: str) -> tuple[str, ...]:
        """The identifiers given for one principal type (``AWS``, ``Service``, ``Federated``, ...)."""
        for key, values in self.entries:
            if key == kind:
                return values
        return ()


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement, normalised: scalar-or-list fields are tuples, absent fields are None.

    Exactly one of ``actions``/``not_actions`` is set; in identity policies exactly one of
    ``resources``/``not_resources``; in trust policies one of ``principal``/``not_principal``.
    """

    index: int
    effect: Effect
    sid: str | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principal: Principal | None = None
    not_principal: Principal | None = None
    conditions: tuple[Condition, ...] = ()

    @property
    def label(self) -> str:
        """How reports name this statement: ``Statement[2]`` or ``Statement[2] (Sid "DenySqs")``."""
        return f'Statement[{self.index}] (Sid "{self.sid}")' if self.sid else f"Statement[{self.index}]"


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed, validated policy document.

    ``name`` is how reports refer to it (a policy name, an ARN, or ``policy[0]``); ``origin`` where it
    is written (``role.json``, ``("$", "RoleDetailList", 3, "RolePolicyList", 0, "PolicyDocument")``);
    None when it has no place in an input (a live account's policy).
    """

    statements: tuple[Statement, ...]
    version: str | None = "2012-10-17"
    id: str | None = None
    kind: PolicyKind = PolicyKind.IDENTITY
    name: str = ""
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    """A policy attached to (or embedded in) a role, as a source found it.

    ``policy`` is None when its document could not be had; ``unknown_reason`` then says why
    (``"cannot read arn:aws:iam::aws:policy/Foo offline; include its document or audit the live role"``).
    """

    name: str
    arn: str | None
    policy: Policy | None
    origin: Origin | None = None
    unknown_reason: str | None = None
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Role:
    """An IAM role as read from a file or from AWS: everything the audit needs, nothing else."""

    name: str
    arn: str | None
    source: str
    trust_policy: Policy | None = None
    trust_unknown_reason: str | None = None
    policies: tuple[AttachedPolicy, ...] = ()
    permissions_boundary: AttachedPolicy | None = None
    max_session_duration: int | None = None
    # Role-level things a source could not determine (e.g. a ManagedPolicyArns list that is itself
    # an unresolved !Ref): every verdict on the role becomes unknown, with these reasons.
    unknowns: tuple[str, ...] = ()
    path: str = "/"
    # Where the role was read (not part of what the role is, so not compared): the kind of input,
    # and the place a template or plan defines it.
    input_type: InputType | None = field(default=None, compare=False)
    logical_id: str | None = field(default=None, compare=False)  # CloudFormation and SAM
    # A StackSet's role: the logical id inside the TemplateBody it comes from.
    template_body_logical_id: str | None = field(default=None, compare=False)
    address: str | None = field(default=None, compare=False)  # Terraform resource address
    role_id: str | None = field(default=None, compare=False)  # AWS's RoleId (AROA...), when given
