"""Lines for findings: a role, a policy statement or a template path → its line in the input file.

Sources describe where things are with paths (``$.RoleDetailList[1].RolePolicyList[0]``,
``Resources.ZeetRole.Properties.Policies[0].PolicyDocument``, a Terraform address); the report keeps
them per role (``RoleReport.locations``). Here a file's text is indexed once, JSON with a small
position-tracking scanner and YAML with ``yaml.compose`` on a ``SafeLoader`` (composition only builds
nodes with their marks; no tag is ever constructed, so CloudFormation's ``!Ref`` needs no support and
nothing unsafe can run), and paths are turned into 1-based line numbers.

Pure: the caller reads the file and passes its text.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from zeet_iam_audit.audit.findings import Finding
from zeet_iam_audit.audit.report import RoleReport

Step = str | int


@dataclass(slots=True)
class _Node:
    """A value with the line of each entry: keys map to (line, node), items are (line, node)."""

    mapping: dict[str, tuple[int, _Node]] | None = None
    sequence: list[tuple[int, _Node]] | None = None
    scalar: str | None = None


# --- JSON ----------------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_LITERAL = re.compile(r"true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


class _JsonScanner:
    """Just enough of a JSON parser to know where every key and item starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [match.start() for match in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_left(self.newlines, offset) + 1

    def skip(self, pos: int) -> int:
        match = _WHITESPACE.match(self.text, pos)
        return match.end() if match else pos

    def expect(self, pos: int, char: str) -> int:
        pos = self.skip(pos)
        if self.text[pos : pos + 1] != char:
            raise ValueError(f"expected {char!r} at offset {pos}")
        return pos + 1

    def string(self, pos: int) -> tuple[str, int]:
        """The string starting with the quote at ``pos``, and the offset after it."""
        value, end = _DECODER.raw_decode(self.text, pos)
        return str(value), end

    def value(self, pos: int) -> tuple[_Node, int]:
        pos = self.skip(pos)
        char = self.text[pos : pos + 1]
        if char == "{":
            return self.object(pos + 1)
        if char == "[":
            return self.array(pos + 1)
        if char == '"':
            text, end = self.string(pos)
            return _Node(scalar=text), end
        match = _LITERAL.match(self.text, pos)
        if match is None:
            raise ValueError(f"unexpected {char!r} at offset {pos}")
        return _Node(scalar=match.group()), match.end()

    def object(self, pos: int) -> tuple[_Node, int]:
        entries: dict[str, tuple[int, _Node]] = {}
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "}":
            return _Node(mapping=entries), pos + 1
        while True:
            pos = self.skip(pos)
            if self.text[pos : pos + 1] != '"':
                raise ValueError(f"expected a key at offset {pos}")
            key_line = self.line(pos)
            key, pos = self.string(pos)
            pos = self.expect(pos, ":")
            child, pos = self.value(pos)
            entries.setdefault(key, (key_line, child))
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "}":
                return _Node(mapping=entries), pos + 1
            if char != ",":
                raise ValueError(f"expected ',' or '}}' at offset {pos}")
            pos += 1

    def array(self, pos: int) -> tuple[_Node, int]:
        items: list[tuple[int, _Node]] = []
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "]":
            return _Node(sequence=items), pos + 1
        while True:
            pos = self.skip(pos)
            item_line = self.line(pos)
            child, pos = self.value(pos)
            items.append((item_line, child))
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "]":
                return _Node(sequence=items), pos + 1
            if char != ",":
                raise ValueError(f"expected ',' or ']' at offset {pos}")
            pos += 1


# --- YAML ----------------------------------------------------------------------------------------


def _compose_yaml(text: str) -> _Node | None:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    root = yaml.compose(text, Loader=loader)
    if root is None:
        return None
    converted: dict[int, _Node] = {}

    def convert(node: Node) -> _Node:
        # Aliases share nodes; converting each once keeps an alias-heavy file linear.
        done = converted.get(id(node))
        if done is not None:
            return done
        result = _Node()
        converted[id(node)] = result
        if isinstance(node, MappingNode):
            result.mapping = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode):
                    result.mapping.setdefault(str(key.value), (key.start_mark.line + 1, convert(value)))
        elif isinstance(node, SequenceNode):
            result.sequence = [(item.start_mark.line + 1, convert(item)) for item in node.value]
        elif isinstance(node, ScalarNode):
            result.scalar = str(node.value)
        return result

    return convert(root)


# --- paths ---------------------------------------------------------------------------------------

_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_:@-]*)|\[([0-9]+)\]|\[("(?:[^"\\]|\\.)*")\]')


def parse_path(path: str) -> list[Step] | None:
    """``$.A[0]["odd key"].B`` or ``Resources.X.Properties`` → steps; None when it is not a path."""
    text = path[1:] if path.startswith("$") else path
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None or match.end() == pos:
            return None
        name, index, quoted = match.groups()
        if name is not None:
            steps.append(name)
        elif index is not None:
            steps.append(int(index))
        else:
            steps.append(json.loads(quoted))
        pos = match.end()
    return steps


_LAST_STEP = re.compile(r"(\.[^.\[\]]+|\[[^\]]*\])$")


