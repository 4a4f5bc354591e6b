"""A status line on stderr for long runs: what the tool is doing and for how long.

Shown only when stderr is a terminal, and only once the run has lasted ``DELAY`` seconds, so short runs
and everything piped or captured (CI logs, tests) look as they always did. The line is redrawn from a
timer signal (``SIGALRM``, every ``INTERVAL`` seconds) in the main thread, so no thread runs beside
the audit, and it is written
with ``os.write`` to the terminal, past Python's buffers. Lines the run prints meanwhile go through
``message``, which clears the status first; ``close`` clears it for good.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import TextIO

DELAY = 1.0  # seconds before anything is shown
INTERVAL = 0.25  # seconds between redraws
_CLEAR = "\r\x1b[K"


class Progress:
    """The status line of one run; a context manager. ``stage`` says what is being done."""

    def __init__(
        self,
        stream: TextIO,
        *,
        delay: float = DELAY,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.delay = delay
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.text = ""
        self.shown = False
        self.drawn = ""
        self.writing = False
        self.active = _is_terminal(stream) and hasattr(signal, "setitimer")
        self._previous: object = None

    def __enter__(self) -> Progress:
        if self.active:
            self._previous = signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def stage(self, text: str) -> None:
        """What the run is doing now (``auditing FILE``); drawn at the next tick."""
        self.text = text

    def message(self, line: str) -> None:
        """Write a whole line to the stream (clearing the status, which the next tick redraws)."""
        self.writing = True
        try:
            self._clear()
            self.stream.write(line + "\n")
            self.stream.flush()
        finally:
            self.writing = False

    def close(self) -> None:
        """Stop the timer and clear the status line."""
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, self._previous if callable(self._previous) else signal.SIG_DFL)
            self.active = False
        self._clear()

    def tick(self) -> None:
        """Redraw the status when the run has lasted long enough (the timer calls this)."""
        elapsed = self.clock() - self.started
        if self.writing or not self.text or elapsed < self.delay:
            return
        line = f"{_CLEAR}zeet-iam-audit: {self.text} ({elapsed:.0f} s)"
        if not self.shown or line != self.drawn:
            self._write(line)
        self.drawn = line
        self.shown = True

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        self.tick()

    def _clear(self) -> None:
        if self.shown:
            self._write(_CLEAR)
            self.shown = False

    def _write(self, text: str) -> None:
        # Unbuffered: the signal may come between two writes of the main code, never inside one. A
        # terminal gone away is not worth an error.
        with contextlib.suppress(OSError, ValueError):
            os.write(self.stream.fileno(), text.encode("utf-8", "replace"))


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty()) and stream.fileno() >= 0
    except (OSError, ValueError):
        return False
