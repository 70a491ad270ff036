"""Every vector store adapter behaves the same: one suite, run against each of them."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from semantik.vectors import get_vector_store, open_vector_store, reset_vector_store
from semantik.vectors.base import (
    ChunkPoint,
    CollectionNotFound,
    PointFilter,
    SparseVector,
    VectorStore,
    VectorStoreError,
    VectorStoreUnavailable,
)
from semantik.vectors.edge import EdgeVectorStore
from semantik.vectors.naming import collection_name, point_id
from semantik.vectors.remote import QdrantClientVectorStore

DIM = 8
COLLECTION_ID = uuid.UUID("7d1c2f4e-0a9b-4c3d-8e5f-6a7b8c9d0e1f")
NAME = collection_name(COLLECTION_ID)

# edge: the embedded engine; local-*: the server adapter on qdrant-client's local mode.
ADAPTERS = ["edge", "local-memory", "local-path"]
PERSISTENT = ["edge", "local-path"]

Opener = Callable[[], VectorStore]


def open_store(kind: str, where: Path) -> VectorStore:
    if kind == "edge":
        return EdgeVectorStore(where / "edge")
    if kind == "local-memory":
        return QdrantClientVectorStore.local(":memory:")
    return QdrantClientVectorStore.local(where / "local")


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    opened = open_store(request.param, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def collection(store: VectorStore) -> str:
    store.create_collection(NAME, DIM)
    return NAME


def vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


def chunks(
    document_id: str, count: int, source_id: str = "source-1", first_seed: int = 0
) -> list[ChunkPoint]:
    return [
        ChunkPoint(
            id=point_id(COLLECTION_ID, document_id, index),
            vector=vector(first_seed + index),
            payload={
                "document_id": document_id,
                "source_id": source_id,
                "path": f"{source_id}/{document_id}.txt",
                "chunk_index": index,
                "text": f"chunk {index} of {document_id}",
                "start": index * 100,
                "end": index * 100 + 99,
                "mime_type": "text/plain",
                "mtime": 1_700_000_000.5,
            },
        )
        for index in range(count)
    ]


def ids_of(points: list[ChunkPoint]) -> set[str]:
    return {p.id for p in points}


def new_document() -> str:
    return str(uuid.uuid4())


def test_every_adapter_implements_the_interface(store: VectorStore) -> None:
    assert isinstance(store, VectorStore)


def test_create_collection_is_idempotent(store: VectorStore) -> None:
    assert not store.collection_exists(NAME)
    store.create_collection(NAME, DIM)
    store.create_collection(NAME, DIM)
    assert store.collection_exists(NAME)
    assert store.count(NAME) == 0


def test_create_collection_refuses_another_dimension_for_an_existing_name(store: VectorStore) -> None:
    store.create_collection(NAME, DIM)
    with pytest.raises(VectorStoreError):
        store.create_collection(NAME, DIM * 2)


def test_search_finds_the_nearest_point_first_with_its_payload(store: VectorStore, collection: str) -> None:
    points = chunks(new_document(), 20)
    store.upsert(collection, points)

    hits = store.search(collection, points[7].vector, limit=5)

    assert [h.id for h in hits][:1] == [points[7].id]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].payload == points[7].payload
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(hits) == 5


def test_searches_without_payloads_find_the_same_points_with_empty_payloads(
    store: VectorStore, collection: str
) -> None:
    points = [
        ChunkPoint(p.id, p.vector, p.payload, sparse=SparseVector((1, 2), (1.0, float(i + 1))))
        for i, p in enumerate(chunks(new_document(), 20))
    ]
    store.upsert(collection, points)

    for search in (
        lambda **kw: store.search(collection, points[3].vector, limit=5, **kw),
        lambda **kw: store.keyword_search(collection, terms({2: 1.0}), limit=5, **kw),
    ):
        full, bare = search(), search(with_payload=False)
        assert [(h.id, round(h.score, 5)) for h in bare] == [(h.id, round(h.score, 5)) for h in full]
        assert all(h.payload == {} for h in bare)
        assert all(h.payload for h in full)


def test_search_scores_are_cosine_similarities(store: VectorStore, collection: str) -> None:
    points = chunks(new_document(), 12)
    store.upsert(collection, points)
    query = vector(1000) * 3.5  # scale must not matter to cosine

    hits = store.search(collection, query, limit=len(points))

    def cosine(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    expected = sorted(((cosine(query, np.asarray(p.vector)), p.id) for p in points), reverse=True)
    assert [h.id for h in hits] == [point for _, point in expected]
    assert [h.score for h in hits] == pytest.approx([score for score, _ in expected], abs=1e-5)


def test_search_accepts_plain_lists_of_floats(store: VectorStore, collection: str) -> None:
    points = chunks(new_document(), 3)
    store.upsert(collection, [ChunkPoint(p.id, [float(x) for x in p.vector], p.payload) for p in points])
    assert store.search(collection, list(points[1].vector), limit=1)[0].id == points[1].id


def test_upserting_the_same_ids_again_overwrites_instead_of_duplicating(
    store: VectorStore, collection: str
) -> None:
    document = new_document()
    first = chunks(document, 10)
    store.upsert(collection, first)
    retried = [ChunkPoint(p.id, p.vector, {**p.payload, "text": "retried"}) for p in first]

    store.upsert(collection, retried)

    assert store.count(collection) == 10
    assert store.point_ids(collection) == ids_of(first)
    assert {h.payload["text"] for h in store.search(collection, first[0].vector, limit=10)} == {"retried"}


def test_upsert_of_more_points_than_one_batch_stores_them_all(store: VectorStore, collection: str) -> None:
    points = chunks(new_document(), 1100)  # more than one upsert batch and one scroll page
    store.upsert(collection, points)
    assert store.count(collection) == 1100
    assert store.point_ids(collection) == ids_of(points)


def test_delete_documents_removes_exactly_those_documents(store: VectorStore, collection: str) -> None:
    documents = [new_document() for _ in range(3)]
    by_document = {d: chunks(d, 4, first_seed=10 * i) for i, d in enumerate(documents)}
    for points in by_document.values():
        store.upsert(collection, points)

    store.delete_documents(collection, documents[:2])

    assert store.point_ids(collection) == ids_of(by_document[documents[2]])
    assert store.count(collection, documents[0]) == 0
    store.delete_documents(collection, [])
    assert store.count(collection) == 4


def test_delete_source_removes_exactly_that_source(store: VectorStore, collection: str) -> None:
    kept = chunks(new_document(), 3, source_id="kept")
    removed = chunks(new_document(), 5, source_id="removed", first_seed=50)
    store.upsert(collection, kept + removed)

    store.delete_source(collection, "removed")

    assert store.point_ids(collection) == ids_of(kept)


def test_deleting_from_a_missing_collection_does_nothing(store: VectorStore) -> None:
    store.delete_documents("sk_missing_g1", [new_document()])
    store.delete_source("sk_missing_g1", "source-1")
    assert not store.collection_exists("sk_missing_g1")


def test_search_filtered_by_documents_only_returns_their_chunks(store: VectorStore, collection: str) -> None:
    wanted, other = new_document(), new_document()
    store.upsert(collection, chunks(wanted, 5) + chunks(other, 5, first_seed=100))
    query = chunks(other, 1, first_seed=100)[0].vector  # nearest point overall is in `other`

    hits = store.search(collection, query, limit=10, where=PointFilter(document_ids=(wanted,)))

    assert len(hits) == 5
    assert {h.payload["document_id"] for h in hits} == {wanted}
    assert store.search(collection, query, limit=10, where=PointFilter(document_ids=())) == []


def filed(document_id: str, path: str, mime_type: str, mtime: float, seed: int) -> ChunkPoint:
    """One chunk of a file with the given payload, keyword term 1 included."""
    (point,) = chunks(document_id, 1, first_seed=seed)
    payload = {**point.payload, "path": path, "mime_type": mime_type, "mtime": mtime}
    return ChunkPoint(point.id, point.vector, payload, sparse=terms({1: 1.0}))


FILES = [
    ("docs/guide/intro.md", "text/markdown", 100.0),
    ("docs/guide/setup.md", "text/markdown", 200.0),
    ("docs/api.html", "text/html", 300.0),
    ("docs-old/intro.md", "text/markdown", 400.0),
    ("src/main.py", "text/x-python", 500.0),
    ("reports/q1.pdf", "application/pdf", 600.0),
]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (PointFilter(path_prefix="docs/"), {"docs/guide/intro.md", "docs/guide/setup.md", "docs/api.html"}),
        (PointFilter(path_prefix="docs"), {p for p, _, _ in FILES if p.startswith("docs")}),
        (PointFilter(path_prefix="Docs/"), set()),  # case-sensitive, like the file system
        (PointFilter(paths=("src/main.py", "nowhere.txt")), {"src/main.py"}),
        (PointFilter(paths=()), set()),
        (PointFilter(path_substrings=("/intro", ".md")), {"docs/guide/intro.md", "docs-old/intro.md"}),
        (
            PointFilter(path_prefix="docs/", path_substrings=(".md",)),
            {"docs/guide/intro.md", "docs/guide/setup.md"},
        ),
        (PointFilter(mime_types=("text/html", "application/pdf")), {"docs/api.html", "reports/q1.pdf"}),
        (PointFilter(mime_prefixes=("text/x-",)), {"src/main.py"}),
        (
            PointFilter(mime_types=("application/pdf",), mime_prefixes=("text/h",)),
            {"docs/api.html", "reports/q1.pdf"},
        ),
        (PointFilter(mime_types=()), set()),
        (PointFilter(modified_from=200.0, modified_before=400.0), {"docs/guide/setup.md", "docs/api.html"}),
        (PointFilter(modified_from=550.0), {"reports/q1.pdf"}),
        (PointFilter(modified_before=200.0), {"docs/guide/intro.md"}),
        (
            PointFilter(path_prefix="docs", mime_types=("text/markdown",), modified_from=150.0),
            {"docs/guide/setup.md", "docs-old/intro.md"},
        ),
    ],
)
def test_search_and_keyword_search_filter_by_path_type_and_date_inside_the_engine(
    store: VectorStore, collection: str, where: PointFilter, expected: set[str]
) -> None:
    points = [filed(new_document(), *file, seed=i) for i, file in enumerate(FILES)]
    store.upsert(collection, points)

    # A limit of one per expected hit: the filter applies before ranking, not to the top few after.
    limit = max(1, len(expected))
    dense = store.search(collection, points[-1].vector, limit=limit, where=where)
    sparse = store.keyword_search(collection, terms({1: 1.0}), limit=limit, where=where)

    assert {h.payload["path"] for h in dense} == expected
    assert {h.payload["path"] for h in sparse} == expected


def test_retrieve_returns_the_payloads_of_the_ids_that_exist(store: VectorStore, collection: str) -> None:
    points = chunks(new_document(), 5)
    store.upsert(collection, points)
    missing = point_id(COLLECTION_ID, new_document(), 0)

    found = store.retrieve(collection, [points[3].id, missing, points[0].id])

    assert found == {points[3].id: points[3].payload, points[0].id: points[0].payload}
    assert store.retrieve(collection, []) == {}


def test_edge_indexes_every_filtered_field_and_upgrades_an_old_path_index(tmp_path: Path) -> None:
    from qdrant_edge import PayloadSchemaType, UpdateOperation

    from semantik.vectors.base import INDEXED_FIELDS
    from semantik.vectors.edge import _index_kind

    store = EdgeVectorStore(tmp_path / "edge")
    store.create_collection(NAME, DIM)
    shard = store._shard(NAME)
    assert {f: _index_kind(i) for f, i in shard.info().payload_schema.items()} == INDEXED_FIELDS
    # A collection made before prefix matching had a plain keyword index on the path.
    shard.update(UpdateOperation.delete_field_index("path"))
    shard.update(UpdateOperation.create_field_index("path", PayloadSchemaType.Keyword))

    store.create_collection(NAME, DIM)

    assert _index_kind(shard.info().payload_schema["path"]) == "prefix"
    store.close()


def test_count_and_point_ids_per_document(store: VectorStore, collection: str) -> None:
    first, second = new_document(), new_document()
    store.upsert(collection, chunks(first, 3) + chunks(second, 6, first_seed=10))

    assert store.count(collection) == 9
    assert store.count(collection, first) == 3
    assert store.count(collection, second) == 6
    assert store.count(collection, new_document()) == 0
    assert store.point_ids(collection, first) == ids_of(chunks(first, 3))


def test_document_chunks_reads_one_page_of_one_document_in_chunk_order(
    store: VectorStore, collection: str
) -> None:
    wanted, other = new_document(), new_document()
    points = chunks(wanted, 25)
    store.upsert(collection, chunks(other, 30, first_seed=100) + list(reversed(points)))

    page = store.document_chunks(collection, wanted, offset=10, limit=8)

    assert page == [p.payload for p in points[10:18]]
    last = store.document_chunks(collection, wanted, offset=20, limit=10)
    assert [p["chunk_index"] for p in last] == [20, 21, 22, 23, 24]
    assert store.document_chunks(collection, wanted, offset=25, limit=10) == []
    assert store.document_chunks(collection, new_document(), offset=0, limit=10) == []
    with pytest.raises(ValueError):
        store.document_chunks(collection, wanted, offset=-1, limit=5)
    with pytest.raises(ValueError):
        store.document_chunks(collection, wanted, offset=0, limit=0)


def test_drop_collection_removes_it_and_is_idempotent(store: VectorStore, collection: str) -> None:
    store.upsert(collection, chunks(new_document(), 4))

    store.drop_collection(collection)
    store.drop_collection(collection)

    assert not store.collection_exists(collection)
    store.create_collection(collection, DIM)
    assert store.count(collection) == 0


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda s: s.search("sk_missing_g1", vector(1), limit=3), id="search"),
        pytest.param(
            lambda s: s.search("sk_missing_g1", vector(1), 3, where=PointFilter(document_ids=())),
            id="search-none",
        ),
        pytest.param(lambda s: s.keyword_search("sk_missing_g1", terms({1: 1.0}), 3), id="keyword_search"),
        pytest.param(lambda s: s.keyword_search("sk_missing_g1", terms({}), 3), id="keyword_search-nothing"),
        pytest.param(lambda s: s.upsert("sk_missing_g1", chunks(new_document(), 2)), id="upsert"),
        pytest.param(lambda s: s.upsert("sk_missing_g1", []), id="upsert-nothing"),
        pytest.param(lambda s: s.count("sk_missing_g1"), id="count"),
        pytest.param(lambda s: s.point_ids("sk_missing_g1"), id="point_ids"),
        pytest.param(lambda s: s.document_chunks("sk_missing_g1", new_document(), 0, 5), id="chunks"),
        pytest.param(lambda s: s.retrieve("sk_missing_g1", [new_document()]), id="retrieve"),
        pytest.param(lambda s: s.retrieve("sk_missing_g1", []), id="retrieve-nothing"),
    ],
)
def test_a_missing_collection_raises_collection_not_found(
    store: VectorStore, operation: Callable[[VectorStore], object]
) -> None:
    with pytest.raises(CollectionNotFound, match="sk_missing_g1"):
        operation(store)


def terms(weights: dict[int, float]) -> SparseVector:
    indices = sorted(weights)
    return SparseVector(tuple(indices), tuple(weights[i] for i in indices))


def with_terms(points: list[ChunkPoint], *weights: dict[int, float] | None) -> list[ChunkPoint]:
    """The points, the i-th given the i-th sparse vector (None: no keyword vector at all)."""
    return [
        ChunkPoint(p.id, p.vector, p.payload, sparse=None if w is None else terms(w))
        for p, w in zip(points, weights, strict=True)
    ]


def idf(points_with_terms: int, points_with_term: int) -> float:
    """Qdrant's IDF: ln(1 + (N − n + 0.5) / (n + 0.5)), N counting points that have a sparse vector."""
    n = points_with_term
    return math.log(1 + (points_with_terms - n + 0.5) / (n + 0.5))


