"""Operation state changes. Each is saved first, then announced to the sockets following its collection."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.contrib.auth.models import User
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from semantik.api import Conflict
from semantik.collections.models import Collection
from semantik.metrics.collectors import CHUNKS_INDEXED, DOCUMENTS_PROCESSED, OPERATIONS_FINISHED
from semantik.operations.models import Operation
from semantik.realtime.events import EventType, publish

logger = logging.getLogger(__name__)

# Progress events are throttled: a folder of 10,000 tiny files must not send 10,000 events.
PROGRESS_EVENT_INTERVAL_S = 0.5

WRITE_TYPES = {t.value for t in Operation.Type}


class OperationCancelled(Exception):
    """Raised inside the work loop when the user has asked the operation to stop."""


class OperationState(TypedDict):
    id: str
    collection_id: str
    type: str
    status: str
    files_total: int
    files_processed: int
    files_skipped: int
    files_failed: int
    chunks_written: int
    current_file: str
    error: str
    cancel_requested: bool
    created_at: str
    started_at: str | None
    finished_at: str | None
    files_per_s: float | None
    eta_s: float | None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def operation_state(operation: Operation) -> OperationState:
    files_per_s, eta_s = _rate_and_eta(operation)
    return {
        "id": str(operation.id),
        "collection_id": str(operation.collection_id),
        "type": operation.type,
        "status": operation.status,
        "files_total": operation.files_total,
        "files_processed": operation.files_processed,
        "files_skipped": operation.files_skipped,
        "files_failed": operation.files_failed,
        "chunks_written": operation.chunks_written,
        "current_file": operation.current_file,
        "error": operation.error,
        "cancel_requested": operation.cancel_requested,
        "created_at": operation.created_at.isoformat(),
        "started_at": _iso(operation.started_at),
        "finished_at": _iso(operation.finished_at),
        "files_per_s": files_per_s,
        "eta_s": eta_s,
    }


def _rate_and_eta(operation: Operation) -> tuple[float | None, float | None]:
    """Files per second since the start, and the seconds left at that rate (None until known)."""
    if operation.status != Operation.Status.PROCESSING or operation.started_at is None:
        return None, None
    done = operation.files_processed + operation.files_skipped + operation.files_failed
    elapsed = (timezone.now() - operation.started_at).total_seconds()
    if done == 0 or elapsed <= 0:
        return None, None
    rate = done / elapsed
    return round(rate, 2), round(max(0, operation.files_total - done) / rate, 1)


def _announce(operation: Operation, event_type: EventType) -> None:
    publish(operation.collection_id, event_type, dict(operation_state(operation)), operation_id=operation.pk)


def operation_ensure_idle(collection: Collection) -> None:
    """409 if a write operation is under way on the collection; else nothing.

    A cheap early answer before costly work (reading an upload): operation_create checks again
    under the collection's lock.
    """
    active = (
        Operation.objects.filter(collection=collection, type__in=WRITE_TYPES)
        .exclude(status__in=Operation.FINAL_STATUSES)
        .first()
    )
    if active is not None:
        raise Conflict(
            f"Collection {collection.name!r} is busy with {active.type} operation {active.id}; "
            "wait for it to finish."
        )


def operation_create(
    *, collection: Collection, user: User | None, type: str, params: dict[str, Any]
) -> Operation:
    """Queue an operation; a collection runs one write operation at a time (else 409)."""
    with transaction.atomic():
        # Locking the collection row serialises concurrent requests for the same collection.
        Collection.objects.select_for_update().get(pk=collection.pk)
        operation_ensure_idle(collection)
        return Operation.objects.create(collection=collection, user=user, type=type, params=params)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _stale_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.OPERATION_STALE_AFTER_S)


def operation_start(operation_id: str, task_id: str = "") -> Operation | None:
    """Move an operation to processing, or resume one a dead worker left.

    None when there is nothing to do: it ended already (a redelivered task), or another live
    worker is running it.
    """
    with transaction.atomic():
        operation = (
            Operation.objects.select_for_update().select_related("collection").filter(pk=operation_id).first()
        )
        if operation is None:
            # Its collection was deleted while the task waited in the queue.
            logger.info("Operation %s no longer exists; nothing to do", operation_id)
            return None
        if operation.is_final:
            return None
        me = worker_identity()
        resumed = operation.status == Operation.Status.PROCESSING
        alive_elsewhere = (
            resumed
            and operation.worker != me
            and operation.heartbeat_at is not None
            and operation.heartbeat_at > _stale_before()
            and not _is_dead_local_worker(operation.worker)
        )
        if alive_elsewhere:
            logger.info(
                "Operation %s is running on %s; not starting it twice", operation.id, operation.worker
            )
            return None
        now = timezone.now()
        operation.status = Operation.Status.PROCESSING
        operation.started_at = operation.started_at or now
        operation.heartbeat_at = now
        operation.task_id = task_id or operation.task_id
        operation.worker = me
        operation.save(update_fields=["status", "started_at", "heartbeat_at", "task_id", "worker"])
    if not resumed:
        _announce(operation, "operation.started")
    return operation


def _is_dead_local_worker(worker: str) -> bool:
    """True for a worker of this host whose process is gone: a restart found its leftovers."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def operations_orphaned_here() -> list[Operation]:
    """Operations left processing by a previous process of this worker host, now dead."""
    candidates = Operation.objects.filter(status=Operation.Status.PROCESSING).exclude(worker="")
    return [o for o in candidates if _is_dead_local_worker(o.worker)]


