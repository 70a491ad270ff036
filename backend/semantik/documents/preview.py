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
from semantik.collections.selectors import collection_for
from semantik.documents.chunking import RECURSIVE, chunk, chunking_errors
from semantik.documents.content import document_extracted
from semantik.documents.extraction import Extracted, ExtractionError, extract
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
    heading_path: list[str]


@functools.lru_cache(maxsize=8)
def _tokenizer(model_dir: Path) -> ModelTokenizer:
    return ModelTokenizer(model_dir)


def chunking_preview(
    user: User,
    *,
    text: str | None = None,
    file_name: str | None = None,
    collection_id: UUID | None = None,
    document_id: UUID | None = None,
    embedding_model: str | None = None,
    chunking_strategy: str | None = None,
    chunk_size: int | None = None,
    chunk_overlap: int | None = None,
) -> dict[str, Any]:
    """Chunks of `text` (read as a file named `file_name` when given) or of a document, with a
    collection's settings or the ones given."""
    model = embedding_model or settings.DEFAULT_EMBEDDING_MODEL
    strategy = RECURSIVE
    size, overlap = settings.DEFAULT_CHUNK_SIZE, settings.DEFAULT_CHUNK_OVERLAP
    collection = None
    if collection_id is not None:
        collection = collection_for(user, collection_id, "read")
        model, size, overlap = collection.embedding_model, collection.chunk_size, collection.chunk_overlap
        strategy = collection.chunking_strategy
    strategy = chunking_strategy or strategy
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
    extracted = Extracted(text=text or "", title="", mime_type="text/plain")
    if document_id is not None and collection is not None:
        # Read again within its source's roots and the extraction limits, like the content endpoints.
        extracted = document_extracted(document_get(collection, document_id))
    elif file_name:
        try:
            extracted = extract((text or "").encode(), file_name)
        except ExtractionError as exc:
            raise ValidationError({"file_name": [str(exc)]}) from exc
    text = extracted.text[:MAX_PREVIEW_CHARS]
    chunks: list[PreviewChunk] = [
        {
            "index": c.index,
            "text": c.text,
            "start": c.start,
            "end": c.end,
            "tokens": c.tokens,
            "heading_path": list(c.heading_path),
        }
        for c in chunk(
            text,
            _tokenizer(info.path).token_spans(text),
            strategy=strategy,
            chunk_size=size,
            overlap=overlap,
            headings=extracted.headings,
        )
    ]
    return {
        "embedding_model": model,
        "chunking_strategy": strategy,
        "chunk_size": size,
        "chunk_overlap": overlap,
        "characters": len(text),
        "chunks": chunks,
    }
