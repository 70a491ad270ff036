"""Search over one or more collections: semantic (dense), keyword (BM25 sparse) or hybrid (both, fused).

Each collection is searched on its own, with its own model, filtered inside Qdrant; the per
collection lists are merged by rank (RRF), never by raw scores from different models. A collection
that cannot be searched is reported beside the results of the others. The top candidates may then
be reranked by a cross-encoder, and the page asked for is dressed for people: highlights, title,
page or heading path, neighbouring text and a link to the place in the document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict
from uuid import UUID

import numpy as np
from django.contrib.auth.models import User

from semantik.api import ServiceUnavailable
from semantik.collections.models import Collection
from semantik.collections.selectors import collections_get_many_for_user
from semantik.documents.models import Document
from semantik.inference.base import InferenceError, InferenceUnavailable, ModelNotFound
from semantik.search import fusion as fusers
from semantik.search.embedding import collection_model, embed_query
from semantik.search.filters import CompiledFilters, SearchFilters, compile_filters
from semantik.search.keyword import highlights, query_vector, terms
from semantik.search.reranking import RerankerUse, rerank_scores, reranker_for
from semantik.vectors import get_vector_store
from semantik.vectors.base import (
    CollectionNotFound,
    SparseVector,
    VectorHit,
    VectorStore,
    VectorStoreError,
    VectorStoreUnavailable,
)
from semantik.vectors.naming import point_id

log = logging.getLogger(__name__)

Mode = Literal["semantic", "keyword", "hybrid"]
Fusion = Literal["rrf", "dbsf"]
MODES: tuple[Mode, ...] = ("semantic", "keyword", "hybrid")
FUSIONS: tuple[Fusion, ...] = ("rrf", "dbsf")

# In hybrid mode each retriever brings this many times the wanted candidates, so a chunk ranked a
# little below them by one retriever can still rise with the other's support.
HYBRID_CANDIDATES = 4
# Reranking looks at this many times `limit` candidates unless told otherwise, and never more
# than the cap: a cross-encoder reads every (query, passage) pair, so its cost grows with each.
RERANK_CANDIDATES_PER_RESULT = 4
MAX_RERANK_CANDIDATES = 200
# How deep a page may go (offset + limit): each collection brings that many candidates.
MAX_WINDOW = 1000
MAX_CONTEXT = 3


class Scores(TypedDict):
    semantic: float | None  # cosine similarity, if the semantic retriever found the chunk
    keyword: float | None  # BM25, if the keyword retriever found it
    fused: float | None  # the hybrid fusion's score, in hybrid mode only
    rerank: float | None  # the cross-encoder's score, if it reranked the chunk


class Context(TypedDict):
    before: str  # the text of up to `context` chunks before this one, without their overlap with it
    after: str


class SearchResult(TypedDict):
    text: str
    highlights: list[tuple[int, int]]
    path: str
    title: str | None
    score: float
    scores: Scores
    document_id: str
    chunk_index: int
    start: int
    end: int
    page: int | None
    heading_path: list[str]  # titles the chunk sits under, outermost first; [] for unstructured text
    collection_id: str
    preview_url: str
    context: Context | None


class CollectionError(TypedDict):
    collection_id: str
    message: str


class SearchOutcome(TypedDict):
    mode: Mode  # what ran: a hybrid search whose query has no keyword terms runs as semantic
    fusion: Fusion | None
    merge: Literal["rrf"] | None  # how several collections' lists became one; None for one collection
    reranker: RerankerUse | None
    offset: int
    limit: int
    results: list[SearchResult]
    errors: list[CollectionError]  # the collections that could not be searched, and why


@dataclass(frozen=True)
class SearchRequest:
    """One search, as the API or the evaluation asks for it.

    `rerank`: True reranks (with `reranker`, else the first collection's default), False never,
    None when a reranker is named or a collection has a default. `context`: neighbouring chunks
    on each side to return with every result.
    """

    query: str
    limit: int = 10
    offset: int = 0
    mode: Mode = "semantic"
    fusion: Fusion = "rrf"
    weights: Mapping[str, float] | None = None
    score_threshold: float | None = None
    filters: SearchFilters | None = None
    rerank: bool | None = None
    reranker: str | None = None
    rerank_candidates: int | None = None
    context: int = 0


@dataclass
class _Candidate:
    collection_id: str
    hit: VectorHit
    semantic: float | None = None
    keyword: float | None = None
    fused: float | None = None
    rerank: float | None = None
    score: float = 0.0  # what orders it now

    @property
    def key(self) -> tuple[str, str]:
        return self.collection_id, self.hit.id

    @property
    def text(self) -> str:
        return str(self.hit.payload.get("text", ""))


@dataclass
class _Plan:
    """What every collection's search shares: the analysed query, depth, filters and query vectors."""

    request: SearchRequest
    mode: Mode
    keywords: SparseVector | None
    depth: int
    filters: CompiledFilters
    store: VectorStore
    vectors: dict[str, np.ndarray | Exception] = field(default_factory=dict)

    def vector_for(self, collection: Collection) -> np.ndarray:
        """The query's vector in the collection's model: embedded once per model per search."""
        model = collection_model(collection)
        found = self.vectors.get(model.name)
        if found is None:
            try:
                found = embed_query(model, self.request.query)
            except InferenceError as exc:
                found = exc
            self.vectors[model.name] = found
        if isinstance(found, Exception):
            raise found
        return found


def search(*, user: User, collection_ids: Sequence[UUID], request: SearchRequest) -> SearchOutcome:
    """The page `request` asks for, over the user's collections (404 for any they cannot see)."""
    return search_collections(collections_get_many_for_user(user, collection_ids), request)


def search_collections(collections: Sequence[Collection], request: SearchRequest) -> SearchOutcome:
    """The best chunks for the request across `collections`, best first, one page of them.

    Raises ServiceUnavailable (503) when not one collection could be searched, with each reason.
    """
    reranker = reranker_for(collections, request.rerank, request.reranker)
    keywords = query_vector(request.query) if request.mode != "semantic" else None
    mode = request.mode
    if mode == "hybrid" and not keywords:
        mode = "semantic"  # only stop words or punctuation: the keyword retriever cannot run
    window = request.offset + request.limit
    candidates = min(
        request.rerank_candidates or RERANK_CANDIDATES_PER_RESULT * request.limit, MAX_RERANK_CANDIDATES
    )
    plan = _Plan(
        request=request,
        mode=mode,
        keywords=keywords,
        depth=max(window, candidates) if reranker else window,
        filters=compile_filters(request.filters),
        store=get_vector_store(),
    )

    lists: list[list[_Candidate]] = []
    errors: list[CollectionError] = []
    for collection in collections:
        try:
            lists.append(_search_one(plan, collection))
        except (CollectionNotFound, InferenceError, VectorStoreError) as exc:
            errors.append({"collection_id": str(collection.pk), "message": _reason(collection, exc)})
    if not lists:
        reasons = "; ".join(f"{e['collection_id']}: {e['message']}" for e in errors)
        raise ServiceUnavailable(f"No collection could be searched. {reasons}", details={"errors": errors})

    ranked = _merge(lists)
    by_id = {str(c.pk): c for c in collections}
    used: RerankerUse | None = None
    if reranker:
        ranked = _with_payloads(ranked, candidates, by_id, plan.store, errors)
        ranked, used = _rerank(request.query, ranked, reranker, candidates)
    page = _with_payloads(ranked, window, by_id, plan.store, errors)[request.offset : window]
    return {
        "mode": mode,
        "fusion": request.fusion if mode == "hybrid" else None,
        "merge": "rrf" if len(collections) > 1 else None,
        "reranker": used,
        "offset": request.offset,
        "limit": request.limit,
        "results": _present(page, by_id, plan),
        "errors": errors,
    }


def _search_one(plan: _Plan, collection: Collection) -> list[_Candidate]:
    """One collection's candidates, best first, at most `plan.depth` of them."""
    name, cid = collection.vector_collection, str(collection.pk)
    where, check = plan.filters.where, plan.filters.check
    want = plan.depth * HYBRID_CANDIDATES if plan.mode == "hybrid" else plan.depth
    dense: list[VectorHit] = []
    sparse: list[VectorHit] = []
    # Payloads are read for the page alone (`_with_payloads`), unless `check` must see every hit's.
    payloads = check is not None
    if plan.mode != "keyword":
        vector = plan.vector_for(collection)
        dense = _fetch(
            lambda n: plan.store.search(name, vector, n, where, with_payload=payloads),
            want,
            check,
            plan.request.score_threshold,
        )
    if plan.mode != "semantic":
        keywords = plan.keywords
        assert keywords is not None
        sparse = _fetch(
            lambda n: plan.store.keyword_search(name, keywords, n, where, with_payload=payloads), want, check
        )
    if plan.mode == "semantic":
        return [_Candidate(cid, hit, semantic=hit.score, score=hit.score) for hit in dense]
    if plan.mode == "keyword":
        return [_Candidate(cid, hit, keyword=hit.score, score=hit.score) for hit in sparse]
    return _fuse(cid, dense, sparse, plan.request.fusion, plan.request.weights or {})[: plan.depth]


def _with_payloads(
    ranked: list[_Candidate],
    count: int,
    collections: Mapping[str, Collection],
    store: VectorStore,
    errors: list[CollectionError],
) -> list[_Candidate]:
    """`ranked` with the payloads of its first `count` candidates read, one call per collection.

    A point deleted since the search (its document removed meanwhile) leaves the list; a
    collection whose payloads cannot be read is reported in `errors` and its candidates leave too.
    """
    missing: dict[str, list[_Candidate]] = {}
    for candidate in ranked[:count]:
        if not candidate.hit.payload:
            missing.setdefault(candidate.collection_id, []).append(candidate)
    if not missing:
        return ranked
    gone: set[tuple[str, str]] = set()
    for collection_id, found in missing.items():
        collection = collections[collection_id]
        try:
            payloads = store.retrieve(collection.vector_collection, [c.hit.id for c in found])
        except VectorStoreError as exc:
            errors.append({"collection_id": collection_id, "message": _reason(collection, exc)})
            gone.update(c.key for c in ranked if c.collection_id == collection_id)
            continue
        for candidate in found:
            payload = payloads.get(candidate.hit.id)
            if payload is None:
                gone.add(candidate.key)
            else:
                candidate.hit = VectorHit(candidate.hit.id, candidate.hit.score, payload)
    kept = [c for c in ranked if c.key not in gone]
    # Fewer than `count` left with payloads: read the next ones too.
    return _with_payloads(kept, count, collections, store, errors) if gone else kept


def _fetch(
    run: Callable[[int], list[VectorHit]],
    want: int,
    check: Callable[[dict[str, Any]], bool] | None,
    threshold: float | None = None,
) -> list[VectorHit]:
    """The best `want` hits that pass `check` and the threshold, or all there are.

    Qdrant applied every condition it can express; `check` is the rest (a glob it cannot say).
    When it rejects hits, ask for more, until enough pass or the collection has no more: a
    filter never shortens a page while matching chunks remain.
    """
    asked = want
    while True:
        # Equal scores in a stable order (by point id), so pages of one search never disagree.
        hits = sorted(run(asked), key=lambda hit: (-hit.score, hit.id))
        exhausted = len(hits) < asked
        if threshold is not None:
            above = [hit for hit in hits if hit.score >= threshold]
            exhausted = exhausted or len(above) < len(hits)  # best first: the rest are below too
            hits = above
        if check is not None:
            hits = [hit for hit in hits if check(hit.payload)]
        if len(hits) >= want or exhausted:
            return hits[:want]
        asked *= 4


def _fuse(
    collection_id: str,
    dense: list[VectorHit],
    sparse: list[VectorHit],
    fusion: Fusion,
    weights: Mapping[str, float],
) -> list[_Candidate]:
    weighting = [weights.get("semantic", 1.0), weights.get("keyword", 1.0)]
    lists = (dense, sparse)
    if fusion == "rrf":
        fused = fusers.rrf([[hit.id for hit in hits] for hits in lists], weighting)
    else:
        fused = fusers.dbsf([[(hit.id, hit.score) for hit in hits] for hits in lists], weighting)
    by_dense = {hit.id: hit for hit in dense}
    by_sparse = {hit.id: hit for hit in sparse}
    ranked = sorted(fused, key=lambda point: fused[point], reverse=True)
    found = []
    for point in ranked:
        semantic, keyword = by_dense.get(point), by_sparse.get(point)
        hit = semantic or keyword
        assert hit is not None  # every fused id came from one of the lists
        found.append(
            _Candidate(
                collection_id,
                hit,
                semantic=semantic.score if semantic else None,
                keyword=keyword.score if keyword else None,
                fused=fused[point],
                score=fused[point],
            )
        )
    return found


def _merge(lists: list[list[_Candidate]]) -> list[_Candidate]:
    """One list from each collection's: by RRF over their ranks (scores from different models or
    corpora do not compare). Ties (the same rank in two collections) keep the request's order."""
    if len(lists) == 1:
        return lists[0]
    fused = fusers.rrf([[c.key for c in found] for found in lists], [1.0] * len(lists))
    merged = []
    for position, found in enumerate(lists):
        for rank, candidate in enumerate(found):
            candidate.score = fused[candidate.key]
            merged.append((rank, position, candidate))
    merged.sort(key=lambda entry: (-entry[2].score, entry[0], entry[1]))
    return [candidate for _, _, candidate in merged]


def _rerank(
    query: str, ranked: list[_Candidate], name: str, candidates: int
) -> tuple[list[_Candidate], RerankerUse]:
    """The top `candidates` reordered by the cross-encoder, the rest after them as they were."""
    head, tail = ranked[:candidates], ranked[candidates:]
    scores, used = rerank_scores(name, query, [c.text for c in head])
    if scores is None:
        return ranked, used
    for candidate, score in zip(head, scores, strict=True):
        candidate.rerank = candidate.score = score
    order = sorted(range(len(head)), key=lambda i: (-scores[i], i))
    return [head[i] for i in order] + tail, used


def _reason(collection: Collection, exc: Exception) -> str:
    if isinstance(exc, CollectionNotFound):
        return f"Its vectors are missing from Qdrant (vector collection {exc.name!r}); index it again."
    if isinstance(exc, ModelNotFound):
        return f"Its embedding model {collection.embedding_model!r} is not served: {exc}"
    if isinstance(exc, InferenceUnavailable):
        return f"The embedding service is unavailable: {exc}"
    if isinstance(exc, InferenceError):
        return f"Embedding the query failed: {exc}"
    if isinstance(exc, VectorStoreUnavailable):
        return f"Qdrant is unavailable: {exc}"
    return f"Qdrant failed: {exc}"


def _present(page: list[_Candidate], collections: dict[str, Collection], plan: _Plan) -> list[SearchResult]:
    query_terms = frozenset(terms(plan.request.query))
    seen: dict[str, bool] = {}  # each word's highlight answer, shared by the page's texts
    # Chunks carry their document's title; those indexed before they did are looked up, in one query.
    titles = {
        str(c.hit.payload["document_id"]): c.hit.payload["title"] for c in page if "title" in c.hit.payload
    }
    untitled = {str(c.hit.payload["document_id"]) for c in page} - titles.keys()
    if untitled:
        titles.update(
            (str(pk), title)
            for pk, title in Document.objects.filter(pk__in=untitled).values_list("pk", "title")
        )
    contexts = _contexts(page, collections, plan) if plan.request.context else {}
    results: list[SearchResult] = []
    for candidate in page:
        payload = candidate.hit.payload
        document_id, index = str(payload["document_id"]), int(payload["chunk_index"])
        results.append(
            {
                "text": candidate.text,
                "highlights": highlights(candidate.text, query_terms, seen),
                "path": payload["path"],
                "title": titles.get(document_id) or None,
                "score": candidate.score,
                "scores": {
                    "semantic": candidate.semantic,
                    "keyword": candidate.keyword,
                    "fused": candidate.fused,
                    "rerank": candidate.rerank,
                },
                "document_id": document_id,
                "chunk_index": index,
                "start": payload["start"],
                "end": payload["end"],
                "page": payload.get("page"),
                "heading_path": payload.get("heading_path") or [],
                "collection_id": candidate.collection_id,
                "preview_url": f"/documents/{document_id}?chunk={index}",
                "context": contexts.get(candidate.key) if plan.request.context else None,
            }
        )
    return results


def _contexts(
    page: list[_Candidate], collections: dict[str, Collection], plan: _Plan
) -> dict[tuple[str, str], Context]:
    """Each hit's neighbouring text, the neighbours read by point id in one call per collection."""
    reach = plan.request.context
    wanted: dict[str, list[str]] = {}
    for candidate in page:
        payload = candidate.hit.payload
        index = int(payload["chunk_index"])
        for neighbour in range(max(0, index - reach), index + reach + 1):
            if neighbour != index:
                wanted.setdefault(candidate.collection_id, []).append(
                    point_id(candidate.collection_id, str(payload["document_id"]), neighbour)
                )
    payloads: dict[str, dict[str, Any]] = {}
    for collection_id, ids in wanted.items():
        try:
            payloads.update(plan.store.retrieve(collections[collection_id].vector_collection, ids))
        except VectorStoreError:
            log.warning("Context of collection %s unavailable", collection_id, exc_info=True)
    by_place = {(str(p["document_id"]), int(p["chunk_index"])): p for p in payloads.values()}
    contexts: dict[tuple[str, str], Context] = {}
    for candidate in page:
        payload = candidate.hit.payload
        document_id, index = str(payload["document_id"]), int(payload["chunk_index"])
        before = [
            by_place[(document_id, i)] for i in range(index - reach, index) if (document_id, i) in by_place
        ]
        after = [
            by_place[(document_id, i)]
            for i in range(index + 1, index + reach + 1)
            if (document_id, i) in by_place
        ]
        start, end = int(payload["start"]), int(payload["end"])
        contexts[candidate.key] = {
            "before": _stitch(before, None, start),
            "after": _stitch(after, end, None),
        }
    return contexts


def _stitch(chunks: list[dict[str, Any]], low: int | None, high: int | None) -> str:
    """The document text the chunks cover between `low` and `high` (character offsets), each
    character once although neighbouring chunks overlap."""
    pieces: list[str] = []
    cursor = low
    for chunk in chunks:
        text, start = str(chunk["text"]), int(chunk["start"])
        if len(text) != int(chunk["end"]) - start:  # not a slice of the document: take it whole
            pieces.append(text)
            continue
        begin = start if cursor is None else max(start, cursor)
        stop = start + len(text) if high is None else min(start + len(text), high)
        if stop > begin:
            pieces.append(text[begin - start : stop - start])
            cursor = stop
    return "".join(pieces)
