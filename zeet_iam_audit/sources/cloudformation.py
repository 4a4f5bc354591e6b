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

Intrinsic functions are resolved where the template alone decides them:

- ``Ref`` to a parameter: the value passed in ``parameters``, else its ``Default``; list types
  (``CommaDelimitedList``, ``List<...>``) become lists; ``AWS::SSM::Parameter::Value<...>`` types
  are read at deployment, so only a passed value resolves them;
- pseudo parameters: ``AWS::Partition`` is ``aws`` and ``AWS::URLSuffix`` ``amazonaws.com`` unless
  passed; ``AWS::AccountId`` is the account the stack is deployed to, whichever it is: unless passed,
  ARNs carry ``OWN_ACCOUNT`` there (the role's own account, for the evaluator), and a condition or
  mapping that depends on it is undecided; ``AWS::Region``, ``AWS::StackName``... only when passed;
  ``AWS::NoValue`` removes the property or list item;
- ``Ref`` to a role → its ``RoleName``; to a managed policy → its ARN (when its name and the account
  are known) and, wherever policies are attached, a link to the template's own document;
- ``Fn::Sub`` (``${Param}``, ``${AWS::...}``, ``${Res.Attr}``, ``${!Literal}``; IAM policy
  variables such as ``${aws:username}`` are kept as written), ``Fn::Join``, ``Fn::Select``,
  ``Fn::Split``, ``Fn::FindInMap``, ``Fn::Base64``, ``Fn::Length``, ``Fn::ToJsonString``;
- ``Fn::If`` with a condition decided from ``Conditions`` (``Fn::Equals``/``And``/``Or``/``Not``/
  ``Condition``); an undecided one resolves when both branches agree;
- ``Fn::GetAtt Role.Arn`` / ``ManagedPolicy.PolicyArn`` when name and account are known.

Everything else (``Fn::ImportValue``, ``Fn::GetAZs``, ``Fn::Cidr``, ``Fn::Transform``, values
known only at deployment, undecided conditions) becomes ``Unresolved(reason)`` inside the policy
document, which the evaluator treats as unknown. Where a whole document or list is unresolved, the
attachment becomes unknown (``AttachedPolicy.unknown_reason``) or the role records it in
``Role.unknowns``. Nothing unresolved is ever treated as granted or as absent.

Origins are template paths: ``zeet-role.yaml: Resources.ZeetRole.Properties.Policies[1]``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zeet_iam_audit.errors import InputError, UsageError
from zeet_iam_audit.model import OWN_ACCOUNT, AttachedPolicy, Policy, Role, Unresolved
from zeet_iam_audit.sources.attach import (
    attach_document,
    find_unresolved,
    read_policy,
    read_trust,
    unknown_attachment,
)
from zeet_iam_audit.sources.managed import (
    is_aws_managed_arn,
    managed_attachment,
    offline_unknown_reason,
)
from zeet_iam_audit.sources.reading import parse_yaml_text
from zeet_iam_audit.sources.result import Skipped
from zeet_iam_audit.sources.sam import uses_sam
from zeet_iam_audit.sources.shape import Locator, describe, index_path, key_path

ROLE = "AWS::IAM::Role"
POLICY = "AWS::IAM::Policy"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
ROLE_POLICY = "AWS::IAM::RolePolicy"
SAM_FUNCTION = "AWS::Serverless::Function"
NESTED_STACK = "AWS::CloudFormation::Stack"
STACK_SET = "AWS::CloudFormation::StackSet"
SAM_APPLICATION = "AWS::Serverless::Application"
_MAX_STACK_SET_DEPTH = 2  # a StackSet's TemplateBody holding a StackSet is read; deeper is skipped
KNOWN_TRANSFORMS = frozenset({"AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"})

PSEUDO_DEFAULTS: Mapping[str, str] = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::Region",
        "AWS::StackName",
        "AWS::StackId",
        "AWS::NotificationARNs",
        "AWS::Partition",
        "AWS::URLSuffix",
        "AWS::NoValue",
    }
)
# A name holds no "$": each "${" is then scanned to the next "}" or "$" at most, so a template of
# thousands of unclosed "${" is read in linear time.
_SUB_VARIABLE = re.compile(r"\$\{([^}$]*)\}")
# What resolving one template's intrinsic functions may produce: values visited and characters of
# text. CloudFormation accepts templates of at most 1 MB; far beyond these, Fn::FindInMap, Fn::Sub
# or Fn::Join repeating long values is an expansion bomb, refused before it is built.
MAX_RESOLVED_VALUES = 1_000_000
MAX_RESOLVED_CHARACTERS = 64 * 1024 * 1024
_SHOWN_TEMPLATE = 200  # characters of an Fn::Sub template quoted in a reason
# Characters of one unresolved value's reason: reasons quote the reasons of what they depend on,
# so without a bound nested Fn::Sub and Fn::Join variables would multiply them.
MAX_REASON = 1000


