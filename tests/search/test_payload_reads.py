"""Search reads payloads for the page it returns only, and copes with points gone meanwhile.

Runs the service's payload step on the real embedded Qdrant engine; no Django request involved.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from semantik.search.services import CollectionError, _Candidate, _with_payloads
from semantik.vectors.base import ChunkPoint, VectorHit
from semantik.vectors.edge import EdgeVectorStore

DIM = 4


def stored(store: EdgeVectorStore, name: str, count: int) -> list[str]:
    store.create_collection(name, DIM)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    store.upsert(
        name,
        [
            ChunkPoint(point, np.ones(DIM, dtype=np.float32), {"document_id": "d", "chunk_index": i})
            for i, point in enumerate(ids)
        ],
    )
    return ids


def bare(collection_id: str, ids: list[str]) -> list[_Candidate]:
    return [_Candidate(collection_id, VectorHit(point, 1.0 - i / 100, {})) for i, point in enumerate(ids)]


def test_only_the_page_gets_its_payloads_read(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path, index_threshold=0)
    try:
        ids = stored(store, "a", 10)
        collections: Any = {"c1": SimpleNamespace(vector_collection="a")}
        errors: list[CollectionError] = []

        ranked = _with_payloads(bare("c1", ids), 4, collections, store, errors)

        assert [c.hit.payload.get("chunk_index") for c in ranked] == [0, 1, 2, 3] + [None] * 6
        assert errors == []
    finally:
        store.close()


def test_points_deleted_since_the_search_leave_and_the_next_ones_fill_the_page(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path, index_threshold=0)
    try:
        ids = stored(store, "a", 10)
        collections: Any = {"c1": SimpleNamespace(vector_collection="a")}
        candidates = bare("c1", ids[:2] + [str(uuid.uuid4())] + ids[2:])  # the third is gone

        ranked = _with_payloads(candidates, 4, collections, store, [])

        assert [c.hit.id for c in ranked[:4]] == ids[:4]
        assert all(c.hit.payload for c in ranked[:4])
    finally:
        store.close()


def test_a_collection_whose_payloads_cannot_be_read_is_reported_and_left_out(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path, index_threshold=0)
    try:
        ids = stored(store, "a", 3)
        collections: Any = {
            "c1": SimpleNamespace(vector_collection="a", pk="c1"),
            "c2": SimpleNamespace(vector_collection="missing", pk="c2"),
        }
        errors: list[CollectionError] = []
        candidates = bare("c2", [str(uuid.uuid4())]) + bare("c1", ids)

        ranked = _with_payloads(candidates, 2, collections, store, errors)

        assert [c.hit.id for c in ranked] == ids
        assert [c.hit.payload["chunk_index"] for c in ranked[:2]] == [0, 1]
        assert [e["collection_id"] for e in errors] == ["c2"]
        assert "missing from Qdrant" in errors[0]["message"]
    finally:
        store.close()
