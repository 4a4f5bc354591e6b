"""One role as the AWS CLI prints it, optionally with its policies' documents; or a bare policy.

**Role files** start from ``aws iam get-role --role-name R`` output and may carry the documents of
the role's policies beside it, each entry shaped as the CLI command that fetches it prints it::

    {
      "Role": {...},                      # aws iam get-role --role-name R
      "RolePolicies": [                   # aws iam get-role-policy --role-name R --policy-name P
        {"RoleName": "R", "PolicyName": "P", "PolicyDocument": {...}}
      ],
      "AttachedPolicies": [               # aws iam list-attached-role-policies --role-name R
        {"PolicyName": "N", "PolicyArn": "arn:...",
         "PolicyDocument": {...}}         # optional: the default version's Document
      ],                                  #   (get-policy-version --query PolicyVersion.Document)
      "PermissionsBoundaryPolicy": {      # optional: the document of Role.PermissionsBoundary
        "PolicyArn": "arn:...", "PolicyDocument": {...}
      }
    }

Also accepted: ``"PolicyNames"`` (``list-role-policies`` output) beside or instead of
``RolePolicies`` (a name without a document there is unknown);
``"PolicyVersion": {"Document": ...}``
in place of ``PolicyDocument`` (``get-policy-version`` output as printed); and a role object in
the ``RoleDetailList`` shape of an authorization-details file (with ``RolePolicyList`` and
``AttachedManagedPolicies``), with or without the ``"Role"`` wrapper.

An attached policy without a document is resolved from the offline AWS managed policies, else it
is unknown. Plain ``get-role`` output says nothing about policies: when ``RolePolicies`` (or
``PolicyNames``) or ``AttachedPolicies`` is absent, the role gets an unknown saying so. Write
``"RolePolicies": []`` to state that the role has no inline policies.

**Policy files** hold one identity policy: a bare document (``{"Version", "Statement"}``),
``get-role-policy`` output, or ``get-policy-version`` output. They become one role named after the
file, with that policy as its only policy and an unknown trust policy. A document that does not
parse is an ``InputError``: the file is the policy, so there is nothing else to audit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.model import AttachedPolicy, InputType, Origin, Policy, Role, Route, route_text
from zeet_iam_audit.sources.attach import attach_document, read_policy, unknown_attachment
from zeet_iam_audit.sources.gaad import read_role_detail
from zeet_iam_audit.sources.managed import (
    is_aws_managed_arn,
    managed_attachment,
    offline_unknown_reason,
)
from zeet_iam_audit.sources.shape import Locator, index_path, key_path

ROLE_FILE_KEYS = frozenset({"Role", "RolePolicies", "PolicyNames", "AttachedPolicies", "PermissionsBoundaryPolicy"})
NO_TRUST_REASON = (
    "a policy file has no trust policy; audit the role (get-role output, an authorization-details "
    "file or the live role) to check who can assume it"
)


def _document_of(entry: Mapping[str, Any], route: Route, locator: Locator) -> tuple[Any, Route] | None:
    if entry.get("PolicyDocument") is not None:
        return entry["PolicyDocument"], (*route, "PolicyDocument")
    version = entry.get("PolicyVersion")
    if version is not None:
        version_route = (*route, "PolicyVersion")
        version = locator.mapping(version, route_text(version_route))
        if version.get("Document") is not None:
            return version["Document"], (*version_route, "Document")
    return None


def read_role_file(data: object, locator: Locator) -> list[Role]:
    """One role (see the module docstring for the shape)."""
    top = locator.mapping(data, "$", "get-role output")
    role_route: Route
    if "Role" in top:
        raw_role, role_route = top["Role"], ("$", "Role")
        extras: Mapping[str, Any] = top
    else:
        raw_role, role_route, extras = top, ("$",), {}
    role_path = route_text(role_route)
    role_object = locator.mapping(raw_role, role_path, "a role object (get-role output's Role)")

    documents: dict[str, tuple[Any, Route, str | None]] = {}  # arn → (document, route, name)
    attached_entries: list[tuple[str, str | None, Route]] = []  # (arn, name, route)
    for position, raw in enumerate(locator.optional_sequence(extras, "AttachedPolicies", "$")):
        path = index_path("$.AttachedPolicies", position)
        entry = locator.mapping(raw, path, "an attached policy object")
        arn = locator.string(entry.get("PolicyArn"), key_path(path, "PolicyArn"))
        name = locator.optional_string(entry, "PolicyName", path)
        attached_entries.append((arn, name, ("$", "AttachedPolicies", position)))
        found = _document_of(entry, ("$", "AttachedPolicies", position), locator)
        if found is not None:
            documents.setdefault(arn, (found[0], found[1], name))
    raw_boundary = extras.get("PermissionsBoundaryPolicy")
    boundary_document: tuple[Any, Route] | None = None
    if raw_boundary is not None:
        boundary_entry = locator.mapping(raw_boundary, "$.PermissionsBoundaryPolicy")
        boundary_document = _document_of(boundary_entry, ("$", "PermissionsBoundaryPolicy"), locator)
        if boundary_document is None:
            raise locator.error("$.PermissionsBoundaryPolicy", "expected a PolicyDocument")
        boundary_arn = locator.optional_string(boundary_entry, "PolicyArn", "$.PermissionsBoundaryPolicy")
        if boundary_arn:
            documents.setdefault(boundary_arn, (*boundary_document, None))

    parsed: dict[str, Policy | str] = {}

    def resolve_arn(arn: str, name: str | None, route: Route) -> AttachedPolicy:
        origin = Origin(locator.display, route)
        shown = name or arn.rsplit("/", 1)[-1]
        if arn in documents:
            document, document_route, _ = documents[arn]
            if arn not in parsed:
                parsed[arn] = read_policy(document, locator=locator, route=document_route, name=shown)
            result = parsed[arn]
            if isinstance(result, Policy):
                return AttachedPolicy(name=shown, arn=arn, policy=result, origin=origin)
            return unknown_attachment(name=shown, arn=arn, origin=origin, reason=result)
        if is_aws_managed_arn(arn):
            return managed_attachment(arn, name=name, origin=origin)
        return unknown_attachment(name=shown, arn=arn, origin=origin, reason=offline_unknown_reason(arn))

    role = read_role_detail(
        role_object, locator=locator, route=role_route, resolve_arn=resolve_arn, input_type=InputType.ROLE
    )
    policies = list(role.policies)
    unknowns = list(role.unknowns)

    # Inline policies: get-role-policy outputs, and list-role-policies names without them.
    inline_names: set[str] = set()
    for position, raw in enumerate(locator.optional_sequence(extras, "RolePolicies", "$")):
        path = index_path("$.RolePolicies", position)
        entry = locator.mapping(raw, path, "get-role-policy output")
        name = locator.optional_string(entry, "PolicyName", path) or f"RolePolicies[{position}]"
        inline_names.add(name)
        if entry.get("PolicyDocument") is None:
            raise locator.error(key_path(path, "PolicyDocument"), "missing (get-role-policy output has it)")
        policies.append(
            attach_document(
                entry["PolicyDocument"],
                locator=locator,
                route=("$", "RolePolicies", position, "PolicyDocument"),
                attachment_route=("$", "RolePolicies", position),
                name=name,
                inline=True,
            )
        )
    for position, raw in enumerate(locator.optional_sequence(extras, "PolicyNames", "$")):
        path = index_path("$.PolicyNames", position)
        name = locator.string(raw, path)
        if name not in inline_names and not any(p.inline and p.name == name for p in role.policies):
            policies.append(
                unknown_attachment(
                    name=name,
                    arn=None,
                    origin=Origin(locator.display, ("$", "PolicyNames", position)),
                    inline=True,
                    reason=f"inline policy {name!r} is listed but its document is not in the file; "
                    "add its get-role-policy output to RolePolicies",
                )
            )

    has_inline = any(key in extras for key in ("RolePolicies", "PolicyNames")) or "RolePolicyList" in role_object
    has_attached = "AttachedPolicies" in extras or "AttachedManagedPolicies" in role_object
    if not has_inline:
        unknowns.append(
            f"{locator.display}: the file does not say which inline policies the role has; add "
            "RolePolicies (get-role-policy output for each, or [] for none) or audit the live role"
        )
    if not has_attached:
        unknowns.append(
            f"{locator.display}: the file does not say which managed policies are attached; add "
            "AttachedPolicies (list-attached-role-policies output, [] for none) or audit the "
            "live role"
        )
    already = {p.arn for p in role.policies if p.arn}
    for arn, name, route in attached_entries:
        if arn not in already:
            policies.append(resolve_arn(arn, name, route))
            already.add(arn)

    boundary = role.permissions_boundary
    if boundary_document is not None and boundary is None:
        raise locator.error(
            "$.PermissionsBoundaryPolicy",
            "the role has no PermissionsBoundary for this document to belong to",
        )
    if boundary_document is not None and boundary is not None and boundary.arn not in documents:
        # The boundary document was given without a PolicyArn: it belongs to the role's boundary.
        result = read_policy(boundary_document[0], locator=locator, route=boundary_document[1], name=boundary.name)
        boundary = (
            AttachedPolicy(name=boundary.name, arn=boundary.arn, policy=result, origin=boundary.origin)
            if isinstance(result, Policy)
            else unknown_attachment(name=boundary.name, arn=boundary.arn, origin=boundary.origin, reason=result)
        )
    return [
        Role(
            name=role.name,
            arn=role.arn,
            source=role.source,
            trust_policy=role.trust_policy,
            trust_unknown_reason=role.trust_unknown_reason,
            policies=tuple(policies),
            permissions_boundary=boundary,
            max_session_duration=role.max_session_duration,
            unknowns=tuple(unknowns),
            path=role.path,
            input_type=role.input_type,
            role_id=role.role_id,
        )
    ]


def read_policy_file(data: object, locator: Locator, path: Path) -> list[Role]:
    """One identity policy → one role named after the file, trust unknown."""
    top = locator.mapping(data, "$", "a policy document")
    name = path.stem
    document_route: Route
    if "Statement" in top or not ({"PolicyDocument", "PolicyVersion"} & set(top)):
        document, document_route = top, ("$",)
    else:
        found = _document_of(top, ("$",), locator)
        if found is None:
            raise locator.error("$", "expected a policy document (Version and Statement)")
        document, document_route = found
        name = locator.optional_string(top, "PolicyName", "$") or name
    result = read_policy(document, locator=locator, route=document_route, name=name)
    if not isinstance(result, Policy):
        raise InputError(result)
    origin = Origin(locator.display, document_route)
    return [
        Role(
            name=name,
            arn=None,
            source=locator.display,
            trust_policy=None,
            trust_unknown_reason=NO_TRUST_REASON,
            policies=(AttachedPolicy(name=name, arn=None, policy=result, origin=origin, inline=True),),
            input_type=InputType.POLICY,
        )
    ]
