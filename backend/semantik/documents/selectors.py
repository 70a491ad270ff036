"""Source and document reads, scoped to a collection the caller may see, and a document's chunks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, overload
from uuid import UUID

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError

from semantik.api import ServiceUnavailable
from semantik.collections.models import Collection
from semantik.collections.selectors import AnyUser, Need, collection_check
from semantik.documents.models import Document, Source
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStoreError

# Payload keys that describe the whole document, not one chunk: the document's detail has them.
_DOCUMENT_KEYS = {"document_id", "source_id", "path", "chunk_index", "mime_type", "mtime"}


def source_get(collection: Collection, source_id: UUID | str) -> Source:
    source = Source.objects.filter(collection=collection, pk=source_id).select_related("collection").first()
    if source is None:
        raise NotFound(f"Source {source_id} not found.")
    return source


def documents_list(
    collection: Collection, *, status: str | None = None, source_id: UUID | None = None
) -> QuerySet[Document]:
    documents = Document.objects.filter(collection=collection).order_by("relative_path", "id")
    if status:
        if status not in Document.Status.values:
            allowed = ", ".join(Document.Status.values)
            raise ValidationError({"status": [f"{status!r} is not a document status ({allowed})."]})
        documents = documents.filter(status=status)
    if source_id:
        documents = documents.filter(source_id=source_id)
    return documents


def document_get(collection: Collection, document_id: UUID | str) -> Document:
    document = Document.objects.filter(collection=collection, pk=document_id).first()
    if document is None:
        raise NotFound(f"Document {document_id} not found.")
    return document


def document_for(user: AnyUser, document_id: UUID | str, need: Need) -> Document:
    """The document if the user's role on its collection allows `need`; else 404 (whether it does
    not exist or they may not read its collection), or 403 when they may read it."""
    document = Document.objects.filter(pk=document_id).select_related("collection", "source").first()
    missing = f"Document {document_id} not found."
    if document is None:
        raise NotFound(missing)
    collection_check(user, document.collection, need, missing=missing)
    return document


class DocumentChunks(Sequence[dict[str, Any]]):
    """A document's chunks as Qdrant holds them, read a page at a time by the paginator.

    Each chunk is {index, text, start, end, page, ...}: every payload key that is about the
    chunk (heading_path, where the chunker writes one), none of those about the document.
    """

    def __init__(self, document: Document) -> None:
        self.name = document.collection.vector_collection
        self.document_id = str(document.pk)
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            with _vector_errors():
                self._count = get_vector_store().count(self.name, self.document_id)
        return self._count

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, int):
            position = index + len(self) if index < 0 else index
            page = self[position : position + 1] if position >= 0 else []
            if not page:
                raise IndexError(index)
            return page[0]
        start, stop, step = index.indices(len(self))
        if step != 1:
            return self[start:stop][::step]
        if stop <= start:
            return []
        with _vector_errors():
            payloads = get_vector_store().document_chunks(self.name, self.document_id, start, stop - start)
        return [_chunk(payload) for payload in payloads]


def _chunk(payload: dict[str, Any]) -> dict[str, Any]:
    chunk = {
        "index": payload["chunk_index"],
        "text": payload.get("text", ""),
        "start": payload.get("start"),
        "end": payload.get("end"),
        "page": payload.get("page"),
    }
    chunk.update((key, value) for key, value in payload.items() if key not in _DOCUMENT_KEYS)
    return chunk


@contextlib.contextmanager
def _vector_errors() -> Iterator[None]:
    try:
        yield
    except VectorStoreError as exc:
        raise ServiceUnavailable(f"Qdrant cannot list the chunks now: {exc}") from exc
