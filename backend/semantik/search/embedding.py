"""The query's vector: each collection's served model resolved once per process, the vector kept in Redis.

A warm query therefore reads no model repository and runs no model: one Redis GET per model.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

import numpy as np
from django.conf import settings
from django.core.cache import cache

from semantik.catalog.selectors import collection_model as resolve_collection_model
from semantik.collections.models import Collection
from semantik.inference.models import ModelInfo
from semantik.inference.runtime import get_query_embedder

log = logging.getLogger(__name__)

# How long a collection's resolved model is trusted before the repository is read again, so a
# model exported or removed while the server runs is noticed within this time.
MODEL_RESOLUTION_TTL_S = 60.0

_lock = threading.Lock()
_resolved: dict[tuple[str, str], tuple[float, ModelInfo]] = {}


def collection_model(collection: Collection) -> ModelInfo:
    """The exported model whose vectors fill `collection` (ModelNotFound when it is gone), cached."""
    key = (collection.embedding_model, collection.precision)
    now = time.monotonic()
    with _lock:
        cached = _resolved.get(key)
    if cached is not None and now - cached[0] < MODEL_RESOLUTION_TTL_S:
        return cached[1]
    info = resolve_collection_model(collection)
    with _lock:
        _resolved[key] = (now, info)
    return info


def forget_models() -> None:
    """Drop every resolved model, so the next search reads the repository again."""
    with _lock:
        _resolved.clear()


def embed_query(model: ModelInfo, query: str) -> np.ndarray:
    """The query's vector from `model`, from Redis when this query was embedded before.

    Keyed by the served model's name, its export's checksum (a re-export under the same name
    gives new vectors) and the query's SHA-256. Redis being down only costs the embedding.
    """
    digest = hashlib.sha256(query.encode("utf-8")).hexdigest()
    key = f"search:query-vector:{model.name}:{model.onnx_sha256 or '-'}:{digest}"
    if settings.QUERY_CACHE_SECONDS:
        try:
            cached = cache.get(key)
        except Exception:  # noqa: BLE001 - the cache is an optimisation; its failure is not the search's
            log.warning("Query vector cache unreadable; embedding instead", exc_info=True)
            cached = None
        if isinstance(cached, bytes):
            return np.frombuffer(cached, dtype=np.float32)
    # As a query: a model with a query prefix (e5's "query: ") gets it here.
    vector = np.asarray(get_query_embedder(model.name).embed_queries([query])[0], dtype=np.float32)
    if settings.QUERY_CACHE_SECONDS:
        try:
            cache.set(key, vector.tobytes(), timeout=settings.QUERY_CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            log.warning("Query vector cache unwritable", exc_info=True)
    return vector