def test_keyword_search_applies_idf_so_a_rare_term_outranks_a_common_one(
    store: VectorStore, collection: str
) -> None:
    common, rare = 1, 2
    points = with_terms(
        chunks(new_document(), 6),
        {common: 2.5},  # the common term, weighted higher than both terms of the next point together
        {common: 1.0, rare: 1.0},
        {common: 1.0},
        {common: 1.0},
        {common: 1.0},
        None,  # no keyword vector: never found, and not counted in N
    )
    store.upsert(collection, points)

    hits = store.keyword_search(collection, terms({common: 1.0, rare: 1.0}), limit=10)

    # Without IDF the first point (2.5) would beat the second (1.0 + 1.0).
    assert [h.id for h in hits][:2] == [points[1].id, points[0].id]
    scores = {h.id: h.score for h in hits}
    assert scores[points[1].id] == pytest.approx(idf(5, 5) + idf(5, 1))
    assert scores[points[0].id] == pytest.approx(2.5 * idf(5, 5))
    assert set(scores) == {p.id for p in points[:5]}
    assert hits[0].payload == points[1].payload


def test_keyword_search_scores_are_the_weighted_sum_over_query_terms(
    store: VectorStore, collection: str
) -> None:
    points = with_terms(chunks(new_document(), 3), {1: 0.5, 2: 1.5}, {2: 1.0}, {3: 1.0})
    store.upsert(collection, points)

    hits = store.keyword_search(collection, terms({1: 2.0, 2: 1.0}), limit=10)

    assert {h.id: h.score for h in hits} == pytest.approx(
        {
            points[0].id: 2.0 * 0.5 * idf(3, 1) + 1.5 * idf(3, 2),
            points[1].id: 1.0 * idf(3, 2),
        }
    )


