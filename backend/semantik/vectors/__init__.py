"""Vector storage in Qdrant: one interface, an embedded engine and a server client behind it."""

from __future__ import annotations

import threading
from pathlib import Path

from semantik.vectors.base import (
    ChunkPoint,
    CollectionNotFound,
    VectorHit,
    VectorStore,
    VectorStoreError,
    VectorStoreUnavailable,
)

__all__ = [
    "ChunkPoint",
    "CollectionNotFound",
    "VectorHit",
    "VectorStore",
    "VectorStoreError",
    "VectorStoreUnavailable",
    "get_vector_store",
    "open_vector_store",
    "reset_vector_store",
]

_store: VectorStore | None = None
_store_lock = threading.Lock()


def open_vector_store(
    url: str | None,
    path: Path,
    api_key: str | None = None,
    shards: int = 1,
    replicas: int = 1,
    index_threshold: int | None = None,
) -> VectorStore:
    """A Qdrant server's store when `url` is set, else the embedded engine keeping its data in `path`.

    `shards` and `replicas` are those of each collection the server's store creates;
    `index_threshold` is when the embedded engine builds a collection's index (its default if None).

    This is the only place that chooses between them; nothing else branches on the deployment.
    """
    # Imported here so that importing the interface does not load both Qdrant bindings.
    if url:
        from semantik.vectors.remote import QdrantClientVectorStore

        return QdrantClientVectorStore.from_url(url, api_key=api_key, shards=shards, replicas=replicas)
    from semantik.vectors.edge import DEFAULT_INDEX_THRESHOLD, EdgeVectorStore

    threshold = DEFAULT_INDEX_THRESHOLD if index_threshold is None else index_threshold
    return EdgeVectorStore(Path(path), index_threshold=threshold)


def get_vector_store() -> VectorStore:
    """The process's one vector store, built from settings on first use.

    One per process because the embedded engine's data directory can be opened only once.
    """
    global _store
    with _store_lock:
        if _store is None:
            from django.conf import settings

            _store = open_vector_store(
                settings.QDRANT_URL,
                Path(settings.QDRANT_PATH),
                getattr(settings, "QDRANT_API_KEY", None),
                shards=getattr(settings, "QDRANT_SHARDS", 1),
                replicas=getattr(settings, "QDRANT_REPLICAS", 1),
                index_threshold=getattr(settings, "QDRANT_INDEX_THRESHOLD", None),
            )
        return _store


def reset_vector_store() -> None:
    """Close and forget the process's store, so the next get_vector_store reads settings again."""
    global _store
    with _store_lock:
        store, _store = _store, None
    if store is not None:
        store.close()
