"""The indexing pipeline: extraction in worker processes, embedding batched across documents,
Qdrant writes overlapped with the next batch's embedding."""

from __future__ import annotations

import contextvars
import hashlib
import logging
import queue
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from semantik.documents import chunking
from semantik.documents.chunking import Chunk
from semantik.documents.extraction import Extracted, ExtractionError
from semantik.documents.extraction_pool import ExtractionPool
from semantik.documents.models import Document, Source
from semantik.documents.reading import Confinement, sha256_confined
from semantik.documents.scanning import ScannedFile, scan, scan_one, shown
from semantik.inference.base import Embedder
from semantik.operations.models import Operation
from semantik.operations.services import ProgressRecorder
from semantik.realtime.events import publish
from semantik.search.keyword import document_vector
from semantik.vectors.base import ChunkPoint, VectorStore
from semantik.vectors.naming import point_id

logger = logging.getLogger(__name__)


@dataclass
class PendingDocument:
    """A document whose chunks are on their way to Qdrant; saved as indexed once all have landed."""

    document: Document
    scanned: ScannedFile
    digest: str
    extracted: Extracted
    chunks: list[Chunk]
    remaining: int = field(init=False)
    done: bool = False

    def __post_init__(self) -> None:
        self.remaining = len(self.chunks)


