"""Reindex: a new generation is built behind the live one, validated, and swapped in whole."""

from __future__ import annotations

import pytest

from semantik.catalog.selectors import collection_model
from semantik.collections.models import Collection
from semantik.documents import reindexing
from semantik.documents.models import Document
from semantik.documents.reindexing import GenerationIndexer, collection_reindex
from semantik.documents.services import reindex
from semantik.operations.models import Operation
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStoreError
from tests.documents.test_services import assert_exact, index, long_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def collection(api, models) -> Collection:  # type: ignore[no-untyped-def]
    body = api.post(
        "/api/v2/collections", {"name": "Library", "chunk_size": 64, "chunk_overlap": 8}, format="json"
    ).json()
    return Collection.objects.get(pk=body["id"])


@pytest.fixture
def indexed(collection, documents_root, user, triton) -> Collection:  # type: ignore[no-untyped-def]
    for topic in ("apples", "bees", "comets"):
        (documents_root / f"{topic}.txt").write_text(long_text(topic, 40))
    assert index(collection, documents_root, user).status == "completed"
    collection.refresh_from_db()
    return collection


def run_reindex(collection: Collection, user, **target: object) -> Operation:  # type: ignore[no-untyped-def]
    operation = collection_reindex(collection=collection, user=user, target=target)
    reindex(str(operation.id))
    operation.refresh_from_db()
    collection.refresh_from_db()
    return operation


def chunk_counts(collection: Collection) -> dict[str, int]:
    return dict(Document.objects.filter(collection=collection).values_list("relative_path", "chunk_count"))


def test_reindex_swaps_in_a_new_generation_and_drops_the_old(indexed, user):  # type: ignore[no-untyped-def]
    old_name, before = indexed.vector_collection, chunk_counts(indexed)
    operation = run_reindex(indexed, user, chunk_size=32, chunk_overlap=4)

    assert operation.status == "completed", operation.error
    assert indexed.vector_collection.endswith("_g2") and indexed.chunk_size == 32
    store = get_vector_store()
    assert not store.collection_exists(old_name)
    after = chunk_counts(indexed)
    assert after.keys() == before.keys() and all(after[p] > before[p] for p in before)
    assert operation.chunks_written == sum(after.values())
    assert_exact(indexed)


def test_reindex_reads_the_folder_as_it_is_now(indexed, documents_root, user):  # type: ignore[no-untyped-def]
    (documents_root / "apples.txt").unlink()
    (documents_root / "dates.txt").write_text(long_text("dates"))
    (documents_root / "junk.txt").write_bytes(b"\x00\x01" * 50)

    operation = run_reindex(indexed, user)

    assert operation.status == "completed", operation.error
    statuses = dict(Document.objects.filter(collection=indexed).values_list("relative_path", "status"))
    assert statuses == {
        "bees.txt": "indexed",
        "comets.txt": "indexed",
        "dates.txt": "indexed",
        "junk.txt": "failed",
    }
    assert_exact(indexed)


def test_search_answers_from_the_old_index_while_the_new_one_is_built(indexed, api, user, monkeypatch):  # type: ignore[no-untyped-def]
    def search() -> list[tuple[str, int]]:
        body = {"query": "bees", "limit": 20, "collections": [str(indexed.pk)]}
        response = api.post("/api/v2/search", body, format="json")
        assert response.status_code == 200, response.content
        return [(r["document_id"], r["chunk_index"]) for r in response.json()["results"]]

    before = search()
    during: list[list[tuple[str, int]]] = []
    record = GenerationIndexer.record

    def record_and_search(self, document, **fields):  # type: ignore[no-untyped-def]
        during.append(search())
        record(self, document, **fields)

    monkeypatch.setattr(GenerationIndexer, "record", record_and_search)
    assert run_reindex(indexed, user, chunk_size=32).status == "completed"

    assert before and len(during) == 3 and all(hits == before for hits in during)
    assert search() != before  # the new generation, chunked smaller, answers now


def test_a_failed_build_leaves_the_collection_as_it_was(indexed, user, monkeypatch):  # type: ignore[no-untyped-def]
    before = (indexed.vector_collection, indexed.chunk_size, chunk_counts(indexed))

    # Fault injection: the validation finds a vector missing, as after a lost write.
    def short_count(self) -> int:  # type: ignore[no-untyped-def]
        return 10**6

    monkeypatch.setattr(reindexing.Ledger, "chunk_count", property(short_count))
    operation = run_reindex(indexed, user, chunk_size=32)

    assert operation.status == "failed" and "keeps its current index" in operation.error
    assert (indexed.vector_collection, indexed.chunk_size, chunk_counts(indexed)) == before
    store = get_vector_store()
    assert not store.collection_exists(indexed.vector_collection.replace("_g1", "_g2"))
    assert_exact(indexed)


