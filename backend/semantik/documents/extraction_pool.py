"""Extraction in worker processes, each file bounded in time and memory, so one bad file fails alone."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import logging
import multiprocessing
import os
import queue
import resource
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from semantik.documents.extraction import Extracted, ExtractionError, Extractor, extract
from semantik.documents.reading import Confinement, read_confined
from semantik.stack.children import exit_when_gone

logger = logging.getLogger(__name__)

# Imported once by the fork server, so each worker starts in milliseconds with them loaded.
_PRELOAD = ["semantik.documents.extraction", "bs4", "lxml.etree", "pypdf", "docx", "pptx"]
# A worker that has not started its file by then is not going to.
STARTUP_GRACE_S = 30.0
# How often a task may be run again because its worker died under another file.
MAX_ATTEMPTS = 3

# Set in each worker by _start_worker.
_started: Connection | None = None
_memory_bytes = 0


def _start_worker(started: Connection, memory_bytes: int, app_pid: int) -> None:
    global _started, _memory_bytes
    _started, _memory_bytes = started, memory_bytes
    # Before the memory limit: a thread's stack counts against it.
    exit_when_gone(app_pid)
    # The parent handles Ctrl-C; a worker just stops when it is told to.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _extract_file(
    task_id: int, generation: int, path: str, name: str, extractor: Extractor, confinement: Confinement | None
) -> Extracted:
    # Sent before any work, so the parent knows which process runs what, since when. One small
    # write to a pipe is atomic, so workers share it without a lock a killed worker could keep.
    assert _started is not None
    _started.send((task_id, generation, os.getpid()))
    try:
        data = read_confined(Path(path), confinement)
        extracted = extractor(data, name)
        return dataclasses.replace(extracted, content_hash=hashlib.sha256(data).hexdigest())
    except MemoryError:
        raise ExtractionError(
            f"Extracting the file needs more than the {_memory_bytes // 2**20} MB of memory it may use."
        ) from None
    except OSError as exc:
        raise ExtractionError(f"The file cannot be read: {exc.strerror or exc}") from None


@dataclass(eq=False)
class _Task:
    id: int
    path: str
    name: str
    timeout_s: float
    future: Future[Extracted]
    confinement: Confinement | None = None
    generation: int = -1
    dispatched_at: float = 0.0
    started_at: float | None = None
    pid: int | None = None
    attempts: int = 0
    # Its worker died while others ran too: it runs alone next, so a second death is surely its own.
    suspect: bool = False
    inner: Future[Extracted] | None = field(default=None, repr=False)


class ExtractionPool:
    """Runs `extract` in worker processes: at most `timeout_s` and `memory_bytes` for each file.

    A file that runs too long has its worker killed and fails with "took longer than N s"; a file
    that exhausts its memory or kills its worker fails with that reason. Other files caught in the
    same broken pool are run again, and the pool goes on with fresh workers. Workers come from a
    fork server (never a fork of this process, whose threads and connections must not be copied).
    """

    def __init__(
        self, workers: int, timeout_s: float, memory_bytes: int, *, extractor: Extractor = extract
    ) -> None:
        # A worker needs about 100 MB of address space for itself, before it reads any file.
        if workers < 1 or timeout_s <= 0 or memory_bytes < 256 * 2**20:
            raise ValueError(f"Invalid pool: {workers} workers, {timeout_s} s, {memory_bytes} bytes")
        self.workers = workers
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        self._extractor = extractor
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(_PRELOAD)
        self._starts, self._started = self._context.Pipe(duplex=False)
        self._events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._ids = itertools.count()
        self._generation = 0
        # The workers of the current executor that have taken a file: any of them may be busy.
        self._worker_pids: set[int] = set()
        self._executor = self._new_executor()
        self._pending: deque[_Task] = deque()
        self._running: dict[int, _Task] = {}
        self._closing = False
        self._lock = threading.Lock()
        self._supervisor = threading.Thread(target=self._supervise, name="extraction-pool", daemon=True)
        self._supervisor.start()

    # -- the caller's side

    def submit(
        self, path: Path, name: str, timeout_s: float | None = None, confinement: Confinement | None = None
    ) -> Future[Extracted]:
        """Extract `path` (shown as `name`); the future fails with ExtractionError and a reason.

        With `confinement`, the file opened must be a regular file inside its roots and no larger
        than its limit (see `semantik.documents.reading`).
        """
        future: Future[Extracted] = Future()
        task = _Task(next(self._ids), str(path), name, timeout_s or self.timeout_s, future, confinement)
        with self._lock:
            if self._closing:
                raise RuntimeError("The extraction pool is closed.")
            self._events.put(("submit", task))
        return future

    def extract(
        self, path: Path, name: str, timeout_s: float | None = None, confinement: Confinement | None = None
    ) -> Extracted:
        return self.submit(path, name, timeout_s, confinement).result()

    def close(self, *, cancel: bool = False) -> None:
        """Stop taking files; finish those submitted (or fail them, with `cancel`); stop the workers."""
        with self._lock:
            if not self._closing:
                self._closing = True
                self._events.put(("close", cancel))
        self._supervisor.join()

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(cancel=exc_type is not None)

    # -- the supervisor thread: the only one that touches tasks and executors

    def _supervise(self) -> None:
        # Every submit is queued before the close, so once the close is seen nothing more comes.
        closed = cancel = False
        while True:
            try:
                timeout = 0.05 if self._running or self._pending else None
                event, payload = self._events.get(timeout=timeout)
                while True:
                    if event == "submit":
                        self._pending.append(payload)
                    elif event == "done":
                        self._finished(*payload)
                    elif event == "close":
                        closed, cancel = True, payload
                    event, payload = self._events.get_nowait()
            except queue.Empty:
                pass
            try:
                self._read_starts()
                if cancel:
                    self._cancel_all("Extraction was cancelled.")
                self._enforce_deadlines()
                self._dispatch()
            except Exception:  # a caller must never wait forever: fail what is in flight, go on
                logger.exception("Extraction pool supervisor error")
                self._cancel_all("Unexpected error in the extraction pool.")
                self._replace_executor()
            if closed and not self._running and not self._pending:
                break
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._starts.close()
        self._started.close()

    def _new_executor(self) -> ProcessPoolExecutor:
        self._generation += 1
        self._worker_pids = set()
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(self._started, self.memory_bytes, os.getpid()),
        )

    def _replace_executor(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()

    def _dispatch(self) -> None:
        while self._pending:
            task = self._pending[0]
            if any(t.suspect for t in self._running.values()):
                return
            if task.suspect and self._running:
                return
            if len(self._running) >= self.workers:
                return
            self._pending.popleft()
            if task.attempts >= MAX_ATTEMPTS:
                self._fail(task, "Its extraction worker kept dying before the file could be read.")
                continue
            task.attempts += 1
            task.generation = self._generation
            task.dispatched_at = time.monotonic()
            task.started_at = task.pid = None
            try:
                task.inner = self._executor.submit(
                    _extract_file,
                    task.id,
                    task.generation,
                    task.path,
                    task.name,
                    self._extractor,
                    task.confinement,
                )
            except BrokenProcessPool:
                self._replace_executor()
                self._pending.appendleft(task)
                task.attempts -= 1
                continue
            except Exception as exc:  # no worker could be started: this file fails, the pool goes on
                self._fail(task, f"No extraction worker could be started: {exc.__class__.__name__}: {exc}")
                self._replace_executor()
                continue
            self._running[task.id] = task
            task.inner.add_done_callback(functools.partial(self._on_done, task.id, task.generation))

    def _on_done(self, task_id: int, generation: int, inner: Future[Extracted]) -> None:
        # Runs in the executor's thread: hand the news to the supervisor, touch nothing.
        self._events.put(("done", (task_id, generation, inner)))

    def _read_starts(self) -> None:
        while self._starts.poll():
            task_id, generation, pid = self._starts.recv()
            if generation == self._generation:
                self._worker_pids.add(pid)
            task = self._running.get(task_id)
            # A report from a run that was since abandoned says nothing about this one.
            if task is not None and task.generation == generation and task.started_at is None:
                task.started_at, task.pid = time.monotonic(), pid

    def _finished(self, task_id: int, generation: int, inner: Future[Extracted]) -> None:
        task = self._running.get(task_id)
        if task is None or task.generation != generation:
            return  # already settled: timed out, or run again elsewhere
        if inner.cancelled():
            del self._running[task_id]
            self._pending.appendleft(task)
            return
        error = inner.exception()
        if isinstance(error, BrokenProcessPool):
            self._read_starts()
            self._broken(generation)
            return
        del self._running[task_id]
        if error is None:
            task.future.set_result(inner.result())
        elif isinstance(error, ExtractionError):
            task.future.set_exception(error)
        elif isinstance(error, MemoryError):  # the worker could not even send its result back
            self._fail(
                task, f"Extracting the file needs more than {self.memory_bytes // 2**20} MB of memory."
            )
        else:
            task.future.set_exception(
                ExtractionError(f"Unexpected error in extraction: {error.__class__.__name__}: {error}")
            )

    def _broken(self, generation: int) -> None:
        """A worker of `generation` died by itself: fail the file that killed it, rerun the others."""
        if generation == self._generation:
            self._replace_executor()
        caught = [t for t in self._running.values() if t.generation == generation]
        started = [t for t in caught if t.started_at is not None]
        for task in caught:
            del self._running[task.id]
            if task.started_at is None:
                self._pending.appendleft(task)  # never ran: innocent
            elif len(started) == 1 or task.suspect:
                self._fail(
                    task,
                    "The extraction process died while reading the file (out of memory, "
                    f"over {self.memory_bytes // 2**20} MB, or crashed).",
                )
            else:
                task.suspect = True
                self._pending.appendleft(task)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for task in list(self._running.values()):
            if self._running.get(task.id) is not task:
                continue  # taken off by an earlier kill in this round
            if task.started_at is not None and now - task.started_at > task.timeout_s:
                reason = f"Extracting the file took longer than {task.timeout_s:g} s."
            elif task.started_at is None and now - task.dispatched_at > STARTUP_GRACE_S + task.timeout_s:
                reason = "The extraction worker did not start."
            else:
                continue
            self._fail(task, reason)
            self._kill_generation(task.generation, culprit=task)

    def _kill_generation(self, generation: int, culprit: _Task) -> None:
        """Stop every worker of `generation` (a pool cannot lose one alone); rerun the innocent."""
        del self._running[culprit.id]
        if culprit.pid is not None:
            _kill(culprit.pid)
        caught = [t for t in self._running.values() if t.generation == generation]
        for task in caught:
            del self._running[task.id]
            task.attempts -= 1  # not its fault
        self._pending.extendleft(reversed(caught))
        if generation == self._generation:
            self._kill_workers()
            self._replace_executor()

    def _kill_workers(self) -> None:
        for pid in self._worker_pids:
            _kill(pid)

    def _cancel_all(self, reason: str) -> None:
        if self._running:
            self._kill_workers()
            self._replace_executor()
        for task in self._running.values():
            self._fail(task, reason)
        self._running.clear()
        while self._pending:
            self._fail(self._pending.popleft(), reason)

    def _fail(self, task: _Task, reason: str) -> None:
        logger.info("Extraction of %s failed: %s", task.path, reason)
        if not task.future.done():
            task.future.set_exception(ExtractionError(reason))


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
