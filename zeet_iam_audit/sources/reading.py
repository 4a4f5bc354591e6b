"""Reading an input file safely: bytes → text → JSON or YAML values.

Every failure is an ``InputError`` with one line, ``"PATH: line L column C: what"`` (or
``"PATH: what"`` when there is no place to point at), never a traceback. The limits guard against
files that are not inputs at all and against hostile ones:

- at most ``MAX_INPUT_BYTES`` (64 MB; a large account's authorization details are a few MB);
- UTF-8, with or without a byte-order mark; UTF-16 with a byte-order mark is accepted too, because
  Windows PowerShell's ``>`` writes the AWS CLI's output that way; NUL characters are refused;
- JSON: duplicate keys are refused (IAM and CloudFormation refuse them; Python would silently keep
  the last one), as are ``NaN``/``Infinity``, integers longer than Python converts, and nesting
  deeper than ``MAX_DEPTH``;
- YAML: a ``SafeLoader`` subclass (never an unsafe loader) that knows CloudFormation's short-form
  tags (``!Ref X`` → ``{"Ref": "X"}``, ``!Sub s`` → ``{"Fn::Sub": s}``, ``!GetAtt A.B`` →
  ``{"Fn::GetAtt": ["A", "B"]}``), keeps ``2012-10-17`` a string rather than a date, refuses
  duplicate keys and recursive aliases, and counts the values and characters aliases expand to so
  that an alias bomb stops at ``MAX_YAML_VALUES`` values or ``MAX_INPUT_BYTES`` characters (one
  long string repeated through aliases is a bomb too).
"""

from __future__ import annotations

import codecs
import json
import json.decoder
import json.scanner
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeet_iam_audit.errors import InputError
from zeet_iam_audit.policy.parse import lone_surrogate_path
from zeet_iam_audit.sources.shape import index_path, key_path

MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 128  # far beyond any real template, plan or policy; keeps later recursion safe
MAX_YAML_VALUES = 1_000_000  # values after expanding aliases