def operations_reap_stale() -> list[Operation]:
    """Fail operations whose worker stopped sending heartbeats; healthy long ones keep beating."""
    reaped = []
    for operation in Operation.objects.filter(
        status=Operation.Status.PROCESSING, heartbeat_at__lt=_stale_before()
    ):
        with transaction.atomic():
            locked = Operation.objects.select_for_update().get(pk=operation.pk)
            fresh = locked.heartbeat_at is not None and locked.heartbeat_at >= _stale_before()
            if locked.status != Operation.Status.PROCESSING or fresh:
                continue
            since = locked.heartbeat_at.isoformat() if locked.heartbeat_at else "its start"
            reaped.append(
                _finish(
                    locked,
                    Operation.Status.FAILED,
                    f"The worker running it ({locked.worker or 'unknown'}) stopped responding: no heartbeat "
                    f"since {since}. Run it again to finish the work; nothing already indexed is lost.",
                    "operation.failed",
                )
            )
    return reaped


@contextlib.contextmanager
def heartbeat(operation: Operation, interval_s: float) -> Iterator[None]:
    """Keep the operation's heartbeat fresh while its work runs, however long one step takes."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(interval_s):
                try:
                    Operation.objects.filter(pk=operation.pk, status=Operation.Status.PROCESSING).update(
                        heartbeat_at=timezone.now()
                    )
                except (OperationalError, InterfaceError) as exc:
                    # A lost connection must not stop the beats (the reaper would then fail a healthy
                    # operation): the next beat opens a new one.
                    logger.warning("Operation %s: heartbeat not saved (%s); trying again", operation.pk, exc)
                    connection.close()
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{operation.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval_s + 5)


class ProgressRecorder:
    """Saves an operation's counters and heartbeat, and sends throttled progress events."""

    COUNTER_FIELDS = ["files_total", "files_processed", "files_skipped", "files_failed", "chunks_written"]

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self._last_event = 0.0
        # The indexing pipeline reports from two threads (reading files, writing vectors).
        self._lock = threading.RLock()

    def update(self, *, force: bool = False, **changes: Any) -> None:
        """Count; saved and announced at most every PROGRESS_EVENT_INTERVAL_S unless `force`.

        Saving on every file cost two database round trips per file (half the time of indexing
        many small files). What is not saved yet is not lost: the operation's end saves the same
        object whole, and a resumed operation counts afresh.
        """
        with self._lock:
            for name, value in changes.items():
                setattr(self.operation, name, value)
            now = time.monotonic()
            if not force and now - self._last_event < PROGRESS_EVENT_INTERVAL_S:
                return
            self._last_event = now
            self.operation.heartbeat_at = timezone.now()
            self.operation.save(update_fields=[*self.COUNTER_FIELDS, "current_file", "heartbeat_at"])
        _announce(self.operation, "operation.progress")

    def checkpoint(self) -> None:
        """Stop here if the user cancelled: the work done so far is whole, so it can stay."""
        if Operation.objects.filter(pk=self.operation.pk, cancel_requested=True).exists():
            raise OperationCancelled()

    def add(self, **increments: int) -> None:
        with self._lock:
            self.update(**{name: getattr(self.operation, name) + step for name, step in increments.items()})
        _count(increments)


def _count(increments: dict[str, int]) -> None:
    """The operation's progress, added to the process-wide Prometheus counters."""
    CHUNKS_INDEXED.inc(increments.get("chunks_written", 0))
    for field, outcome in (
        ("files_processed", "indexed"),
        ("files_skipped", "skipped"),
        ("files_failed", "failed"),
    ):
        if increments.get(field):
            DOCUMENTS_PROCESSED.labels(outcome).inc(increments[field])


def _finish(operation: Operation, status: str, error: str, event_type: EventType) -> Operation:
    OPERATIONS_FINISHED.labels(operation.type, status).inc()
    operation.status = status
    operation.error = error
    operation.current_file = ""
    operation.finished_at = timezone.now()
    operation.heartbeat_at = operation.finished_at
    operation.save()
    _announce(operation, event_type)
    return operation


def operation_complete(operation: Operation) -> Operation:
    return _finish(operation, Operation.Status.COMPLETED, "", "operation.completed")


def operation_fail(operation: Operation, error: str) -> Operation:
    return _finish(operation, Operation.Status.FAILED, error, "operation.failed")


def operation_cancelled(operation: Operation) -> Operation:
    return _finish(operation, Operation.Status.CANCELLED, "Cancelled by the user.", "operation.cancelled")


def operation_cancel(operation_id: str) -> Operation:
    """Cancel a pending operation at once, or ask a running one to stop at its next file."""
    with transaction.atomic():
        operation = Operation.objects.select_for_update().get(pk=operation_id)
        if operation.is_final:
            raise Conflict(f"Operation {operation.id} has already ended ({operation.status}).")
        if operation.status == Operation.Status.PENDING:
            return _finish(
                operation, Operation.Status.CANCELLED, "Cancelled before it started.", "operation.cancelled"
            )
        operation.cancel_requested = True
        operation.save(update_fields=["cancel_requested"])
    _announce(operation, "operation.progress")
    return operation
