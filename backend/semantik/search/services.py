"""Search over one or more collections: semantic (dense), keyword (BM25 sparse) or hybrid (both, fused)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict
from uuid import UUID

from django.contrib.auth.models import User

from semantik.api import ServiceUnavailable
from semantik.catalog.selectors import collection_model
from semantik.collections.models import Collection
from semantik.collections.selectors import collections_get_many_for_user
from semantik.inference.base import InferenceUnavailable
from semantik.inference.runtime import get_embedder
from semantik.search import fusion as fusers
from semantik.search.keyword import query_vector
from semantik.vectors import get_vector_store
from semantik.vectors.base import SparseVector, VectorHit, VectorStore, VectorStoreUnavailable

Mode = Literal["semantic", "keyword", "hybrid"]
Fusion = Literal["rrf", "dbsf"]
MODES: tuple[Mode, ...] = ("semantic", "keyword", "hybrid")
FUSIONS: tuple[Fusion, ...] = ("rrf", "dbsf")

# In hybrid mode each retriever brings this many times `k` candidates, so a chunk ranked a little
# below the top k by one retriever can still rise to the top with the other's support.
HYBRID_CANDIDATES = 4


class Scores(TypedDict):
    semantic: float | None  # cosine similarity, if the semantic retriever found the chunk
    keyword: float | None  # BM25, if the keyword retriever found it
    fused: float | None  # the fusion's score, in hybrid mode only


class SearchResult(TypedDict):
    text: str
    path: str
    score: float
    scores: Scores
    document_id: str
    chunk_index: int
    start: int
    end: int
    page: int | None
    # Titles of the headings the chunk sits under, outermost first; empty for unstructured text.
    heading_path: list[str]
    collection_id: str


class SearchOutcome(TypedDict):
    mode: Mode  # what ran: a hybrid search whose query has no keyword terms runs as semantic
    fusion: Fusion | None
    results: list[SearchResult]


@dataclass(frozen=True)
class _Found:
    collection_id: str
    hit: VectorHit

    @property
    def key(self) -> tuple[str, str]:
        return self.collection_id, self.hit.id


def search(
    *,
    user: User,
    query: str,
    collection_ids: Sequence[UUID],
    k: int,
    mode: Mode = "semantic",
    fusion: Fusion = "rrf",
    weights: dict[str, float] | None = None,
    score_threshold: float | None = None,
) -> SearchOutcome:
    """The best `k` chunks for `query` across the user's collections, best first.

    `score_threshold` drops semantic hits whose cosine is below it, before any fusion; it never
    applies to keyword or fused scores. `weights` ({"semantic", "keyword"}, default 1 each) weight
    the retrievers in hybrid mode.
    """
    collections = collections_get_many_for_user(user, collection_ids)
    keywords = query_vector(query) if mode != "semantic" else None
    if mode == "hybrid" and not keywords:
        mode = "semantic"  # only stop words or punctuation: the keyword retriever cannot run
    limit = k * HYBRID_CANDIDATES if mode == "hybrid" else k
    store = get_vector_store()
    try:
        semantic = [] if mode == "keyword" else _semantic(store, collections, query, limit, score_threshold)
        keyword = (
            [] if keywords is None or mode == "semantic" else _keyword(store, collections, keywords, limit)
        )
    except InferenceUnavailable as exc:
        raise ServiceUnavailable(f"The embedding service is unavailable: {exc}") from exc
    except VectorStoreUnavailable as exc:
        raise ServiceUnavailable(f"Qdrant is unavailable: {exc}") from exc

    if mode == "semantic":
        return {
            "mode": mode,
            "fusion": None,
            "results": [_result(f, semantic=f.hit.score) for f in semantic[:k]],
        }
    if mode == "keyword":
        return {
            "mode": mode,
            "fusion": None,
            "results": [_result(f, keyword=f.hit.score) for f in keyword[:k]],
        }
    return {"mode": mode, "fusion": fusion, "results": _fuse(semantic, keyword, fusion, weights or {}, k)}


def _semantic(
    store: VectorStore, collections: list[Collection], query: str, limit: int, threshold: float | None
) -> list[_Found]:
    by_model: dict[str, list[Collection]] = defaultdict(list)
    for collection in collections:
        by_model[collection_model(collection).name].append(collection)
    found: list[_Found] = []
    for model_name, group in by_model.items():
        # One query embedding per model, however many collections share it.
        vector = get_embedder(model_name).embed_queries([query])[0]
        for collection in group:
            hits = store.search(collection.vector_collection, vector, limit=limit)
            found += [_Found(str(collection.pk), hit) for hit in hits]
    if threshold is not None:
        found = [f for f in found if f.hit.score >= threshold]
    return _best(found, limit)


def _keyword(
    store: VectorStore, collections: list[Collection], keywords: SparseVector, limit: int
) -> list[_Found]:
    # No model involved: the same query vector serves collections of any embedding model.
    found = [
        _Found(str(collection.pk), hit)
        for collection in collections
        for hit in store.keyword_search(collection.vector_collection, keywords, limit=limit)
    ]
    return _best(found, limit)


def _best(found: list[_Found], limit: int) -> list[_Found]:
    return sorted(found, key=lambda f: f.hit.score, reverse=True)[:limit]


def _fuse(
    semantic: list[_Found], keyword: list[_Found], fusion: Fusion, weights: dict[str, float], k: int
) -> list[SearchResult]:
    lists = (semantic, keyword)
    weighting = [weights.get("semantic", 1.0), weights.get("keyword", 1.0)]
    if fusion == "rrf":
        fused = fusers.rrf([[f.key for f in found] for found in lists], weighting)
    else:
        fused = fusers.dbsf([[(f.key, f.hit.score) for f in found] for found in lists], weighting)
    by_semantic = {f.key: f for f in semantic}
    by_keyword = {f.key: f for f in keyword}
    ranked = sorted(fused, key=lambda key: fused[key], reverse=True)[:k]
    results = []
    for key in ranked:
        dense, sparse = by_semantic.get(key), by_keyword.get(key)
        found = dense or sparse
        assert found is not None  # every fused key came from one of the lists
        results.append(
            _result(
                found,
                semantic=dense.hit.score if dense else None,
                keyword=sparse.hit.score if sparse else None,
                fused=fused[key],
            )
        )
    return results


def _result(
    found: _Found, semantic: float | None = None, keyword: float | None = None, fused: float | None = None
) -> SearchResult:
    payload = found.hit.payload
    scores: Scores = {"semantic": semantic, "keyword": keyword, "fused": fused}
    score = next(s for s in (fused, keyword, semantic) if s is not None)
    return {
        "text": payload["text"],
        "path": payload["path"],
        "score": score,
        "scores": scores,
        "document_id": payload["document_id"],
        "chunk_index": payload["chunk_index"],
        "start": payload["start"],
        "end": payload["end"],
        "page": payload.get("page"),
        # Absent from points indexed before headings were kept.
        "heading_path": payload.get("heading_path") or [],
        "collection_id": found.collection_id,
    }