def test_keyword_search_takes_any_unsigned_32_bit_index(store: VectorStore, collection: str) -> None:
    points = with_terms(chunks(new_document(), 2), {2**32 - 1: 1.0, 2**31: 1.0}, {5: 1.0})
    store.upsert(collection, points)
    assert [h.id for h in store.keyword_search(collection, terms({2**32 - 1: 1.0}), limit=5)] == [
        points[0].id
    ]


def test_keyword_search_filtered_by_documents_only_returns_their_chunks(
    store: VectorStore, collection: str
) -> None:
    wanted, other = new_document(), new_document()
    store.upsert(collection, with_terms(chunks(wanted, 3), {1: 1.0}, {1: 1.0}, {2: 1.0}))
    store.upsert(collection, with_terms(chunks(other, 2, first_seed=100), {1: 5.0}, {1: 5.0}))

    hits = store.keyword_search(
        collection, terms({1: 1.0}), limit=10, where=PointFilter(document_ids=(wanted,))
    )

    assert {h.id for h in hits} == ids_of(chunks(wanted, 2))
    assert (
        store.keyword_search(collection, terms({1: 1.0}), limit=10, where=PointFilter(document_ids=())) == []
    )


def test_keyword_search_with_no_terms_finds_nothing(store: VectorStore, collection: str) -> None:
    store.upsert(collection, with_terms(chunks(new_document(), 2), {1: 1.0}, {2: 1.0}))
    assert store.keyword_search(collection, terms({}), limit=10) == []
    assert store.keyword_search(collection, terms({99: 1.0}), limit=10) == []