class SourceIndexer:
    """Brings Qdrant and the Document table in line with what is in one source folder now.

    With `relative_path` in the operation's params, only that one file is looked at (a retry):
    the rest of the source is neither scanned nor touched.
    """

    # Whether a changed document's old points are in the collection written to (not so in a new
    # generation built by a reindex).
    replaces_points = True
    # Whether files unchanged since they were indexed are skipped (not so when rebuilding).
    skips_unchanged = True

    def __init__(
        self,
        operation: Operation,
        embedder: Embedder,
        store: VectorStore,
        *,
        source: Source | None = None,
        progress: ProgressRecorder | None = None,
    ) -> None:
        self.operation = operation
        self.collection = operation.collection
        self.source = source or Source.objects.get(
            pk=operation.params["source_id"], collection=self.collection
        )
        self.embedder = embedder
        self.store = store
        # Shared by the indexers of one operation that covers several sources.
        self.progress = progress or ProgressRecorder(operation)
        # Checked again on the file each read opens: it may have changed since the scan.
        self.confinement = Confinement.of(self.source.roots, self.source.off_limits, settings.MAX_FILE_BYTES)

    def run(self) -> None:
        folder = Path(self.source.path)
        if not folder.is_dir():
            raise ExtractionError(f"The source folder {folder} no longer exists.")
        only = self.operation.params.get("relative_path")
        source = self.source
        documents = source.documents.all()
        if only is None:
            files = list(scan(folder, source.roots, source.include, source.exclude, source.off_limits))
        else:
            found = scan_one(folder, only, source.roots, source.include, source.exclude, source.off_limits)
            files = [] if found is None else [found]
            documents = documents.filter(relative_path=only)
        self.progress.add(files_total=len(files))
        known = {d.relative_path: d for d in documents}
        changed = [(scanned, known.pop(scanned.relative_path, None)) for scanned in files]
        pool = ExtractionPool(
            workers=settings.EXTRACTION_WORKERS,
            timeout_s=settings.EXTRACTION_TIMEOUT_S,
            memory_bytes=settings.EXTRACTION_MEMORY_BYTES,
        )
        with pool, ChunkWriter(self) as writer:
            for scanned, document, digest, outcome in self._extracted(changed, pool):
                self.progress.update(current_file=scanned.relative_path)
                try:
                    extracted = outcome.result()
                except ExtractionError as exc:
                    self.fail_document(scanned, document, str(exc))
                    continue
                self._add(writer, scanned, document, digest, extracted)
        self.remove_gone(list(known.values()))
        if only is None:
            Source.objects.filter(pk=self.source.pk).update(last_scanned_at=timezone.now())
        self.progress.update(current_file="", force=True)

    def remove_gone(self, documents: list[Document]) -> None:
        """Forget documents deleted from disk (or no longer admitted by the globs) since the last scan."""
        for gone in documents:
            self.store.delete_documents(self.collection.vector_collection, [str(gone.pk)])
            gone.delete()

    def _extracted(
        self, files: list[tuple[ScannedFile, Document | None]], pool: ExtractionPool
    ) -> Iterator[tuple[ScannedFile, Document | None, str, Future[Extracted]]]:
        """Changed files with their extraction under way, in order, a few files ahead of the caller."""
        window: deque[tuple[ScannedFile, Document | None, str, Future[Extracted]]] = deque()
        ahead = max(2, 2 * settings.EXTRACTION_WORKERS)
        for scanned, document in files:
            self.progress.checkpoint()
            digest = self._digest_if_changed(scanned, document)
            if digest is None:
                continue
            extraction = pool.submit(scanned.path, scanned.path.name, confinement=self.confinement)
            window.append((scanned, document, digest, extraction))
            if len(window) >= ahead:
                yield window.popleft()
        while window:
            self.progress.checkpoint()
            yield window.popleft()

    def _digest_if_changed(self, scanned: ScannedFile, document: Document | None) -> str | None:
        """The file's SHA-256 when it needs indexing; None when it is unchanged or failed to read."""
        indexed = (
            document
            if self.skips_unchanged and document is not None and document.status == Document.Status.INDEXED
            else None
        )
        if scanned.problem:
            self.fail_document(scanned, document, scanned.problem)
            return None
        if indexed and indexed.size == scanned.size and indexed.mtime == scanned.mtime:
            self.progress.add(files_skipped=1)
            return None
        if scanned.size > settings.MAX_FILE_BYTES:
            reason = f"The file is {scanned.size} bytes, over the {settings.MAX_FILE_BYTES}-byte limit."
            self.fail_document(scanned, document, reason)
            return None
        try:
            digest = sha256_confined(scanned.path, self.confinement)
        except ExtractionError as exc:
            self.fail_document(scanned, document, str(exc))
            return None
        if indexed and indexed.content_hash == digest:
            # Touched but not changed: remember the new mtime so the next scan skips it cheaply.
            Document.objects.filter(pk=indexed.pk).update(size=scanned.size, mtime=scanned.mtime)
            self.progress.add(files_skipped=1)
            return None
        return digest

    def _add(
        self,
        writer: ChunkWriter,
        scanned: ScannedFile,
        document: Document | None,
        digest: str,
        extracted: Extracted,
    ) -> None:
        chunks = chunking.chunk(
            extracted.text,
            self.embedder.tokenizer.token_spans(extracted.text),
            strategy=self.collection.chunking_strategy,
            chunk_size=self.collection.chunk_size,
            overlap=self.collection.chunk_overlap,
            headings=extracted.headings,
        )
        if not chunks:
            self.fail_document(scanned, document, "The file holds no text.")
            return
        replacing = self.replaces_points and document is not None and document.chunk_count > 0
        if document is None:
            document = Document(
                collection=self.collection, source=self.source, relative_path=scanned.relative_path
            )
            document.save()
        writer.add(PendingDocument(document, scanned, digest, extracted, chunks), replacing=replacing)

    def point(self, pending: PendingDocument, chunk: Chunk, vector: object) -> ChunkPoint:
        return ChunkPoint(
            id=point_id(self.collection.pk, pending.document.pk, chunk.index),
            vector=vector,  # type: ignore[arg-type]
            payload={
                "document_id": str(pending.document.pk),
                "source_id": str(self.source.pk),
                "path": pending.scanned.relative_path,
                "chunk_index": chunk.index,
                "text": chunk.text,
                "start": chunk.start,
                "end": chunk.end,
                "page": pending.extracted.page_at(chunk.start),
                "heading_path": list(chunk.heading_path),
                "mime_type": pending.extracted.mime_type,
                "mtime": pending.scanned.mtime,
                "title": pending.extracted.title[:512],  # what search shows, without a query
            },
            sparse=document_vector(chunk.text),
        )

    def record(self, document: Document, **fields: object) -> None:
        """Save what indexing learnt about a document."""
        for name, value in fields.items():
            setattr(document, name, value)
        document.save()

    def complete_document(self, pending: PendingDocument) -> None:
        document, scanned = pending.document, pending.scanned
        self.record(
            document,
            path=shown(scanned.path),
            size=scanned.size,
            mtime=scanned.mtime,
            # The hash of the bytes the text came from, should the file have changed since hashed.
            content_hash=pending.extracted.content_hash or pending.digest,
            mime_type=pending.extracted.mime_type,
            title=pending.extracted.title[:512],
            status=Document.Status.INDEXED,
            error="",
            chunk_count=len(pending.chunks),
            indexed_at=timezone.now(),
        )
        pending.done = True
        self.progress.add(files_processed=1, chunks_written=len(pending.chunks))
        publish(
            self.operation.collection_id,
            "document.processed",
            {
                "operation_id": str(self.operation.id),
                "document_id": str(document.pk),
                "path": scanned.relative_path,
                "chunks": len(pending.chunks),
            },
            operation_id=self.operation.pk,
        )

    def forget_unfinished(self, document_ids: list[str]) -> None:
        """Mark documents whose chunks did not all land as pending with none, for the next scan."""
        Document.objects.filter(pk__in=document_ids).update(status=Document.Status.PENDING, chunk_count=0)

    def fail_document(self, scanned: ScannedFile, document: Document | None, reason: str) -> None:
        document = document or Document(
            collection=self.collection, source=self.source, relative_path=scanned.relative_path
        )
        if self.replaces_points and not document._state.adding and document.chunk_count:
            # A document that can no longer be read must not keep answering searches with old text.
            self.store.delete_documents(self.collection.vector_collection, [str(document.pk)])
        self.record(
            document,
            path=shown(scanned.path),
            size=scanned.size,
            mtime=scanned.mtime,
            status=Document.Status.FAILED,
            error=reason,
            chunk_count=0,
        )
        self.progress.add(files_failed=1)
        publish(
            self.operation.collection_id,
            "document.failed",
            {
                "operation_id": str(self.operation.id),
                "document_id": str(document.pk),
                "path": scanned.relative_path,
                "error": reason,
            },
            operation_id=self.operation.pk,
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# Deletions, then upserts, then the documents those upserts completed.
Write = tuple[list[str], list[ChunkPoint], list[PendingDocument]]


class ChunkWriter:
    """Embeds chunks in batches that span documents, and writes them to Qdrant on its own thread.

    The caller's thread embeds batch n+1 while the writer thread upserts batch n. Writes happen in
    the order they were queued, so a changed document's old points are always deleted before its
    new ones arrive, and a document is saved as indexed only after its last chunk has landed.
    """

    def __init__(self, indexer: SourceIndexer) -> None:
        self.indexer = indexer
        self.batch_size = settings.BATCH_SIZE
        self.name = indexer.collection.vector_collection
        self._batch: list[tuple[PendingDocument, Chunk]] = []
        self._open: list[PendingDocument] = []
        self._writes: queue.Queue[tuple[list[str], list[ChunkPoint], list[PendingDocument]] | None] = (
            queue.Queue(maxsize=2)
        )
        self._error: BaseException | None = None
        # With the caller's context, so its lines carry the operation's id like the caller's.
        self._thread = threading.Thread(
            target=contextvars.copy_context().run, args=(self._write_loop,), name="chunk-writer", daemon=True
        )

    def __enter__(self) -> ChunkWriter:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is None:
                self._flush()
        finally:
            self._writes.put(None)
            self._thread.join()
            self._clean_up_unfinished()
        if exc is None and self._error is not None:
            raise self._error

    def _clean_up_unfinished(self) -> None:
        """After a cancel or failure, no document may be left half in Qdrant.

        Their points go, and the rows are marked pending with no chunks, so searches never see a
        partial document and the next scan indexes them again.
        """
        unfinished = [p for p in self._open if not p.done]
        if not unfinished:
            return
        ids = [str(p.document.pk) for p in unfinished]
        try:
            self.indexer.store.delete_documents(self.name, ids)
        except Exception:
            logger.warning("Could not remove the partial chunks of %d documents", len(ids), exc_info=True)
        self.indexer.forget_unfinished(ids)

    def add(self, pending: PendingDocument, *, replacing: bool) -> None:
        self._open.append(pending)
        if replacing:
            self._send([str(pending.document.pk)], [], [])
        for chunk in pending.chunks:
            self._batch.append((pending, chunk))
            if len(self._batch) >= self.batch_size:
                self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        vectors = self.indexer.embedder.embed_documents([chunk.text for _, chunk in batch])
        points = [self.indexer.point(p, c, v) for (p, c), v in zip(batch, vectors, strict=True)]
        finished = []
        for pending, _ in batch:
            pending.remaining -= 1
            if pending.remaining == 0:
                finished.append(pending)
        self._send([], points, finished)
        # Finished documents need not be remembered (nor their text kept in memory).
        self._open = [p for p in self._open if not p.done]

    def _send(self, deletions: list[str], points: list[ChunkPoint], finished: list[PendingDocument]) -> None:
        if self._error is not None:
            raise self._error
        self._writes.put((deletions, points, finished))

    def _write_loop(self) -> None:
        try:
            while (item := self._writes.get()) is not None:
                if self._error is not None:
                    continue  # drain, so the producer never blocks on a dead writer
                deletions, points, finished = item
                try:
                    if deletions:
                        self.indexer.store.delete_documents(self.name, deletions)
                    if points:
                        self.indexer.store.upsert(self.name, points)
                    for pending in finished:
                        self.indexer.complete_document(pending)
                except BaseException as exc:  # noqa: BLE001 - handed to the producer thread
                    self._error = exc
        finally:
            connection.close()
