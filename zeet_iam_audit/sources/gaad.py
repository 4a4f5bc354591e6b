"""``aws iam get-account-authorization-details`` output → roles.

Accepted: the CLI's output as it prints it (``{"UserDetailList", "GroupDetailList",
"RoleDetailList", "Policies", "IsTruncated"}``), or a JSON list of such pages (for instance
``--no-paginate`` calls collected with ``jq -s``), merged in order. Optional fields may be absent:
moto, for one, emits ``Policies`` entries without ``PolicyName``.

For each ``RoleDetailList`` entry:

- the trust policy is ``AssumeRolePolicyDocument`` (an object, or the URL-encoded string the API
  returns);
- inline policies are ``RolePolicyList[*].PolicyDocument``;
- ``AttachedManagedPolicies[*].PolicyArn`` and ``PermissionsBoundary.PermissionsBoundaryArn`` are
  resolved from the file's ``Policies`` (the version with ``IsDefaultVersion: true``), else from the
  offline AWS managed policies (``managed.py``), else the attachment is unknown;
- ``MaxSessionDuration`` is read when present (the API does not include it in this output).

The same managed policy on two pages (overlapping pages) is read once; two pages that describe it
with different documents leave it unsettled: every attachment of it is unknown, naming the conflict.

A file whose last page says ``IsTruncated: true`` is missing later pages: that is reported as a
``Skipped`` entry, and roles on those pages are simply not there to audit.

Loading checks the file's shape down to each role's name and ARN; each role is read the first time it
is used (``lazy.LazyRoles``), so an account-wide audit reads each in the process that audits it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from zeet_iam_audit.model import AttachedPolicy, InputType, Origin, Policy, Role, Route, route_text
from zeet_iam_audit.sources.attach import (
    attach_document,
    read_policy,
    read_trust,
    unknown_attachment,
)
from zeet_iam_audit.sources.lazy import LazyRoles
from zeet_iam_audit.sources.managed import (
    is_aws_managed_arn,
    managed_attachment,
    offline_unknown_reason,
)
from zeet_iam_audit.sources.result import Skipped
from zeet_iam_audit.sources.shape import Locator, describe, key_path

GAAD_KEYS = frozenset({"RoleDetailList", "UserDetailList", "GroupDetailList", "Policies"})

# Resolves an ARN-only attachment: (arn, name, route to the attachment) → AttachedPolicy.
ArnResolver = Callable[[str, "str | None", Route], AttachedPolicy]


def looks_like_gaad(data: object) -> bool:
    """True for one GAAD page or a non-empty list of them."""
    if isinstance(data, Mapping):
        return "RoleDetailList" in data or (
            "Policies" in data and ("UserDetailList" in data or "GroupDetailList" in data)
        )
    if isinstance(data, list) and data:
        return all(isinstance(page, Mapping) and GAAD_KEYS & set(page) for page in data)
    return False


_CONFLICT = "conflicting pages:"


def _same_document(first: Any, second: Any) -> bool:
    """Whether two policy documents (objects, or the URL-encoded JSON text the API returns) are
    the same document."""

    def decoded(document: Any) -> Any:
        if isinstance(document, str):
            from urllib.parse import unquote

            try:
                return json.loads(unquote(document) if document.lstrip().startswith("%") else document)
            except ValueError:
                return document
        return document

    return bool(first == second or decoded(first) == decoded(second))


class _PolicyIndex:
    """The file's ``Policies``: ARN → default-version document, parsed once per ARN."""

    def __init__(self, locator: Locator) -> None:
        self.locator = locator
        # arn → (name, document, its route) or (name, None, the reason it is unknown)
        self._entries: dict[str, tuple[str, Any, Route | str]] = {}
        self._parsed: dict[str, Policy | str] = {}
        self._first_routes: dict[str, Route] = {}  # arn → where it was first described

    def add(self, raw: object, route: Route) -> None:
        """The policy object at ``route`` (paths are written out only for a message)."""
        entry = self.locator.mapping(raw, route, "a policy object")
        arn = self.locator.string(entry.get("Arn"), (*route, "Arn"))
        name = self.locator.optional_string(entry, "PolicyName", route) or arn.rsplit("/", 1)[-1]
        versions = self.locator.optional_sequence(entry, "PolicyVersionList", route)
        default_id = entry.get("DefaultVersionId")
        chosen: tuple[Any, Route] | None = None
        for position, version in enumerate(versions):
            version_route = (*route, "PolicyVersionList", position)
            version = self.locator.mapping(version, version_route, "a policy version object")
            if version.get("IsDefaultVersion") is True or (
                "IsDefaultVersion" not in version and version.get("VersionId") == default_id
            ):
                chosen = (version.get("Document"), (*version_route, "Document"))
                break
        if arn in self._entries:
            # The same policy on two pages (overlapping pages): the same document is kept once; two
            # different documents leave the policy unsettled, so it is unknown, never either one.
            first = self._entries[arn]
            document = chosen[0] if chosen is not None else None
            if first[1] is not None and document is not None and _same_document(first[1], document):
                return
            if first[1] is None and isinstance(first[2], str) and first[2].startswith(_CONFLICT):
                return
            first_route = self._first_routes.get(arn)
            earlier = route_text(first_route) if first_route is not None else "an earlier page"
            reason = (
                f"{_CONFLICT} {self.locator.origin(route)} and {earlier} describe {arn} differently "
                "(pages from different reads?): the policy cannot be settled"
            )
            self._entries[arn] = (name, None, reason)
            self._parsed.pop(arn, None)
            return
        self._first_routes[arn] = route
        if chosen is None or chosen[0] is None:
            reason = f"{self.locator.origin(route)}: no default version with a Document in PolicyVersionList"
            self._entries[arn] = (name, None, reason)
        else:
            self._entries[arn] = (name, chosen[0], chosen[1])

    def attachment(self, arn: str, name: str | None, attachment_route: Route) -> AttachedPolicy:
        origin = Origin(self.locator.display, attachment_route)
        entry = self._entries.get(arn)
        if entry is None:
            if is_aws_managed_arn(arn):
                return managed_attachment(arn, name=name, origin=origin)
            shown = name or arn.rsplit("/", 1)[-1]
            return unknown_attachment(name=shown, arn=arn, origin=origin, reason=offline_unknown_reason(arn))
        policy_name, document, where = entry
        shown = name or policy_name
        if document is None or isinstance(where, str):
            return unknown_attachment(name=shown, arn=arn, origin=origin, reason=str(where))
        if arn not in self._parsed:
            self._parsed[arn] = read_policy(document, locator=self.locator, route=where, name=policy_name)
        parsed = self._parsed[arn]
        if isinstance(parsed, Policy):
            return AttachedPolicy(shown, arn, parsed, origin)  # (name, arn, policy, origin)
        return unknown_attachment(name=shown, arn=arn, origin=origin, reason=parsed)