def test_upserting_new_terms_replaces_the_old_ones(store: VectorStore, collection: str) -> None:
    points = chunks(new_document(), 2)
    store.upsert(collection, with_terms(points, {1: 1.0}, {2: 1.0}))
    store.upsert(collection, with_terms(points, {3: 1.0}, None))

    assert store.keyword_search(collection, terms({1: 1.0}), limit=10) == []
    assert store.keyword_search(collection, terms({2: 1.0}), limit=10) == []
    assert [h.id for h in store.keyword_search(collection, terms({3: 1.0}), limit=10)] == [points[0].id]
    assert store.count(collection) == 2


def test_threads_can_share_one_store(store: VectorStore, collection: str) -> None:
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            document = new_document()
            points = chunks(document, 40, first_seed=1000 * worker)
            for start in range(0, 40, 8):
                store.upsert(collection, points[start : start + 8])
                store.search(collection, points[start].vector, limit=3)
            assert store.count(collection, document) == 40
        except BaseException as exc:  # reported to the main thread below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert store.count(collection) == 160


def test_ping_succeeds_on_a_usable_store(store: VectorStore) -> None:
    store.ping()


@pytest.mark.parametrize("kind", PERSISTENT)
def test_points_survive_closing_and_reopening(kind: str, tmp_path: Path) -> None:
    document = new_document()
    points = chunks(document, 30)
    rare = ChunkPoint(points[0].id, points[0].vector, points[0].payload, sparse=terms({7: 1.0, 8: 1.0}))
    common = [ChunkPoint(p.id, p.vector, p.payload, sparse=terms({7: 1.0})) for p in points[1:]]
    first = open_store(kind, tmp_path)
    first.create_collection(NAME, DIM)
    first.upsert(NAME, [rare, *common])
    first.close()

    reopened = open_store(kind, tmp_path)
    try:
        assert reopened.collection_exists(NAME)
        assert reopened.point_ids(NAME) == ids_of(points)
        assert reopened.search(NAME, points[4].vector, limit=1)[0].id == points[4].id
        # Keyword vectors, and the IDF modifier of the collection, survive too.
        (hit,) = reopened.keyword_search(NAME, terms({8: 1.0}), limit=5)
        assert hit.id == rare.id and hit.score == pytest.approx(idf(30, 1))
        reopened.create_collection(NAME, DIM)  # idempotent on a reopened collection too
        assert reopened.count(NAME, document) == 30
    finally:
        reopened.close()


