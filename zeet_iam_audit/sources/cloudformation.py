"""CloudFormation templates (JSON or YAML, short-form tags included) → roles.

Read: ``AWS::IAM::Role`` (``AssumeRolePolicyDocument``, ``Policies``, ``ManagedPolicyArns``,
``PermissionsBoundary``, ``MaxSessionDuration``, ``RoleName``, ``Path``), and the policies that
attach to those roles: ``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy`` (``Roles``, or
referenced from a role's ``ManagedPolicyArns`` with ``!Ref``/``!GetAtt X.PolicyArn``) and
``AWS::IAM::RolePolicy`` (``RoleName``). Managed policy ARNs of AWS managed policies are resolved
offline (``managed.py``).

Nested stacks (``AWS::CloudFormation::Stack``, SAM's ``AWS::Serverless::Application``) and StackSets
whose template is elsewhere (``TemplateURL``) are named in ``skipped``: their roles are not in the
file. A role whose name or ARN a nested stack receives in its ``Parameters`` (by ``Ref``,
``Fn::GetAtt``, ``${Role}`` or the same value) may get policies from it, so it carries an unknown
naming the stack. A StackSet's inline ``TemplateBody`` is read as a template of its own, with the
StackSet's ``Parameters``, its roles audited as they are in each account it deploys to.

Intrinsic functions are resolved by ``cfn_intrinsics.py`` where the template alone decides them.
Whatever stays ``Unresolved`` is unknown: where a whole document or list is unresolved, the
attachment becomes unknown (``AttachedPolicy.unknown_reason``) or the role records it in
``Role.unknowns``. Nothing unresolved is ever treated as granted or as absent.

Origins are template paths: ``zeet-role.yaml: Resources.ZeetRole.Properties.Policies[1]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.model import AttachedPolicy, InputType, Origin, Policy, Role, Route, Unresolved
from zeet_iam_audit.sources.attach import (
    attach_document,
    read_policy,
    read_trust,
    unknown_attachment,
)
from zeet_iam_audit.sources.cfn_intrinsics import (
    MANAGED_POLICY,
    NO_VALUE,
    PSEUDO_PARAMETERS,
    ROLE,
    Decision,
    Link,
    TemplateResolver,
    mentions,
    scalar_text,
)
from zeet_iam_audit.sources.managed import (
    is_aws_managed_arn,
    managed_attachment,
    offline_unknown_reason,
)
from zeet_iam_audit.sources.reading import parse_yaml_text
from zeet_iam_audit.sources.result import Skipped
from zeet_iam_audit.sources.sam import generated_roles_apart, uses_sam
from zeet_iam_audit.sources.shape import Locator, describe, index_path, key_path

POLICY = "AWS::IAM::Policy"
ROLE_POLICY = "AWS::IAM::RolePolicy"
SAM_FUNCTION = "AWS::Serverless::Function"
NESTED_STACK = "AWS::CloudFormation::Stack"
STACK_SET = "AWS::CloudFormation::StackSet"
SAM_APPLICATION = "AWS::Serverless::Application"
_MAX_STACK_SET_DEPTH = 2  # a StackSet's TemplateBody holding a StackSet is read; deeper is skipped
KNOWN_TRANSFORMS = frozenset({"AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"})


@dataclass
class _RoleDraft:
    logical_id: str
    name: str
    arn: str | None
    path: str
    trust: Policy | None
    trust_reason: str | None
    policies: list[AttachedPolicy] = field(default_factory=list)
    boundary: AttachedPolicy | None = None
    max_session_duration: int | None = None
    unknowns: list[str] = field(default_factory=list)
    managed_links: set[str] = field(default_factory=set)


class _TemplateReader:
    def __init__(
        self,
        template: Mapping[str, Any],
        locator: Locator,
        parameters: Mapping[str, str],
        depth: int = 0,
    ) -> None:
        self.template = template
        self.locator = locator
        self.resolver = TemplateResolver(template, locator, dict(parameters))
        self.skipped: list[Skipped] = []
        self.roles: dict[str, _RoleDraft] = {}
        self._managed_documents: dict[str, Policy | str] = {}
        self.depth = depth  # how many StackSet TemplateBody levels this template sits in
        self.sam_problem: str | None = None  # why the SAM transform could not run, if it could not
        self.stack_set_roles: list[Role] = []

    # Shapes.

    def resource(self, logical_id: str) -> Mapping[str, Any]:
        return self.locator.mapping(
            self.resolver.resources[logical_id],
            key_path("Resources", logical_id),
            "a resource object",
        )

    def created(self, logical_id: str) -> Decision:
        """Whether the resource's own Condition lets it be created."""
        condition = self.resource(logical_id).get("Condition")
        if condition is None:
            return Decision(True)
        if not isinstance(condition, str):
            raise self.locator.error(
                key_path(key_path("Resources", logical_id), "Condition"),
                f"expected a condition name, got {describe(condition)}",
            )
        return self.resolver.decide(condition)

    def props_path(self, logical_id: str, name: str | None = None) -> str:
        path = key_path(key_path("Resources", logical_id), "Properties")
        return key_path(path, name) if name else path

    def props_route(self, logical_id: str, name: str) -> Route:
        return ("Resources", logical_id, "Properties", name)

    def place(self, route: Route) -> Origin:
        return Origin(self.locator.display, route)

    # Roles.

    def read_roles(self) -> None:
        for logical_id in self.resolver.resources:
            if self.resolver.resource_type(logical_id) != ROLE:
                continue
            decision = self.created(logical_id)
            if decision.value is False:
                self.skip_not_created(logical_id)
                continue
            draft = self.read_role(logical_id)
            if decision.value is None:
                draft.unknowns.append(
                    f"{self.locator.origin(key_path('Resources', logical_id))}: "
                    "the role exists only "
                    f"if {decision.reason}"
                )
            self.roles[logical_id] = draft

    def skip_not_created(self, logical_id: str) -> None:
        condition = self.resource(logical_id).get("Condition")
        self.skipped.append(
            Skipped(
                name=logical_id,
                reason=f"not created: condition {condition} is false for these parameter values",
                origin=self.locator.origin(key_path("Resources", logical_id)),
            )
        )

    def read_role(self, logical_id: str) -> _RoleDraft:
        resolver = self.resolver
        properties = self.resource(logical_id).get("Properties")
        self.locator.mapping(properties, self.props_path(logical_id), "the role's Properties")
        name_value = resolver.resource_value(logical_id)
        plain_name = resolver.known_text(name_value)
        arn = resolver.known_text(resolver.role_arn(logical_id))
        path_value = resolver.known_text(resolver.role_path(logical_id))
        trust_raw = resolver.resolved_property(logical_id, "AssumeRolePolicyDocument")
        trust, trust_reason = read_trust(
            None if trust_raw is NO_VALUE else trust_raw,
            locator=self.locator,
            route=self.props_route(logical_id, "AssumeRolePolicyDocument"),
            name="AssumeRolePolicyDocument",
        )
        draft = _RoleDraft(
            logical_id=logical_id,
            name=plain_name or logical_id,
            arn=arn,
            path=path_value or "/",
            trust=trust,
            trust_reason=trust_reason,
        )
        self.read_inline(draft)
        self.read_managed_arns(draft)
        self.read_boundary(draft)
        duration = resolver.resolved_property(logical_id, "MaxSessionDuration")
        text = scalar_text(duration) if not isinstance(duration, Unresolved) else None
        if text is not None and text.isdigit() and len(text) <= 9:
            draft.max_session_duration = int(text)
        transforms = self.template.get("Transform")
        for transform in transforms if isinstance(transforms, list) else [transforms]:
            if isinstance(transform, str) and transform not in KNOWN_TRANSFORMS:
                draft.unknowns.append(
                    f"{self.locator.origin('Transform')}: the macro {transform!r} may change the "
                    "template before deployment"
                )
        return draft

    def resolved_items(
        self, logical_id: str, name: str, *, links: bool = False
    ) -> list[tuple[Any, str, Route]] | Unresolved | None:
        """A list property's resolved items with their template paths and routes (NoValue items
        dropped)."""
        path = self.props_path(logical_id, name)
        route = self.props_route(logical_id, name)
        raw = self.resolver.properties(logical_id).get(name)
        if raw is None:
            return None
        if isinstance(raw, list):
            items: list[tuple[Any, str, Route]] = []
            for position, item in enumerate(raw):
                item_path = index_path(path, position)
                value = self.resolver.resolve(item, item_path, links=links)
                if value is not NO_VALUE:
                    items.append((value, item_path, (*route, position)))
            return items
        value = self.resolver.resolve(raw, path, links=links)
        if value is None or value is NO_VALUE:
            return None
        if isinstance(value, Unresolved):
            return value
        resolved = self.locator.sequence(value, path)
        return [(item, index_path(path, position), (*route, position)) for position, item in enumerate(resolved)]

    def read_inline(self, draft: _RoleDraft) -> None:
        path = self.props_path(draft.logical_id, "Policies")
        items = self.resolved_items(draft.logical_id, "Policies")
        if items is None:
            return
        if isinstance(items, Unresolved):
            draft.unknowns.append(
                f"{self.locator.origin(path)}: the inline policies could not be resolved: {items.reason}"
            )
            return
        for position, (item, item_path, item_route) in enumerate(items):
            if isinstance(item, Unresolved):
                draft.policies.append(
                    unknown_attachment(
                        name=f"Policies[{position}]",
                        arn=None,
                        origin=self.place(item_route),
                        inline=True,
                        reason=f"{self.locator.origin(item_path)}: could not be resolved: {item.reason}",
                    )
                )
                continue
            entry = self.locator.mapping(item, item_path, "an inline policy object (PolicyName, PolicyDocument)")
            name = entry.get("PolicyName")
            shown = name if isinstance(name, str) and not isinstance(name, Unresolved) else f"Policies[{position}]"
            if "PolicyDocument" not in entry:
                raise self.locator.error(key_path(item_path, "PolicyDocument"), "missing")
            draft.policies.append(
                attach_document(
                    entry["PolicyDocument"],
                    locator=self.locator,
                    route=(*item_route, "PolicyDocument"),
                    attachment_route=item_route,
                    name=shown,
                    inline=True,
                )
            )

    def read_managed_arns(self, draft: _RoleDraft) -> None:
        path = self.props_path(draft.logical_id, "ManagedPolicyArns")
        items = self.resolved_items(draft.logical_id, "ManagedPolicyArns", links=True)
        if items is None:
            return
        if isinstance(items, Unresolved):
            draft.unknowns.append(
                f"{self.locator.origin(path)}: the managed policy list could not be resolved: {items.reason}"
            )
            return
        for item, item_path, item_route in items:
            draft.policies.extend(self.attachments_for_arn(item, item_path, item_route, draft))

    def attachments_for_arn(self, item: Any, path: str, route: Route, draft: _RoleDraft) -> list[AttachedPolicy]:
        origin = self.place(route)
        if isinstance(item, list):  # a CommaDelimitedList parameter spliced in
            return [
                attachment
                for n, sub in enumerate(item)
                for attachment in self.attachments_for_arn(sub, index_path(path, n), (*route, n), draft)
            ]
        if isinstance(item, Link):
            if self.resolver.resource_type(item.logical_id) == MANAGED_POLICY:
                draft.managed_links.add(item.logical_id)
                return [self.managed_policy_attachment(item.logical_id, origin)]
            item = item.value
        if isinstance(item, Unresolved):
            return [
                unknown_attachment(
                    name=path.rsplit(".", 1)[-1],  # ManagedPolicyArns[1], PermissionsBoundary
                    arn=None,
                    origin=origin,
                    reason=f"{origin}: the policy ARN could not be resolved: {item.reason}",
                )
            ]
        if not isinstance(item, str):
            raise self.locator.error(path, f"expected a policy ARN, got {describe(item)}")
        for logical_id in self.resolver.resources:
            if (
                self.resolver.resource_type(logical_id) == MANAGED_POLICY
                and self.resolver.managed_policy_arn(logical_id) == item
            ):
                draft.managed_links.add(logical_id)
                return [self.managed_policy_attachment(logical_id, origin)]
        if is_aws_managed_arn(item):
            return [managed_attachment(item, name=None, origin=origin)]
        return [
            unknown_attachment(
                name=item.rsplit("/", 1)[-1],
                arn=item,
                origin=origin,
                reason=offline_unknown_reason(item),
            )
        ]

    def managed_policy_attachment(self, logical_id: str, origin: Origin) -> AttachedPolicy:
        """The template's own AWS::IAM::ManagedPolicy, parsed once."""
        resolver = self.resolver
        name = resolver.known_text(resolver.resolved_property(logical_id, "ManagedPolicyName")) or logical_id
        arn = resolver.known_text(resolver.managed_policy_arn(logical_id))
        decision = self.created(logical_id)
        if decision.value is False:
            return unknown_attachment(
                name=name,
                arn=arn,
                origin=origin,
                reason=f"{origin}: refers to {logical_id}, which is not created (its condition is false)",
            )
        if decision.value is None:
            return unknown_attachment(
                name=name,
                arn=arn,
                origin=origin,
                reason=f"{self.locator.origin(key_path('Resources', logical_id))}: exists only if {decision.reason}",
            )
        if logical_id not in self._managed_documents:
            document = resolver.resolved_property(logical_id, "PolicyDocument")
            self._managed_documents[logical_id] = read_policy(
                document, locator=self.locator, route=self.props_route(logical_id, "PolicyDocument"), name=name
            )
        result = self._managed_documents[logical_id]
        if isinstance(result, Policy):
            return AttachedPolicy(name=name, arn=arn, policy=result, origin=origin)
        return unknown_attachment(name=name, arn=arn, origin=origin, reason=result)

    def read_boundary(self, draft: _RoleDraft) -> None:
        path = self.props_path(draft.logical_id, "PermissionsBoundary")
        raw = self.resolver.properties(draft.logical_id).get("PermissionsBoundary")
        value = self.resolver.resolve(raw, path, links=True)
        if value is None or value is NO_VALUE:
            return
        links_before = set(draft.managed_links)
        found = self.attachments_for_arn(value, path, self.props_route(draft.logical_id, "PermissionsBoundary"), draft)
        if len(found) != 1:
            raise self.locator.error(path, "expected one policy ARN")
        draft.boundary = found[0]
        draft.managed_links = links_before  # a boundary is not an attached policy

    # Policies that name their roles.

    def role_targets(self, logical_id: str, property_name: str) -> list[str] | None:
        """Logical ids of this template's roles that a policy resource attaches to."""
        path = self.props_path(logical_id, property_name)
        raw = self.resolver.properties(logical_id).get(property_name)
        value = self.resolver.resolve(raw, path, links=True)
        if value is None or value is NO_VALUE:
            return []
        items = value if isinstance(value, list) else [value]
        targets: list[str] = []
        for item in items:
            if isinstance(item, Link) and item.logical_id in self.roles:
                targets.append(item.logical_id)
                continue
            if isinstance(item, Link) and self.resolver.resource_type(item.logical_id) == ROLE:
                self.skipped.append(
                    Skipped(
                        name=f"{logical_id} ({item.logical_id})",
                        reason=f"attaches to role {item.logical_id}, which is not created",
                        origin=self.locator.origin(path),
                    )
                )
                continue
            if isinstance(item, Link):
                item = item.value
            if isinstance(item, Unresolved):
                for draft in self.roles.values():
                    draft.unknowns.append(
                        f"{self.locator.origin(path)}: may attach to this role; "
                        "the role name could not "
                        f"be resolved: {item.reason}"
                    )
                continue
            if not isinstance(item, str):
                raise self.locator.error(path, f"expected role names, got {describe(item)}")
            match = [draft.logical_id for draft in self.roles.values() if draft.name == item]
            if match:
                targets.extend(match)
            else:
                self.skipped.append(
                    Skipped(
                        name=f"{logical_id} ({item})",
                        reason=f"attaches to role {item!r}, which this template does not define; "
                        "audit that role where it is defined",
                        origin=self.locator.origin(path),
                    )
                )
        return targets

    def read_policy_resources(self) -> None:
        for logical_id in self.resolver.resources:
            kind = self.resolver.resource_type(logical_id)
            if kind not in (POLICY, MANAGED_POLICY, ROLE_POLICY):
                if kind == SAM_FUNCTION and self.resolver.properties(logical_id).get("Role") is None:
                    # Only when the transform could not run: with Role, the function uses that role.
                    self.skipped.append(
                        Skipped(
                            name=logical_id,
                            reason="the role of an AWS::Serverless::Function without Role is generated by "
                            f"the SAM transform and is not audited: {self.sam_problem or 'no transform'}",
                            origin=self.locator.origin(key_path("Resources", logical_id)),
                        )
                    )
                continue
            decision = self.created(logical_id)
            if decision.value is False:
                self.skip_not_created(logical_id)
                continue
            role_property = "RoleName" if kind == ROLE_POLICY else "Roles"
            targets = self.role_targets(logical_id, role_property) or []
            resource_origin = self.place(("Resources", logical_id))
            if kind == MANAGED_POLICY:
                for target in targets:
                    draft = self.roles[target]
                    if logical_id not in draft.managed_links:
                        draft.managed_links.add(logical_id)
                        draft.policies.append(self.managed_policy_attachment(logical_id, resource_origin))
                continue
            name_value = self.resolver.resolved_property(logical_id, "PolicyName")
            name = self.resolver.known_text(name_value) or logical_id
            for target in targets:
                if decision.value is None:
                    attachment = unknown_attachment(
                        name=name,
                        arn=None,
                        origin=resource_origin,
                        inline=True,
                        reason=f"{resource_origin}: exists only if {decision.reason}",
                    )
                else:
                    attachment = attach_document(
                        self.resolver.resolved_property(logical_id, "PolicyDocument"),
                        locator=self.locator,
                        route=self.props_route(logical_id, "PolicyDocument"),
                        attachment_route=("Resources", logical_id),
                        name=name,
                        inline=True,
                    )
                self.roles[target].policies.append(attachment)

    # Nested stacks and StackSets.

    def read_stacks(self) -> None:
        """Name every nested stack and StackSet in ``skipped``; read a StackSet's TemplateBody."""
        for logical_id in self.resolver.resources:
            kind = self.resolver.resource_type(logical_id)
            if kind not in (NESTED_STACK, STACK_SET, SAM_APPLICATION):
                continue
            if self.created(logical_id).value is False:
                self.skip_not_created(logical_id)
                continue
            origin = self.locator.origin(key_path("Resources", logical_id))
            body = self.resolver.properties(logical_id).get("TemplateBody")
            if kind == STACK_SET and body is not None:
                self.read_stack_set(logical_id, body)
                continue
            where_key = "Location" if kind == SAM_APPLICATION else "TemplateURL"
            where = self.resolver.resolve(
                self.resolver.properties(logical_id).get(where_key), self.props_path(logical_id, where_key)
            )
            if isinstance(where, Mapping):  # a SAM application: ApplicationId and SemanticVersion
                where = " ".join(
                    str(where[k])
                    for k in ("ApplicationId", "SemanticVersion")
                    if isinstance(where.get(k), str) and not isinstance(where[k], Unresolved)
                )
            shown = where if isinstance(where, str) and where and not isinstance(where, Unresolved) else None
            what = {
                NESTED_STACK: "a nested stack (AWS::CloudFormation::Stack)",
                STACK_SET: "a StackSet (AWS::CloudFormation::StackSet)",
                SAM_APPLICATION: "a nested application (AWS::Serverless::Application)",
            }[kind]
            template = f"its template ({where_key} {shown})" if shown else f"its template ({where_key})"
            self.skipped.append(
                Skipped(
                    name=logical_id,
                    reason=f"{what}: {template} is not in this file, so the roles and policies it "
                    "creates are not audited; audit that template on its own",
                    origin=origin,
                )
            )
            if kind != STACK_SET:  # a StackSet deploys to other stacks, not beside these roles
                self.mark_roles_passed_to(logical_id, what)

    def mark_roles_passed_to(self, logical_id: str, what: str) -> None:
        """A role whose name or ARN a nested stack receives may get policies from it: unknown."""
        raw = self.resolver.properties(logical_id).get("Parameters")
        if not isinstance(raw, Mapping):
            return
        path = self.props_path(logical_id, "Parameters")
        for name, value in raw.items():
            mentioned = mentions(value)
            resolved = self.resolver.resolve(value, key_path(path, str(name)), links=True)
            texts = {
                item.value if isinstance(item, Link) else item
                for item in (resolved if isinstance(resolved, list) else [resolved])
            }
            for draft in self.roles.values():
                passed = (
                    draft.logical_id in mentioned
                    or draft.name in texts
                    or (draft.arn is not None and draft.arn in texts)
                )
                if passed:
                    draft.unknowns.append(
                        f"{self.locator.origin(key_path(path, str(name)))}: {what} {logical_id} receives "
                        f"this role in its parameter {name} and may attach policies to it; its "
                        "template is not in this file"
                    )

    def read_stack_set(self, logical_id: str, body: Any) -> None:
        """The roles of a StackSet's TemplateBody, as they are in each account it deploys to."""
        body_path = self.props_path(logical_id, "TemplateBody")
        origin = self.locator.origin(key_path("Resources", logical_id))
        locator = Locator(self.locator.origin(body_path))
        reason: str | None = None
        template: Any = body
        if self.depth >= _MAX_STACK_SET_DEPTH:
            reason = "a StackSet nested this deep is not read"
        elif isinstance(body, str):
            try:
                template = parse_yaml_text(body, locator.display)  # JSON is YAML too
            except InputError as error:
                reason = f"its TemplateBody could not be read: {error}"
        if reason is None and not (isinstance(template, Mapping) and isinstance(template.get("Resources"), Mapping)):
            reason = "its TemplateBody is not a template with Resources"
        if reason is not None:
            self.skipped.append(Skipped(name=logical_id, reason=f"a StackSet: {reason}", origin=origin))
            return
        parameters: dict[str, str] = {}
        raw = self.resolver.properties(logical_id).get("Parameters")
        for position, entry in enumerate(raw if isinstance(raw, list) else []):
            entry_path = index_path(self.props_path(logical_id, "Parameters"), position)
            entry = self.locator.mapping(entry, entry_path, "a parameter (ParameterKey, ParameterValue)")
            key = self.locator.string(entry.get("ParameterKey"), key_path(entry_path, "ParameterKey"))
            value = self.resolver.resolve(entry.get("ParameterValue"), key_path(entry_path, "ParameterValue"))
            parameters[key] = (
                value
                if isinstance(value, str)
                else Unresolved(f"{self.locator.origin(entry_path)} (a {describe(value)} where a string was expected)")
            )
        if "AWS::Partition" in self.resolver.given:
            parameters["AWS::Partition"] = self.resolver.given["AWS::Partition"]
        declared = template.get("Parameters")
        unknown = sorted(set(parameters) - set(declared if isinstance(declared, Mapping) else {}) - PSEUDO_PARAMETERS)
        if unknown:
            self.skipped.append(
                Skipped(
                    name=logical_id,
                    reason=f"a StackSet: it passes parameter {unknown[0]!r}, which its TemplateBody does not declare",
                    origin=origin,
                )
            )
            return
        inner = _TemplateReader(template, locator, parameters, depth=self.depth + 1)
        roles = inner.read()
        # The file holds the StackSet, not the role: reports point at the StackSet resource.
        self.stack_set_roles.extend(
            dataclasses.replace(
                role, source=self.locator.display, logical_id=logical_id, template_body_logical_id=role.logical_id
            )
            for role in roles
        )
        self.skipped.extend(inner.skipped)
        self.skipped.append(
            Skipped(
                name=logical_id,
                reason=f"a StackSet (AWS::CloudFormation::StackSet): its TemplateBody is read, and its "
                f"{len(roles)} role(s) audited as they are in each account it deploys to",
                origin=origin,
            )
        )

    def read(self) -> list[Role]:
        for logical_id in self.resolver.resources:
            if str(logical_id).startswith("Fn::ForEach::"):
                self.skipped.append(
                    Skipped(
                        name=str(logical_id),
                        reason="Fn::ForEach (AWS::LanguageExtensions) is not expanded; "
                        "the resources "
                        "it generates are not audited",
                        origin=self.locator.origin(key_path("Resources", logical_id)),
                    )
                )
                continue
            resource = self.resource(logical_id)
            if not isinstance(resource.get("Type"), str):
                raise self.locator.error(
                    key_path(key_path("Resources", logical_id), "Type"), "expected a resource type"
                )
        self.read_roles()
        self.read_policy_resources()
        self.read_stacks()
        return [
            Role(
                name=draft.name,
                arn=draft.arn,
                source=self.locator.display,
                trust_policy=draft.trust,
                trust_unknown_reason=draft.trust_reason,
                policies=tuple(draft.policies),
                permissions_boundary=draft.boundary,
                max_session_duration=draft.max_session_duration,
                unknowns=tuple(dict.fromkeys(draft.unknowns)),
                path=draft.path,
                input_type=InputType.CLOUDFORMATION,
                logical_id=draft.logical_id,
            )
            for draft in self.roles.values()
        ] + self.stack_set_roles


