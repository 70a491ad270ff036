"""Hybrid search fuses its two lists in Python, by the formulas of Qdrant's Query API.

Search needs each retriever's own list anyway (every result reports its cosine and its BM25
score), so it fuses them itself instead of asking Qdrant a third time. This holds it to Qdrant's
fusion: the same prefetch lists fused by the real engine's Query API (qdrant-edge, `Fusion.Rrf`
and `Fusion.Dbsf`) rank the same points with the same scores. Weights are where Semantik departs
on purpose (see `fusion.rrf`); with weights 1 the two agree.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from qdrant_edge import (
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    Fusion,
    Modifier,
    Point,
    Prefetch,
    Query,
    QueryRequest,
    UpdateOperation,
)
from qdrant_edge import SparseVector as EdgeSparseVector

from semantik.search import fusion

DIM, POINTS, DEPTH = 8, 200, 40


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory) -> EdgeShard:
    config = EdgeConfig(
        vectors={"dense": EdgeVectorParams(size=DIM, distance=Distance.Cosine)},
        sparse_vectors={"sparse": EdgeSparseVectorParams(modifier=Modifier.Idf)},
    )
    opened = EdgeShard.create(str(Path(tmp_path_factory.mktemp("fusion")) / "shard"), config)
    rng = np.random.default_rng(7)
    points = []
    for i in range(POINTS):
        terms = sorted({int(t) for t in rng.integers(0, 30, 6)})
        sparse = EdgeSparseVector(terms, [float(w) for w in rng.uniform(0.2, 2.0, len(terms))])
        points.append(
            Point(
                str(uuid.UUID(int=i + 1)), {"dense": rng.standard_normal(DIM).tolist(), "sparse": sparse}, {}
            )
        )
    opened.update(UpdateOperation.upsert_points(points))
    return opened


def retrievers(seed: int) -> tuple[Query, Query]:
    rng = np.random.default_rng(seed)
    dense = Query.Nearest(rng.standard_normal(DIM).tolist(), using="dense")
    sparse = Query.Nearest(EdgeSparseVector([1, 4, 9, 16], [1.0, 1.0, 1.0, 1.0]), using="sparse")
    return dense, sparse


def lists(shard: EdgeShard, seed: int) -> list[list[tuple[str, float]]]:
    return [
        [(str(p.id), p.score) for p in shard.query(QueryRequest(limit=DEPTH, query=query))]
        for query in retrievers(seed)
    ]


def qdrant_fused(shard: EdgeShard, seed: int, method: object) -> list[tuple[str, float]]:
    dense, sparse = retrievers(seed)
    request = QueryRequest(
        limit=2 * DEPTH,
        prefetches=[Prefetch(limit=DEPTH, query=dense), Prefetch(limit=DEPTH, query=sparse)],
        query=method,  # type: ignore[arg-type]
    )
    return [(str(p.id), p.score) for p in shard.query(request)]


def ranked(fused: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


def assert_same(ours: list[tuple[str, float]], qdrants: list[tuple[str, float]]) -> None:
    assert len(ours) == len(qdrants)
    assert [score for _, score in ours] == pytest.approx([score for _, score in qdrants], rel=1e-5)
    # Equal scores may come in either order; the sets at each score must agree.
    assert {(i, round(s, 5)) for i, s in ours} == {(i, round(s, 5)) for i, s in qdrants}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rrf_is_qdrants(shard: EdgeShard, seed: int) -> None:
    dense, sparse = lists(shard, seed)
    ours = fusion.rrf([[i for i, _ in dense], [i for i, _ in sparse]], [1.0, 1.0])
    assert_same(ranked(ours), qdrant_fused(shard, seed, Fusion.Rrf(k=fusion.RRF_K)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dbsf_is_qdrants(shard: EdgeShard, seed: int) -> None:
    dense, sparse = lists(shard, seed)
    ours = fusion.dbsf([dense, sparse], [1.0, 1.0])
    assert_same(ranked(ours), qdrant_fused(shard, seed, Fusion.Dbsf()))