SECOND_OPENER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from semantik.vectors.base import VectorStoreUnavailable
    from semantik.vectors.edge import EdgeVectorStore
    from semantik.vectors.remote import QdrantClientVectorStore

    kind, where = sys.argv[1], Path(sys.argv[2])
    try:
        if kind == "edge":
            store = EdgeVectorStore(where / "edge")
        else:
            store = QdrantClientVectorStore.local(where / "local")
        store.count("{name}")
    except VectorStoreUnavailable as exc:
        print(exc)
        sys.exit(3)
    print("opened")
    """
).replace("{name}", NAME)


@pytest.mark.parametrize("kind", PERSISTENT)
def test_a_second_process_cannot_open_the_same_directory(kind: str, tmp_path: Path) -> None:
    holder = open_store(kind, tmp_path)
    try:
        holder.create_collection(NAME, DIM)
        result = subprocess.run(
            [sys.executable, "-c", SECOND_OPENER, kind, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.close()

    assert result.returncode == 3, result.stdout + result.stderr
    assert "already open" in result.stdout


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from tests.vectors.test_stores import DIM, NAME, chunks, open_store

    store = open_store(sys.argv[1], Path(sys.argv[2]))
    store.create_collection(NAME, DIM)
    store.upsert(NAME, chunks(sys.argv[3], 25))
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no flush on exit: like a crash
    """
)


