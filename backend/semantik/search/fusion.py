"""Fusing ranked lists from several retrievers into one score per item: RRF and DBSF."""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

# The usual RRF constant (Cormack et al. 2009, also Qdrant's default): it damps the difference
# between the first few ranks so one retriever's top hit cannot dominate alone.
RRF_K = 60


def rrf(rankings: Sequence[Sequence[K]], weights: Sequence[float], k: int = RRF_K) -> dict[K, float]:
    """Weighted reciprocal rank fusion: sum over the lists holding an item of weight / (k + rank).

    Each ranking lists items best first, ranks counted from 0 as Qdrant's Query API counts them:
    with equal weights the scores are those of its `Fusion.Rrf(k)`
    (tests/search/test_fusion_matches_qdrant.py). Weights multiply each list's contribution.
    Qdrant's own weighted RRF divides positions by the weights instead (1 / (k - 1 + p / w)), which
    at k = 60 barely moves a ranking: weight 3 on the keyword list would not lift its top hit over
    the semantic list's. An item missing from a list gets nothing from it. Only ranks count, never
    the retrievers' own scores.
    """
    _check(rankings, weights)
    fused: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def dbsf(scored: Sequence[Sequence[tuple[K, float]]], weights: Sequence[float]) -> dict[K, float]:
    """Weighted distribution-based score fusion over (item, score) lists.

    Each list's scores are mapped linearly so that mean − 3·std becomes 0 and mean + 3·std becomes
    1 (std of the sample, n − 1), then the weighted normalised scores are summed per item. A list
    of one item, or whose scores are all equal, gives each item 0.5. This is Qdrant's DBSF, with
    weights. Scores outside mean ± 3·std fall outside [0, 1]; they are kept, not clipped.
    """
    _check(scored, weights)
    fused: dict[K, float] = {}
    for hits, weight in zip(scored, weights, strict=True):
        for item, normalised in _normalise(hits):
            fused[item] = fused.get(item, 0.0) + weight * normalised
    return fused


def _normalise(hits: Sequence[tuple[K, float]]) -> list[tuple[K, float]]:
    scores = [score for _, score in hits]
    if len(scores) < 2 or max(scores) == min(scores):
        return [(item, 0.5) for item, _ in hits]
    mean, std = statistics.fmean(scores), statistics.stdev(scores)
    low, high = mean - 3 * std, mean + 3 * std
    return [(item, (score - low) / (high - low)) for item, score in hits]


def _check(lists: Sequence[Sequence[object]], weights: Sequence[float]) -> None:
    if len(lists) != len(weights):
        raise ValueError(f"{len(lists)} rankings but {len(weights)} weights")
    if any(weight <= 0 for weight in weights):
        raise ValueError(f"weights must be positive, got {list(weights)}")