class TrustReader:
    """Trust policies of one read: a document → its parsed policy. An account's roles share a
    handful of trust policies (a service, an account), so each is parsed once per read; only the
    origin differs between roles. Owned by the read, so it goes when the roles do."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[str, Policy] = {}

    def read(self, document: object, locator: Locator, route: Route) -> tuple[Policy | None, str | None]:
        """``read_trust``, with documents already parsed reused under their new origin.

        A document is known by its ``repr``: two documents of one ``repr`` hold the same keys,
        values and types of value (``True`` and ``1`` differ, as they do to the parser), and a
        ``repr`` costs less than JSON text. Only the plain values a decoder gives are keyed.
        """
        key = repr(document) if type(document) is dict or type(document) is str else None
        if key is not None and (known := self._known.get(key)) is not None:
            # The known policy under this role's origin (in the order of Policy's fields).
            origin = Origin(locator.display, route)
            return Policy(known.statements, known.version, known.id, known.kind, known.name, origin), None
        trust, reason = read_trust(document, locator=locator, route=route, name="AssumeRolePolicyDocument")
        if key is not None and trust is not None:
            self._known[key] = trust
        return trust, reason


def _role_names(raw: object, locator: Locator, route: Route) -> tuple[Mapping[str, Any], str | None, str]:
    """A role object's first checks: (the object, its ARN if any, its name, from the ARN if need be)."""
    detail = locator.mapping(raw, route, "a role object")
    arn = locator.optional_string(detail, "Arn", route)
    name = locator.optional_string(detail, "RoleName", route)
    if not name:
        if not arn:
            raise locator.error(route, "expected RoleName or Arn in a role object")
        name = arn.rsplit("/", 1)[-1]
    return detail, arn, name