JSON_SUFFIXES = frozenset({".json"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A decoded input: the data, which syntax it was read as, and the name to show for it."""

    data: Any
    syntax: str  # "json" or "yaml"
    display: str


def _too_long(error: ValueError) -> str:
    limit = sys.get_int_max_str_digits()
    return f"more than {limit} digits" if "digits" in str(error) else str(error)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _at(display: str, text: str, offset: int, problem: str) -> InputError:
    line, column = _line_column(text, offset)
    return InputError(f"{display}: line {line} column {column}: {problem}")


def read_text(path: Path, display: str | None = None) -> str:
    """The file's text, decoded and checked (size, encoding, NUL characters, emptiness)."""
    shown = display if display is not None else str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{shown}: permission denied") from None
    except OSError as error:
        raise InputError(f"{shown}: cannot read the file ({error.strerror or error})") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(
            f"{shown}: larger than the {MAX_INPUT_BYTES // (1024 * 1024)} MB limit for an input"
        )
    return decode_bytes(raw, shown)


def decode_bytes(raw: bytes, display: str) -> str:
    """Bytes → text: UTF-8 (BOM optional) or BOM-marked UTF-16; NUL and empty input refused."""
    encoding = "utf-8"
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise InputError(f"{display}: line 1 column 1: the file is UTF-32; save it as UTF-8")
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # the codec reads and drops the byte-order mark
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        prefix = raw[: error.start]
        line = prefix.count(b"\n") + 1
        column = error.start - (prefix.rfind(b"\n") + 1) + 1
        bad = raw[error.start : error.start + 1].hex()
        name = "UTF-8" if encoding == "utf-8" else "UTF-16"
        raise InputError(
            f"{display}: line {line} column {column}: not {name} text (byte 0x{bad}); "
            "save the file as UTF-8"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise _at(display, text, nul, "NUL character: this is a binary file, not JSON or YAML")
    if not text.strip():
        raise InputError(f"{display}: the file is empty")
    return text


# --- JSON --------------------------------------------------------------------------------------


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str, offset: int = -1) -> None:
        super().__init__(key)
        self.key = key
        self.offset = offset


class _ConstantError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise _ConstantError(name)


def _locate_duplicate(text: str) -> int:
    """Where the object holding a duplicate key starts (slow pure-Python pass, errors only)."""
    decoder = json.JSONDecoder(parse_constant=_reject_constant)

    def parse_object(
        s_and_end: tuple[str, int],
        strict: bool,
        scan_once: Callable[[str, int], tuple[Any, int]],
        object_hook: Any,
        object_pairs_hook: Any,
        memo: dict[str, str] | None = None,
    ) -> tuple[Any, int]:
        start = s_and_end[1] - 1

        def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            try:
                return _reject_duplicates(pairs)
            except _DuplicateKeyError as error:
                raise _DuplicateKeyError(error.key, start) from None

        result: tuple[Any, int] = json.decoder.JSONObject(  # type: ignore[attr-defined]
            s_and_end, strict, scan_once, object_hook, hook, memo
        )
        return result

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(text)
    except _DuplicateKeyError as error:
        return error.offset
    except (ValueError, RecursionError):
        return -1
    return -1


_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _locate_depth(text: str, limit: int) -> int:
    """Offset of the first bracket nested deeper than ``limit`` (errors only)."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif token in "]}":
            depth -= 1
    return 0


# The JSON text reduced to its brackets: everything but quotes and brackets deleted, braces folded
# into square brackets (in valid JSON they nest the same way).
_SKELETON_KEEP = b'"[]{}'
_SKELETON_DELETE = bytes(byte for byte in range(256) if byte not in _SKELETON_KEEP)
_SKELETON_FOLD = bytes.maketrans(b"{}", b"[]")


def _bracket_skeleton(text: str) -> bytes:
    """The brackets of valid JSON ``text`` that lie outside strings, in order (``[[][]]``).

    Escaped backslashes and then escaped quotes are removed first (left to right, as a decoder reads
    them), so every quote left opens or closes a string. Adjacent quotes are dropped (an empty
    string, or the end of one string and the start of the next), and what remains between the
    other pairs of quotes is inside strings: only the pieces outside them are kept.
    """
    raw = text.encode("utf-8", "surrogatepass")
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = raw.translate(_SKELETON_FOLD, _SKELETON_DELETE).replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = b"".join(skeleton.split(b'"')[::2])
    return skeleton


def _exceeds_depth(data: Any, limit: int, text: str | None = None) -> bool:
    """Whether ``data`` holds lists or objects nested more than ``limit`` levels deep.

    Given ``text``, the valid JSON that ``data`` was decoded from, the answer comes from the text's
    brackets instead: each pass removes the innermost pairs (``[]``), so a document ``limit`` levels
    deep is gone after ``limit`` passes. That costs a few passes over bytes for a shallow document,
    where walking the decoded values visits every one of them.
    """
    if limit < 1:
        return True
    if text is not None:
        skeleton = _bracket_skeleton(text)
        for _ in range(limit):
            if not skeleton:
                return False
            skeleton = skeleton.replace(b"[]", b"")
        return bool(skeleton)
    # Level by level, one list comprehension per level: a large file is walked in C-speed loops.
    level = [data] if isinstance(data, dict | list) else []
    depth = 1
    while level:
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        depth += 1
        if level and depth > limit:
            return True
    return False


def parse_json_text(text: str, display: str) -> Any:
    """Decode JSON text; duplicate keys, NaN, over-long integers and deep nesting are refused."""
    too_deep = f"nested more than {MAX_DEPTH} levels deep"
    try:
        data = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as error:
        raise InputError(
            f"{display}: line {error.lineno} column {error.colno}: not valid JSON ({error.msg})"
        ) from None
    except _DuplicateKeyError as error:
        offset = _locate_duplicate(text)
        problem = f"duplicate key {error.key!r} in one object"
        if offset >= 0:
            raise _at(display, text, offset, problem + " (the object starts here)") from None
        raise InputError(f"{display}: {problem}") from None
    except _ConstantError as error:
        offset = text.find(error.name)
        raise _at(display, text, max(offset, 0), f"{error.name} is not valid JSON") from None
    except RecursionError:
        raise _at(display, text, _locate_depth(text, MAX_DEPTH), too_deep) from None
    except ValueError as error:  # an integer too long to convert
        match = re.search(r"\d{1000,}", text)
        problem = f"a number too long to read ({_too_long(error)})"
        if match:
            raise _at(display, text, match.start(), problem) from None
        raise InputError(f"{display}: {problem}") from None
    if _exceeds_depth(data, MAX_DEPTH, text):
        raise _at(display, text, _locate_depth(text, MAX_DEPTH), too_deep)
    return data


# --- YAML --------------------------------------------------------------------------------------

def parse_yaml_text(text: str, display: str) -> Any:
    """Decode YAML text (see ``yaml_text``: the YAML library is imported only for YAML input)."""
    from zeet_iam_audit.sources.yaml_text import parse_yaml

    return parse_yaml(text, display)


def _reject_lone_surrogates(data: Any, text: str, display: str) -> None:
    """A ``\\ud800`` escape decodes to a string that is not text (it could not even be printed)."""
    if "\\u" not in text and "\\U" not in text:
        return  # only escapes can produce one: the decoders refuse raw surrogates
    where = lone_surrogate_path(data)
    if where is None:
        return
    path = "$"
    for step in where:
        path = index_path(path, step) if isinstance(step, int) else key_path(path, step)
    raise InputError(f"{display}: {path}: a \\u escape of a lone surrogate, which is not a character")


def choose_syntax(path: Path, text: str) -> str:
    """``json`` or ``yaml``, by the file's suffix, else by its first character."""
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in YAML_SUFFIXES:
        return "yaml"
    return "json" if text.lstrip()[:1] in ("{", "[") else "yaml"


def load_document(path: Path, display: str | None = None) -> LoadedDocument:
    """Read and decode one input file (JSON or YAML) with every limit applied."""
    shown = display if display is not None else str(path)
    text = read_text(path, shown)
    syntax = choose_syntax(path, text)
    data = parse_json_text(text, shown) if syntax == "json" else parse_yaml_text(text, shown)
    _reject_lone_surrogates(data, text, shown)
    return LoadedDocument(data=data, syntax=syntax, display=shown)
