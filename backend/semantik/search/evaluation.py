"""Search quality: labelled queries run per mode and reranker setting, scored side by side.

Relevance is per document: a query lists the documents that answer it (by path relative to their
source, absolute path, or id); the chunks a search returns become a ranking of documents, each
counted at its first chunk. Scores are binary-relevance nDCG@10, recall@k and MRR over the first
max(10, k) documents, averaged over the queries.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from django.db.models import Q
from rest_framework.exceptions import APIException

from semantik.collections.models import Collection
from semantik.documents.models import Document
from semantik.search.reranking import reranker_for
from semantik.search.services import (
    MAX_RERANK_CANDIDATES,
    MAX_WINDOW,
    MODES,
    RERANK_CANDIDATES_PER_RESULT,
    Mode,
    SearchRequest,
    search_collections,
)

NDCG_AT = 10
# Chunks asked for per document wanted: documents come back as several chunks each.
CHUNKS_PER_DOCUMENT = 5

# False: no reranking; True: the collections' default reranker; a name: that reranker.
RerankSetting = bool | str


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    relevant: tuple[str, ...]  # paths (relative or absolute) or document ids


class Run(TypedDict):
    mode: Mode
    rerank: RerankSetting
    reranker: str | None
    ndcg_at_10: float
    recall_at_k: float
    mrr: float
    queries: int
    failed: int  # searches that raised (counted as finding nothing)
    reranked: int  # searches the reranker actually reordered (it may time out or fail)
    mean_ms: float


class Report(TypedDict):
    k: int
    queries: int  # queries scored: those with at least one relevant document in the collections
    skipped: list[str]  # queries none of whose relevant documents is in the collections
    unmatched: list[str]  # relevant entries that name no document of the collections
    runs: list[Run]


def dcg(relevance: Sequence[bool], depth: int) -> float:
    """Discounted cumulative gain of the first `depth` positions: Σ rel_i / log2(i + 1), i from 1."""
    return sum(1.0 / math.log2(i + 2) for i, relevant in enumerate(relevance[:depth]) if relevant)


def ndcg(relevance: Sequence[bool], total_relevant: int, depth: int = NDCG_AT) -> float:
    """DCG over the DCG of the ideal ranking (every relevant document first); 0 with none relevant."""
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(total_relevant, depth)))
    return dcg(relevance, depth) / ideal if ideal else 0.0


def recall(relevance: Sequence[bool], total_relevant: int, depth: int) -> float:
    """The share of the relevant documents found in the first `depth` positions."""
    return sum(relevance[:depth]) / total_relevant if total_relevant else 0.0


def reciprocal_rank(relevance: Sequence[bool]) -> float:
    """1 / the position of the first relevant document, 0 when none is there."""
    return next((1.0 / (i + 1) for i, relevant in enumerate(relevance) if relevant), 0.0)


def evaluate(
    collections: Sequence[Collection],
    queries: Sequence[LabelledQuery],
    modes: Sequence[Mode] = MODES,
    rerank: Sequence[RerankSetting] = (False,),
    k: int = 10,
) -> Report:
    """Run every query in every mode × reranker setting and score each run."""
    for setting in rerank:  # a setting that cannot work is refused before anything runs
        if setting is not False:
            reranker_for(collections, True, setting if isinstance(setting, str) else None)
    entries = _relevant_documents(collections, {entry for q in queries for entry in q.relevant})
    scored = [q for q in queries if any(entries.get(entry) for entry in q.relevant)]
    depth = max(NDCG_AT, k)
    runs: list[Run] = []
    for mode in modes:
        for setting in rerank:
            runs.append(_run(collections, scored, entries, mode, setting, k, depth))
    return {
        "k": k,
        "queries": len(scored),
        "skipped": [q.query for q in queries if q not in scored],
        "unmatched": sorted(entry for entry, documents in entries.items() if not documents),
        "runs": runs,
    }


def _run(
    collections: Sequence[Collection],
    queries: Sequence[LabelledQuery],
    entries: dict[str, set[str]],
    mode: Mode,
    setting: RerankSetting,
    k: int,
    depth: int,
) -> Run:
    totals = {"ndcg": 0.0, "recall": 0.0, "mrr": 0.0}
    failed = reranked = 0
    reranker: str | None = None
    started = time.perf_counter()
    for labelled in queries:
        request = SearchRequest(
            query=labelled.query,
            limit=min(depth * CHUNKS_PER_DOCUMENT, MAX_WINDOW),
            mode=mode,
            rerank=setting is not False,
            reranker=setting if isinstance(setting, str) else None,
            # What a search for `depth` results reranks, not all the chunks asked for here.
            rerank_candidates=min(RERANK_CANDIDATES_PER_RESULT * depth, MAX_RERANK_CANDIDATES),
        )
        try:
            outcome = search_collections(collections, request)
        except APIException:
            failed += 1
            continue
        if outcome["reranker"] is not None:
            reranker = outcome["reranker"]["name"]
            reranked += outcome["reranker"]["applied"]
        wanted = {entry for entry in labelled.relevant if entries.get(entry)}
        ranking = _documents(outcome["results"], entries, wanted)
        relevance = [document in wanted for document in ranking[:depth]]
        totals["ndcg"] += ndcg(relevance, len(wanted))
        totals["recall"] += recall(relevance, len(wanted), k)
        totals["mrr"] += reciprocal_rank(relevance)
    count = len(queries)
    return {
        "mode": mode,
        "rerank": setting,
        "reranker": reranker,
        "ndcg_at_10": round(totals["ndcg"] / count, 4) if count else 0.0,
        "recall_at_k": round(totals["recall"] / count, 4) if count else 0.0,
        "mrr": round(totals["mrr"] / count, 4) if count else 0.0,
        "queries": count,
        "failed": failed,
        "reranked": reranked,
        "mean_ms": round((time.perf_counter() - started) * 1000 / count, 1) if count else 0.0,
    }


def _documents(results: Sequence[Any], entries: dict[str, set[str]], wanted: set[str]) -> list[str]:
    """The documents of ranked chunks, each at its first chunk; a relevant document by its entry,
    so the same file indexed in two collections counts once."""
    by_document = {document: entry for entry in wanted for document in entries[entry]}
    ranking: list[str] = []
    for result in results:
        document = by_document.get(result["document_id"], result["document_id"])
        if document not in ranking:
            ranking.append(document)
    return ranking


def _relevant_documents(collections: Sequence[Collection], wanted: set[str]) -> dict[str, set[str]]:
    """Each relevant entry's document ids in the collections (empty when it names none)."""
    ids = {entry for entry in wanted if _is_uuid(entry)}
    rows = Document.objects.filter(collection__in=list(collections)).filter(
        Q(relative_path__in=wanted) | Q(path__in=wanted) | Q(pk__in=ids)
    )
    entries: dict[str, set[str]] = {entry: set() for entry in wanted}
    for pk, relative, absolute in rows.values_list("pk", "relative_path", "path"):
        for entry in {str(pk), relative, absolute} & wanted:
            entries[entry].add(str(pk))
    return entries


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