def read_role_detail(
    raw: object,
    *,
    locator: Locator,
    route: Route,
    resolve_arn: ArnResolver,
    input_type: InputType,
    trusts: TrustReader | None = None,
) -> Role:
    """One role object as GAAD's ``RoleDetailList`` and ``get-role``'s ``Role`` print it, at
    ``route`` in the input.

    Inline policies (``RolePolicyList``) and attachments (``AttachedManagedPolicies``) are read when
    present; the caller decides what their absence means. ``trusts`` shares parsed trust policies
    between the roles of one read. Places are passed as routes: a path is written out only for a
    message.
    """
    detail, arn, name = _role_names(raw, locator, route)
    trust, trust_reason = (trusts or TrustReader()).read(
        detail.get("AssumeRolePolicyDocument"), locator, (*route, "AssumeRolePolicyDocument")
    )
    policies: list[AttachedPolicy] = []
    for position, item in enumerate(locator.optional_sequence(detail, "RolePolicyList", route)):
        item_route = (*route, "RolePolicyList", position)
        entry = locator.mapping(item, item_route, "an inline policy object")
        policy_name = locator.optional_string(entry, "PolicyName", item_route) or f"RolePolicyList[{position}]"
        document = entry.get("PolicyDocument")
        if document is None:
            policies.append(
                unknown_attachment(
                    name=policy_name,
                    arn=None,
                    origin=Origin(locator.display, item_route),
                    inline=True,
                    reason=f"{locator.origin(item_route)}: no PolicyDocument",
                )
            )
            continue
        policies.append(
            attach_document(
                document,
                locator=locator,
                route=(*item_route, "PolicyDocument"),
                attachment_route=item_route,
                name=policy_name,
                inline=True,
            )
        )
    for position, item in enumerate(locator.optional_sequence(detail, "AttachedManagedPolicies", route)):
        item_route = (*route, "AttachedManagedPolicies", position)
        entry = locator.mapping(item, item_route, "an attached policy object")
        policy_arn = locator.string(entry.get("PolicyArn"), (*item_route, "PolicyArn"))
        attached_name = locator.optional_string(entry, "PolicyName", item_route)
        policies.append(resolve_arn(policy_arn, attached_name, item_route))
    boundary: AttachedPolicy | None = None
    raw_boundary = detail.get("PermissionsBoundary")
    if raw_boundary is not None:
        boundary_route = (*route, "PermissionsBoundary")
        boundary_entry = locator.mapping(raw_boundary, boundary_route)
        boundary_arn = locator.string(
            boundary_entry.get("PermissionsBoundaryArn"), (*boundary_route, "PermissionsBoundaryArn")
        )
        boundary = resolve_arn(boundary_arn, None, boundary_route)
    role_id = detail.get("RoleId")
    return Role(
        name=name,
        arn=arn,
        source=locator.display,
        trust_policy=trust,
        trust_unknown_reason=trust_reason,
        policies=tuple(policies),
        permissions_boundary=boundary,
        max_session_duration=locator.optional_int(detail, "MaxSessionDuration", route),
        path=locator.optional_string(detail, "Path", route) or "/",
        input_type=input_type,
        role_id=role_id if isinstance(role_id, str) else None,
    )