@pytest.mark.parametrize("kind", PERSISTENT)
def test_acknowledged_points_survive_a_killed_process(kind: str, tmp_path: Path) -> None:
    document = new_document()
    result = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, kind, str(tmp_path), document],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == -9, result.stderr

    store = open_store(kind, tmp_path)
    try:
        assert store.point_ids(NAME, document) == ids_of(chunks(document, 25))
    finally:
        store.close()


def test_edge_names_its_holder_when_the_directory_is_taken(tmp_path: Path) -> None:
    holder = EdgeVectorStore(tmp_path)
    holder.ping()
    second = EdgeVectorStore(tmp_path)  # same process, another instance: as wrong as another process
    try:
        with pytest.raises(VectorStoreUnavailable, match=r"already open in process \d+.*QDRANT_URL"):
            second.ping()
    finally:
        holder.close()
    second.ping()  # free again once the holder closed
    second.close()


def test_edge_rejects_collection_names_that_could_leave_its_directory(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path / "vectors")
    try:
        for name in ("../escape", "a/b", ".lock", ""):
            with pytest.raises(ValueError):
                store.create_collection(name, DIM)
    finally:
        store.close()
    assert not (tmp_path / "escape").exists()


def test_server_adapter_reports_an_unreachable_server_as_unavailable() -> None:
    store = open_vector_store("http://127.0.0.1:9", Path("unused"))
    try:
        assert isinstance(store, QdrantClientVectorStore)
        with pytest.raises(VectorStoreUnavailable, match="127.0.0.1:9"):
            store.ping()
    finally:
        store.close()


