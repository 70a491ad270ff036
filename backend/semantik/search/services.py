"""Semantic search over one or more collections."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TypedDict
from uuid import UUID

from django.contrib.auth.models import User

from semantik.api import ServiceUnavailable
from semantik.catalog.selectors import collection_model
from semantik.collections.models import Collection
from semantik.collections.selectors import collections_get_many_for_user
from semantik.inference.base import InferenceUnavailable
from semantik.inference.runtime import get_embedder
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStoreUnavailable


class SearchResult(TypedDict):
    text: str
    path: str
    score: float
    document_id: str
    chunk_index: int
    start: int
    end: int
    page: int | None
    collection_id: str


def search(*, user: User, query: str, collection_ids: Sequence[UUID], k: int) -> list[SearchResult]:
    collections = collections_get_many_for_user(user, collection_ids)
    by_model: dict[str, list[Collection]] = defaultdict(list)
    for collection in collections:
        by_model[collection_model(collection).name].append(collection)
    store = get_vector_store()
    results: list[SearchResult] = []
    try:
        for model_name, group in by_model.items():
            # One query embedding per model, however many collections share it.
            vector = get_embedder(model_name).embed_queries([query])[0]
            for collection in group:
                for hit in store.search(collection.vector_collection, vector, limit=k):
                    payload = hit.payload
                    results.append(
                        {
                            "text": payload["text"],
                            "path": payload["path"],
                            "score": hit.score,
                            "document_id": payload["document_id"],
                            "chunk_index": payload["chunk_index"],
                            "start": payload["start"],
                            "end": payload["end"],
                            "page": payload.get("page"),
                            "collection_id": str(collection.pk),
                        }
                    )
    except InferenceUnavailable as exc:
        raise ServiceUnavailable(f"The embedding service is unavailable: {exc}") from exc
    except VectorStoreUnavailable as exc:
        raise ServiceUnavailable(f"Qdrant is unavailable: {exc}") from exc
    results.sort(key=lambda r: r["score"], reverse=True)
    return results[:k]