def read_gaad(data: object, locator: Locator) -> tuple[Sequence[Role], list[Skipped]]:
    """Roles from one GAAD page or a list of pages (see the module docstring), built on first use.

    Checked here: the pages, the ``Policies`` index, and each role entry's object, ``Arn`` and
    ``RoleName`` (which tell duplicates of overlapping pages apart). The rest of each role is read
    when it is first used (``LazyRoles``), and its errors raised then. Any error found here comes
    after the errors of the roles before it, so a file with several problems reports the same one
    as when every role was read here in order.
    """
    pages: list[tuple[Mapping[str, Any], Route]]
    if isinstance(data, list):
        if not data:
            raise locator.error("$", "expected get-account-authorization-details output, got an empty list")
        pages = [
            (
                locator.mapping(page, f"$[{n}]", "a get-account-authorization-details page"),
                ("$", n),
            )
            for n, page in enumerate(data)
        ]
    else:
        pages = [(locator.mapping(data, "$", "get-account-authorization-details output"), ("$",))]
    if not any(GAAD_KEYS & set(page) for page, _ in pages):
        raise locator.error("$", "expected RoleDetailList (the output of aws iam get-account-authorization-details)")
    # `--filter User Group LocalManagedPolicy` leaves RoleDetailList out: a file with no roles.
    without_roles = not any("RoleDetailList" in page for page, _ in pages)

    index = _PolicyIndex(locator)
    for page, page_route in pages:
        for position, raw in enumerate(locator.optional_sequence(page, "Policies", page_route)):
            index.add(raw, (*page_route, "Policies", position))
    trusts = TrustReader()

    def build(entry: tuple[object, Route]) -> Role:
        raw, route = entry
        return read_role_detail(
            raw, locator=locator, route=route, resolve_arn=index.attachment, input_type=InputType.GAAD, trusts=trusts
        )

    entries: list[tuple[object, Route]] = []
    failure: Exception | None = None
    seen: set[str] = set()
    try:
        for page, page_route in pages:
            for position, raw in enumerate(locator.optional_sequence(page, "RoleDetailList", page_route)):
                entry: tuple[object, Route] = (raw, (*page_route, "RoleDetailList", position))
                _, arn, name = _role_names(raw, locator, entry[1])
                identity = arn or name
                if identity in seen:  # overlapping pages: the first copy is the role
                    build(entry)  # read all the same: a malformed copy is an error, as it always was
                    continue
                seen.add(identity)
                entries.append(entry)
    except Exception as error:  # raised once the roles before it are read (they may fail first)
        failure = error
    roles = LazyRoles(entries, build, locator.display)
    if failure is not None:
        _read_all(roles)
        raise failure

    skipped: list[Skipped] = []
    if without_roles:
        skipped.append(
            Skipped(
                name="roles",
                reason="the file has no RoleDetailList, so no roles (collected with --filter "
                "without Role?); run aws iam get-account-authorization-details with Role in "
                "--filter, or without --filter",
                origin=locator.origin(route_text(pages[0][1])),
            )
        )
    last_page, last_route = pages[-1]
    last_path = route_text(last_route)
    truncated = last_page.get("IsTruncated")
    if truncated is True:
        skipped.append(
            Skipped(
                name="later pages",
                reason="the output ends with IsTruncated true: roles and policies on later "
                "pages are "
                "not in the file (run the command without --max-items, or collect every page)",
                origin=locator.origin(key_path(last_path, "IsTruncated")),
                unread=True,  # what those pages hold was not read: unknown, never a pass
            )
        )
    elif truncated not in (None, False):
        _read_all(roles)  # a malformed role is the first error, as when roles were read on loading
        raise locator.error(key_path(last_path, "IsTruncated"), f"expected true or false, got {describe(truncated)}")
    return roles, skipped


def _read_all(roles: Sequence[Role]) -> None:
    """Read every role, raising the first one's error."""
    for _ in roles:
        pass
