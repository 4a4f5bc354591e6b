"""Reading an input file safely: bytes → text → JSON or YAML values.

Every failure is an ``InputError`` with one line, ``"PATH: line L column C: what"`` (or
``"PATH: what"`` when there is no place to point at), never a traceback. The limits guard against
files that are not inputs at all and against hostile ones:

- at most ``MAX_INPUT_BYTES`` (64 MB; a large account's authorization details are a few MB; the
  CLI's ``--max-input-mb`` raises it), checked on a regular file's size before a byte is read, and
  on a stream (``-`` for standard input, a FIFO) as it is read; devices (``/dev/zero`` never ends),
  directories and the program's own stdout are refused;
- UTF-8, with or without a byte-order mark; UTF-16 with a byte-order mark is accepted too, because
  Windows PowerShell's ``>`` writes the AWS CLI's output that way; NUL characters are refused;
- JSON: duplicate keys are refused (IAM and CloudFormation refuse them; Python would silently keep
  the last one; located in linear time), as are ``NaN``/``Infinity``, integers longer than Python
  converts, and nesting deeper than ``MAX_DEPTH``;
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
import os
import re
import select
import stat
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


FIFO_WAIT_SECONDS = 30.0  # how long a FIFO may stay without a writer before it is refused


def size_limit_text(limit: int) -> str:
    """``limit`` bytes in words (``64 MB``)."""
    megabytes = limit / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{limit:,} bytes"


def _too_large(shown: str, limit: int) -> InputError:
    return InputError(
        f"{shown}: larger than the {size_limit_text(limit)} limit for an input (raise it with --max-input-mb)"
    )


def _read_bounded(descriptor: int, limit: int) -> bytes:
    """At most ``limit + 1`` bytes from ``descriptor`` (the one more tells a too-large input)."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _same_file(info: os.stat_result, descriptor: int) -> bool:
    try:
        other = os.fstat(descriptor)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == (other.st_dev, other.st_ino)


def _wait_for_writer(descriptor: int, shown: str) -> None:
    """A FIFO opened without blocking: wait (bounded) until a writer sends data or closes it."""
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLHUP)
    if not poller.poll(int(FIFO_WAIT_SECONDS * 1000)):
        raise InputError(f"{shown}: a FIFO nothing wrote to within {FIFO_WAIT_SECONDS:g} s")
    os.set_blocking(descriptor, True)


def read_bytes(path: Path, display: str | None = None, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The raw bytes of an input: a file, a FIFO, or standard input (``-``), at most ``limit``.

    A regular file's size is checked before it is read; a FIFO and standard input are read like a
    stream up to the limit. Devices (``/dev/zero`` never ends, a terminal waits for typing), a
    directory, and this program's own stdout or stderr are refused with one line.
    """
    shown = display if display is not None else str(path)
    if str(path) == "-":
        shown = display if display is not None else "standard input"
        try:
            info = os.fstat(0)
        except OSError:
            raise InputError(f"{shown}: standard input is closed") from None
        if stat.S_ISCHR(info.st_mode) and os.isatty(0):
            raise InputError(f"{shown}: is a terminal; pipe the file in (--file - < FILE)")
        return _read_descriptor(0, info, shown, limit)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{shown}: permission denied") from None
    except OSError as error:
        raise InputError(f"{shown}: cannot read the file ({error.strerror or error})") from None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{shown}: is a directory, not a file")
        if stat.S_ISFIFO(info.st_mode):
            if _same_file(info, 1) or _same_file(info, 2):
                raise InputError(f"{shown}: is this program's own output, not an input")
            _wait_for_writer(descriptor, shown)
        elif not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"{shown}: is a device, not a file (it may never end); "
                "save the input to a file or pipe it in with --file -"
            )
        else:
            os.set_blocking(descriptor, True)
        return _read_descriptor(descriptor, info, shown, limit)
    finally:
        os.close(descriptor)


def _read_descriptor(descriptor: int, info: os.stat_result, shown: str, limit: int) -> bytes:
    if stat.S_ISREG(info.st_mode) and info.st_size > limit:
        raise _too_large(shown, limit)  # before reading a byte
    try:
        raw = _read_bounded(descriptor, limit)
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory, not a file") from None
    except OSError as error:
        raise InputError(f"{shown}: cannot read the file ({error.strerror or error})") from None
    if len(raw) > limit:
        raise _too_large(shown, limit)
    return raw


def read_text(path: Path, display: str | None = None, limit: int = MAX_INPUT_BYTES) -> str:
    """The input's text, decoded and checked (size, encoding, NUL characters, emptiness)."""
    shown = display if display is not None else ("standard input" if str(path) == "-" else str(path))
    return decode_bytes(read_bytes(path, shown, limit), shown)


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
            f"{display}: line {line} column {column}: not {name} text (byte 0x{bad}); save the file as UTF-8"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise _at(display, text, nul, "NUL character: this is a binary file, not JSON or YAML")
    if not text or text.isspace():  # (not text.strip(): a copy of the whole text)
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


def _pairs_hook() -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """An ``object_pairs_hook`` refusing duplicate keys and counting the objects it has built: the
    decoder finishes objects in the order their closing braces appear, so the count says which ``}``
    closes the object holding the duplicate. (A closure rather than an object with ``__call__``, and
    the keys counted by ``dict`` in C: the decoder calls it once per object of the file.)"""
    completed = 0

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal completed
        completed += 1
        result = dict(pairs)
        if len(result) != len(pairs):  # a key repeated: which one
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise _DuplicateKeyError(key, completed)
                seen.add(key)
        return result

    return hook


def _reject_constant(name: str) -> Any:
    raise _ConstantError(name)


_STRING_OR_BRACE = re.compile(r'"(?:[^"\\]|\\.)*"|[{}]', re.DOTALL)


def _locate_object(text: str, number: int) -> int:
    """Where the object whose closing brace is the ``number``-th one outside strings starts: one
    linear pass over strings and braces (errors only)."""
    opened: list[int] = []
    closed = 0
    for match in _STRING_OR_BRACE.finditer(text):
        token = match.group()
        if token == "{":
            opened.append(match.start())
        elif token == "}" and opened:
            start = opened.pop()
            closed += 1
            if closed == number:
                return start
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
        data = json.loads(text, object_pairs_hook=_pairs_hook(), parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise InputError(f"{display}: line {error.lineno} column {error.colno}: not valid JSON ({error.msg})") from None
    except _DuplicateKeyError as error:
        offset = _locate_object(text, error.offset)
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
    # Only escapes can produce one: the decoders refuse raw surrogates. (A one-character search
    # first: it runs at memory speed, a two-character one at a small fraction of it.)
    if "\\" not in text or ("\\u" not in text and "\\U" not in text):
        return
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


def load_document(path: Path, display: str | None = None, limit: int = MAX_INPUT_BYTES) -> LoadedDocument:
    """Read and decode one input file (JSON or YAML) with every limit applied; ``limit`` is the
    largest input in bytes (``--max-input-mb``)."""
    shown = display if display is not None else ("standard input" if str(path) == "-" else str(path))
    text = read_text(path, shown, limit)
    syntax = choose_syntax(path, text)
    data = parse_json_text(text, shown) if syntax == "json" else parse_yaml_text(text, shown)
    _reject_lone_surrogates(data, text, shown)
    return LoadedDocument(data=data, syntax=syntax, display=shown)
