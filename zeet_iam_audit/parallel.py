"""Auditing many roles on several cores: chunks of the roles, claimed by the processes one at a time.

Python runs one thread of Python code at a time, so an account-wide audit uses more cores by forking
worker processes once the input is loaded: they inherit the decoded file, the rules and the
catalogue without copying or pickling them (an authorization-details file's roles are read on first
use, so each process reads only the roles it audits: see ``sources/lazy.py``). The roles are cut
into contiguous chunks, several per process; the parent and the workers claim them one at a time
from a pipe, so a process whose core is busy audits fewer (on a shared machine the cores do not run
at the same speed). A worker sends each chunk's results back pickled through a pipe as it goes (a
thread of the parent drains the pipe meanwhile, and the parent unpickles what has arrived between
its own chunks). The results are joined in the roles' order, so the report is exactly a serial
run's.

``--jobs N`` sets the number of processes (1: serial). The default, ``auto``, uses the cores this
process may run on (at most ``MAX_AUTO_JOBS``), with at least ``ROLES_PER_JOB`` roles per process, so
a run of fewer than 200 roles stays serial (forking would cost more than it saves). Runs are serial
anyway where ``fork`` is not safe or not available: other than on Linux, and when other threads are
running (a forked child would inherit their locks, held).

Failures never hang the run and never pass silently:

- an exception in a worker is raised again in the parent with the same type name and message, so
  the CLI prints the same one line and exits 2 (``--debug`` adds the worker's traceback as a note);
  when several chunks fail, the first of them in the roles' order wins, as in a serial run;
- a worker that ends without sending its results (killed, out of memory) is an ``AuditWorkerError``
  naming the roles it was auditing and its exit status;
- a worker still running ``WORKER_GRACE`` seconds (and ten times the parent's own audit time) after
  the parent ran out of chunks is killed, and that is an ``AuditWorkerError`` too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import operator
import os
import pickle
import queue
import signal
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from zeet_iam_audit.errors import ZeetIamAuditError

ROLES_PER_JOB = 100  # auto: fewer roles per process are audited serially
MAX_AUTO_JOBS = 8
WORKER_GRACE = 60.0  # seconds a worker may take beyond the parent's share (at least)
_READ_SIZE = 1 << 20

Item = TypeVar("Item")
Result = TypeVar("Result")


class AuditWorkerError(ZeetIamAuditError):
    """A worker process ended without its results, or did not end in time."""


def fork_available() -> bool:
    """Whether worker processes can be forked safely here (Linux, no other thread running)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux") and threading.active_count() == 1


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def choose_jobs(requested: int | None, items: int) -> int:
    """How many processes share ``items`` roles: ``requested`` (``--jobs``), or None for auto."""
    if requested is None:
        requested = min(usable_cores(), MAX_AUTO_JOBS, items // ROLES_PER_JOB)
    return max(1, min(requested, items))


def shares(count: int, jobs: int) -> list[tuple[int, int]]:
    """``jobs`` contiguous (start, stop) ranges covering ``range(count)``, sizes differing by one at
    most."""
    jobs = max(1, min(jobs, count))
    size, extra = divmod(count, jobs)
    ranges = []
    start = 0
    for job in range(jobs):
        stop = start + size + (1 if job < extra else 0)
        ranges.append((start, stop))
        start = stop
    return ranges


CHUNKS_PER_JOB = 16  # the roles are cut into this many chunks per process, claimed one at a time


def map_shares(
    work: Callable[[Sequence[Item]], list[Result]], items: Sequence[Item], jobs: int
) -> list[Result]:
    """``work(items)``, computed chunk by chunk in ``jobs`` processes and joined in order.

    ``work`` must be a map (its result for a slice of ``items`` is the slice of its result) and its
    results must pickle. It runs in forked children, so it may be any callable, a closure over
    unpicklable values included. Serial when ``jobs`` is 1 or fork is not available.

    The items are cut into contiguous chunks that the processes claim one at a time, so a process
    whose core is busier (the cores of a shared machine do not run at the same speed) takes fewer.
    When chunks fail, the exception raised is that of the first failing chunk in the items' order,
    as a serial run would raise it.
    """
    jobs = max(1, min(jobs, len(items)))
    if jobs <= 1 or not fork_available():
        return work(items)
    chunks = shares(len(items), jobs * CHUNKS_PER_JOB)
    for stream in (sys.stdout, sys.stderr):  # a child must not inherit half-written buffers
        with contextlib.suppress(Exception):
            stream.flush()
    claims = _Claims(len(chunks))
    workers: list[_Worker] = []
    done: dict[int, list[Any]] = {}
    try:
        for _ in range(jobs - 1):
            workers.append(_start_worker(work, items, chunks, claims, workers))
        for worker in workers:  # threads only once every fork is done
            worker.listen()
        began = time.monotonic()
        failure: tuple[int, Exception] | None = None
        while (number := claims.take()) is not None:
            start, stop = chunks[number]
            try:
                done[number] = list(work(items[start:stop]))
            except Exception as error:  # the first failing chunk overall is raised, below
                failure = (number, error)
                claims.drain()  # no chunk is started after a failure
            for worker in workers:
                worker.absorb(done, chunks, block_until=None)
                if worker.failure is not None:
                    claims.drain()  # a chunk failed: the ones after it need not be audited
        deadline = time.monotonic() + max(WORKER_GRACE, 10 * (time.monotonic() - began))
        for worker in workers:
            worker.absorb(done, chunks, block_until=deadline)
        failures = [f for f in (failure, *(worker.failure for worker in workers)) if f is not None]
        if failures:
            raise min(failures, key=lambda found: found[0])[1]
        return [result for number in range(len(chunks)) for result in done[number]]
    finally:
        claims.close()
        for worker in workers:
            worker.stop()


class _Claims:
    """Every chunk's number, once, in a pipe: reading four bytes claims the next chunk. A pipe read
    is atomic, so two processes never claim the same chunk; the writing end is closed before any
    fork, so an empty pipe reads as its end."""

    _NUMBER = struct.Struct("!I")

    def __init__(self, count: int) -> None:
        self.fd, write_fd = os.pipe()
        try:
            data = memoryview(b"".join(self._NUMBER.pack(number) for number in range(count)))
            while data:  # a few hundred bytes at most: within a pipe's buffer
                data = data[os.write(write_fd, data):]
        finally:
            os.close(write_fd)

    def take(self) -> int | None:
        """The next unclaimed chunk's number, or None when every chunk is claimed."""
        data = os.read(self.fd, self._NUMBER.size)
        return self._NUMBER.unpack(data)[0] if data else None

    def drain(self) -> None:
        """Claim every chunk left, so that no process starts another."""
        while self.take() is not None:
            pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


# ---------------------------------------------------------------------------------------------
# Workers
#
# A worker claims chunks until none is left and sends, for each, frames: an 8-byte length, then a
# pickled ("claim", number) when it starts the chunk and ("part", number, results) when it is done;
# lastly ("end",), or ("error", number, ...) when a chunk fails (and it stops). A thread of the
# parent drains the pipe meanwhile, so the worker never waits for the parent, and the parent
# unpickles the frames already sent between its own chunks.

_FRAME = struct.Struct("!Q")


class _Worker:
    __slots__ = ("_chunks", "_pending", "_reader", "claimed", "failure", "fd", "finished", "pid", "reaped")

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self.reaped = False
        self.finished = False  # its "end" or "error" frame was read
        self.claimed: tuple[int, int] | None = None  # the items of the chunk it is auditing
        self.failure: tuple[int, Exception] | None = None  # (chunk, exception) it sent
        self._pending = bytearray()
        self._chunks: queue.SimpleQueue[bytes] = queue.SimpleQueue()  # b"" at the end of the pipe
        self._reader: threading.Thread | None = None

    def describe(self) -> str:
        if self.claimed is None:
            return f"worker process {self.pid}"
        first, last = self.claimed[0] + 1, self.claimed[1]  # 1-based, for messages
        return f"worker process auditing {f'roles {first}-{last}' if last > first else f'role {first}'}"

    def listen(self) -> None:
        """Drain the pipe in a thread of the parent (it waits in ``os.read``, without the GIL)."""
        self._reader = threading.Thread(target=self._drain, name=f"worker-{self.pid}", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        try:
            while chunk := os.read(self.fd, _READ_SIZE):
                self._chunks.put(chunk)
        except OSError:
            pass
        self._chunks.put(b"")

    def absorb(self, done: dict[int, list[Any]], chunks: Sequence[tuple[int, int]],
               block_until: float | None) -> None:
        """Read the frames received: results into ``done``, the exception into ``failure``. With
        ``block_until``, wait for the worker's last frame until then (a worker that ends without it,
        or not in time, is an ``AuditWorkerError``); without, only what has arrived."""
        while not self.finished:
            try:
                if block_until is None:
                    chunk = self._chunks.get_nowait()
                else:
                    chunk = self._chunks.get(timeout=max(block_until - time.monotonic(), 0.0))
            except queue.Empty:
                if block_until is None:
                    return
                raise AuditWorkerError(
                    f"the {self.describe()} did not finish in time; run again with --jobs 1") from None
            if not chunk:
                code = self._reap()
                ended = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
                raise AuditWorkerError(
                    f"the {self.describe()} {ended} without its results; run again with --jobs 1")
            self._pending += chunk
            self._frames(done, chunks)

    def _frames(self, done: dict[int, list[Any]], chunks: Sequence[tuple[int, int]]) -> None:
        pending = self._pending
        while not self.finished and len(pending) >= _FRAME.size:
            (size,) = _FRAME.unpack_from(pending)
            if len(pending) < _FRAME.size + size:
                break
            with memoryview(pending) as view, view[_FRAME.size:_FRAME.size + size] as frame:
                answer = pickle.loads(frame)
            del pending[:_FRAME.size + size]
            if answer[0] == "claim":
                self.claimed = chunks[answer[1]]
            elif answer[0] == "part":
                done[answer[1]] = answer[2]
                self.claimed = None
            elif answer[0] == "end":
                self.finished = True
                self._reap()
            else:
                _, number, error, (name, message, trace, ours, interrupted) = answer
                rebuilt = _rebuilt(error, name, message, ours, interrupted, trace)
                if not isinstance(rebuilt, Exception):  # an interrupt: at once, as in the parent
                    raise rebuilt
                self.failure = (number, rebuilt)
                self.finished = True
                self._reap()

    def _reap(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        self.reaped = True
        return os.waitstatus_to_exitcode(status)

    def stop(self) -> None:
        """Reap the process, killing it if it is still running; then end the reader and the pipe."""
        if not self.reaped:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.reaped = True
        if self._reader is not None:
            self._reader.join(timeout=5)  # the pipe's writer is gone: the reader sees its end
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _start_worker(
    work: Callable[[Sequence[Any]], list[Any]], items: Sequence[Any], chunks: Sequence[tuple[int, int]],
    claims: _Claims, others: Sequence[_Worker],
) -> _Worker:
    import fcntl  # POSIX only, like fork itself

    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError, AttributeError):  # fewer, larger reads of the results (Linux)
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, _READ_SIZE)
    pid = os.fork()
    if pid == 0:  # the worker: it never returns into the caller's code
        status = 1
        try:
            os.close(read_fd)
            for other in others:
                os.close(other.fd)
            _serve(work, items, chunks, claims, write_fd)
            status = 0
        except BaseException:  # the parent reports a worker that sent nothing
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    return _Worker(pid=pid, fd=read_fd)


def _serve(
    work: Callable[[Sequence[Any]], list[Any]], items: Sequence[Any], chunks: Sequence[tuple[int, int]],
    claims: _Claims, fd: int,
) -> None:
    """Claim chunks until none is left, sending each one's results, then the end (or the exception
    that stopped it: taking the chunk's items may fail too, as when its roles are read on first use)."""
    current = -1  # the chunk being audited
    try:
        while (number := claims.take()) is not None:
            current = number
            start, stop = chunks[number]
            _send(fd, _dumps(("claim", number)))
            _send(fd, _dumps(("part", number, work(items[start:stop]))))
    except BaseException as error:  # every failure goes back to the parent, to be raised there
        _send(fd, _error_answer(error, current))
        return
    _send(fd, _dumps(("end",)))


def _send(fd: int, payload: bytes) -> None:
    view = memoryview(_FRAME.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def _error_answer(error: BaseException, number: int) -> bytes:
    """("error", chunk, the exception or None when it does not pickle, its description), pickled."""
    described = (type(error).__name__, str(error), traceback.format_exc(),
                 isinstance(error, ZeetIamAuditError), isinstance(error, KeyboardInterrupt))
    try:
        sent = _dumps(("error", number, error, described))
        back = pickle.loads(sent)[2]
        if type(back) is type(error) and str(back) == str(error):
            return sent
    except Exception:  # an exception that does not survive pickling: its description will do
        pass
    return _dumps(("error", number, None, described))


def _rebuilt(
    error: BaseException | None, name: str, message: str, ours: bool, interrupted: bool, trace: str
) -> BaseException:
    """The worker's exception, as the parent raises it: itself, or the same type name and message."""
    if error is None:
        if interrupted:
            error = KeyboardInterrupt()
        elif ours:
            error = ZeetIamAuditError(message)
        else:
            # An exception that did not survive pickling: one of the same class name carries the
            # message, so the CLI's "internal error" line is unchanged.
            error = type(name, (Exception,), {"__module__": __name__})(message)
    error.add_note("in a worker process:\n" + trace.rstrip())
    return error


# ---------------------------------------------------------------------------------------------
# Pickling: a frozen dataclass as its constructor and field values


class _Reducers(dict[type, Callable[[Any], tuple[Any, ...]]]):
    """Pickle reducers, made on first use per class.

    The default pickling of a ``slots=True`` frozen dataclass goes through a ``__getstate__`` and a
    ``__setstate__`` written in Python, per object; calling the constructor with the field values
    (read by one C ``attrgetter``) pickles a report in half the time. Classes that are not plain
    frozen dataclasses get the default (a ``KeyError`` here sends pickle to ``__reduce_ex__``).
    """

    def __init__(self) -> None:
        super().__init__()
        self._default: set[type] = set()

    def __missing__(self, cls: type) -> Callable[[Any], tuple[Any, ...]]:
        reducer = None if cls in self._default else _dataclass_reducer(cls)
        if reducer is None:
            self._default.add(cls)
            raise KeyError(cls)
        self[cls] = reducer
        return reducer


def _dataclass_reducer(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return None
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or not all(f.init for f in fields):
        return None
    names = [f.name for f in fields]
    if not names:
        return None
    read = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (cls, (read(obj),))
    return lambda obj: (cls, read(obj))


_REDUCERS = _Reducers()


def _dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(value)
    return buffer.getvalue()
