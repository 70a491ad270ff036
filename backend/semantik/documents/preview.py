"""Chunking preview: the chunks a chunking configuration would make of a text or a document."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, TypedDict
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from rest_framework.exceptions import ValidationError

from semantik.catalog.selectors import collection_model, document_max_length, model_variant
from semantik.collections.selectors import collection_get_for_user
from semantik.documents.chunking import chunk_by_tokens, chunking_errors
from semantik.documents.extraction import ExtractionError, extract
from semantik.documents.selectors import document_get
from semantik.inference.base import ModelNotFound
from semantik.inference.tokenization import ModelTokenizer

# A preview is for reading, not for indexing a library: the text is capped.
MAX_PREVIEW_CHARS = 200_000


class PreviewChunk(TypedDict):
    index: int
    text: str
    start: int
    end: int
    tokens: int


@functools.lru_cache(maxsize=8)
def _tokenizer(model_dir: Path) -> ModelTokenizer:
    return ModelTokenizer(model_dir)


def chunking_preview(
    user: User,
    *,
    text: str | None = None,
    collection_id: UUID | None = None,
    document_id: UUID | None = None,
    embedding_model: str | None = None,
    chunk_size: int | None = None,
    chunk_overlap: int | None = None,
) -> dict[str, Any]:
    """Chunks of `text` (or of a document), with a collection's settings or the ones given."""
    model = embedding_model or settings.DEFAULT_EMBEDDING_MODEL
    size, overlap = settings.DEFAULT_CHUNK_SIZE, settings.DEFAULT_CHUNK_OVERLAP
    collection = None
    if collection_id is not None:
        collection = collection_get_for_user(user, collection_id)
        model, size, overlap = collection.embedding_model, collection.chunk_size, collection.chunk_overlap
    size = chunk_size or size
    overlap = overlap if chunk_overlap is None else chunk_overlap
    try:
        # Without a collection any precision will do: they share the tokenizer and the prefixes.
        info = collection_model(collection) if collection is not None else model_variant(model)
    except ModelNotFound as exc:
        raise ValidationError({"embedding_model": [str(exc)]}) from exc
    # Chunks are embedded as documents: the model's document prefix takes part of its window.
    if errors := chunking_errors(model, document_max_length(info), size, overlap):
        raise ValidationError(errors)
    if document_id is not None and collection is not None:
        path = Path(document_get(collection, document_id).path)
        try:
            text = extract(path.read_bytes(), path.name).text
        except (OSError, ExtractionError) as exc:
            raise ValidationError({"document": [f"The document cannot be read now: {exc}"]}) from exc
    text = (text or "")[:MAX_PREVIEW_CHARS]
    spans = _tokenizer(info.path).token_spans(text)
    step = size - overlap
    chunks: list[PreviewChunk] = [
        {
            "index": c.index,
            "text": c.text,
            "start": c.start,
            "end": c.end,
            "tokens": min(size, len(spans) - c.index * step),
        }
        for c in chunk_by_tokens(text, spans, size, overlap)
    ]
    return {
        "embedding_model": model,
        "chunk_size": size,
        "chunk_overlap": overlap,
        "characters": len(text),
        "chunks": chunks,
    }