def test_open_vector_store_without_a_url_opens_the_embedded_engine(tmp_path: Path) -> None:
    store = open_vector_store(None, tmp_path / "vectors")
    try:
        assert isinstance(store, EdgeVectorStore)
        store.ping()
    finally:
        store.close()


def test_get_vector_store_is_one_store_per_process_until_reset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import django.conf

    import semantik.vectors

    fake = SimpleNamespace(QDRANT_URL=None, QDRANT_PATH=tmp_path / "vectors", QDRANT_API_KEY=None)
    monkeypatch.setattr(django.conf, "settings", fake)
    # Set aside (not closed) any store the rest of the session is using; monkeypatch puts it back.
    monkeypatch.setattr(semantik.vectors, "_store", None)
    try:
        store = get_vector_store()
        assert get_vector_store() is store
        store.create_collection(NAME, DIM)
        reset_vector_store()
        # Reset closed it: the directory is free for the next store.
        assert get_vector_store() is not store
        assert get_vector_store().collection_exists(NAME)
    finally:
        reset_vector_store()


def test_the_server_adapter_creates_collections_with_the_configured_shards_and_replicas() -> None:
    """QDRANT_SHARDS and QDRANT_REPLICAS reach Qdrant's create-collection call (a cluster spreads
    the shards and copies each); local mode accepts and ignores them, so the call itself is watched."""
    from qdrant_client import QdrantClient

    store = QdrantClientVectorStore(QdrantClient(location=":memory:"), shards=3, replicas=2)
    calls: list[dict[str, object]] = []
    create = store._client.create_collection

    def watched(*args: object, **kwargs: object) -> object:
        calls.append(kwargs)
        return create(*args, **kwargs)  # type: ignore[arg-type]

    store._client.create_collection = watched  # type: ignore[method-assign]
    try:
        store.create_collection(NAME, DIM)
        store.create_collection(NAME, DIM)  # exists: not created again
    finally:
        store.close()
    assert [(c["shard_number"], c["replication_factor"]) for c in calls] == [(3, 2)]


def test_get_vector_store_gives_the_server_adapter_the_shard_and_replica_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import django.conf

    import semantik.vectors

    fake = SimpleNamespace(
        QDRANT_URL="http://127.0.0.1:9",
        QDRANT_PATH=tmp_path,
        QDRANT_API_KEY=None,
        QDRANT_SHARDS=4,
        QDRANT_REPLICAS=3,
    )
    monkeypatch.setattr(django.conf, "settings", fake)
    monkeypatch.setattr(semantik.vectors, "_store", None)
    try:
        store = get_vector_store()
        assert isinstance(store, QdrantClientVectorStore)
        assert (store.shards, store.replicas) == (4, 3)
    finally:
        reset_vector_store()


@pytest.mark.skipif(
    not __import__("os").environ.get("QDRANT_TEST_URL"),
    reason="QDRANT_TEST_URL names no Qdrant server (CI has one)",
)
def test_a_qdrant_server_keeps_the_shard_count_of_new_collections() -> None:
    import os

    store = QdrantClientVectorStore.from_url(os.environ["QDRANT_TEST_URL"], shards=2, replicas=1)
    name = f"test_shards_{uuid.uuid4().hex[:8]}"
    try:
        store.create_collection(name, DIM)
        params = store._client.get_collection(name).config.params
        assert (params.shard_number, params.replication_factor) == (2, 1)
    finally:
        store.drop_collection(name)
        store.close()
