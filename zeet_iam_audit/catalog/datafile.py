"""The catalogue's data file: how ``scripts/generate_catalog.py`` writes it and how it is read back.

The file is plain UTF-8 text, so a regeneration shows up in a diff as added and removed actions::

    # comment lines saying what the columns are
    {"format": 1, "sources": [...], "total": 22685, ...}   one line of JSON metadata
    @a2c                                                   a service (its IAM prefix)
    GetContainerizationJobDetails<TAB>R<TAB>0<TAB>012      name, access level, resource-level,
    ...                                                    sources that know it

Loading must be cheap (a one-role CLI run starts in well under half a second), so reading the file
only checks it (a CRC-32 of the body, the service count) and cuts it into one block per service.
A block is parsed into ``ActionInfo`` values the first time something asks about that service.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from zeet_iam_audit.catalog.values import ActionInfo, CatalogSource
from zeet_iam_audit.errors import CatalogError

FORMAT_VERSION = 1
REGENERATE_COMMAND = "python scripts/generate_catalog.py"

LEVEL_CODES: dict[str, str] = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Permissions management": "P",
    "Tagging": "T",
}
LEVELS_BY_CODE = {code: level for level, code in LEVEL_CODES.items()}
_T = TypeVar("_T")

_HEADER_COMMENT = (
    "# zeet-iam-audit IAM action catalogue, written by scripts/generate_catalog.py: do not edit.\n"
    "# The next line is the metadata (JSON). Each '@prefix' line then starts a service,\n"
    "# followed by one line per action: name TAB access level (L List, R Read, W Write,\n"
    "# P Permissions management, T Tagging) TAB resource-level (1 yes, 0 no) TAB the sources\n"
    "# that know it (positions in the metadata's source list).\n"
)


@dataclass(frozen=True, slots=True)
class CatalogHeader:
    """What the metadata line says."""

    sources: tuple[CatalogSource, ...]
    total: int
    services: int


class ServiceActions:
    """One service's actions, parsed from its block: sorted by lower-case name.

    The columns are what the block says, one entry per action; the ``ActionInfo`` values are made
    the first time something asks for them (an index over the whole catalogue needs the columns
    alone, and making 22,000 values cost a third of a one-role run's start).
    """

    __slots__ = ("_actions", "_by_lower", "codes", "known_by", "lower_names", "names", "resource_flags", "service")

    def __init__(
        self,
        service: str,
        names: tuple[str, ...],
        codes: str,
        resource_flags: str,
        known_by: tuple[str, ...],
    ) -> None:
        self.service = service
        self.names = names  # AWS's spelling
        self.lower_names = tuple(name.lower() for name in names)
        self.codes = codes  # access levels, one LEVEL_CODES letter per action
        self.resource_flags = resource_flags  # "1" where the action takes resource-level permissions
        # Source positions as written in the file ("012"), by lower-case name.
        self.known_by = dict(zip(self.lower_names, known_by, strict=True))
        self._actions: tuple[ActionInfo, ...] | None = None
        self._by_lower: dict[str, ActionInfo] | None = None

    @property
    def actions(self) -> tuple[ActionInfo, ...]:
        if self._actions is None:
            made = []
            for name, code, flag in zip(self.names, self.codes, self.resource_flags, strict=True):
                info = _new_action(ActionInfo)
                _set_service(info, self.service)
                _set_name(info, name)
                _set_level(info, LEVELS_BY_CODE[code])
                _set_resource(info, flag == "1")
                made.append(info)
            self._actions = tuple(made)
        return self._actions

    @property
    def by_lower(self) -> dict[str, ActionInfo]:
        if self._by_lower is None:
            self._by_lower = dict(zip(self.lower_names, self.actions, strict=True))
        return self._by_lower


def damaged(origin: str, what: str) -> CatalogError:
    """The one-line error for catalogue data that cannot be used."""
    return CatalogError(
        f"{origin}: damaged IAM action catalogue data ({what}); "
        f"reinstall zeet-iam-audit or regenerate it with `{REGENERATE_COMMAND}`"
    )


def encode_catalog(sources: Sequence[CatalogSource], actions: Iterable[tuple[ActionInfo, Iterable[int]]]) -> bytes:
    """The data file for ``actions``, each with the positions in ``sources`` of those that know it.

    The output depends only on the arguments: services and actions are sorted (actions by their
    lower-case name, the order lookups use), and the metadata's keys too.
    """
    by_service: dict[str, dict[str, str]] = {}
    for info, known_by in actions:
        _check_action(info)
        positions = sorted(set(known_by))
        if not positions or not all(0 <= p < len(sources) for p in positions) or len(sources) > 10:
            raise ValueError(f"{info.full}: bad source positions {positions}")
        lines = by_service.setdefault(info.service, {})
        key = info.name.lower()
        if key in lines:
            raise ValueError(f"{info.full}: listed twice")
        level = LEVEL_CODES[info.access_level]
        resource = "1" if info.resource_level else "0"
        lines[key] = f"{info.name}\t{level}\t{resource}\t{''.join(map(str, positions))}\n"
    body = "".join(
        f"@{service}\n" + "".join(lines[key] for key in sorted(lines)) for service, lines in sorted(by_service.items())
    ).encode("utf-8")
    metadata = {
        "body_crc32": zlib.crc32(body),
        "format": FORMAT_VERSION,
        "generator": "scripts/generate_catalog.py",
        "services": len(by_service),
        "sources": [
            {"count": s.count, "data_date": s.data_date, "name": s.name, "version": s.version} for s in sources
        ],
        "total": sum(len(lines) for lines in by_service.values()),
    }
    header = _HEADER_COMMENT + json.dumps(metadata, sort_keys=True) + "\n"
    return header.encode("utf-8") + body


def _check_action(info: ActionInfo) -> None:
    if not info.service or info.service != info.service.lower() or not _is_token(info.service):
        raise ValueError(f"{info.full}: service prefix must be a lower-case token")
    if not info.name or not _is_token(info.name):
        raise ValueError(f"{info.full}: action name must be a token")
    if info.access_level not in LEVEL_CODES:
        raise ValueError(f"{info.full}: unknown access level {info.access_level!r}")


def _is_token(text: str) -> bool:
    return text.isascii() and text.isprintable() and not any(c in text for c in " \t:@*?")


def decode_catalog(data: bytes, origin: str) -> tuple[CatalogHeader, dict[str, bytes]]:
    """Check the file and cut it into service → unparsed block (``b"eks\\nName\\tW\\t1\\t0..."``).

    Raises CatalogError naming ``origin`` when the file is not what the generator wrote. The body's
    CRC-32 catches damage; blocks are decoded and parsed only when used (``decode_block``).
    """
    split = data.find(b"\n@")
    if split < 0:
        raise damaged(origin, "no services")
    header, crc = _decode_header(data[:split], origin)
    body = data[split + 1 :]
    if zlib.crc32(body) != crc:
        raise damaged(origin, "checksum mismatch")
    blocks: dict[str, bytes] = {}
    for chunk in body[1:-1].split(b"\n@"):
        end = chunk.find(b"\n")
        if end <= 0:
            raise damaged(origin, f"service {chunk[:40]!r} has no actions")
        blocks[chunk[:end].decode("utf-8", "replace")] = chunk
    if len(blocks) != header.services or not body.endswith(b"\n"):
        raise damaged(origin, f"{len(blocks)} services, metadata says {header.services}")
    return header, blocks


def _decode_header(raw: bytes, origin: str) -> tuple[CatalogHeader, int]:
    try:
        lines = [line for line in raw.decode("utf-8").splitlines() if not line.startswith("#")]
        if len(lines) != 1:
            raise ValueError("expected one metadata line")
        metadata: Any = json.loads(lines[0])
        if metadata["format"] != FORMAT_VERSION:
            raise ValueError(f"format {metadata['format']!r}, expected {FORMAT_VERSION}")
        sources = tuple(
            CatalogSource(
                name=_typed(s["name"], str),
                version=_typed(s["version"], str),
                data_date=None if s["data_date"] is None else _typed(s["data_date"], str),
                count=_typed(s["count"], int),
            )
            for s in metadata["sources"]
        )
        header = CatalogHeader(
            sources=sources,
            total=_typed(metadata["total"], int),
            services=_typed(metadata["services"], int),
        )
        return header, _typed(metadata["body_crc32"], int)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise damaged(origin, f"bad metadata: {error}") from None


def _typed(value: object, kind: type[_T]) -> _T:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value


# ActionInfo's frozen __init__ sets each field through object.__setattr__, about a microsecond per
# action; parsing the whole catalogue (a NotAction, a "*") makes 22,000 of them, so blocks fill
# the slots directly. The values are the same as ActionInfo(...) would make.
_new_action = ActionInfo.__new__
_set_service = ActionInfo.__dict__["service"].__set__
_set_name = ActionInfo.__dict__["name"].__set__
_set_level = ActionInfo.__dict__["access_level"].__set__
_set_resource = ActionInfo.__dict__["resource_level"].__set__
_RESOURCE_FLAGS = frozenset({"0", "1"})


def decode_block(service: str, raw: bytes, source_count: int, origin: str) -> ServiceActions:
    """Parse one service's block (as ``decode_catalog`` cut it) into its actions."""
    try:
        block = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise damaged(origin, f"service {service}: not UTF-8") from None
    # One split for the whole block: the service name, then four fields per action.
    fields = block.replace("\n", "\t").split("\t")
    count = block.count("\n")
    names, codes, flags, known_by = fields[1::4], fields[2::4], fields[3::4], fields[4::4]
    if (
        len(fields) != 1 + 4 * count
        or not all(names)
        or not _RESOURCE_FLAGS.issuperset(flags)
        or not all(known_by)
        or "".join(known_by).strip("0123456789"[:source_count])
    ):
        raise damaged(origin, f"service {service}: malformed action lines")
    unknown = set(codes) - LEVELS_BY_CODE.keys()
    if unknown:
        raise damaged(origin, f"service {service}: unknown access level {sorted(unknown)[0]!r}")
    return ServiceActions(service, tuple(names), "".join(codes), "".join(flags), tuple(known_by))
