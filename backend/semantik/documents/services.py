"""Ingestion operations: adding, rescanning and removing sources, and running them to an end."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from rest_framework.exceptions import ValidationError

from semantik.catalog.selectors import collection_model
from semantik.collections.models import Collection
from semantik.documents.extraction import ExtractionError
from semantik.documents.indexing import SourceIndexer
from semantik.documents.models import Document, Source
from semantik.documents.paths import PathNotAllowed, confine
from semantik.inference.base import InferenceError
from semantik.inference.runtime import get_embedder
from semantik.operations.models import Operation
from semantik.operations.services import (
    OperationCancelled,
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
        folder = confine(path, settings.DOCUMENT_PATH)
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


def _queue(collection: Collection, source: Source, user: User, kind: str) -> Operation:
    operation = operation_create(
        collection=collection, user=user, type=kind, params={"source_id": str(source.id)}
    )
    operation_id = str(operation.id)

    def enqueue() -> None:
        from semantik.documents.tasks import task_for

        task_for(kind).delay(operation_id)

    transaction.on_commit(enqueue)
    return operation


def _settle(collection: Collection, failed: bool) -> None:
    if failed:
        status = Collection.Status.ERROR
    elif Document.objects.filter(collection=collection).exists():
        status = Collection.Status.READY
    else:
        status = Collection.Status.EMPTY
    Collection.objects.filter(pk=collection.pk).update(status=status)


def _run(operation: Operation, work: Callable[[], None]) -> None:
    """Run an operation's work and end it as completed, cancelled or failed with a clear reason."""
    collection = operation.collection
    Collection.objects.filter(pk=collection.pk).update(status=Collection.Status.INDEXING)
    try:
        with heartbeat(operation, settings.OPERATION_HEARTBEAT_S):
            work()
    except OperationCancelled:
        _settle(collection, failed=False)
        operation_cancelled(operation)
        return
    except (InferenceError, VectorStoreError, ExtractionError, Source.DoesNotExist) as exc:
        logger.warning("Operation %s failed: %s", operation.id, exc)
        _settle(collection, failed=True)
        operation_fail(operation, str(exc) or exc.__class__.__name__)
        return
    except Exception as exc:
        logger.exception("Operation %s failed unexpectedly", operation.id)
        _settle(collection, failed=True)
        operation_fail(operation, f"Unexpected error: {exc.__class__.__name__}: {exc}")
        raise
    _settle(collection, failed=False)
    operation_complete(operation)


def source_index(operation_id: str, task_id: str = "") -> None:
    """Run an index/append/rescan operation to its end."""
    operation = operation_start(operation_id, task_id)
    if operation is None:
        return
    collection = operation.collection
    _run(
        operation,
        lambda: SourceIndexer(
            operation, get_embedder(collection_model(collection).name), get_vector_store()
        ).run(),
    )


def source_remove_run(operation_id: str, task_id: str = "") -> None:
    """Remove a source's vectors, then its documents and the source row."""
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
