"""Intrinsic functions of one CloudFormation template, resolved where the template alone decides them.

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
known only at deployment, undecided conditions) becomes ``Unresolved(reason)`` inside the value,
which the evaluator treats as unknown. What resolving may produce is bounded (``MAX_RESOLVED_VALUES``,
``MAX_RESOLVED_CHARACTERS``, ``MAX_REASON``), so an expansion bomb is refused before it is built.
Reading roles from the resolved values is ``cloudformation.py``'s job.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zeet_iam_audit.errors import UsageError
from zeet_iam_audit.model import OWN_ACCOUNT, Unresolved
from zeet_iam_audit.sources.attach import find_unresolved
from zeet_iam_audit.sources.shape import Locator, describe, index_path, key_path

ROLE = "AWS::IAM::Role"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"

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
class Link:
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


def scalar_text(value: Any) -> str | None:
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
class Decision:
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
    _decisions: dict[str, Decision] = field(default_factory=dict)
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
            text = scalar_text(spec["Default"])
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

    def decide(self, name: str) -> Decision:
        """Whether a named condition holds: True, False, or None with the reason it is undecided."""
        if name in self._decisions:
            return self._decisions[name]
        conditions = self.template.get("Conditions") or {}
        if not isinstance(conditions, Mapping) or name not in conditions:
            return Decision(None, f"condition {name!r} is not defined in Conditions")
        if name in self._deciding:
            return Decision(None, f"condition {name!r} refers to itself")
        self._deciding.add(name)
        try:
            decision = self._evaluate(conditions[name], key_path("Conditions", name))
        finally:
            self._deciding.discard(name)
        if decision.value is None:
            decision = Decision(None, f"condition {name} could not be decided ({decision.reason})")
        self._decisions[name] = decision
        return decision

    def _evaluate(self, expression: Any, path: str) -> Decision:
        if not isinstance(expression, Mapping) or len(expression) != 1:
            return Decision(None, f"{path}: expected a condition function, got {describe(expression)}")
        ((function, argument),) = expression.items()
        if function == "Condition":
            return self.decide(str(argument))
        if function == "Fn::Equals":
            if not isinstance(argument, list) or len(argument) != 2:
                return Decision(None, f"{path}: Fn::Equals takes two values")
            left, right = (self.resolve(item, path) for item in argument)
            blocker = find_unresolved([left, right]) or _own_account_in([left, right])
            if blocker is not None:
                return Decision(None, blocker.reason)
            return Decision(self._comparable(left) == self._comparable(right))
        if function == "Fn::Not":
            items = argument if isinstance(argument, list) else [argument]
            if len(items) != 1:
                return Decision(None, f"{path}: Fn::Not takes one condition")
            inner = self._evaluate(items[0], path)
            return inner if inner.value is None else Decision(not inner.value)
        if function in ("Fn::And", "Fn::Or"):
            if not isinstance(argument, list) or not argument:
                return Decision(None, f"{path}: {function} takes a list of conditions")
            results = [self._evaluate(item, path) for item in argument]
            decisive = function == "Fn::Or"  # Or is decided by a True, And by a False
            if any(result.value is decisive for result in results):
                return Decision(decisive)
            undecided = [result for result in results if result.value is None]
            if undecided:
                return Decision(None, undecided[0].reason)
            return Decision(not decisive)
        return Decision(None, f"{path}: {function} is not a condition function")

    @staticmethod
    def _comparable(value: Any) -> Any:
        if isinstance(value, list):
            return [scalar_text(item) for item in value]
        return scalar_text(value)

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
            return Link(logical_id, value) if links else value
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
        ``Link`` so callers can attach documents by logical id.
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
        if isinstance(value, Link):
            value = value.value
        if isinstance(value, Unresolved):
            return value
        text = scalar_text(value)
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
            return Link(argument, value) if links and kind in (ROLE, MANAGED_POLICY) else value
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
        text = scalar_text(index)
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


def mentions(value: Any) -> set[str]:
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
