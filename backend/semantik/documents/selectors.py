"""Source and document reads, scoped to a collection the caller may see."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError

from semantik.collections.models import Collection
from semantik.documents.models import Document, Source


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
