"""Ingestion operations: adding, rescanning and removing sources, uploads, retries, and running them."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Min
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError
from rest_framework.exceptions import ValidationError

from semantik.api import Conflict, ServiceUnavailable
from semantik.catalog.selectors import collection_model
from semantik.collections.models import Collection
from semantik.collections.services import collection_announce
from semantik.documents.extraction import ExtractionError
from semantik.documents.indexing import SourceIndexer
from semantik.documents.models import Document, Source
from semantik.documents.paths import PathNotAllowed, confine
from semantik.documents.uploads import (
    StagedFile,
    StoredFile,
    upload_folder,
    upload_folder_remove,
    upload_relative_path,
    uploads_place,
)
from semantik.inference.base import InferenceError
from semantik.inference.runtime import get_embedder
from semantik.logs import context as log_context
from semantik.operations.models import Operation
from semantik.operations.services import (
    OperationCancelled,
    ProgressRecorder,
    heartbeat,
    operation_cancelled,
    operation_complete,
    operation_create,
    operation_fail,
    operation_start,
    operations_orphaned_here,
)
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStoreError

logger = logging.getLogger(__name__)


def source_add(
    *,
    collection: Collection,
    path: str,
    user: User,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> Operation:
    """Add a folder to a collection (or rescan it if already there) and queue its indexing.

    Files a changed glob no longer admits are removed by that scan, like files deleted from disk.
    """
    try:
        folder = confine(path, settings.DOCUMENT_PATH, off_limits=[settings.UPLOAD_ROOT])
    except PathNotAllowed as exc:
        raise ValidationError({"path": [str(exc)]}) from exc
    if not folder.is_dir():
        raise ValidationError({"path": [f"{path!r} is not a folder (or does not exist)."]})
    with transaction.atomic():
        source, created = Source.objects.get_or_create(collection=collection, path=str(folder))
        if include is not None or exclude is not None:
            source.include = include if include is not None else source.include
            source.exclude = exclude if exclude is not None else source.exclude
            source.save(update_fields=["include", "exclude"])
        if not created:
            kind = Operation.Type.RESCAN
        elif collection.documents.exists():
            kind = Operation.Type.APPEND
        else:
            kind = Operation.Type.INDEX
        return _queue(collection, source, user, kind)


def source_rescan(*, source: Source, user: User) -> Operation:
    with transaction.atomic():
        return _queue(source.collection, source, user, Operation.Type.RESCAN)


def source_remove(*, source: Source, user: User) -> Operation:
    """Queue the removal of a source: its vectors, its documents, then the source itself."""
    with transaction.atomic():
        return _queue(source.collection, source, user, Operation.Type.REMOVE_SOURCE)


def upload_add(
    *, collection: Collection, user: User, files: Sequence[StagedFile], paths: Sequence[str] | None = None
) -> tuple[Operation, list[StoredFile]]:
    """Store uploaded files in the collection's upload folder and queue their indexing.

    All or nothing: one refused name (`paths[i]`, else the file's own name) refuses the request,
    and so does a write operation under way (409), before any file is in place.
    """
    if not files:
        raise ValidationError({"files": ["Send at least one file, as a part named 'files'."]})
    if paths is not None and len(paths) != len(files):
        raise ValidationError(
            {
                "paths": [
                    f"Give one path per file, in the same order: {len(paths)} paths for {len(files)} files."
                ]
            }
        )
    names, errors = [], []
    for index, staged in enumerate(files):
        raw = staged.client_name if paths is None else paths[index]
        try:
            names.append(upload_relative_path(raw))
        except ValueError as exc:
            errors.append(f"{raw!r} is refused: {exc}.")
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    errors += [f"{name!r} is sent more than once." for name in duplicates]
    if errors:
        raise ValidationError({"files": errors})
    with transaction.atomic():
        # Held to the commit: one upload at a time creates the source and moves files in.
        Collection.objects.select_for_update().get(pk=collection.pk)
        source, _ = Source.objects.get_or_create(
            collection=collection,
            kind=Source.Kind.UPLOAD,
            defaults={"path": str(upload_folder(collection.pk))},
        )
        operation = _queue(collection, source, user, Operation.Type.UPLOAD)
        stored = uploads_place(Path(source.path), list(zip(names, files, strict=True)))
    return operation, stored


def document_retry(*, document: Document, user: User) -> Operation:
    """Queue the indexing of one failed document again, and of nothing else in its source."""
    if document.status != Document.Status.FAILED:
        raise ValidationError(
            {
                "document": [
                    f"{document.relative_path!r} is {document.status}; only a failed document is retried."
                ]
            }
        )
    with transaction.atomic():
        return _queue(
            document.collection,
            document.source,
            user,
            Operation.Type.RETRY,
            relative_path=document.relative_path,
            document_id=str(document.pk),
        )


# Operations on one source of a collection, whose params name it (source_id).
SOURCE_OPERATION_TYPES = {
    Operation.Type.INDEX,
    Operation.Type.APPEND,
    Operation.Type.RESCAN,
    Operation.Type.UPLOAD,
    Operation.Type.RETRY,
    Operation.Type.REMOVE_SOURCE,
}


def operation_retry(*, operation: Operation) -> Operation:
    """Queue a new operation that sets out to do again what a failed or cancelled one did: the same
    kind, on the same source (or document, or reindex target).

    It runs for the user who started the first one (the collection's owner if that user is gone),
    so their live view follows it. A busy collection is a 409, like any second write operation.
    """
    if operation.status not in (Operation.Status.FAILED, Operation.Status.CANCELLED):
        refusal = (
            f"Operation {operation.id} is {operation.status}; only a failed or cancelled one is retried."
        )
        raise ValidationError({"operation": [refusal]})
    collection = operation.collection
    user = operation.user or collection.owner
    if operation.type == Operation.Type.REINDEX:
        from semantik.documents.reindexing import collection_reindex  # reindexing imports this module

        return collection_reindex(collection=collection, user=user, target=operation.params["target"])
    if operation.type == Operation.Type.SYNC:
        with transaction.atomic():
            queued = operation_create(collection=collection, user=user, type=Operation.Type.SYNC, params={})
            enqueue_operation(queued)
        return queued
    if operation.type not in SOURCE_OPERATION_TYPES:
        raise ValidationError({"operation": [f"A {operation.type} operation cannot be retried."]})
    source = Source.objects.filter(pk=operation.params.get("source_id"), collection=collection).first()
    if source is None:
        raise ValidationError(
            {"operation": [f"The source of operation {operation.id} no longer exists: nothing to retry."]}
        )
    params = {name: str(value) for name, value in operation.params.items() if name != "source_id"}
    with transaction.atomic():
        return _queue(collection, source, user, operation.type, **params)


def _queue(collection: Collection, source: Source, user: User, kind: str, **params: str) -> Operation:
    operation = operation_create(
        collection=collection, user=user, type=kind, params={"source_id": str(source.id), **params}
    )
    enqueue_operation(operation)
    return operation


def enqueue_operation(operation: Operation) -> None:
    """Hand an operation to a worker once the transaction that created it commits."""
    kind, operation_id = operation.type, str(operation.id)

    def enqueue() -> None:
        from semantik.documents.tasks import task_for

        try:
            task_for(kind).delay(operation_id)
        except (BrokerError, RedisError, OSError) as exc:
            # Committed but never queued, it would stay pending for good and hold the collection
            # (every later write a 409): it fails now, saying why, and the client may retry it.
            reason = f"It could not be queued: Redis (the task queue) is unavailable ({exc})."
            logger.warning("Operation %s: %s", operation_id, reason)
            operation_fail(operation, f"{reason} Retry it once Redis is back.")
            raise ServiceUnavailable(
                f"{reason} Operation {operation_id} is marked failed; retry it "
                f"(POST /api/v2/operations/{operation_id}/retry) once Redis is back.",
                details={"operation_id": operation_id},
            ) from exc

    transaction.on_commit(enqueue)


def _settle(collection: Collection, failed: bool) -> None:
    if failed:
        status = Collection.Status.ERROR
    elif Document.objects.filter(collection=collection).exists():
        status = Collection.Status.READY
    else:
        status = Collection.Status.EMPTY
    Collection.objects.filter(pk=collection.pk).update(status=status)


def _run(operation: Operation, work: Callable[[], None]) -> None:
    """Run an operation's work and end it as completed, cancelled or failed with a clear reason.

    The collection's status and statistics change at both ends: each is a `collection.updated`.
    Every line logged meanwhile carries the operation's id (`operation_id` in JSON logs).
    """
    with log_context.operation(operation.id):
        _run_operation(operation, work)


def _run_operation(operation: Operation, work: Callable[[], None]) -> None:
    collection = operation.collection
    Collection.objects.filter(pk=collection.pk).update(status=Collection.Status.INDEXING)
    collection_announce(collection.pk)
    try:
        with heartbeat(operation, settings.OPERATION_HEARTBEAT_S):
            work()
    except OperationCancelled:
        _settle(collection, failed=False)
        operation_cancelled(operation)
    except (InferenceError, VectorStoreError, ExtractionError, Source.DoesNotExist, OSError) as exc:
        logger.warning("Operation %s failed: %s", operation.id, exc)
        _settle(collection, failed=True)
        operation_fail(operation, str(exc) or exc.__class__.__name__)
    except (OperationalError, InterfaceError) as exc:
        # The database connection was lost (a restart, a failover, a terminated backend). This
        # connection is dead, so the failure is recorded on a new one; the work finished so far is
        # whole, and a retry skips it.
        logger.warning("Operation %s lost its database connection: %s", operation.id, exc)
        connection.close()
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        _settle(collection, failed=True)
        operation_fail(operation, f"The connection to PostgreSQL was lost ({reason}). Retry the operation.")
    except Exception as exc:
        logger.exception("Operation %s failed unexpectedly", operation.id)
        _settle(collection, failed=True)
        operation_fail(operation, f"Unexpected error: {exc.__class__.__name__}: {exc}")
        collection_announce(collection.pk)
        raise
    else:
        _settle(collection, failed=False)
        operation_complete(operation)
    collection_announce(collection.pk)


def source_index(operation_id: str, task_id: str = "") -> None:
    """Run an index/append/rescan operation to its end."""
    operation = operation_start(operation_id, task_id)
    if operation is None:
        return
    model = collection_model(operation.collection).name

    def work() -> None:
        progress = start_counting(operation)
        embedder, store = get_embedder(model), get_vector_store()
        if operation.type == Operation.Type.SYNC:
            for source in operation.collection.sources.all():
                SourceIndexer(operation, embedder, store, source=source, progress=progress).run()
        else:
            SourceIndexer(operation, embedder, store, progress=progress).run()

    _run(operation, work)


def collections_sync_due(now: datetime | None = None) -> list[Operation]:
    """Queue a sync (rescan of every source) of each collection whose sync interval has passed.

    A collection busy with another write operation is left for the next round.
    """
    now = now or timezone.now()
    queued = []
    due = Collection.objects.filter(sync_interval_minutes__isnull=False).annotate(
        oldest_scan=Min("sources__last_scanned_at"), sources_total=Count("sources")
    )
    for collection in due.filter(sources_total__gt=0):
        interval = timedelta(minutes=collection.sync_interval_minutes or 0)
        never = collection.sources.filter(last_scanned_at__isnull=True).exists()
        if not never and collection.oldest_scan > now - interval:
            continue
        try:
            with transaction.atomic():
                operation = operation_create(
                    collection=collection, user=collection.owner, type=Operation.Type.SYNC, params={}
                )
                enqueue_operation(operation)
        except Conflict:
            continue
        queued.append(operation)
    return queued


def start_counting(operation: Operation) -> ProgressRecorder:
    """Zero an operation's counters: a resumed run counts afresh and skips what was finished."""
    progress = ProgressRecorder(operation)
    progress.update(
        files_total=0, files_processed=0, files_skipped=0, files_failed=0, chunks_written=0, force=True
    )
    return progress


def reindex(operation_id: str, task_id: str = "") -> None:
    """Run a reindex operation to its end: the collection is served by the new index, or unchanged."""
    operation = operation_start(operation_id, task_id)
    if operation is None:
        return
    from semantik.documents.reindexing import reindex_run

    _run(operation, lambda: reindex_run(operation))


def source_remove_run(operation_id: str, task_id: str = "") -> None:
    """Remove a source's vectors, an upload source's files, then its documents and the source row."""
    operation = operation_start(operation_id, task_id)
    if operation is None:
        return

    def work() -> None:
        source = Source.objects.filter(
            pk=operation.params["source_id"], collection=operation.collection
        ).first()
        if source is None:
            return  # removed by an earlier delivery of this task
        # Vectors first: if this fails the rows stay, and a retry finds everything to remove again.
        get_vector_store().delete_source(operation.collection.vector_collection, str(source.pk))
        if source.kind == Source.Kind.UPLOAD:
            upload_folder_remove(Path(source.path))
        source.delete()

    _run(operation, work)


def operations_resume_orphaned() -> list[str]:
    """Queue again what a previous, now dead, worker process of this host left half done."""
    from semantik.documents.tasks import task_for

    resumed = []
    for operation in operations_orphaned_here():
        logger.info("Resuming operation %s left by dead worker %s", operation.id, operation.worker)
        task_for(operation.type).delay(str(operation.id))
        resumed.append(str(operation.id))
    return resumed
