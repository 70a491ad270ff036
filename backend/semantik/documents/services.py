"""Ingestion: adding a source, and indexing it incrementally into Qdrant."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from semantik.collections.models import Collection
from semantik.documents.chunking import Chunk, chunk_by_tokens
from semantik.documents.extraction import ExtractionError, extract
from semantik.documents.models import Document, Source
from semantik.documents.paths import PathNotAllowed, confine
from semantik.documents.scanning import ScannedFile, scan
from semantik.inference.base import Embedder, InferenceError
from semantik.inference.runtime import get_embedder
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
from semantik.realtime.events import publish
from semantik.vectors import get_vector_store
from semantik.vectors.base import ChunkPoint, VectorStore, VectorStoreError
from semantik.vectors.naming import point_id

logger = logging.getLogger(__name__)


def source_add(*, collection: Collection, path: str, user: User) -> Operation:
    """Add a folder to a collection (or rescan it if already there) and queue its indexing."""
    try:
        folder = confine(path, settings.DOCUMENT_PATH)
    except PathNotAllowed as exc:
        raise ValidationError({"path": [str(exc)]}) from exc
    if not folder.is_dir():
        raise ValidationError({"path": [f"{path!r} is not a folder (or does not exist)."]})
    with transaction.atomic():
        source, created = Source.objects.get_or_create(collection=collection, path=str(folder))
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


class SourceIndexer:
    """Brings Qdrant and the Document table in line with what is in one source folder now."""

    def __init__(self, operation: Operation, embedder: Embedder, store: VectorStore) -> None:
        self.operation = operation
        self.collection = operation.collection
        self.source = Source.objects.get(pk=operation.params["source_id"], collection=self.collection)
        self.embedder = embedder
        self.store = store
        self.progress = ProgressRecorder(operation)

    def run(self) -> None:
        folder = Path(self.source.path)
        if not folder.is_dir():
            raise ExtractionError(f"The source folder {folder} no longer exists.")
        files = list(scan(folder, settings.DOCUMENT_PATH))
        # Counted afresh on every run: a resumed run skips what its predecessor finished.
        self.progress.update(
            files_total=len(files),
            files_processed=0,
            files_skipped=0,
            files_failed=0,
            chunks_written=0,
            force=True,
        )
        known = {d.relative_path: d for d in self.source.documents.all()}
        for scanned in files:
            self.progress.checkpoint()
            self.progress.update(current_file=scanned.relative_path)
            self._index_file(scanned, known.pop(scanned.relative_path, None))
        # What is left was deleted from disk since the last scan.
        for gone in known.values():
            self.store.delete_documents(self.collection.vector_collection, [str(gone.pk)])
            gone.delete()
        Source.objects.filter(pk=self.source.pk).update(last_scanned_at=timezone.now())
        self.progress.update(current_file="", force=True)

    def _index_file(self, scanned: ScannedFile, document: Document | None) -> None:
        unchanged = (
            document is not None
            and document.status == Document.Status.INDEXED
            and document.size == scanned.size
            and document.mtime == scanned.mtime
        )
        if unchanged:
            self.progress.add(files_skipped=1)
            return
        try:
            data = self._read(scanned)
        except ExtractionError as exc:
            self._fail_document(scanned, document, str(exc))
            return
        digest = hashlib.sha256(data).hexdigest()
        if (
            document is not None
            and document.status == Document.Status.INDEXED
            and document.content_hash == digest
        ):
            # Touched but not changed: remember the new mtime so the next scan skips it cheaply.
            Document.objects.filter(pk=document.pk).update(size=scanned.size, mtime=scanned.mtime)
            self.progress.add(files_skipped=1)
            return
        try:
            extracted = extract(data, scanned.path.name)
        except ExtractionError as exc:
            self._fail_document(scanned, document, str(exc))
            return
        document = document or Document(
            collection=self.collection, source=self.source, relative_path=scanned.relative_path
        )
        chunks = chunk_by_tokens(
            extracted.text,
            self.embedder.tokenizer.token_spans(extracted.text),
            self.collection.chunk_size,
            self.collection.chunk_overlap,
        )
        if document._state.adding:
            document.save()
        vectors = self.embedder.embed([c.text for c in chunks])
        name = self.collection.vector_collection
        # Replace, never add to, a document's chunks: old points go first, then the new ones with
        # deterministic ids, so a retry after a crash overwrites instead of duplicating.
        self.store.delete_documents(name, [str(document.pk)])
        self.store.upsert(
            name,
            [
                self._point(document, scanned, extracted.mime_type, c, v)
                for c, v in zip(chunks, vectors, strict=True)
            ],
        )
        document.path = str(scanned.path)
        document.size = scanned.size
        document.mtime = scanned.mtime
        document.content_hash = digest
        document.mime_type = extracted.mime_type
        document.title = extracted.title[:512]
        document.status = Document.Status.INDEXED
        document.error = ""
        document.chunk_count = len(chunks)
        document.indexed_at = timezone.now()
        document.save()
        self.progress.add(files_processed=1, chunks_written=len(chunks))
        publish(
            self.operation.user_id,
            "document.processed",
            {
                "operation_id": str(self.operation.id),
                "document_id": str(document.pk),
                "path": scanned.relative_path,
                "chunks": len(chunks),
            },
        )

    def _point(
        self, document: Document, scanned: ScannedFile, mime_type: str, chunk: Chunk, vector: object
    ) -> ChunkPoint:
        return ChunkPoint(
            id=point_id(self.collection.pk, document.pk, chunk.index),
            vector=vector,  # type: ignore[arg-type]
            payload={
                "document_id": str(document.pk),
                "source_id": str(self.source.pk),
                "path": scanned.relative_path,
                "chunk_index": chunk.index,
                "text": chunk.text,
                "start": chunk.start,
                "end": chunk.end,
                "mime_type": mime_type,
                "mtime": scanned.mtime,
            },
        )

    def _read(self, scanned: ScannedFile) -> bytes:
        if scanned.size > settings.MAX_FILE_BYTES:
            raise ExtractionError(
                f"The file is {scanned.size} bytes, over the {settings.MAX_FILE_BYTES}-byte limit."
            )
        try:
            return scanned.path.read_bytes()
        except OSError as exc:
            raise ExtractionError(f"The file cannot be read: {exc.strerror or exc}") from exc

    def _fail_document(self, scanned: ScannedFile, document: Document | None, reason: str) -> None:
        document = document or Document(
            collection=self.collection, source=self.source, relative_path=scanned.relative_path
        )
        if not document._state.adding and document.chunk_count:
            # A document that can no longer be read must not keep answering searches with old text.
            self.store.delete_documents(self.collection.vector_collection, [str(document.pk)])
        document.path = str(scanned.path)
        document.size = scanned.size
        document.mtime = scanned.mtime
        document.status = Document.Status.FAILED
        document.error = reason
        document.chunk_count = 0
        document.save()
        self.progress.add(files_failed=1)
        publish(
            self.operation.user_id,
            "document.failed",
            {
                "operation_id": str(self.operation.id),
                "document_id": str(document.pk),
                "path": scanned.relative_path,
                "error": reason,
            },
        )


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
    model = operation.collection.embedding_model
    _run(operation, lambda: SourceIndexer(operation, get_embedder(model), get_vector_store()).run())


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