def _reason(text: str) -> str:
    """A reason for an ``Unresolved`` value, at most ``MAX_REASON`` characters."""
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


class _NoValue:
    """``Ref AWS::NoValue``: the property or list item is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass(frozen=True, slots=True)
class _Link:
    """A reference to a resource of this template, kept where roles and policies are linked."""

    logical_id: str
    value: str  # what the reference resolves to as a plain value (may be Unresolved)


def _pass(name: str) -> str:
    """How to resolve a parameter: the option, named once."""
    return f"pass --parameter {name}=VALUE"


def _own_account_in(values: list[Any]) -> Unresolved | None:
    """Where a choice depends on the account (a condition, a mapping key), it is not decided."""
    for value in values:
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and OWN_ACCOUNT in item for item in items):
            return Unresolved(f"AWS::AccountId (the account the stack is deployed to; {_pass('AWS::AccountId')})")
    return None


def _text(value: Any) -> str | None:
    """A scalar as CloudFormation sees it (every parameter value is a string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def _json_size(value: Any) -> int:
    """An upper bound of ``json.dumps(value)``'s length (strings escaped at most 6 to 1)."""
    size = 0
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            size += 6 * len(current) + 2
        elif isinstance(current, Mapping):
            size += 2 + 2 * len(current)
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            size += 2 + len(current)
            stack.extend(current)
        else:
            size += 32
    return size


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    (key,) = value
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


@dataclass
class _Decision:
    value: bool | None
    reason: str = ""


@dataclass
class TemplateResolver:
    """Resolves intrinsic functions against one template and the values passed for it."""

    template: Mapping[str, Any]
    locator: Locator
    given: Mapping[str, str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    resources: Mapping[str, Any] = field(default_factory=dict)
    _decisions: dict[str, _Decision] = field(default_factory=dict)
    _deciding: set[str] = field(default_factory=set)
    _resource_values: dict[str, str] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)
    _values_spent: int = 0
    _characters_spent: int = 0

    def __post_init__(self) -> None:
        raw_resources = self.template.get("Resources")
        self.resources = raw_resources if isinstance(raw_resources, Mapping) else {}
        raw_parameters = self.template.get("Parameters")
        declared = self.locator.mapping({} if raw_parameters is None else raw_parameters, "Parameters")
        unknown = sorted(set(self.given) - set(declared) - PSEUDO_PARAMETERS)
        if unknown:
            raise UsageError(
                f"{self.locator.display}: parameter {unknown[0]!r} is not declared in the "
                "template's "
                f"Parameters (declared: {', '.join(sorted(map(str, declared))) or 'none'})"
            )
        for name, raw in declared.items():
            spec = self.locator.mapping(raw, key_path("Parameters", name), "a parameter object")
            self.parameters[str(name)] = self._parameter_value(str(name), spec)

    # --- parameters and pseudo parameters ------------------------------------------------------

    def _parameter_value(self, name: str, spec: Mapping[str, Any]) -> Any:
        kind = str(spec.get("Type", "String"))
        if name in self.given:
            text: str | None = self.given[name]
        elif kind.startswith("AWS::SSM::Parameter::Value<"):
            return Unresolved(f"Ref {name} (an SSM parameter, read at deployment; {_pass(name)})")
        elif spec.get("Default") is not None:
            text = _text(spec["Default"])
            if text is None:
                raise self.locator.error(
                    key_path(key_path("Parameters", name), "Default"),
                    f"expected a string or number, got {describe(spec['Default'])}",
                )
        else:
            return Unresolved(f"Ref {name} (a parameter without a default; {_pass(name)})")
        if isinstance(text, Unresolved):
            return text  # a StackSet's parameter its own template could not resolve
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            return [item.strip() for item in text.split(",")] if text else []
        return text

    def _pseudo(self, name: str) -> Any:
        if name in self.given:
            return self.given[name]
        if name in PSEUDO_DEFAULTS:
            return PSEUDO_DEFAULTS[name]
        if name == "AWS::AccountId":
            return OWN_ACCOUNT
        return Unresolved(f"{name} (known when the stack is deployed; {_pass(name)})")

    @property
    def partition(self) -> str:
        value = self._pseudo("AWS::Partition")
        return value if isinstance(value, str) and not isinstance(value, Unresolved) else "aws"

    @property
    def account(self) -> str:
        """The account given as ``AWS::AccountId``, else ``OWN_ACCOUNT``."""
        return str(self._pseudo("AWS::AccountId"))

    # --- conditions ----------------------------------------------------------------------------

    def decide(self, name: str) -> _Decision:
        """Whether a named condition holds: True, False, or None with the reason it is undecided."""
        if name in self._decisions:
            return self._decisions[name]
        conditions = self.template.get("Conditions") or {}
        if not isinstance(conditions, Mapping) or name not in conditions:
            return _Decision(None, f"condition {name!r} is not defined in Conditions")
        if name in self._deciding:
            return _Decision(None, f"condition {name!r} refers to itself")
        self._deciding.add(name)
        try:
            decision = self._evaluate(conditions[name], key_path("Conditions", name))
        finally:
            self._deciding.discard(name)
        if decision.value is None:
            decision = _Decision(None, f"condition {name} could not be decided ({decision.reason})")
        self._decisions[name] = decision
        return decision

    def _evaluate(self, expression: Any, path: str) -> _Decision:
        if not isinstance(expression, Mapping) or len(expression) != 1:
            return _Decision(None, f"{path}: expected a condition function, got {describe(expression)}")
        ((function, argument),) = expression.items()
        if function == "Condition":
            return self.decide(str(argument))
        if function == "Fn::Equals":
            if not isinstance(argument, list) or len(argument) != 2:
                return _Decision(None, f"{path}: Fn::Equals takes two values")
            left, right = (self.resolve(item, path) for item in argument)
            blocker = find_unresolved([left, right]) or _own_account_in([left, right])
            if blocker is not None:
                return _Decision(None, blocker.reason)
            return _Decision(self._comparable(left) == self._comparable(right))
        if function == "Fn::Not":
            items = argument if isinstance(argument, list) else [argument]
            if len(items) != 1:
                return _Decision(None, f"{path}: Fn::Not takes one condition")
            inner = self._evaluate(items[0], path)
            return inner if inner.value is None else _Decision(not inner.value)
        if function in ("Fn::And", "Fn::Or"):
            if not isinstance(argument, list) or not argument:
                return _Decision(None, f"{path}: {function} takes a list of conditions")
            results = [self._evaluate(item, path) for item in argument]
            decisive = function == "Fn::Or"  # Or is decided by a True, And by a False
            if any(result.value is decisive for result in results):
                return _Decision(decisive)
            undecided = [result for result in results if result.value is None]
            if undecided:
                return _Decision(None, undecided[0].reason)
            return _Decision(not decisive)
        return _Decision(None, f"{path}: {function} is not a condition function")

    @staticmethod
    def _comparable(value: Any) -> Any:
        if isinstance(value, list):
            return [_text(item) for item in value]
        return _text(value)

    # --- resources -----------------------------------------------------------------------------

    def resource_type(self, logical_id: str) -> str | None:
        resource = self.resources.get(logical_id)
        if isinstance(resource, Mapping) and isinstance(resource.get("Type"), str):
            return str(resource["Type"])
        return None

    def properties(self, logical_id: str) -> Mapping[str, Any]:
        resource = self.resources.get(logical_id)
        props = resource.get("Properties") if isinstance(resource, Mapping) else None
        return props if isinstance(props, Mapping) else {}

    def resolved_property(self, logical_id: str, name: str) -> Any:
        path = key_path(key_path(key_path("Resources", logical_id), "Properties"), name)
        return self.resolve(self.properties(logical_id).get(name), path)

    def known_text(self, value: Any) -> str | None:
        """A resolved, known string, or None."""
        if isinstance(value, str) and not isinstance(value, Unresolved):
            return value
        return None

    def role_path(self, logical_id: str) -> str | Unresolved:
        value = self.resolved_property(logical_id, "Path")
        if value is None or value is NO_VALUE:
            return "/"
        return value if isinstance(value, str) else Unresolved(f"Resources.{logical_id}: Path is not a string")

    def resource_value(self, logical_id: str) -> str:
        """What ``Ref logical_id`` resolves to."""
        if logical_id in self._resource_values:
            return self._resource_values[logical_id]
        if logical_id in self._resolving:
            return Unresolved(f"Ref {logical_id} (refers to itself through other references)")
        self._resolving.add(logical_id)
        try:
            value = self._compute_resource_value(logical_id)
        finally:
            self._resolving.discard(logical_id)
        self._resource_values[logical_id] = value
        return value

    def _compute_resource_value(self, logical_id: str) -> str:
        kind = self.resource_type(logical_id)
        if kind == ROLE:
            name = self.resolved_property(logical_id, "RoleName")
            if name is None or name is NO_VALUE:
                return Unresolved(f"Ref {logical_id} (the role's name is generated at deployment)")
            return name if isinstance(name, str) else Unresolved(f"Ref {logical_id} (RoleName is not a string)")
        if kind == MANAGED_POLICY:
            return self.managed_policy_arn(logical_id)
        return Unresolved(f"Ref {logical_id} (a {kind or 'resource'} value, known at deployment)")

    def role_arn(self, logical_id: str) -> str:
        name = self.known_text(self.resource_value(logical_id))
        path = self.known_text(self.role_path(logical_id))
        if name is None or path is None:
            return Unresolved(f"Fn::GetAtt {logical_id}.Arn (the role's ARN is known at deployment)")
        return f"arn:{self.partition}:iam::{self.account}:role{path}{name}"

    def managed_policy_arn(self, logical_id: str) -> str:
        name = self.known_text(self.resolved_property(logical_id, "ManagedPolicyName"))
        raw_path = self.resolved_property(logical_id, "Path")
        path = "/" if raw_path is None or raw_path is NO_VALUE else self.known_text(raw_path)
        if name is None or path is None:
            return Unresolved(f"Ref {logical_id} (the managed policy's ARN is known at deployment)")
        return f"arn:{self.partition}:iam::{self.account}:policy{path}{name}"

    def _get_att(self, logical_id: str, attribute: str, links: bool) -> Any:
        kind = self.resource_type(logical_id)
        if kind == ROLE and attribute == "Arn":
            return self.role_arn(logical_id)
        if kind == MANAGED_POLICY and attribute == "PolicyArn":
            value = self.managed_policy_arn(logical_id)
            return _Link(logical_id, value) if links else value
        if kind is None:
            return Unresolved(f"Fn::GetAtt {logical_id}.{attribute} (no such resource in the template)")
        return Unresolved(f"Fn::GetAtt {logical_id}.{attribute} (known when the stack is deployed)")

    # --- values --------------------------------------------------------------------------------

    def _spend(self, path: str, values: int = 0, characters: int = 0) -> None:
        """Count what resolving produces; past the limits the template is refused at ``path``."""
        self._values_spent += values
        self._characters_spent += characters
        if self._values_spent > MAX_RESOLVED_VALUES:
            raise self.locator.error(
                path,
                f"the intrinsic functions expand to more than {MAX_RESOLVED_VALUES:,} values "
                "(Fn::FindInMap or Fn::Split repeating long values); not a template CloudFormation "
                "would accept",
            )
        if self._characters_spent > MAX_RESOLVED_CHARACTERS:
            raise self.locator.error(
                path,
                f"the intrinsic functions expand to more than "
                f"{MAX_RESOLVED_CHARACTERS // (1024 * 1024)} MB of text (Fn::Sub, Fn::Join or "
                "Fn::FindInMap repeating long values); not a template CloudFormation would accept",
            )

    def resolve(self, value: Any, path: str, *, links: bool = False) -> Any:
        """``value`` with intrinsic functions resolved (see the module docstring).

        With ``links``, a reference to a role or managed policy of this template resolves to a
        ``_Link`` so callers can attach documents by logical id.
        """
        self._spend(path, values=1, characters=len(value) if isinstance(value, str) else 0)
        if _is_intrinsic(value):
            ((function, argument),) = value.items()
            return self._intrinsic(function, argument, path, links)
        if isinstance(value, Mapping):
            resolved: dict[str, Any] = {}
            for key, item in value.items():
                result = self.resolve(item, key_path(path, key), links=links)
                if result is not NO_VALUE:
                    resolved[str(key)] = result
            return resolved
        if isinstance(value, list | tuple):
            items = [self.resolve(item, index_path(path, n), links=links) for n, item in enumerate(value)]
            return [item for item in items if item is not NO_VALUE]
        return value

    def _string_of(self, value: Any, what: str) -> str:
        """A resolved value used inside a string: a known string, else Unresolved."""
        if isinstance(value, _Link):
            value = value.value
        if isinstance(value, Unresolved):
            return value
        text = _text(value)
        if text is None:
            return Unresolved(f"{what} (a {describe(value)} where a string was expected)")
        return text

    def _intrinsic(self, function: str, argument: Any, path: str, links: bool) -> Any:
        if function == "Ref":
            return self._ref(argument, links)
        handler = {
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": self._base64,
            "Fn::Length": self._length,
            "Fn::ToJsonString": self._to_json_string,
        }.get(function)
        if handler is not None:
            return handler(argument, path)
        if function == "Fn::If":
            return self._if(argument, path, links)
        if function == "Fn::GetAtt":
            return self._getatt(argument, path, links)
        if function == "Fn::ImportValue":
            name = self._string_of(self.resolve(argument, path), "Fn::ImportValue")
            return Unresolved(f"Fn::ImportValue {name} (an export of another stack)")
        if function == "Fn::GetAZs":
            return Unresolved("Fn::GetAZs (the region's availability zones, known at deployment)")
        if function == "Fn::Cidr":
            return Unresolved("Fn::Cidr (not computed by this tool)")
        if function == "Fn::Transform":
            return Unresolved("Fn::Transform (a macro that runs at deployment)")
        return Unresolved(f"{function} (not an intrinsic function this tool resolves)")

    def _ref(self, argument: Any, links: bool) -> Any:
        if not isinstance(argument, str):
            return Unresolved(f"Ref {describe(argument)} (expected a name)")
        if argument == "AWS::NoValue":
            return NO_VALUE
        if argument in PSEUDO_PARAMETERS:
            return self._pseudo(argument)
        if argument in self.parameters:
            return self.parameters[argument]
        kind = self.resource_type(argument)
        if kind is not None:
            value = self.resource_value(argument)
            return _Link(argument, value) if links and kind in (ROLE, MANAGED_POLICY) else value
        return Unresolved(f"Ref {argument} (not a parameter or resource of this template)")

    def _getatt(self, argument: Any, path: str, links: bool) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
            parts: list[Any] = [logical_id, attribute]
        elif isinstance(argument, list) and len(argument) == 2:
            parts = [argument[0], self.resolve(argument[1], path)]
        else:
            return Unresolved("Fn::GetAtt (expected [resource, attribute])")
        if not all(isinstance(part, str) and not isinstance(part, Unresolved) for part in parts):
            return Unresolved("Fn::GetAtt with an attribute name that could not be resolved")
        return self._get_att(parts[0], parts[1], links)

    def _sub(self, argument: Any, path: str) -> Any:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], Mapping):
            template, variables = argument[0], argument[1]
        else:
            template = argument
        if not isinstance(template, str):
            return Unresolved(f"Fn::Sub (expected a string, got {describe(template)})")
        blockers: list[str] = []

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = self._string_of(self.resolve(variables[name], path), f"${{{name}}}")
            elif name in PSEUDO_PARAMETERS or name in self.parameters:
                value = self._string_of(self._ref(name, False), f"${{{name}}}")
            elif "." in name and self.resource_type(name.partition(".")[0]) is not None:
                logical_id, _, attribute = name.partition(".")
                value = self._string_of(self._get_att(logical_id, attribute, False), f"${{{name}}}")
            elif self.resource_type(name) is not None:
                value = self._string_of(self.resource_value(name), f"${{{name}}}")
            elif ":" in name:
                return match.group(0)  # an IAM policy variable such as ${aws:username}
            else:
                value = Unresolved(f"${{{name}}} (not a parameter or resource of this template)")
            if isinstance(value, Unresolved):
                blockers.append(value.reason)
            self._spend(path, characters=len(value))  # before the text is built
            return value

        self._spend(path, characters=len(template))
        result = _SUB_VARIABLE.sub(replace, template)
        if blockers:
            shown = template if len(template) <= _SHOWN_TEMPLATE else template[: _SHOWN_TEMPLATE - 3] + "..."
            return Unresolved(_reason(f"Fn::Sub {shown!r}: " + "; ".join(dict.fromkeys(blockers))))
        return result

    def _join(self, argument: Any, path: str) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            return Unresolved("Fn::Join (expected [delimiter, list])")
        delimiter = self._string_of(self.resolve(argument[0], path), "Fn::Join delimiter")
        items = self.resolve(argument[1], path)
        if isinstance(items, Unresolved):
            return Unresolved(_reason(f"Fn::Join over {items.reason}"))
        if not isinstance(items, list):
            return Unresolved(f"Fn::Join (expected a list, got {describe(items)})")
        texts = [self._string_of(item, "Fn::Join item") for item in items]
        blocker = find_unresolved([delimiter, *texts])
        if blocker is not None:
            return Unresolved(_reason(f"Fn::Join: {blocker.reason}"))
        self._spend(path, characters=sum(map(len, texts)) + len(delimiter) * max(len(texts) - 1, 0))
        return delimiter.join(texts)

    def _select(self, argument: Any, path: str) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            return Unresolved("Fn::Select (expected [index, list])")
        index = self.resolve(argument[0], path)
        items = self.resolve(argument[1], path)
        if isinstance(index, Unresolved) or isinstance(items, Unresolved):
            return Unresolved(f"Fn::Select: {(index if isinstance(index, Unresolved) else items).reason}")
        text = _text(index)
        if text is None or not text.isdigit() or not isinstance(items, list) or int(text) >= len(items):
            return Unresolved(f"Fn::Select {describe(index)} (out of range or not a list)")
        return items[int(text)]

    def _split(self, argument: Any, path: str) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            return Unresolved("Fn::Split (expected [delimiter, string])")
        delimiter = self._string_of(self.resolve(argument[0], path), "Fn::Split delimiter")
        source = self._string_of(self.resolve(argument[1], path), "Fn::Split source")
        blocker = find_unresolved([delimiter, source])
        if blocker is not None:
            return Unresolved(_reason(f"Fn::Split: {blocker.reason}"))
        if not delimiter:
            return Unresolved("Fn::Split with an empty delimiter")
        self._spend(path, values=source.count(delimiter) + 1)
        return source.split(delimiter)

    def _find_in_map(self, argument: Any, path: str) -> Any:
        if not isinstance(argument, list) or len(argument) not in (3, 4):
            return Unresolved("Fn::FindInMap (expected [map, key, key])")
        keys = [self._string_of(self.resolve(item, path), "Fn::FindInMap key") for item in argument[:3]]
        blocker = find_unresolved(keys) or _own_account_in(keys)
        if blocker is not None:
            return Unresolved(_reason(f"Fn::FindInMap: {blocker.reason}"))
        mappings = self.template.get("Mappings") or {}
        found: Any = mappings
        for key in keys:
            found = found.get(key) if isinstance(found, Mapping) else None
        if found is None:
            default = (
                argument[3].get("DefaultValue") if len(argument) == 4 and isinstance(argument[3], Mapping) else None
            )
            if default is not None:
                return self.resolve(default, path)
            return Unresolved(f"Fn::FindInMap {'/'.join(keys)} (not in Mappings)")
        return self.resolve(found, path)

    def _base64(self, argument: Any, path: str) -> Any:
        text = self._string_of(self.resolve(argument, path), "Fn::Base64")
        if isinstance(text, Unresolved):
            return text
        self._spend(path, characters=4 * len(text) + 4)  # a character is at most four UTF-8 bytes
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    def _length(self, argument: Any, path: str) -> Any:
        items = self.resolve(argument, path)
        if isinstance(items, list):
            return len(items)
        return Unresolved(f"Fn::Length of {describe(items)}")

    def _to_json_string(self, argument: Any, path: str) -> Any:
        value = self.resolve(argument, path)
        blocker = find_unresolved(value)
        if blocker is not None:
            return Unresolved(_reason(f"Fn::ToJsonString: {blocker.reason}"))
        self._spend(path, characters=_json_size(value))
        return json.dumps(value, separators=(",", ":"))

    def _if(self, argument: Any, path: str, links: bool) -> Any:
        if not isinstance(argument, list) or len(argument) != 3 or not isinstance(argument[0], str):
            return Unresolved("Fn::If (expected [condition, value if true, value if false])")
        decision = self.decide(argument[0])
        if decision.value is True:
            return self.resolve(argument[1], path, links=links)
        if decision.value is False:
            return self.resolve(argument[2], path, links=links)
        when_true = self.resolve(argument[1], path, links=links)
        when_false = self.resolve(argument[2], path, links=links)
        if when_true == when_false and find_unresolved([when_true]) is None:
            return when_true
        return Unresolved(_reason(f"Fn::If {argument[0]}: {decision.reason}"))


