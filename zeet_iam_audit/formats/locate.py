"""Lines for findings: a role, a policy statement or a template path → its line in the input file.

Sources describe where things are with routes of keys and indices (``("$", "RoleDetailList", 1)``,
``("Resources", "ZeetRole", "Properties", "Policies", 0, "PolicyDocument")``, a Terraform address
then attributes); the report keeps the role's and its trust policy's per role
(``RoleReport.locations``), and a statement behind a finding carries its own (``StatementRef.route``).
An invalid document's problem is a path in text (``InvalidDocument.path``). Here a file's text is
indexed once, JSON with a small position-tracking scanner and YAML with ``yaml.compose`` on a
``SafeLoader`` (composition only builds nodes with their marks; no tag is ever constructed, so
CloudFormation's ``!Ref`` needs no support and nothing unsafe can run), and routes and paths are
turned into 1-based line numbers.

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
from zeet_iam_audit.audit.report import LocationKind, RoleReport, TrustStatementRef
from zeet_iam_audit.model import Route
from zeet_iam_audit.policy.results import StatementRef

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

    def line_at(self, route: Route) -> int | None:
        """The line where the place ``route`` leads to is written: the deepest part of it found (a
        Terraform route: its resource address); None if nothing is. A leading ``"$"`` is the root."""
        steps = list(route[1:] if route[:1] == ("$",) else route)
        done, line = self.walk(steps)
        if done or not steps:
            return line
        first = steps[0]
        return self.addresses().get(first) if isinstance(first, str) else None

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


def finding_line(index: SourceIndex, role: RoleReport, finding: Finding) -> int | None:
    """The line of what the finding is about: the place of an invalid document's problem, the
    statement behind it (``finding.ref``, by its route), the trust policy for a trust finding, else the
    role. None when the input says nothing of it."""
    routes = {location.kind: location.route for location in role.locations if location.kind in _OWN_KINDS}
    if finding.path is not None:  # a place in the input itself (an invalid policy's problem)
        line = index.line_of(finding.path)
        if line is not None:
            return line
    ref = finding.ref
    route: Route | None = None
    if isinstance(ref, StatementRef):
        route = ref.route if ref.source == role.source else None
    elif isinstance(ref, TrustStatementRef) and LocationKind.TRUST in routes:
        route = (*routes[LocationKind.TRUST], "Statement", ref.index)
    if route is not None:
        line = index.line_at(route)
        if line is not None:
            return line
    if finding.check == "trust-policy" and LocationKind.TRUST in routes:
        return index.line_at(routes[LocationKind.TRUST])
    own = routes.get(LocationKind.ROLE)
    return index.line_at(own) if own is not None else None


_OWN_KINDS = frozenset({LocationKind.ROLE, LocationKind.TRUST})


def relative_path(source: str, root: Path | None) -> str:
    """The input's path as CI tools want it: relative to the root (the working directory), with /."""
    path = Path(source)
    if path.is_absolute() and root is not None:
        try:
            path = path.relative_to(root)
        except ValueError:
            return path.as_posix()
    return PurePosixPath(*path.parts).as_posix() if path.parts else source