@dataclass(slots=True)
class SourceIndex:
    """One input file's values with their lines; ``line_of`` answers for paths and addresses."""

    root: _Node
    _addresses: dict[str, int] | None = field(default=None)

    def walk(self, steps: list[Step]) -> tuple[int, int]:
        """(how many steps resolved, the line of the last one resolved; 1 for the root)."""
        node, line, done = self.root, 1, 0
        for step in steps:
            if isinstance(step, str) and node.mapping is not None and step in node.mapping:
                line, node = node.mapping[step]
            elif isinstance(step, int) and node.sequence is not None and step < len(node.sequence):
                line, node = node.sequence[step]
            elif step == 0 and node.mapping is not None:
                pass  # "Statement[0]" where Statement is a single object
            else:
                break
            done += 1
        return done, line

    def addresses(self) -> dict[str, int]:
        """Terraform plans: the line of every object with an ``address``, resource changes first."""
        if self._addresses is None:
            found: dict[str, int] = {}
            mapping = self.root.mapping or {}
            starts = [mapping["resource_changes"]] if "resource_changes" in mapping else []
            for start in [*starts, (1, self.root)]:
                stack = [start]
                while stack:
                    line, node = stack.pop()
                    if node.mapping is not None:
                        address = node.mapping.get("address")
                        if address is not None and address[1].scalar is not None:
                            found.setdefault(address[1].scalar, line)
                        stack.extend(reversed(node.mapping.values()))
                    elif node.sequence is not None:
                        stack.extend(reversed(node.sequence))
            self._addresses = found
        return self._addresses

    def line_of(self, path: str) -> int | None:
        """The line where ``path`` is written: the deepest part of it found; None if nothing is."""
        steps = parse_path(path)
        if steps is not None:
            done, line = self.walk(steps)
            if done or not steps:
                return line
        addresses = self.addresses()
        candidate = path
        while candidate:
            if candidate in addresses:
                return addresses[candidate]
            shorter = _LAST_STEP.sub("", candidate)
            if shorter == candidate:
                break
            candidate = shorter
        return None


def index_source(text: str) -> SourceIndex | None:
    """Index a JSON or YAML text; None when it cannot be read (the audit never depends on it)."""
    try:
        if text.lstrip()[:1] in ("{", "["):
            try:
                node, end = _JsonScanner(text).value(0)
                if not text[end:].strip():
                    return SourceIndex(node)
            except (ValueError, IndexError):
                pass
        composed = _compose_yaml(text)
    except (RecursionError, yaml.YAMLError):
        return None  # no lines, nothing worse: the audit never depends on them
    return SourceIndex(composed) if composed is not None else None


# --- findings ------------------------------------------------------------------------------------

_POLICY_STATEMENT = re.compile(
    r"(?P<layer>identity-based policy|permissions boundary|service control policy(?: level \d+)?) "
    r"(?P<quote>['\"])(?P<name>.*?)(?P=quote) Statement\[(?P<index>\d+)\]"
)
_BARE_STATEMENT = re.compile(r"^(?P<name>[^\s'\"]+) Statement\[(?P<index>\d+)\]")
_TRUST_STATEMENT = re.compile(r"^Statement\[(?P<index>\d+)\]")


@dataclass(frozen=True, slots=True)
class StatementTarget:
    """A statement a finding names: in the trust policy, or in a named policy (or boundary)."""

    kind: str  # "trust" | "policy" | "boundary"
    name: str | None
    index: int


def statement_target(text: str, *, trust: bool = False) -> StatementTarget | None:
    """The statement a finding's text names, if it names one."""
    match = _POLICY_STATEMENT.search(text)
    if match is not None:
        kind = "boundary" if match["layer"] == "permissions boundary" else "policy"
        return StatementTarget(kind, match["name"], int(match["index"]))
    if trust:
        match = _TRUST_STATEMENT.match(text)
        return StatementTarget("trust", None, int(match["index"])) if match else None
    match = _BARE_STATEMENT.match(text)
    return StatementTarget("policy", match["name"], int(match["index"])) if match else None


def _statement_path(document: str, index: int) -> str:
    return f"{document}.Statement[{index}]" if document != "$" else f"$.Statement[{index}]"


def finding_line(index: SourceIndex, role: RoleReport, finding: Finding) -> int | None:
    """The line of the statement behind the finding when it names one, else of the role."""
    paths: dict[tuple[str, str], str] = {}
    for location in role.locations:
        paths.setdefault(
            (location.kind, location.name if location.kind in ("policy", "boundary") else ""), location.path
        )
    if finding.path is not None:  # a place in the input itself (an invalid policy's problem)
        line = index.line_of(finding.path)
        if line is not None:
            return line
    trust = finding.check == "trust-policy"
    target = statement_target(finding.statement, trust=trust) if finding.statement else None
    if target is not None:
        document = paths.get((target.kind, target.name or ""))
        if document is None and target.kind != "trust":
            other = "boundary" if target.kind == "policy" else "policy"
            document = paths.get((other, target.name or ""))
        if document is not None:
            line = index.line_of(_statement_path(document, target.index))
            if line is not None:
                return line
    if trust and ("trust", "") in paths:
        return index.line_of(paths[("trust", "")])
    role_path = paths.get(("role", ""))
    return index.line_of(role_path) if role_path is not None else None


def relative_path(source: str, root: Path | None) -> str:
    """The input's path as CI tools want it: relative to the root (the working directory), with /."""
    path = Path(source)
    if path.is_absolute() and root is not None:
        try:
            path = path.relative_to(root)
        except ValueError:
            return path.as_posix()
    return PurePosixPath(*path.parts).as_posix() if path.parts else source