# --- building roles ------------------------------------------------------------------------------


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

    def created(self, logical_id: str) -> _Decision:
        """Whether the resource's own Condition lets it be created."""
        condition = self.resource(logical_id).get("Condition")
        if condition is None:
            return _Decision(True)
        if not isinstance(condition, str):
            raise self.locator.error(
                key_path(key_path("Resources", logical_id), "Condition"),
                f"expected a condition name, got {describe(condition)}",
            )
        return self.resolver.decide(condition)

    def props_path(self, logical_id: str, name: str | None = None) -> str:
        path = key_path(key_path("Resources", logical_id), "Properties")
        return key_path(path, name) if name else path

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
            path=self.props_path(logical_id, "AssumeRolePolicyDocument"),
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
        text = _text(duration) if not isinstance(duration, Unresolved) else None
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
    ) -> list[tuple[Any, str]] | Unresolved | None:
        """A list property's resolved items with their template paths (NoValue items dropped)."""
        path = self.props_path(logical_id, name)
        raw = self.resolver.properties(logical_id).get(name)
        if raw is None:
            return None
        if isinstance(raw, list):
            items: list[tuple[Any, str]] = []
            for position, item in enumerate(raw):
                item_path = index_path(path, position)
                value = self.resolver.resolve(item, item_path, links=links)
                if value is not NO_VALUE:
                    items.append((value, item_path))
            return items
        value = self.resolver.resolve(raw, path, links=links)
        if value is None or value is NO_VALUE:
            return None
        if isinstance(value, Unresolved):
            return value
        resolved = self.locator.sequence(value, path)
        return [(item, index_path(path, position)) for position, item in enumerate(resolved)]

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
        for position, (item, item_path) in enumerate(items):
            if isinstance(item, Unresolved):
                draft.policies.append(
                    unknown_attachment(
                        name=f"Policies[{position}]",
                        arn=None,
                        origin=self.locator.origin(item_path),
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
                    path=key_path(item_path, "PolicyDocument"),
                    attachment_path=item_path,
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
        for item, item_path in items:
            draft.policies.extend(self.attachments_for_arn(item, item_path, draft))

    def attachments_for_arn(self, item: Any, path: str, draft: _RoleDraft) -> list[AttachedPolicy]:
        origin = self.locator.origin(path)
        if isinstance(item, list):  # a CommaDelimitedList parameter spliced in
            return [a for n, sub in enumerate(item) for a in self.attachments_for_arn(sub, index_path(path, n), draft)]
        if isinstance(item, _Link):
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

    def managed_policy_attachment(self, logical_id: str, origin: str) -> AttachedPolicy:
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
            document_path = self.props_path(logical_id, "PolicyDocument")
            document = resolver.resolved_property(logical_id, "PolicyDocument")
            self._managed_documents[logical_id] = read_policy(
                document, locator=self.locator, path=document_path, name=name
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
        found = self.attachments_for_arn(value, path, draft)
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
            if isinstance(item, _Link) and item.logical_id in self.roles:
                targets.append(item.logical_id)
                continue
            if isinstance(item, _Link) and self.resolver.resource_type(item.logical_id) == ROLE:
                self.skipped.append(
                    Skipped(
                        name=f"{logical_id} ({item.logical_id})",
                        reason=f"attaches to role {item.logical_id}, which is not created",
                        origin=self.locator.origin(path),
                    )
                )
                continue
            if isinstance(item, _Link):
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
            resource_origin = self.locator.origin(key_path("Resources", logical_id))
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
                        path=self.props_path(logical_id, "PolicyDocument"),
                        attachment_path=key_path("Resources", logical_id),
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
            mentioned = _mentions(value)
            resolved = self.resolver.resolve(value, key_path(path, str(name)), links=True)
            texts = {
                item.value if isinstance(item, _Link) else item
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
                role,
                source=self.locator.display,
                extra={
                    **role.extra,
                    "logical_id": logical_id,
                    "template_body_logical_id": role.extra["logical_id"],
                },
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
                extra={"input_type": "cloudformation", "logical_id": draft.logical_id},
            )
            for draft in self.roles.values()
        ] + self.stack_set_roles


def _mentions(value: Any) -> set[str]:
    """Logical ids a raw template value refers to (Ref, Fn::GetAtt, ${Id} in Fn::Sub)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, Mapping):
            if len(current) == 1:
                ((key, argument),) = current.items()
                if key == "Ref" and isinstance(argument, str):
                    found.add(argument)
                elif key == "Fn::GetAtt":
                    first = argument[0] if isinstance(argument, list) and argument else argument
                    if isinstance(first, str):
                        found.add(first.partition(".")[0])
                elif key == "Fn::Sub":
                    template = argument[0] if isinstance(argument, list) and argument else argument
                    if isinstance(template, str):
                        found.update(name.partition(".")[0] for name in _SUB_VARIABLE.findall(template))
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


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
    """Roles of the template the SAM transform made; a generated Lambda execution role is named in
    ``skipped`` with what the transform attaches to it (Zeet assumes no role only a service trusts)."""
    reader = _TemplateReader(expanded, locator, parameters)
    roles: list[Role] = []
    before = original.get("Resources")
    written = before if isinstance(before, Mapping) else {}
    for role in reader.read():
        logical_id = role.extra["logical_id"]
        services = _services_trusted(role)
        if logical_id in written or services is None:
            roles.append(role)
            continue
        source = logical_id.removesuffix("Role")
        maker = written.get(source)
        kind = maker.get("Type") if isinstance(maker, Mapping) else None
        made_for = f"{source} ({kind})" if kind else "the SAM transform"
        attached = [p.name for p in role.policies if not p.inline]
        inline = sum(1 for p in role.policies if p.inline)
        parts = [*attached, *([f"{inline} inline polic{'y' if inline == 1 else 'ies'}"] if inline else [])]
        reader.skipped.append(
            Skipped(
                name=logical_id,
                reason=f"the role the SAM transform generates for {made_for}: trusted only by "
                f"{', '.join(services)}, so not a role Zeet assumes; the transform attaches "
                f"{', '.join(parts) or 'no policy'}",
                origin=locator.origin(key_path("Resources", source if kind else logical_id)),
            )
        )
    return roles, reader.skipped


def _services_trusted(role: Role) -> list[str] | None:
    """The AWS services a role's trust policy lets assume it, or None when it trusts anything else
    (or cannot be read)."""
    if role.trust_policy is None:
        return None
    services: set[str] = set()
    for statement in role.trust_policy.statements:
        principal = statement.principal
        if statement.not_principal is not None or principal is None or principal.wildcard:
            return None
        if any(kind != "Service" for kind, _ in principal.entries):
            return None
        services.update(principal.identifiers("Service"))
    return sorted(services)