def test_a_cancelled_reindex_changes_nothing(indexed, user, monkeypatch):  # type: ignore[no-untyped-def]
    before = (indexed.vector_collection, chunk_counts(indexed))
    operation = collection_reindex(collection=indexed, user=user, target={"chunk_size": 32})
    record = GenerationIndexer.record

    def record_then_cancel(self, document, **fields):  # type: ignore[no-untyped-def]
        record(self, document, **fields)
        Operation.objects.filter(pk=operation.pk).update(cancel_requested=True)

    monkeypatch.setattr(GenerationIndexer, "record", record_then_cancel)
    reindex(str(operation.id))
    operation.refresh_from_db()
    indexed.refresh_from_db()

    assert operation.status == "cancelled"
    assert (indexed.vector_collection, chunk_counts(indexed)) == before
    assert not get_vector_store().collection_exists(indexed.vector_collection.replace("_g1", "_g2"))
    assert_exact(indexed)


def test_reindex_changes_the_precision_and_so_the_served_variant(indexed, user):  # type: ignore[no-untyped-def]
    operation = run_reindex(indexed, user, precision="int8")
    assert operation.status == "completed", operation.error
    assert (indexed.embedding_model, indexed.precision) == ("all-minilm-l6-v2", "int8")
    assert collection_model(indexed).name == "all-minilm-l6-v2-int8"
    assert_exact(indexed)


def test_a_resumed_reindex_starts_the_build_again(indexed, user):  # type: ignore[no-untyped-def]
    operation = collection_reindex(collection=indexed, user=user, target={"chunk_size": 32})
    target = operation.params["vector_collection"]
    # What a killed worker left: part of the new generation, with a stray point.
    store = get_vector_store()
    store.create_collection(target, 384)
    from semantik.vectors.base import ChunkPoint

    store.upsert(
        target,
        [ChunkPoint(id="00000000-0000-0000-0000-000000000001", vector=[1.0] + [0.0] * 383, payload={})],
    )

    reindex(str(operation.id))
    operation.refresh_from_db()
    indexed.refresh_from_db()
    assert operation.status == "completed", operation.error
    assert indexed.vector_collection == target
    assert_exact(indexed)


def test_reindex_api_validates_and_refuses_a_second_write(indexed, api):  # type: ignore[no-untyped-def]
    url = f"/api/v2/collections/{indexed.pk}/reindex"
    too_big = api.post(url, {"chunk_size": 4096}, format="json")
    assert too_big.status_code == 400 and "chunk_size" in too_big.json()["error"]["details"]
    unknown = api.post(url, {"embedding_model": "nope"}, format="json")
    assert unknown.status_code == 400 and "embedding_model" in unknown.json()["error"]["details"]
    not_served = api.post(url, {"precision": "float16"}, format="json")
    assert not_served.status_code == 400 and "precision" in not_served.json()["error"]["details"]

    first = api.post(url, {"chunk_size": 32}, format="json")
    assert first.status_code == 202 and first.json()["type"] == "reindex"
    second = api.post(url, {}, format="json")
    assert second.status_code == 409


def test_another_user_cannot_reindex(indexed, client_for, make_user):  # type: ignore[no-untyped-def]
    mallory = client_for(make_user("mallory"))
    assert mallory.post(f"/api/v2/collections/{indexed.pk}/reindex", {}, format="json").status_code == 404


def test_reindex_surfaces_store_errors_without_touching_the_live_index(indexed, user, monkeypatch):  # type: ignore[no-untyped-def]
    before = indexed.vector_collection
    store = get_vector_store()
    upsert = store.upsert

    def failing_upsert(name, points):  # type: ignore[no-untyped-def]
        if name != before:
            raise VectorStoreError("disk full")
        upsert(name, points)

    monkeypatch.setattr(store, "upsert", failing_upsert)
    operation = run_reindex(indexed, user, chunk_size=32)
    assert operation.status == "failed" and "disk full" in operation.error
    assert indexed.vector_collection == before
    assert_exact(indexed)
