"""Writing reports: all files or none, never over the input, never replacing what is not a file.

``write_outputs`` takes every text the run produced (stdout and the files the user named) and:

- refuses, before writing anything, a file named twice (by any spelling: compared by resolved path
  and by device and inode; a device or FIFO may be named twice) and a file that is an input;
- writes every regular (or new) file to a temporary file beside it first, and only when all of them
  are written renames them into place, one after the other with SIGINT and SIGTERM held back, so
  that an interrupted run leaves either every old file or every new one;
- writes *through* what is not a regular file (``/dev/null``, a FIFO, a terminal, ``/proc/self/fd/1``):
  replacing one with a regular file would break it (as root, ``--output /dev/null`` would replace the
  system's ``/dev/null``); a symbolic link to a regular file stays a link, its target is replaced;
- keeps an existing file's permission bits (a report kept private with mode 0600 stays so);
- removes its temporary files on every way out, an interrupt or SIGTERM included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, TextIO

from zeet_iam_audit.errors import UsageError, ZeetIamAuditError

_WRITE_CHUNK = 1 << 20  # characters
_PIECES_AT_ONCE = 256  # pieces of a text joined for one write


@dataclass(frozen=True, slots=True)
class Target:
    """One text to write: to ``path``, or to stdout when ``path`` is None; ``flag`` names the option
    that asked for it, for error messages. The text may come in pieces, written one after the other
    (an account-wide JSON report is then never held as one string of tens of megabytes)."""

    text: str | tuple[str, ...]
    path: Path | None = None
    flag: str = "--output"


def write_text(handle: IO[str], text: str | tuple[str, ...]) -> None:
    """Write ``text`` a megabyte at a time: a text stream encodes what it is given as one copy, and
    an account-wide report is tens of megabytes. Pieces are joined ``_PIECES_AT_ONCE`` at a time,
    about ten roles' texts, and written together: each write to a stream costs a call, and an
    account-wide report has a hundred thousand pieces."""
    if isinstance(text, str):
        for start in range(0, len(text), _WRITE_CHUNK):
            handle.write(text[start : start + _WRITE_CHUNK])
        return
    for start in range(0, len(text), _PIECES_AT_ONCE):
        handle.write("".join(text[start : start + _PIECES_AT_ONCE]))


def _identity(path: Path) -> tuple[str, object]:
    """What makes two spellings of a path the same file: its device and inode when it exists,
    else its resolved path."""
    try:
        info = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path))
    return ("inode", (info.st_dev, info.st_ino))


def check_targets(targets: Sequence[Target], inputs: Sequence[Path] = ()) -> None:
    """Refuse, before anything is written, an output named twice or an output that is an input."""
    from zeet_iam_audit.formats.printable import stderr_text

    seen: dict[tuple[str, object], Target] = {}
    identities: dict[tuple[str, object], Path] = {}
    for path in inputs:
        if str(path) != "-":
            identities[_identity(path)] = path
            identities[("path", os.path.realpath(path))] = path
    for target in targets:
        if target.path is None:
            continue
        keys = {_identity(target.path), ("path", os.path.realpath(target.path))}
        for key in keys:
            if key in identities:
                raise UsageError(
                    f"{target.flag} {stderr_text(str(target.path))}: is the input "
                    f"{stderr_text(str(identities[key]))}; write the report elsewhere"
                )
            other = seen.get(key)
            # Two writes through one device (two reports to /dev/null) harm nothing; two renames
            # onto one file would lose one report.
            if other is not None and other is not target and not _is_special(target.path):
                raise UsageError(
                    f"{target.flag} {stderr_text(str(target.path))} and {other.flag} "
                    f"{stderr_text(str(other.path))} name the same file (outputs need different files)"
                )
        for key in keys:
            seen[key] = target


def _is_special(path: Path) -> bool:
    """Whether ``path`` (followed through links) exists and is not a regular file."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _new_mode(final: str) -> int:
    try:
        return stat.S_IMODE(os.stat(final).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """SIGTERM raises ``KeyboardInterrupt`` like SIGINT while outputs are written, so the clean-up
    below runs for both (only the main thread may set handlers; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (are delivered after) while the renames run."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _cannot_write(target: Target, error: OSError) -> ZeetIamAuditError:
    from zeet_iam_audit.formats.printable import stderr_text

    return ZeetIamAuditError(f"{stderr_text(str(target.path))}: cannot write the report ({error.strerror or error})")


def write_outputs(targets: Sequence[Target], stdout: TextIO, inputs: Sequence[Path] = ()) -> None:
    """Write every target (see the module's docstring); a failure is one line, exit 2."""
    check_targets(targets, inputs)
    files = [t for t in targets if t.path is not None]
    through = [t for t in files if t.path is not None and _is_special(t.path)]
    replaced = [t for t in files if t not in through]
    temporaries: dict[int, tuple[str, str]] = {}  # index in replaced → (temporary, final path)
    with _signals_as_interrupts():
        try:
            for index, target in enumerate(replaced):
                assert target.path is not None
                final = os.path.realpath(target.path)  # a link stays a link: its target is replaced
                directory = os.path.dirname(final) or "."
                # Made and recorded with the signals held: a SIGTERM in between would leave it behind.
                with _signals_held():
                    try:
                        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, kept on purpose)
                            "w", encoding="utf-8", dir=directory, prefix=f".{os.path.basename(final)}.", delete=False
                        )
                    except OSError as error:
                        raise _cannot_write(target, error) from None
                    temporaries[index] = (handle.name, final)
                try:
                    with handle:
                        write_text(handle, target.text)
                    os.chmod(handle.name, _new_mode(final))
                except OSError as error:
                    raise _cannot_write(target, error) from None
            for target in through:
                try:
                    with open(target.path, "w", encoding="utf-8") as stream:  # type: ignore[arg-type]
                        write_text(stream, target.text)
                except OSError as error:
                    raise _cannot_write(target, error) from None
            with _signals_held():
                for index, target in enumerate(replaced):
                    temporary, final = temporaries[index]
                    try:
                        os.replace(temporary, final)
                    except OSError as error:
                        raise _cannot_write(target, error) from None
                    del temporaries[index]
        finally:
            for temporary, _ in temporaries.values():
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
    for target in targets:
        if target.path is None:
            write_text(stdout, target.text)
            stdout.flush()
