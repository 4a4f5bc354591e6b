"""progress.py: the status line shows on a terminal after the delay, never elsewhere, and cleans up."""

from __future__ import annotations

import io
import os
import pty
import select
import signal
import time
from collections.abc import Iterator
from typing import TextIO

import pytest

from zeet_iam_audit.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def terminal() -> Iterator[tuple[TextIO, int]]:
    """A pseudo-terminal: the stream the tool writes to, and the descriptor the screen reads."""
    screen, tty = pty.openpty()
    stream = os.fdopen(tty, "w", encoding="utf-8")
    try:
        yield stream, screen
    finally:
        stream.close()
        os.close(screen)


def _read(screen: int, wait: float = 0.0) -> str:
    chunks = []
    while select.select([screen], [], [], wait)[0]:
        chunks.append(os.read(screen, 4096).decode())
        wait = 0.0
    return "".join(chunks)


def test_nothing_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()
    before = signal.getsignal(signal.SIGALRM)
    clock = Clock()
    with Progress(stream, clock=clock) as status:
        assert not status.active
        assert signal.getsignal(signal.SIGALRM) is before  # no timer installed
        status.stage("auditing big.json")
        clock.now += 60
        status.tick()
        status.message("zeet-iam-audit: a line")
    assert stream.getvalue() == "zeet-iam-audit: a line\n"


def test_shown_after_the_delay_and_cleared(terminal: tuple[TextIO, int]) -> None:
    stream, screen = terminal
    clock = Clock()
    before = signal.getsignal(signal.SIGALRM)
    with Progress(stream, clock=clock, interval=3600) as status:  # the test ticks by hand
        assert status.active
        status.stage("auditing big.json")
        clock.now += 0.5
        status.tick()
        assert _read(screen) == ""  # a short run shows nothing
        clock.now += 2
        status.tick()
        assert _read(screen, 1) == "\r\x1b[Kzeet-iam-audit: auditing big.json (2 s)"
        status.tick()
        assert _read(screen) == ""  # the same line is not drawn again
        status.message("zeet-iam-audit: reading the SCPs")
        assert _read(screen, 1) == "\r\x1b[Kzeet-iam-audit: reading the SCPs\r\n"
        status.stage("writing the report")
        status.tick()
        assert _read(screen, 1) == "\r\x1b[Kzeet-iam-audit: writing the report (2 s)"
    assert _read(screen, 1) == "\r\x1b[K"  # closed: the line is cleared
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_timer_draws_it(terminal: tuple[TextIO, int]) -> None:
    stream, screen = terminal
    seen = ""
    with Progress(stream, delay=0, interval=0.01) as status:
        status.stage("auditing big.json")
        deadline = time.monotonic() + 30  # a bound for a busy machine, not a measurement
        while "auditing big.json" not in seen and time.monotonic() < deadline:
            seen += _read(screen, 0.05)
    assert "\r\x1b[Kzeet-iam-audit: auditing big.json (0 s)" in seen