def read_template(
    data: object, locator: Locator, parameters: Mapping[str, str] | None = None
) -> tuple[list[Role], list[Skipped]]:
    """Roles defined by a CloudFormation template (see the module docstring)."""
    template = locator.mapping(data, "$", "a CloudFormation template")
    if "Resources" not in template:
        raise locator.error("Resources", "missing (a CloudFormation template needs Resources)")
    for key in ("Resources", "Parameters", "Conditions", "Mappings"):
        if template.get(key) is not None:
            locator.mapping(template[key], key)
    given = parameters or {}
    sam_problem: str | None = None
    if uses_sam(template):
        from zeet_iam_audit.sources.managed import managed_policy_names
        from zeet_iam_audit.sources.sam import expand_sam

        expanded = expand_sam(template, given, managed_policy_names())
        if isinstance(expanded, str):
            sam_problem = expanded
        else:
            return _read_sam_expansion(template, expanded, locator, given)
    reader = _TemplateReader(template, locator, given)
    reader.sam_problem = sam_problem
    roles = reader.read()
    return roles, reader.skipped


def _read_sam_expansion(
    original: Mapping[str, Any], expanded: Mapping[str, Any], locator: Locator, parameters: Mapping[str, str]
) -> tuple[list[Role], list[Skipped]]:
    """Roles of the template the SAM transform made (see ``sam.generated_roles_apart``)."""
    reader = _TemplateReader(expanded, locator, parameters)
    return generated_roles_apart(original, reader.read(), reader.skipped, locator)
