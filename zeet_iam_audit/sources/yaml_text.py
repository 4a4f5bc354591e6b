"""YAML input: CloudFormation's short forms, dates kept as text, limits for hostile files.

Kept apart from ``reading`` so that the YAML library is imported only when a YAML file is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.sources.reading import MAX_DEPTH, MAX_INPUT_BYTES, MAX_YAML_VALUES, _at, _too_long

# CloudFormation's short forms and the long form each stands for.
CFN_SHORT_FORMS: Mapping[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!FindInMap": "Fn::FindInMap",
    "!GetAtt": "Fn::GetAtt",
    "!GetAZs": "Fn::GetAZs",
    "!ImportValue": "Fn::ImportValue",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!Sub": "Fn::Sub",
    "!Transform": "Fn::Transform",
    "!And": "Fn::And",
    "!Equals": "Fn::Equals",
    "!If": "Fn::If",
    "!Not": "Fn::Not",
    "!Or": "Fn::Or",
    "!Length": "Fn::Length",
    "!ToJsonString": "Fn::ToJsonString",
}

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader for CloudFormation templates (and any YAML input), with hostile-input limits."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        # id(node) → (values, depth, characters) with aliases expanded
        self._measures: dict[int, tuple[int, int, int]] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            node = super().compose_node(parent, index)
            if id(node) not in self._measures:
                raise ComposerError(None, None, "an alias refers to a value that contains it", event.start_mark)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._measure(node)
        return node

    def _measure(self, node: Node) -> None:
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [item for pair in node.value for item in pair]
        values, depth = 1, 1
        characters = len(node.value) if isinstance(node, ScalarNode) else 0
        for child in children:
            child_values, child_depth, child_characters = self._measures.get(
                id(child), (1, 1, len(child.value) if isinstance(child, ScalarNode) else 0)
            )
            values += child_values
            characters += child_characters
            depth = max(depth, child_depth + 1)
        if characters > MAX_INPUT_BYTES:
            raise ComposerError(
                None,
                None,
                f"expands to more than {MAX_INPUT_BYTES // (1024 * 1024)} MB of text through aliases",
                node.start_mark,
            )
        if values > MAX_YAML_VALUES:
            raise ComposerError(
                None,
                None,
                f"expands to more than {MAX_YAML_VALUES:,} values through aliases",
                node.start_mark,
            )
        if depth > MAX_DEPTH:
            raise ComposerError(
                None,
                None,
                f"nested more than {MAX_DEPTH} levels deep through aliases",
                node.start_mark,
            )
        self._measures[id(node)] = (values, depth, characters)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue
                if key_node.value in seen:
                    raise ConstructorError(
                        None,
                        None,
                        f"duplicate key {key_node.value!r} in one mapping",
                        key_node.start_mark,
                    )
                seen.add(key_node.value)
        result: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return result

    def construct_yaml_int(self, node: ScalarNode) -> int:
        try:
            value: int = super().construct_yaml_int(node)
        except ValueError as error:
            raise ConstructorError(
                None, None, f"a number too long to read ({_too_long(error)})", node.start_mark
            ) from None
        return value


def _construct_function(function: str) -> Callable[[CloudFormationLoader, Node], dict[str, Any]]:
    def construct(loader: CloudFormationLoader, node: Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, ScalarNode):
            value = loader.construct_scalar(node)
            if function == "Fn::GetAtt":
                resource, _, attribute = str(value).partition(".")
                value = [resource, attribute]
        elif isinstance(node, SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {function: value}

    return construct


# Dates stay strings: ``Version: 2012-10-17`` must not become a datetime.date.
CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CloudFormationLoader.add_constructor(
    "tag:yaml.org,2002:int",
    CloudFormationLoader.construct_yaml_int,
)
for _tag, _function in CFN_SHORT_FORMS.items():
    CloudFormationLoader.add_constructor(_tag, _construct_function(_function))


def _yaml_error(display: str, error: yaml.YAMLError) -> InputError:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "not valid YAML"
        if error.problem and error.context:
            problem = f"{error.problem} ({error.context})"
        if error.problem == "but found another document":
            problem = "a second YAML document; expected one document per file"
        if mark is not None:
            return InputError(f"{display}: line {mark.line + 1} column {mark.column + 1}: {problem}")
        return InputError(f"{display}: {problem}")
    return InputError(f"{display}: not valid YAML ({' '.join(str(error).split())})")


def parse_yaml(text: str, display: str) -> Any:
    """Decode YAML text with ``CloudFormationLoader``; one document per file."""
    try:
        loader = CloudFormationLoader(text)  # the reader checks every character here
    except yaml.reader.ReaderError as error:
        problem = f"character U+{error.character:04X} is not allowed in YAML"
        raise _at(display, text, error.position, problem) from None
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise _yaml_error(display, error) from None
    except RecursionError:
        raise InputError(f"{display}: nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
