"""Terraform plans (``terraform show -json plan.out``) → roles.

Format versions: 0.1 (Terraform 0.12 to 1.0.x), 0.2 (1.0.x) and 1.x (1.1 and later) have the same
structure for what is read here. The older ones lack keys that this reader does not use: 0.1 from
Terraform 0.12 to 0.14 has no ``before_sensitive``/``after_sensitive``, 0.1 has no
``sensitive_values`` (0.2 adds them), and neither has ``relevant_attributes``, ``checks`` or the
``applyable``/``complete`` flags (1.x adds them). Configuration references written by 0.12 and 0.13
name the resource only (``aws_iam_policy.x``), later ones the attribute too
(``aws_iam_policy.x.arn`` and ``aws_iam_policy.x``); both are followed. A major version other than
0 or 1 is refused, as Terraform's format promise asks.

Resources are read from ``planned_values.root_module`` and its ``child_modules``, recursively
(``values`` instead, for ``terraform show -json`` of a state). Values Terraform will only know after
apply are absent there and marked in ``resource_changes[*].change.after_unknown``; the
``configuration`` section says what each expression refers to, which links resources whose linking
values are still unknown (an ``aws_iam_role_policy_attachment`` whose ``policy_arn`` is
``aws_iam_policy.x.arn``, unknown until the policy exists). References through module variables
(``var.role_name``) and module outputs (``module.zeet.role_name``) are followed.

Read: ``aws_iam_role`` (``assume_role_policy``, ``inline_policy`` blocks, ``managed_policy_arns``,
``permissions_boundary``, ``max_session_duration``, ``name``, ``path``, ``arn``),
``aws_iam_role_policy`` (``role``, ``name``, ``policy``), ``aws_iam_policy`` (``name``, ``policy``,
``arn``), ``aws_iam_role_policy_attachment`` (``role``, ``policy_arn``) and
``aws_iam_policy_attachment`` (``roles``, ``policy_arn``).

Unknown until apply, and not linkable through the configuration: the policy or attachment is
unknown with that reason; an attachment whose role cannot be told makes every role of the plan
carry an unknown (it may be attached to any of them). A policy string that is not a valid policy
makes that attachment unknown with the parse problem. ``inline_policy`` and
``managed_policy_arns`` that the configuration does not set are computed by the provider from
what is attached at apply time; the plan's own attachments are then what counts.

Origins are resource addresses: ``plan.json: module.zeet_role.aws_iam_role_policy.secrets.policy``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from zeet_iam_audit.model import AttachedPolicy, InputType, Origin, Policy, Role, Route
from zeet_iam_audit.sources.attach import (
    attach_document,
    read_policy,
    read_trust,
    unknown_attachment,
)
from zeet_iam_audit.sources.managed import (
    is_aws_managed_arn,
    managed_attachment,
    offline_unknown_reason,
)
from zeet_iam_audit.sources.result import Skipped
from zeet_iam_audit.sources.shape import Locator, describe, index_path, key_path

ROLE = "aws_iam_role"
ROLE_POLICY = "aws_iam_role_policy"
POLICY = "aws_iam_policy"
ATTACHMENT = "aws_iam_role_policy_attachment"
MULTI_ATTACHMENT = "aws_iam_policy_attachment"
_INDEX = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]')
_AFTER_APPLY = "known only after apply"
_MAX_REFERENCE_HOPS = 16
# Format versions whose structure this reader knows. 0.1 (Terraform 0.12 to 1.0.x) and 0.2 (1.0.x)
# differ from 1.x only by keys the reader does not use (sensitive marks, relevant_attributes,
# checks); Terraform promises that 1.x minors only add keys and that a 2.0 would break the format.
_READABLE_FORMAT = re.compile(r"0\.[12]|1\.\d+")


def strip_indexes(address: str) -> str:
    """``module.a[0].aws_iam_role.r["x"]`` → ``module.a.aws_iam_role.r`` (its configuration)."""
    return _INDEX.sub("", address)


def _index_of(address: str) -> str | None:
    match = re.search(r'(\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\])$', address)
    return match.group(1) if match else None


@dataclass
class _Resource:
    address: str
    type: str
    values: Mapping[str, Any]
    unknown: Mapping[str, Any] | bool
    config: Mapping[str, Any]
    module: str  # configuration module path: "" or "module.zeet_role"

    def known(self, key: str) -> tuple[Any, bool]:
        """(value, False) or (None, True) when Terraform knows it only after apply."""
        if self.unknown is True or (isinstance(self.unknown, Mapping) and self.unknown.get(key) is True):
            return None, True
        return self.values.get(key), False

    def unknown_at(self, key: str, position: int, inner: str) -> bool:
        marks = self.unknown.get(key) if isinstance(self.unknown, Mapping) else None
        if isinstance(marks, list) and position < len(marks) and isinstance(marks[position], Mapping):
            return marks[position].get(inner) is True
        return False

    def configured(self, key: str) -> bool:
        expressions = self.config.get("expressions")
        return isinstance(expressions, Mapping) and key in expressions

    def references(self, key: str) -> list[str]:
        expressions = self.config.get("expressions")
        expression = expressions.get(key) if isinstance(expressions, Mapping) else None
        refs = expression.get("references") if isinstance(expression, Mapping) else None
        return [ref for ref in refs if isinstance(ref, str)] if isinstance(refs, list) else []


@dataclass
class _RoleDraft:
    resource: _Resource
    name: str
    policies: list[AttachedPolicy] = field(default_factory=list)
    boundary: AttachedPolicy | None = None
    unknowns: list[str] = field(default_factory=list)
    trust: Policy | None = None
    trust_reason: str | None = None


class _PlanReader:
    def __init__(self, plan: Mapping[str, Any], locator: Locator) -> None:
        self.plan = plan
        self.locator = locator
        self.skipped: list[Skipped] = []
        self.resources: list[_Resource] = []
        self.config_modules: dict[str, Mapping[str, Any]] = {}
        self.config_resources: dict[str, Mapping[str, Any]] = {}
        self.roles: dict[str, _RoleDraft] = {}
        self.policies: dict[str, _Resource] = {}
        self._parsed: dict[str, Policy | str] = {}

    # --- reading the plan's structure ----------------------------------------------------------

    def load(self) -> None:
        version = self.plan.get("format_version")
        if not isinstance(version, str) or not _READABLE_FORMAT.fullmatch(version):
            raise self.locator.error(
                "$.format_version",
                "expected format version 0.1 or 0.2 (Terraform 0.12 to 1.0) or 1.x (Terraform 1.1 "
                f"and later), got {describe(version)}",
            )
        self._load_configuration()
        unknowns = self._after_unknown()
        if "planned_values" in self.plan:
            root_path = "$.planned_values"
        elif "values" in self.plan:
            root_path = "$.values"
        else:
            raise self.locator.error(
                "$",
                "expected planned_values (terraform show -json of a saved plan) or values (of a state)",
            )
        root_holder = self.locator.mapping(self.plan[root_path[2:]], root_path)
        if root_holder.get("root_module") is None:
            return  # an empty plan
        for raw, path, module_address in self._walk_modules(
            root_holder["root_module"], key_path(root_path, "root_module"), ""
        ):
            entry = self.locator.mapping(raw, path, "a resource object")
            if entry.get("mode", "managed") != "managed":
                continue
            address = self.locator.string(entry.get("address"), key_path(path, "address"))
            kind = self.locator.string(entry.get("type"), key_path(path, "type"))
            values = entry.get("values") or {}
            values = self.locator.mapping(values, key_path(path, "values"))
            module = strip_indexes(module_address)
            local = f"{kind}.{entry.get('name')}"
            config_key = f"{module}.{local}" if module else local
            self.resources.append(
                _Resource(
                    address=address,
                    type=kind,
                    values=values,
                    unknown=unknowns.get(address, {}),
                    config=self.config_resources.get(config_key, {}),
                    module=module,
                )
            )

    def _walk_modules(self, raw: Any, path: str, address: str) -> Iterator[tuple[Any, str, str]]:
        module = self.locator.mapping(raw, path, "a module object")
        for position, resource in enumerate(self.locator.optional_sequence(module, "resources", path)):
            yield resource, index_path(key_path(path, "resources"), position), address
        for position, child in enumerate(self.locator.optional_sequence(module, "child_modules", path)):
            child_path = index_path(key_path(path, "child_modules"), position)
            child_module = self.locator.mapping(child, child_path, "a module object")
            child_address = self.locator.string(child_module.get("address"), key_path(child_path, "address"))
            yield from self._walk_modules(child_module, child_path, child_address)

    def _after_unknown(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for position, raw in enumerate(self.locator.optional_sequence(self.plan, "resource_changes", "$")):
            path = index_path("$.resource_changes", position)
            change = self.locator.mapping(raw, path, "a resource change object")
            address = change.get("address")
            body = change.get("change")
            if isinstance(address, str) and isinstance(body, Mapping):
                result[address] = body.get("after_unknown") or {}
        return result

    def _load_configuration(self) -> None:
        configuration = self.plan.get("configuration")
        if not isinstance(configuration, Mapping):
            return
        root = configuration.get("root_module")
        if isinstance(root, Mapping):
            self._load_config_module(root, "")

    def _load_config_module(self, module: Mapping[str, Any], path: str) -> None:
        self.config_modules[path] = module
        resources = module.get("resources")
        for resource in resources if isinstance(resources, list) else []:
            if isinstance(resource, Mapping) and isinstance(resource.get("address"), str):
                local = str(resource["address"])
                self.config_resources[f"{path}.{local}" if path else local] = resource
        calls = module.get("module_calls")
        for name, call in calls.items() if isinstance(calls, Mapping) else []:
            child = call.get("module") if isinstance(call, Mapping) else None
            if isinstance(child, Mapping):
                self._load_config_module(child, f"{path}.module.{name}" if path else f"module.{name}")

    # --- following references ------------------------------------------------------------------

    def referenced(self, module: str, references: list[str], hops: int = 0) -> set[str]:
        """Configuration addresses of the resources that expressions in ``module`` refer to."""
        found: set[str] = set()
        if hops > _MAX_REFERENCE_HOPS:
            return found
        for reference in references:
            parts = strip_indexes(reference).split(".")
            if parts[0] == "var" and len(parts) >= 2 and module:
                parent, _, call = (
                    module.rpartition(".module.") if ".module." in module else ("", "", module[len("module.") :])
                )
                call_config = self._module_call(parent, call)
                expressions = call_config.get("expressions") if call_config else None
                expression = expressions.get(parts[1]) if isinstance(expressions, Mapping) else None
                refs = expression.get("references") if isinstance(expression, Mapping) else None
                if isinstance(refs, list):
                    found |= self.referenced(parent, [r for r in refs if isinstance(r, str)], hops + 1)
            elif parts[0] == "module" and len(parts) >= 3:
                child = f"{module}.module.{parts[1]}" if module else f"module.{parts[1]}"
                outputs = self.config_modules.get(child, {}).get("outputs")
                output = outputs.get(parts[2]) if isinstance(outputs, Mapping) else None
                expression = output.get("expression") if isinstance(output, Mapping) else None
                refs = expression.get("references") if isinstance(expression, Mapping) else None
                if isinstance(refs, list):
                    found |= self.referenced(child, [r for r in refs if isinstance(r, str)], hops + 1)
            elif len(parts) >= 2 and parts[0] not in (
                "data",
                "local",
                "each",
                "count",
                "path",
                "terraform",
                "self",
            ):
                local = f"{parts[0]}.{parts[1]}"
                found.add(f"{module}.{local}" if module else local)
        return found

    def _module_call(self, parent: str, call: str) -> Mapping[str, Any] | None:
        calls = self.config_modules.get(parent, {}).get("module_calls")
        result = calls.get(call) if isinstance(calls, Mapping) else None
        return result if isinstance(result, Mapping) else None

    def instances(self, config_address: str, kinds: set[str], near: _Resource) -> list[_Resource]:
        """Planned instances of a configuration address; with count/for_each, the one sharing
        ``near``'s index when there is one."""
        matches = [
            resource
            for resource in self.resources
            if resource.type in kinds and strip_indexes(resource.address) == config_address
        ]
        if len(matches) > 1:
            index = _index_of(near.address)
            same = [resource for resource in matches if _index_of(resource.address) == index]
            return same if len(same) == 1 else matches
        return matches

    def linked(self, resource: _Resource, key: str, kinds: set[str]) -> list[_Resource]:
        addresses = self.referenced(resource.module, resource.references(key))
        found: list[_Resource] = []
        for address in sorted(addresses):
            found.extend(self.instances(address, kinds, resource))
        return found

    # --- documents -----------------------------------------------------------------------------

    def policy_document(self, policy: _Resource) -> Policy | str:
        if policy.address not in self._parsed:
            document, unknown = policy.known("policy")
            path = f"{policy.address}.policy"
            if unknown:
                self._parsed[policy.address] = f"{self.locator.origin(path)}: {_AFTER_APPLY}"
            elif not isinstance(document, str) or not document:
                self._parsed[policy.address] = f"{self.locator.origin(path)}: no policy document in the plan"
            else:
                name = self.name_of(policy)
                self._parsed[policy.address] = read_policy(
                    document, locator=self.locator, route=(policy.address, "policy"), name=name
                )
        return self._parsed[policy.address]

    @staticmethod
    def name_of(resource: _Resource) -> str:
        value, unknown = resource.known("name")
        return value if isinstance(value, str) and value and not unknown else resource.address

    def place(self, route: Route) -> Origin:
        """An origin in the plan: a resource address, then attribute steps."""
        return Origin(self.locator.display, route)

    def policy_attachment(self, policy: _Resource, origin: Origin) -> AttachedPolicy:
        arn, unknown = policy.known("arn")
        arn_text = arn if isinstance(arn, str) and not unknown else None
        result = self.policy_document(policy)
        name = self.name_of(policy)
        if isinstance(result, Policy):
            return AttachedPolicy(name=name, arn=arn_text, policy=result, origin=origin)
        return unknown_attachment(name=name, arn=arn_text, origin=origin, reason=result)

    def arn_attachment(self, owner: _Resource, key: str, origin: Origin) -> AttachedPolicy:
        """The policy an ARN attribute names: a plan policy, an AWS managed one, or unknown."""
        arn, unknown = owner.known(key)
        if not unknown and isinstance(arn, str) and arn:
            for policy in self.policies.values():
                known_arn, arn_unknown = policy.known("arn")
                if not arn_unknown and known_arn == arn:
                    return self.policy_attachment(policy, origin)
            if is_aws_managed_arn(arn):
                return managed_attachment(arn, name=None, origin=origin)
            return unknown_attachment(
                name=arn.rsplit("/", 1)[-1],
                arn=arn,
                origin=origin,
                reason=offline_unknown_reason(arn),
            )
        linked = self.linked(owner, key, {POLICY})
        if len(linked) == 1:
            return self.policy_attachment(linked[0], origin)
        return unknown_attachment(
            name=f"{owner.address}.{key}",
            arn=None,
            origin=origin,
            reason=f"{origin}: {key} is {_AFTER_APPLY} and the configuration does not say which policy it is",
        )

    # --- roles ---------------------------------------------------------------------------------

    def read_role(self, resource: _Resource) -> _RoleDraft:
        origin_path = resource.address
        draft = _RoleDraft(resource=resource, name=self.name_of(resource))
        trust, trust_unknown = resource.known("assume_role_policy")
        if trust_unknown:
            draft.trust_reason = f"{self.locator.origin(origin_path + '.assume_role_policy')}: {_AFTER_APPLY}"
        else:
            draft.trust, draft.trust_reason = read_trust(
                trust or None,
                locator=self.locator,
                route=(origin_path, "assume_role_policy"),
                name="assume_role_policy",
            )
        self.read_inline_blocks(draft)
        self.read_managed_arns(draft)
        self.read_boundary(draft)
        return draft

    def read_inline_blocks(self, draft: _RoleDraft) -> None:
        resource = draft.resource
        blocks, unknown = resource.known("inline_policy")
        path = f"{resource.address}.inline_policy"
        if unknown:
            if resource.configured("inline_policy"):
                draft.unknowns.append(f"{self.locator.origin(path)}: {_AFTER_APPLY}")
            return
        for position, raw in enumerate(blocks if isinstance(blocks, list) else []):
            block_path = index_path(path, position)
            block = self.locator.mapping(raw, block_path, "an inline_policy block")
            name = block.get("name") if isinstance(block.get("name"), str) else ""
            if resource.unknown_at("inline_policy", position, "policy"):
                if resource.configured("inline_policy"):
                    draft.policies.append(
                        unknown_attachment(
                            name=name or f"inline_policy[{position}]",
                            arn=None,
                            inline=True,
                            origin=self.place((resource.address, "inline_policy", position)),
                            reason=(f"{self.locator.origin(key_path(block_path, 'policy'))}: {_AFTER_APPLY}"),
                        )
                    )
                continue
            policy = block.get("policy")
            if not name and not policy:
                continue  # the provider's placeholder for "no inline policies"
            draft.policies.append(
                attach_document(
                    policy,
                    locator=self.locator,
                    route=(resource.address, "inline_policy", position, "policy"),
                    attachment_route=(resource.address, "inline_policy", position),
                    name=name or f"inline_policy[{position}]",
                    inline=True,
                )
            )

    def read_managed_arns(self, draft: _RoleDraft) -> None:
        resource = draft.resource
        arns, unknown = resource.known("managed_policy_arns")
        path = f"{resource.address}.managed_policy_arns"
        origin = self.place((resource.address, "managed_policy_arns"))
        if unknown:
            if resource.configured("managed_policy_arns"):
                draft.unknowns.append(f"{origin}: {_AFTER_APPLY}")
                for policy in self.linked(resource, "managed_policy_arns", {POLICY}):
                    draft.policies.append(self.policy_attachment(policy, origin))
            return
        for position, arn in enumerate(arns if isinstance(arns, list) else []):
            item_path = index_path(path, position)
            text = self.locator.string(arn, item_path)
            holder = _Resource(
                address=resource.address,
                type=resource.type,
                values={"arn": text},
                unknown={},
                config={},
                module=resource.module,
            )
            draft.policies.append(
                self.arn_attachment(holder, "arn", self.place((resource.address, "managed_policy_arns", position)))
            )

    def read_boundary(self, draft: _RoleDraft) -> None:
        resource = draft.resource
        value, unknown = resource.known("permissions_boundary")
        if not unknown and not value:
            return
        origin = self.place((resource.address, "permissions_boundary"))
        draft.boundary = self.arn_attachment(resource, "permissions_boundary", origin)

    def role_for(self, owner: _Resource, key: str) -> list[_RoleDraft] | None:
        """The plan's roles an attachment's ``role`` names; None when it cannot be told."""
        value, unknown = owner.known(key)
        if not unknown and isinstance(value, str) and value:
            names = [value]
        elif not unknown and isinstance(value, list):
            names = [item for item in value if isinstance(item, str)]
        else:
            linked = self.linked(owner, key, {ROLE})
            return [self.roles[role.address] for role in linked if role.address in self.roles] or None
        found: list[_RoleDraft] = []
        for name in names:
            matches = [
                draft for draft in self.roles.values() if draft.name == name or draft.resource.values.get("arn") == name
            ]
            if matches:
                found.extend(matches)
            else:
                self.skipped.append(
                    Skipped(
                        name=f"{owner.address} ({name})",
                        reason=f"attaches to role {name!r}, which this plan does not create "
                        "or manage; "
                        "audit that role where it is defined",
                        origin=self.locator.origin(f"{owner.address}.{key}"),
                    )
                )
        return found

    def attach_everywhere_unknown(self, owner: _Resource, key: str) -> None:
        reason = (
            f"{self.locator.origin(f'{owner.address}.{key}')}: may attach to this role; "
            "its role is "
            f"{_AFTER_APPLY} and the configuration does not say which"
        )
        for draft in self.roles.values():
            draft.unknowns.append(reason)

    def read(self) -> list[Role]:
        self.load()
        for resource in self.resources:
            if resource.type == POLICY:
                self.policies[resource.address] = resource
        for resource in self.resources:
            if resource.type == ROLE:
                self.roles[resource.address] = self.read_role(resource)
        for resource in self.resources:
            if resource.type == ROLE_POLICY:
                targets = self.role_for(resource, "role")
                if targets is None:
                    self.attach_everywhere_unknown(resource, "role")
                    continue
                path = f"{resource.address}.policy"
                document, unknown = resource.known("policy")
                for draft in targets:
                    if unknown:
                        draft.policies.append(
                            unknown_attachment(
                                name=self.name_of(resource),
                                arn=None,
                                inline=True,
                                origin=self.place((resource.address,)),
                                reason=f"{self.locator.origin(path)}: {_AFTER_APPLY}",
                            )
                        )
                    else:
                        draft.policies.append(
                            attach_document(
                                document,
                                locator=self.locator,
                                route=(resource.address, "policy"),
                                attachment_route=(resource.address,),
                                name=self.name_of(resource),
                                inline=True,
                            )
                        )
            elif resource.type in (ATTACHMENT, MULTI_ATTACHMENT):
                key = "role" if resource.type == ATTACHMENT else "roles"
                targets = self.role_for(resource, key)
                if targets is None:
                    self.attach_everywhere_unknown(resource, key)
                    continue
                for draft in targets:
                    draft.policies.append(self.arn_attachment(resource, "policy_arn", self.place((resource.address,))))
        return [self.build(draft) for draft in self.roles.values()]

    def build(self, draft: _RoleDraft) -> Role:
        resource = draft.resource
        arn, arn_unknown = resource.known("arn")
        path, _ = resource.known("path")
        duration, _ = resource.known("max_session_duration")
        return Role(
            name=draft.name,
            arn=arn if isinstance(arn, str) and arn and not arn_unknown else None,
            source=self.locator.display,
            trust_policy=draft.trust,
            trust_unknown_reason=draft.trust_reason,
            policies=tuple(draft.policies),
            permissions_boundary=draft.boundary,
            max_session_duration=duration if isinstance(duration, int) and not isinstance(duration, bool) else None,
            unknowns=tuple(dict.fromkeys(draft.unknowns)),
            path=path if isinstance(path, str) and path else "/",
            input_type=InputType.TERRAFORM,
            address=resource.address,
        )


def read_plan(data: object, locator: Locator) -> tuple[list[Role], list[Skipped]]:
    """Roles a Terraform plan creates or manages (see the module docstring)."""
    plan = locator.mapping(data, "$", "terraform show -json output")
    reader = _PlanReader(plan, locator)
    roles = reader.read()
    return roles, reader.skipped
